"""The analysis process: real child processes loading real model directories."""

from __future__ import annotations

import pytest

from models.schema import AnalysisRequest
from serve.inference import Analyzed, InferenceError, InferenceProcess, analyze_outcomes


@pytest.fixture(scope="module")
def process(tiny_model_dir):
    proc = InferenceProcess(tiny_model_dir).start()
    yield proc
    proc.stop()


def test_child_answers_like_the_analyzer_in_process(process, tiny_analyzer):
    requests = [AnalysisRequest(text="再不还钱小心你家人的安全。", reference_time="2026-11-22T10:00:00"),
                AnalysisRequest(turns=[{"speaker": "agent", "text": "我们会联系你通讯录里的所有人。"},
                                       {"speaker": "customer", "text": "别这样"}],
                                reference_time="2026-11-22T10:00:00", id="call-1")]
    outcomes = process.analyze(requests)
    expected = [Analyzed.of(r) for r in tiny_analyzer.analyze_batch(requests)]
    assert outcomes == expected
    assert outcomes[1].json.startswith(b'{"id":"call-1"')


def test_a_dead_child_is_replaced(process):
    first_pid = process.pid
    process._process.kill()
    process._process.join(5)
    (outcome,) = process.analyze([AnalysisRequest(text="感谢您按时还款")])
    assert isinstance(outcome, Analyzed) and outcome.stage
    assert process.pid != first_pid


def test_a_model_that_cannot_load_is_reported(tmp_path):
    with pytest.raises(InferenceError, match="could not load the model"):
        InferenceProcess(tmp_path / "no-model").start()


def test_stopped_process_refuses_work(tiny_model_dir):
    proc = InferenceProcess(tiny_model_dir).start()
    proc.stop()
    with pytest.raises(InferenceError, match="not running"):
        proc.analyze([AnalysisRequest(text="x")])


def test_outcomes_isolate_a_failing_item(tiny_analyzer):
    def flaky(requests):
        if any(r.text == "boom" for r in requests):
            raise ValueError("cannot analyse boom")
        return tiny_analyzer.analyze_batch(requests)

    ok, bad = analyze_outcomes(flaky, [AnalysisRequest(text="你好"), AnalysisRequest(text="boom")])
    assert isinstance(ok, Analyzed) and isinstance(bad, ValueError)


def test_request_bodies_are_validated_in_the_child(process, tiny_analyzer):
    body = '{"id": "b1", "text": "把你照片发到小区群里曝光。", "reference_time": "2026-11-22T10:00:00"}'.encode()
    ok, bad = process.analyze([body, b'{"text": 5}'])
    expected = tiny_analyzer.analyze("把你照片发到小区群里曝光。", "2026-11-22T10:00:00", id="b1")
    assert ok == Analyzed.of(expected)
    assert isinstance(bad, ValueError)
