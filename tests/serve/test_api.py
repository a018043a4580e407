"""The API through FastAPI's TestClient, with the real shipped model."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from models.analyzer import Analyzer
from models.labels import FLAG_NAMES, STAGE_NAMES
from serve.app import create_app
from serve.settings import Settings

from .conftest import THREAT_SMS

REF = "2026-07-20T15:10:00"


def test_analyze_text_matches_the_library(client):
    r = client.post("/v1/analyze", json={"id": "m1", "text": THREAT_SMS, "reference_time": REF})
    assert r.status_code == 200
    body = r.json()
    analyzer = Analyzer.load(Settings().model_path())
    assert body["model"] == {"name": analyzer.name, "version": analyzer.version}
    expected = analyzer.analyze(THREAT_SMS, reference_time=REF, id="m1").to_json_dict()
    assert body["result"] == expected
    result = body["result"]
    assert result["id"] == "m1"
    assert set(result["stage"]["scores"]) == set(STAGE_NAMES)
    assert result["flags"], "a threatening SMS raises flags"
    for flag in result["flags"]:
        assert flag["label"] in FLAG_NAMES
        for span in flag["evidence"]:
            assert THREAT_SMS[span["start"]:span["end"]] == span["text"]
            assert "turn" not in span
    assert any(a["value"] == 25000.0 for a in result["amounts"])
    assert any(d["value"] == "2026-07-20T20:00:00" for d in result["deadlines"])


def test_analyze_without_id_omits_it(client):
    result = client.post("/v1/analyze", json={"text": "您的验证码是123456。"}).json()["result"]
    assert "id" not in result
    assert result["overdue_days"] is None


def test_analyze_turns_names_turns(client):
    turns = [{"speaker": "agent", "text": "您好，您已逾期45天，欠款12,345.67元。"},
             {"speaker": "customer", "text": "你这个老赖骗子"},
             {"speaker": "agent", "text": "小心你家人的安全。"}]
    r = client.post("/v1/analyze", json={"id": 7, "turns": turns, "reference_time": REF})
    assert r.status_code == 200
    result = r.json()["result"]
    assert result["id"] == "7"
    assert result["overdue_days"] == 45
    for flag in result["flags"]:
        for span in flag["evidence"]:
            assert span["turn"] in (0, 2), "the customer's words never raise flags"
            assert turns[span["turn"]]["text"][span["start"]:span["end"]] == span["text"]
    assert all("turn" in a for a in result["amounts"])


def test_batch_in_order_with_model(client):
    items = [{"id": str(i), "text": t} for i, t in enumerate([THREAT_SMS, "您本期账单应还2,000元。", "你好"])]
    r = client.post("/v1/analyze/batch", json={"items": items})
    assert r.status_code == 200
    body = r.json()
    assert body["model"]["name"]
    assert [res["id"] for res in body["results"]] == ["0", "1", "2"]


def test_batch_empty_is_fine(client):
    r = client.post("/v1/analyze/batch", json={"items": []})
    assert r.status_code == 200 and r.json()["results"] == []


@pytest.mark.parametrize("payload, where", [
    ({"text": "x", "reference_time": "昨天"}, "reference_time"),
    ({"text": "x", "reference_time": "2026-13-45T99:00:00"}, "reference_time"),
    ({"text": "x", "turns": [{"speaker": "agent", "text": "y"}]}, "exactly one"),
    ({}, "exactly one"),
    ({"turns": []}, "at least one"),
    ({"turns": [{"speaker": "boss", "text": "y"}]}, "turns[0].speaker"),
    ({"text": 5}, "text"),
])
def test_invalid_requests_get_422_with_a_reason(client, payload, where):
    r = client.post("/v1/analyze", json=payload)
    assert r.status_code == 422
    assert where in r.json()["reason"]


def test_bad_item_in_batch_names_its_index(client):
    items = [{"text": "a"}, {"text": "b"}, {"text": "c", "reference_time": "not a time"}]
    r = client.post("/v1/analyze/batch", json={"items": items})
    assert r.status_code == 422
    assert r.json()["reason"].startswith("items[2].reference_time")


def test_not_json_is_422(client):
    r = client.post("/v1/analyze", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_text_over_limit(client):
    r = client.post("/v1/analyze", json={"text": "还" * 20_001})
    assert r.status_code == 413
    assert "20,000" in r.json()["detail"]
    assert client.post("/v1/analyze", json={"text": "还" * 20_000}).status_code == 200


def test_turns_over_limit(client):
    turns = [{"speaker": "agent", "text": "还" * 10_001}] * 2
    assert client.post("/v1/analyze", json={"turns": turns}).status_code == 413


def test_batch_over_limit(client):
    r = client.post("/v1/analyze/batch", json={"items": [{"text": "还钱"}] * 257})
    assert r.status_code == 413
    assert "256" in r.json()["detail"]
    assert client.post("/v1/analyze/batch", json={"items": [{"text": "还钱"}] * 256}).status_code == 200


def test_batch_item_over_text_limit_names_index(client):
    r = client.post("/v1/analyze/batch", json={"items": [{"text": "a"}, {"text": "还" * 20_001}]})
    assert r.status_code == 413
    assert "items[1]" in r.json()["detail"]


def test_body_over_limit_by_content_length(client):
    body = json.dumps({"text": "a" * 2_100_000}).encode()
    r = client.post("/v1/analyze", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "2,000,000" in r.json()["detail"]


def test_body_over_limit_by_bytes_sent_without_length(client):
    def chunks():
        for _ in range(30):
            yield b"a" * 100_000

    r = client.post("/v1/analyze", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_health_ready_labels_page(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["model"]["name"] == "cuishou-fast"
    assert ready["review_model"]["name"] == "cuishou-cascade"
    labels = client.get("/v1/labels").json()
    assert [f["name"] for f in labels["flags"]] == list(FLAG_NAMES)
    assert [s["name"] for s in labels["stages"]] == list(STAGE_NAMES)
    assert all(f["zh"] and f["explanation"] and f["basis"] for f in labels["flags"])
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_readyz_before_start_up():
    app = create_app(Settings())
    c = TestClient(app)  # no context manager: the lifespan has not run
    assert c.get("/healthz").status_code == 200
    assert c.get("/readyz").status_code == 503
    assert c.post("/v1/analyze", json={"text": "x"}).status_code == 503


def test_metrics_count_routes_stages_and_flags(client):
    client.post("/v1/analyze", json={"text": THREAT_SMS})
    client.post("/v1/analyze", json={"text": "x", "reference_time": "bad"})
    client.get("/no/such/path")
    text = client.get("/metrics").text
    assert 'cuishou_http_requests_total{method="POST",route="/v1/analyze",status="200"}' in text
    assert 'cuishou_http_requests_total{method="POST",route="/v1/analyze",status="422"}' in text
    assert 'route="unmatched"' in text and "/no/such/path" not in text
    assert "cuishou_http_request_duration_seconds_bucket" in text
    assert 'cuishou_stage_total{stage="' in text
    flagged = [line for line in text.splitlines() if line.startswith("cuishou_flag_total{")]
    assert len(flagged) == len(FLAG_NAMES)
    assert any(not line.endswith(" 0.0") for line in flagged)


def test_openapi_has_chinese_examples(client):
    schema = client.get("/openapi.json").json()
    assert "/v1/analyze" in schema["paths"] and "/v1/analyze/batch" in schema["paths"]
    text = json.dumps(schema, ensure_ascii=False)
    assert "老赖" in text and "通讯录" in text


@pytest.fixture(scope="module")
def keyed():
    with TestClient(create_app(Settings(api_key="s3cret"))) as c:
        yield c


class TestApiKey:
    def test_missing_or_wrong_key_is_401(self, keyed):
        assert keyed.post("/v1/analyze", json={"text": "x"}).status_code == 401
        assert keyed.post("/v1/analyze", json={"text": "x"}, headers={"X-API-Key": "nope"}).status_code == 401
        assert keyed.post("/v1/analyze/batch", json={"items": []}).status_code == 401
        r = keyed.post("/v1/analyze", json={"text": "x"}, headers={"Authorization": "Basic s3cret"})
        assert r.status_code == 401

    def test_either_header_works(self, keyed):
        assert keyed.post("/v1/analyze", json={"text": "x"}, headers={"X-API-Key": "s3cret"}).status_code == 200
        r = keyed.post("/v1/analyze", json={"text": "x"}, headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200

    def test_public_endpoints_stay_open(self, keyed):
        for path in ("/healthz", "/readyz", "/v1/labels", "/", "/metrics"):
            assert keyed.get(path).status_code == 200, path


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CUISHOU_MAX_BATCH", "2")
    monkeypatch.setenv("CUISHOU_MAX_TEXT_CHARS", "10")
    monkeypatch.setenv("CUISHOU_API_KEY", "k")
    s = Settings()
    assert (s.max_batch, s.max_text_chars, s.api_key.get_secret_value()) == (2, 10, "k")
    with TestClient(create_app(s)) as c:
        h = {"X-API-Key": "k"}
        assert c.post("/v1/analyze", json={"text": "还" * 11}, headers=h).status_code == 413
        assert c.post("/v1/analyze/batch", json={"items": [{"text": "a"}] * 3}, headers=h).status_code == 413


def test_service_defaults_to_the_fast_tier_and_serves_the_cascade_when_asked():
    from models.analyzer import ARTIFACTS_DIR

    assert Settings().model_path() == ARTIFACTS_DIR / "cuishou-fast"
    cascade = Settings(model_dir=ARTIFACTS_DIR / "cuishou-cascade", inference_process=False)
    with TestClient(create_app(cascade)) as c:
        body = c.post("/v1/analyze", json={"text": "你这个老赖，再不还钱小心你家人的安全"}).json()
        assert body["model"]["name"] == "cuishou-cascade"
        assert "violent_threat" in {f["label"] for f in body["result"]["flags"]}


def test_bad_model_dir_fails_start_up(tmp_path):
    with pytest.raises(Exception, match="model directory"):
        with TestClient(create_app(Settings(model_dir=tmp_path / "nothing"))):
            pass


def test_logs_never_hold_the_text_or_numbers(client, caplog):
    from serve.masking import MaskingFilter

    caplog.handler.addFilter(MaskingFilter())
    sms = "请联系13812345678，身份证110101199003077777，卡号6222021234567890123，老赖快还钱"
    with caplog.at_level(logging.DEBUG, logger="serve"):
        r = client.post("/v1/analyze", json={"id": "13812345678", "text": sms})
        assert r.status_code == 200
    logged = "\n".join(caplog.messages)
    assert "analysed id=138****5678" in logged
    for secret in ("13812345678", "110101199003077777", "6222021234567890123", "老赖快还钱"):
        assert secret not in logged


def test_concurrent_requests_are_batched_and_answered_correctly(client):
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"您已逾期{i}天，欠款{i * 100}元，小心你家人的安全" for i in range(1, 41)]

    def one(t):
        return client.post("/v1/analyze", json={"id": t, "text": t}).json()["result"]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, texts))
    assert [r["id"] for r in results] == texts
    assert [r["overdue_days"] for r in results] == list(range(1, 41))


def test_models_names_the_default_and_the_review_model(client):
    body = client.get("/v1/models").json()
    assert body["default"]["name"] == "cuishou-fast" and body["default"]["kind"] == "fast-linear"
    assert body["review"]["name"] == "cuishou-cascade" and body["review"]["kind"] == "cascade"


def test_analyze_with_the_review_model_matches_the_library(client):
    call = {"turns": [{"speaker": "agent", "text": "您好，这里是银行催收中心，您已逾期30天。"},
                      {"speaker": "customer", "text": "我下周还。"},
                      {"speaker": "agent", "text": "今天不还我们就联系你通讯录里的所有人。"}],
            "reference_time": REF, "id": "c1"}
    cascade = Analyzer.load(Settings().review_model_path())
    for body in ({"id": "m1", "text": THREAT_SMS, "reference_time": REF}, call):
        r = client.post("/v1/analyze?model=cuishou-cascade", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["model"] == {"name": cascade.name, "version": cascade.version}
        assert r.json()["result"] == cascade.analyze_batch([body])[0].to_json_dict()
    # Naming the service's own model is the same as naming none.
    plain = client.post("/v1/analyze", json={"text": THREAT_SMS, "reference_time": REF}).json()
    named = client.post("/v1/analyze?model=cuishou-fast", json={"text": THREAT_SMS, "reference_time": REF}).json()
    assert named == plain and plain["model"]["name"] == "cuishou-fast"


def test_batch_with_the_review_model(client):
    items = [{"text": THREAT_SMS, "reference_time": REF}, {"text": "您本期账单应还2,000元。", "reference_time": REF}]
    r = client.post("/v1/analyze/batch?model=cuishou-cascade", json={"items": items})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["name"] == "cuishou-cascade" and len(body["results"]) == 2
    cascade = Analyzer.load(Settings().review_model_path())
    assert body["results"] == [x.to_json_dict() for x in cascade.analyze_batch(items)]


def test_an_unknown_model_is_a_422_naming_the_loaded_ones(client):
    for path, body in (("/v1/analyze", {"text": THREAT_SMS}), ("/v1/analyze/batch", {"items": [{"text": "还钱"}]})):
        r = client.post(path + "?model=gpt", json=body)
        assert r.status_code == 422
        reason = r.json()["detail"]
        assert "gpt" in reason and "cuishou-fast" in reason and "cuishou-cascade" in reason


def test_one_model_for_both_roles_when_configured_so():
    from models.analyzer import ARTIFACTS_DIR

    fast = ARTIFACTS_DIR / "cuishou-fast"
    with TestClient(create_app(Settings(review_model_dir=fast, inference_process=False))) as c:
        assert c.app.state.review_analyzer is c.app.state.analyzer
        assert c.get("/v1/models").json()["review"]["name"] == "cuishou-fast"


def test_bad_review_model_dir_fails_start_up(tmp_path):
    with pytest.raises(Exception, match="model directory"):
        with TestClient(create_app(Settings(review_model_dir=tmp_path / "nothing", inference_process=False))):
            pass
