import json
from datetime import datetime

import pandas as pd
import pytest

from models.labels import AMOUNT_ROLE_NAMES, DEADLINE_KINDS, FLAG_NAMES, STAGE_NAMES

RESULT_KEYS = {"stage", "flags", "amounts", "deadlines", "overdue_days"}


def assert_spec_result(result: dict, original) -> None:
    """A result dict has exactly the spec's fields and labels, and spans index the input."""
    assert RESULT_KEYS <= set(result) <= RESULT_KEYS | {"id"}
    assert set(result["stage"]) == {"label", "scores"}
    assert result["stage"]["label"] in STAGE_NAMES
    assert list(result["stage"]["scores"]) == list(STAGE_NAMES)
    assert sum(result["stage"]["scores"].values()) == pytest.approx(1.0, abs=1e-2)

    def source(span):
        if isinstance(original, str):
            assert "turn" not in span
            return original
        return original[span["turn"]]["text"]

    for flag in result["flags"]:
        assert set(flag) == {"label", "score", "evidence"}
        assert flag["label"] in FLAG_NAMES
        assert 0.0 <= flag["score"] <= 1.0
        for ev in flag["evidence"]:
            assert source(ev)[ev["start"] : ev["end"]] == ev["text"]
            if not isinstance(original, str):
                assert original[ev["turn"]]["speaker"] == "agent"
    for amount in result["amounts"]:
        assert {"text", "start", "end", "value", "currency", "role"} <= set(amount)
        assert amount["role"] in AMOUNT_ROLE_NAMES and amount["currency"] == "CNY"
        assert source(amount)[amount["start"] : amount["end"]] == amount["text"]
    for deadline in result["deadlines"]:
        assert {"text", "start", "end", "value", "kind"} <= set(deadline)
        assert deadline["kind"] in DEADLINE_KINDS
        datetime.strptime(deadline["value"], "%Y-%m-%dT%H:%M:%S")
        assert source(deadline)[deadline["start"] : deadline["end"]] == deadline["text"]
    assert result["overdue_days"] is None or isinstance(result["overdue_days"], int)


def test_spec_examples_give_spec_shaped_results(tiny_analyzer, spec_examples):
    for ex in spec_examples:
        if "turns" in ex:
            result = tiny_analyzer.analyze_turns(ex["turns"], ex["reference_time"], id=ex["id"])
            original = ex["turns"]
        else:
            result = tiny_analyzer.analyze(ex["text"], ex["reference_time"], id=ex["id"])
            original = ex["text"]
        as_json = json.loads(json.dumps(result.to_json_dict(), ensure_ascii=False))
        assert as_json["id"] == ex["id"]
        assert_spec_result(as_json, original)


def test_flag_raised_with_evidence_in_original_text(tiny_analyzer):
    text = "你这个老-赖真不要脸"  # a splitter inside the insult
    result = tiny_analyzer.analyze(text, "2026-11-22T10:00:00").to_json_dict()
    assert "insult" in [f["label"] for f in result["flags"]]
    assert_spec_result(result, text)


def test_customer_words_never_raise_a_flag(tiny_analyzer):
    turns = [
        {"speaker": "agent", "text": "您好，您的借款已逾期10天，请尽快还款。"},
        {"speaker": "customer", "text": "你这个老赖真不要脸，小心你家人的安全，每天给你打一百个电话"},
    ]
    result = tiny_analyzer.analyze_turns(turns, "2026-11-22T10:00:00")
    assert result.flags == []


def test_agent_flag_spans_name_their_turn(tiny_analyzer):
    turns = [
        {"speaker": "customer", "text": "喂？"},
        {"speaker": "agent", "text": "你这个老赖真不要脸。"},
    ]
    result = tiny_analyzer.analyze_turns(turns, "2026-11-22T10:00:00").to_json_dict()
    insult = next(f for f in result["flags"] if f["label"] == "insult")
    assert insult["evidence"] and all(ev["turn"] == 1 for ev in insult["evidence"])
    assert_spec_result(result, turns)


def test_reference_time_defaults_to_now(tiny_analyzer):
    result = tiny_analyzer.analyze("请于今天还款")
    assert_spec_result(result.to_json_dict(), "请于今天还款")


def test_bad_reference_time_is_a_value_error(tiny_analyzer):
    with pytest.raises(ValueError, match="reference_time"):
        tiny_analyzer.analyze("x", "not a date")


def test_batch_equals_single(tiny_analyzer):
    texts = ["你这个老赖真不要脸。", "您的验证码是123456", "我行已向人民法院提起诉讼"]
    batch = tiny_analyzer.analyze_batch([{"text": t, "reference_time": "2026-11-22T10:00:00"} for t in texts])
    singles = [tiny_analyzer.analyze(t, "2026-11-22T10:00:00") for t in texts]
    assert [b.to_json_dict() for b in batch] == [s.to_json_dict() for s in singles]


def test_dataframe_call(tiny_analyzer):
    frame = pd.DataFrame({
        "id": ["a", "b", "c"],
        "text": ["你这个老赖真不要脸。", "您的验证码是123456", None],
        "reference_time": ["2026-11-22T10:00:00"] * 3,
    })
    out = tiny_analyzer(frame)
    assert list(out["id"][:2]) == ["a", "b"]
    assert "insult" in out["flags"][0]
    assert pd.isna(out["error"][0]) and "text" in out["error"][2]
    assert json.loads(out["result"][1])["stage"]["label"] in STAGE_NAMES


def test_dataframe_rows_are_analysed_in_one_batch(tiny_analyzer, monkeypatch):
    texts = ["你这个老赖真不要脸。", "您的验证码是123456", "我行已向人民法院提起诉讼", "再不还钱就去你单位"]
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "text": texts,
                          "reference_time": ["2026-11-22T10:00:00", "not a time", "2026-11-22T10:00:00",
                                             "2026-11-22T10:00:00"]})
    calls = []
    predict = tiny_analyzer.classifier.predict
    monkeypatch.setattr(tiny_analyzer.classifier, "predict", lambda s, f: calls.append(len(s)) or predict(s, f))
    out = tiny_analyzer(frame)
    assert calls == [3]  # the three readable rows together; the bad one never reaches the model
    assert "reference_time" in out["error"][1] and pd.isna(out["result"][1])
    expected = [tiny_analyzer.analyze(t, "2026-11-22T10:00:00", id=i) for i, t in zip("acd", texts[:1] + texts[2:], strict=True)]
    got = [json.loads(out["result"][k]) for k in (0, 2, 3)]
    assert got == [e.to_json_dict() for e in expected]
    assert list(out.index) == list(frame.index)
