"""QA scorer: golden scorecard, customer speech, contact rules, third parties, checks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from models.analyzer import Analyzer
from models.labels import FLAG_NAMES
from models.qa import Call, load_rubric, render_html, score_call, score_calls
from models.rules import CHECK_NAMES, QA_RULE_NAMES, RULE_BY_NAME, basis

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "qa"
REGEN = os.environ.get("QA_REGEN_GOLDEN") == "1"  # QA_REGEN_GOLDEN=1 pytest tests/models/test_qa.py

# Written for this test: an ASR-style call (no punctuation in places) with one insult and
# one unlawful payment request from the agent, an angry customer, and a late start.
GOLDEN_CALL = {
    "id": "golden-1",
    "call_start": "2026-03-14T21:58:00",
    "dials_today": 3,
    "reached_is_debtor": True,
    "turns": [
        {"speaker": "agent", "text": "喂您好这里是恒信银行信用卡中心我姓周请问是李先生本人吗",
         "timestamp": "2026-03-14T21:58:05"},
        {"speaker": "customer", "text": "是我 又是你们 烦不烦你们这帮骗子", "timestamp": "2026-03-14T21:58:12"},
        {"speaker": "agent", "text": "您尾号6612的信用卡已经逾期45天欠款8,360元", "timestamp": "2026-03-14T21:59:30"},
        {"speaker": "customer", "text": "再打我就报警", "timestamp": "2026-03-14T21:59:40"},
        {"speaker": "agent", "text": "你这种老赖就是不要脸", "timestamp": "2026-03-14T22:00:20"},
        {"speaker": "agent", "text": "今天晚上12点前转到我的个人账户就不给你上征信",
         "timestamp": "2026-03-14T22:01:00"},
    ],
}


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.load()


def _labels(card) -> set[str]:
    return {v.label for v in card.violations}


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with QA_REGEN_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def test_golden_scorecard_and_report(analyzer):
    card = score_call(analyzer, GOLDEN_CALL)
    text = json.dumps(card.to_json_dict(), ensure_ascii=False, indent=1) + "\n"
    _golden("golden_scorecard.json", text)
    _golden("golden_report.html", render_html([card, {"id": "bad", "line": 2, "error": "not valid JSON"}],
                                              title="golden <report>", rubric_name="default"))
    # What the golden file must say, whatever the model's exact probabilities.
    assert {"insult", "off_hours_contact"} <= _labels(card)
    assert {v.turn for v in card.violations if v.label == "off_hours_contact"} == {4}
    assert card.checks.agent_identified.passed and card.checks.agent_identified.turn == 0
    assert card.checks.debt_stated.passed and card.checks.debt_stated.turn == 2
    assert not card.checks.lawful_payment_offered.passed and card.checks.lawful_payment_offered.turn == 5
    assert all(card_turn in (0, 2, 4, 5) for card_turn in (v.turn for v in card.violations) if card_turn is not None)


def test_customer_insults_and_threats_flag_nothing(analyzer):
    call = {"turns": [
        {"speaker": "agent", "text": "您好，这里是恒信银行信用卡中心，您的账户已逾期，欠款3,000元，请通过手机银行还款。"},
        {"speaker": "customer", "text": "你们再打我就报警！你这个骗子，老赖是你们，不要脸的人渣，小心我找人弄死你"},
        {"speaker": "customer", "text": "把你们照片发到网上曝光，我去你们公司闹"},
        {"speaker": "agent", "text": "好的，您可以申请分期，我们也可以协商还款方案。"},
    ]}
    card = score_call(analyzer, call)
    assert card.flags == [] and card.violations == []
    assert card.score == 100.0
    assert all(c.passed for _, c in card.checks)


def test_checks_never_triggered_by_customer_turns(analyzer):
    call = {"turns": [
        {"speaker": "agent", "text": "喂 您好"},
        {"speaker": "customer", "text": "我是恒信银行的客户 欠款8000元 我会通过手机银行还款 能不能分期"},
        {"speaker": "agent", "text": "嗯好的 那就这样"},
    ]}
    card = score_call(analyzer, call)
    assert not any(c.passed for _, c in card.checks)
    assert card.score == 100 - 10 - 10 - 15


@pytest.mark.parametrize(("start", "consent", "expected"), [
    ("2026-03-14T22:30:00", None, True),
    ("2026-03-15T07:59:00", False, True),
    ("2026-03-15T08:00:00", None, False),
    ("2026-03-14T21:59:00", None, False),
    ("2026-03-14T23:30:00", True, False),
])
def test_off_hours_from_call_start(analyzer, start, consent, expected):
    call = {"call_start": start, "debtor_consented_to_off_hours": consent,
            "turns": [{"speaker": "agent", "text": "您好这里是恒信银行"}]}
    card = score_call(analyzer, call)
    assert ("off_hours_contact" in _labels(card)) is expected
    if expected:
        v = next(v for v in card.violations if v.label == "off_hours_contact")
        assert v.turn == 0 and v.basis == basis("off_hours_contact") and "2026-01-30" in v.basis


def test_off_hours_uses_agent_turn_timestamps_not_customer(analyzer):
    call = {"call_start": "2026-03-14T21:50:00", "turns": [
        {"speaker": "agent", "text": "您好这里是恒信银行", "timestamp": "2026-03-14T21:50:00"},
        {"speaker": "customer", "text": "嗯", "timestamp": "2026-03-14T22:05:00"},
    ]}
    assert "off_hours_contact" not in _labels(score_call(analyzer, call))
    call["turns"].append({"speaker": "agent", "text": "好的再见", "timestamp": "2026-03-14T22:06:00"})
    card = score_call(analyzer, call)
    assert [v.turn for v in card.violations if v.label == "off_hours_contact"] == [2]


def test_dial_count_rule_and_rubric_limit(analyzer, tmp_path):
    turns = [{"speaker": "agent", "text": "您好这里是恒信银行"}]
    assert "excessive_dialing" not in _labels(score_call(analyzer, {"dials_today": 6, "turns": turns}))
    card = score_call(analyzer, {"dials_today": 7, "turns": turns})
    v = next(v for v in card.violations if v.label == "excessive_dialing")
    assert v.turn is None and v.quote == "" and "7" in v.detail
    text = (Path(__file__).resolve().parents[2] / "models" / "qa" / "default_rubric.toml").read_text(encoding="utf-8")
    strict = tmp_path / "strict.toml"
    strict.write_text(text.replace("max_dials_per_day = 6", "max_dials_per_day = 3"), encoding="utf-8")
    assert "excessive_dialing" in _labels(score_call(analyzer, {"dials_today": 4, "turns": turns},
                                                     load_rubric(strict)))


def test_third_party_disclosure_from_metadata(analyzer):
    turns = [
        {"speaker": "agent", "text": "您好请问是张伟吗"},
        {"speaker": "customer", "text": "他出去了"},
        {"speaker": "agent", "text": "他在我行的信用卡逾期了欠款5000元"},
    ]
    card = score_call(analyzer, {"reached_is_debtor": False, "turns": turns})
    assert [(v.label, v.turn) for v in card.violations if v.label == "third_party_disclosure"] == [
        ("third_party_disclosure", 2)]
    assert "third_party_disclosure" not in _labels(score_call(analyzer, {"reached_is_debtor": True, "turns": turns}))


def test_third_party_disclosure_from_what_the_person_reached_says(analyzer):
    lawful = [
        {"speaker": "agent", "text": "您好请问是张伟先生吗"},
        {"speaker": "customer", "text": "我不是他本人我是他老婆"},
        {"speaker": "agent", "text": "好的麻烦您转告他回个电话给我们谢谢"},
    ]
    assert "third_party_disclosure" not in _labels(score_call(analyzer, {"turns": lawful}))
    disclosed = [*lawful[:2], {"speaker": "agent", "text": "他欠我们银行两万块钱已经逾期三个月了"}]
    card = score_call(analyzer, {"turns": disclosed})
    assert [v.turn for v in card.violations if v.label == "third_party_disclosure"] == [2]


def test_lawful_payment_negated_personal_account_is_fine(analyzer):
    call = {"turns": [{"speaker": "agent",
                       "text": "我们从来不会要求您转到个人账户请您登录恒信银行app还款"}]}
    card = score_call(analyzer, call)
    assert card.checks.lawful_payment_offered.passed


def test_critical_violation_zeroes_score(analyzer):
    rubric = load_rubric()
    score, critical = rubric.score({"violent_threat", "insult"}, set())
    assert score == 0 and critical == ["violent_threat"]
    assert rubric.score({"insult"}, {"debt_stated"}) == (60.0, [])


def test_batch_matches_single(analyzer):
    calls = [GOLDEN_CALL, {"id": "x", "turns": [{"speaker": "agent", "text": "您好"}]}]
    batch = score_calls(analyzer, calls)
    assert [c.id for c in batch] == ["golden-1", "x"]
    assert batch[0] == score_call(analyzer, Call.model_validate(GOLDEN_CALL))


def test_every_label_has_one_basis_from_the_table():
    from models.labels import FLAG_BY_NAME

    for name in FLAG_NAMES:
        assert FLAG_BY_NAME[name].basis == RULE_BY_NAME[name].basis
    for name in (*QA_RULE_NAMES, *CHECK_NAMES):
        assert basis(name)
    assert "第二百九十三条之一" in basis("violent_threat")
    assert "第二十五条" in basis("public_exposure")
