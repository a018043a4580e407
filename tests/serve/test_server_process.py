"""The real server: `cuishou serve` as a subprocess on a free loopback port."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request

import pytest

from .conftest import THREAT_SMS, start_server, stop_server


def _get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _post(url: str, payload: dict, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    base, proc = start_server(log_path, {"CUISHOU_API_KEY": "test-key", "CUISHOU_LOG_LEVEL": "DEBUG"})
    try:
        yield base, proc, log_path
    finally:
        stop_server(proc)


def test_real_server_answers(server):
    base, _, log_path = server
    assert _get(base + "/healthz") == (200, b'{"status":"ok"}')
    status, body = _post(base + "/v1/analyze", {"id": "13812345678", "text": THREAT_SMS,
                                                "reference_time": "2026-07-20T15:10:00"},
                         headers={"X-API-Key": "test-key"})
    assert status == 200
    assert body["model"]["name"] and body["result"]["flags"]
    assert _post(base + "/v1/analyze", {"text": "x"})[0] == 401
    status, body = _post(base + "/v1/analyze/batch", {"items": [{"text": "a"}, {"text": "b"}]},
                         headers={"Authorization": "Bearer test-key"})
    assert status == 200 and len(body["results"]) == 2
    status, body = _post(base + "/v1/analyze?model=cuishou-cascade", {"text": THREAT_SMS},
                         headers={"X-API-Key": "test-key"})
    assert status == 200 and body["model"]["name"] == "cuishou-cascade" and body["result"]["flags"]
    status, models = _get(base + "/v1/models")
    assert status == 200 and json.loads(models)["review"]["name"] == "cuishou-cascade"
    status, metrics = _get(base + "/metrics")
    assert status == 200 and b'route="/v1/analyze"' in metrics
    status, page = _get(base + "/")
    assert status == 200 and "催收".encode() in page
    logged = log_path.read_text(encoding="utf-8")
    assert "138****5678" in logged, "the id was logged, masked"
    assert "13812345678" not in logged


def test_review_model_answers_concurrent_requests_alike(server):
    """The review model runs on the server's thread pool: concurrent requests must not mix."""
    from concurrent.futures import ThreadPoolExecutor

    base, _, _ = server
    calls = [{"text": THREAT_SMS}, {"turns": [{"speaker": "agent", "text": "再不还钱就去你单位找你领导。"},
                                              {"speaker": "customer", "text": "我下周还"}]}] * 8
    key = {"X-API-Key": "test-key"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda body: _post(base + "/v1/analyze?model=cuishou-cascade", body, key), calls))
    assert all(status == 200 for status, _ in answers)
    for i, (_, body) in enumerate(answers):
        assert body["model"]["name"] == "cuishou-cascade"
        assert body["result"] == answers[i % 2][1]["result"]


def test_stops_cleanly(server):
    _, proc, _ = server
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 0


def test_keep_alive_answers_do_not_stall_with_several_workers(tmp_path):
    """With --workers 2, uvicorn's own listening socket left Nagle on for every connection,
    and each keep-alive answer waited ~40 ms for the client's delayed ACK."""
    import http.client
    import statistics
    import time

    base, proc = start_server(tmp_path / "server.log", args=("--workers", "2"), timeout=60)
    try:
        host, port = base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        times = []
        for _ in range(12):
            start = time.perf_counter()
            conn.request("POST", "/v1/analyze", body=json.dumps({"text": THREAT_SMS}),
                         headers={"content-type": "application/json"})
            response = conn.getresponse()
            assert response.status == 200 and json.loads(response.read())["result"]["flags"]
            times.append(time.perf_counter() - start)
        conn.close()
    finally:
        stop_server(proc)
    # A stall is the delayed-ACK timer (40 ms on Linux), an order above a normal answer.
    assert statistics.median(times[2:]) < 0.03, f"answers took {[round(t * 1000) for t in times]} ms"


def test_review_model_option(tmp_path):
    from models.analyzer import ARTIFACTS_DIR

    base, proc = start_server(tmp_path / "server.log", args=("--review-model", str(ARTIFACTS_DIR / "cuishou-fast")))
    try:
        status, models = _get(base + "/v1/models")
        assert status == 200
        assert {m["name"] for m in json.loads(models).values()} == {"cuishou-fast"}
        status, body = _post(base + "/v1/analyze?model=cuishou-cascade", {"text": THREAT_SMS})
        assert status == 422 and "cuishou-cascade" in body["detail"]
    finally:
        stop_server(proc)
