"""The independent checker (corpora.check)."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

import pytest

from corpora import loader
from corpora.check import check_item, check_items, parse_money, recompute_deadline
from corpora.resolve import resolve_item
from models.labels import CURRENCY_CNY, CUSTOMER, FLAG_NAMES

from .fixtures import ABSOLUTE, OVERDUE_AMOUNT, RELATIVE, call_item, text_item

REPO = Path(__file__).resolve().parents[2]


def _messages(item) -> list[str]:
    return [m for _, m in check_item(item)]


def test_good_items_pass() -> None:
    assert (
        check_items([resolve_item(text_item("c-1", "f", flags=(FLAG_NAMES[3],))), resolve_item(call_item())])
        == []
    )


def test_wrong_amount_value_is_caught() -> None:
    raw = text_item("c-2", "f")
    raw["gold"]["amounts"][0]["value"] += 1000
    msgs = _messages(resolve_item(raw))
    assert any("but the quote says" in m for m in msgs), msgs


def test_span_that_is_not_the_substring_is_caught() -> None:
    item = resolve_item(text_item("c-3", "f"))
    item["amounts"][0]["start"] += 1
    item["amounts"][0]["end"] += 1
    assert any("span [" in m for m in _messages(item))


def test_flag_in_customer_turn_is_caught() -> None:
    item = resolve_item(call_item())
    customer_text = item["turns"][1]["text"]
    start = customer_text.index("联系你家人")
    item["flags"][0]["evidence"] = [{"start": start, "end": start + 5, "text": "联系你家人", "turn": 1}]
    assert item["turns"][1]["speaker"] == CUSTOMER
    assert any("not the agent" in m for m in _messages(item))


def test_wrong_deadline_and_kind_are_caught() -> None:
    raw = text_item("c-4", "f")
    raw["gold"]["deadlines"][0].update(value="2026-05-18T23:59:59", kind=ABSOLUTE)
    msgs = _messages(resolve_item(raw))
    assert any("spec §4 gives 2026-05-17T23:59:59" in m for m in msgs), msgs
    assert any(f"kind {ABSOLUTE!r}" in m for m in msgs), msgs


def test_bad_labels_and_metadata_are_caught() -> None:
    item = resolve_item(text_item("c-5", "f"))
    bad = copy.deepcopy(item)
    bad.update(stage="angry", channel="fax", reference_time="2026-05-14")
    bad["flags"] = [{"label": "rude", "evidence": [{"start": 0, "end": 1, "text": item["text"][0]}]}]
    bad["amounts"][0]["role"] = "tip"
    bad["overdue_days"] = -3
    msgs = " | ".join(_messages(bad))
    for needle in (
        "unknown stage",
        "unknown channel",
        "reference_time",
        "unknown flag",
        "unknown role",
        "overdue_days",
    ):
        assert needle in msgs


def test_span_cutting_a_longer_number_is_caught() -> None:
    raw = text_item("c-6", "f")
    raw["text"] = "欠款13,000元。"
    raw["gold"]["amounts"] = [{"quote": "3,000元", "value": 3000, "role": OVERDUE_AMOUNT}]
    raw["gold"]["deadlines"] = []
    assert any("cuts a longer number" in m for m in _messages(resolve_item(raw)))


def test_unparseable_forms_are_skipped_not_errors() -> None:
    raw = text_item("c-7", "f")
    raw["text"] = "欠款三千多块，请于下周一之前处理。"
    raw["gold"]["amounts"] = [{"quote": "三千多块", "value": 3100, "role": OVERDUE_AMOUNT}]
    raw["gold"]["deadlines"] = [{"quote": "下周一之前", "value": "2026-05-18T23:59:59", "kind": RELATIVE}]
    assert _messages(resolve_item(raw)) == []


@pytest.mark.parametrize(
    "quote, value",
    [
        ("4,386.20元", 4386.2),
        ("２，８５０元", 2850),
        ("¥5,000", 5000),
        ("￥3,000", 3000),
        ("1.2万元", 12000),
        ("3万5千元", 35000),
        ("2.5w", 25000),
        ("5k", 5000),
        ("八千八百元", 8800),
        ("人民币壹万贰仟叁佰元整", 12300),
        ("68元5角", 68.5),
        ("人民币2,136元4角8分", 2136.48),
        ("两千七百六十五块四毛", 2765.4),
        ("1万2", 12000),
        ("3000", 3000),
    ],
)
def test_money_parser(quote: str, value: float) -> None:
    assert parse_money(quote) == pytest.approx(value)


@pytest.mark.parametrize("quote", ["3万多", "三千多块", "几百块", "欠款一笔"])
def test_money_parser_skips_what_it_cannot_read(quote: str) -> None:
    assert parse_money(quote) is None


@pytest.mark.parametrize(
    "ref, quote, value, kind",  # kinds: absolute = DEADLINE_KINDS[0], relative = [1]
    [
        ("2026-04-20T09:00:00", "2026年4月30日前", "2026-04-30T23:59:59", ABSOLUTE),
        ("2026-12-18T10:00:00", "1月10日前", "2027-01-10T23:59:59", ABSOLUTE),
        ("2026-03-02T09:00:00", "3月5日24时前", "2026-03-05T23:59:59", ABSOLUTE),
        ("2026-08-28T10:00:00", "自收到本函之日起七日内", "2026-09-04T23:59:59", RELATIVE),
        ("2026-12-31T20:00:00", "48小时内", "2027-01-02T20:00:00", RELATIVE),
        ("2026-07-02T11:05:00", "今日24时前", "2026-07-02T23:59:59", RELATIVE),
        ("2026-10-19T09:10:00", "今天12点前", "2026-10-19T12:00:00", RELATIVE),
        ("2026-07-20T15:10:00", "今晚8点前", "2026-07-20T20:00:00", RELATIVE),
        ("2026-02-10T11:00:00", "月底前", "2026-02-28T23:59:59", RELATIVE),
        ("2026-06-08T09:30:00", "本月25日", "2026-06-25T23:59:59", RELATIVE),
    ],
)
def test_deadline_recomputer(ref: str, quote: str, value: str, kind: str) -> None:
    got = recompute_deadline(quote, datetime.fromisoformat(ref))
    assert got == (datetime.fromisoformat(value), kind)


def _spec_examples() -> Path | None:
    for cand in (REPO / "shared/spec/examples.jsonl", REPO.parent / "shared/spec/examples.jsonl"):
        if cand.is_file():
            return cand
    return None


def test_checker_agrees_with_every_spec_example() -> None:
    path = _spec_examples()
    if path is None:
        pytest.skip("shared/spec/examples.jsonl is not in this checkout")
    problems = []
    for line in path.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        raw.update(channel="call" if "turns" in raw else "sms", family="spec", source="hand")
        problems += check_item(resolve_item(raw))
    assert problems == []


def test_committed_splits_pass_the_checker() -> None:
    if not loader.splits_exist():
        pytest.skip("corpora/data/{train,dev,test}.jsonl not built yet (run `cuishou corpus build`)")
    from corpora.cli import split_consistency

    splits = loader.load_all()
    items = [it for name in loader.SPLIT_NAMES for it in splits[name]]
    problems = check_items(items, require_split=True) + split_consistency(splits)
    assert problems == [], problems[:20]


def test_foreign_currency_is_read_off_the_quote() -> None:
    raw = text_item("c-8", "f")
    raw["text"] = "應還金額為新台幣8,500元。"
    raw["gold"]["amounts"] = [{"quote": "新台幣8,500元", "value": 8500, "role": OVERDUE_AMOUNT}]
    raw["gold"]["deadlines"] = []
    item = resolve_item(raw)
    assert item["amounts"][0]["currency"] == "TWD" and _messages(item) == []
    item["amounts"][0]["currency"] = CURRENCY_CNY
    assert any("quote is in TWD" in m for m in _messages(item))
