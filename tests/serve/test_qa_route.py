"""``POST /v1/transcripts/score`` on a bare app with the router (serve/app.py includes it)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.analyzer import Analyzer
from serve.routes.qa import router
from serve.settings import Settings


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.state.settings = Settings()
    app.state.analyzer = Analyzer.load(app.state.settings.model_path())  # as serve/app.py loads them
    app.state.review_analyzer = Analyzer.load(app.state.settings.review_model_path())
    app.include_router(router)
    return TestClient(app)


def test_score_one_call(client):
    body = {"id": "r1", "dials_today": 9, "turns": [
        {"speaker": "agent", "text": "您好这里是恒信银行 您欠款5000元 请通过手机银行还款"},
        {"speaker": "customer", "text": "你个骗子 再打我就报警"},
    ]}
    r = client.post("/v1/transcripts/score", json=body)
    assert r.status_code == 200, r.text
    data = r.json()
    # Calls are scored by the review model, the cascade, as `cuishou qa` scores them.
    assert data["model"]["name"] == "cuishou-cascade" and data["rubric"]["name"] == "default"
    card = data["scorecard"]
    assert card["id"] == "r1"
    assert [v["label"] for v in card["violations"]] == ["excessive_dialing"]
    assert card["checks"]["debt_stated"]["passed"] is True
    assert card["score"] == 80.0


def test_invalid_requests(client):
    assert client.post("/v1/transcripts/score", json={"turns": []}).status_code == 422
    bad = {"turns": [{"speaker": "boss", "text": "x"}]}
    assert client.post("/v1/transcripts/score", json=bad).status_code == 422
    typo = {"dial_today": 3, "turns": [{"speaker": "agent", "text": "x"}]}
    assert client.post("/v1/transcripts/score", json=typo).status_code == 422
    big = {"turns": [{"speaker": "agent", "text": "啊" * (Settings().max_text_chars + 1)}]}
    assert client.post("/v1/transcripts/score", json=big).status_code == 413
