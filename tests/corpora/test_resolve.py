"""Quote -> span resolution (corpora.resolve)."""

from __future__ import annotations

import pytest

from corpora.resolve import ResolveError, item_text, resolve_item
from models.labels import AGENT, CURRENCY_CNY, FLAG_NAMES

from .fixtures import OVERDUE_AMOUNT, call_item, text_item


def test_text_item_spans_point_at_the_quotes() -> None:
    raw = text_item("r-1", "fam", flags=(FLAG_NAMES[0],))
    item = resolve_item(raw)
    text = item["text"]
    for span in [*item["amounts"], *item["deadlines"], *item["flags"][0]["evidence"]]:
        assert text[span["start"] : span["end"]] == span["text"]
        assert "turn" not in span
    assert item["amounts"][0]["currency"] == CURRENCY_CNY
    assert item["flags"][0]["label"] == FLAG_NAMES[0]
    assert "gold" not in item and item["split"] is None


def test_first_occurrence_unless_occurrence_given() -> None:
    raw = text_item("r-2", "fam")
    raw["text"] = "欠款1,000元，滞纳金100元，再说一次欠款1,000元。"
    raw["gold"]["amounts"] = [
        {"quote": "1,000元", "value": 1000, "role": OVERDUE_AMOUNT, "occurrence": 1},
        {"quote": "100元", "value": 100, "role": OVERDUE_AMOUNT},
    ]
    raw["gold"]["deadlines"] = []
    item = resolve_item(raw)
    # sorted by start, and the 1,000元 is the second one
    assert [a["text"] for a in item["amounts"]] == ["100元", "1,000元"]
    assert item["amounts"][1]["start"] == raw["text"].rindex("1,000元")


def test_repeated_quote_without_occurrence_takes_next_hit() -> None:
    raw = text_item("r-3", "fam")
    raw["text"] = "本期3,000元，逾期后仍为3,000元。"
    raw["gold"]["amounts"] = [{"quote": "3,000元", "value": 3000, "role": OVERDUE_AMOUNT}] * 2
    raw["gold"]["deadlines"] = []
    starts = [a["start"] for a in resolve_item(raw)["amounts"]]
    assert starts == [2, raw["text"].rindex("3,000元")]


def test_occurrence_out_of_range_is_an_error() -> None:
    raw = text_item("r-4", "fam")
    raw["gold"]["deadlines"][0]["occurrence"] = 5
    with pytest.raises(ResolveError, match="occurrence 5"):
        resolve_item(raw)


def test_transcript_flag_only_in_agent_turns_amounts_in_any_turn() -> None:
    item = resolve_item(call_item())
    (flag,) = item["flags"]
    (ev,) = flag["evidence"]
    # the customer says the words first (turn 1); the evidence must be the agent's turn 2
    assert ev["turn"] == 2 and item["turns"][2]["speaker"] == AGENT
    assert item["turns"][2]["text"][ev["start"] : ev["end"]] == ev["text"]
    # amounts sorted by (turn, start): agent's 5,412元 in turn 0, customer's 3000 in turn 1
    assert [(a["turn"], a["text"]) for a in item["amounts"]] == [(0, "5,412元"), (1, "3000")]
    assert item["deadlines"][0]["turn"] == 2
    assert item_text(item).count("\n") == 2


def test_transcript_occurrence_counts_across_agent_turns() -> None:
    raw = call_item()
    raw["gold"]["flag_quotes"][FLAG_NAMES[2]] = [{"quote": "联系你家人", "occurrence": 1}]
    ev = resolve_item(raw)["flags"][0]["evidence"][0]
    assert ev["turn"] == 2 and ev["start"] == raw["turns"][2]["text"].rindex("联系你家人")


def test_flag_quote_said_only_by_customer_is_rejected() -> None:
    raw = call_item()
    raw["gold"]["flag_quotes"][FLAG_NAMES[2]] = ["上次有人说"]
    with pytest.raises(ResolveError, match="not found in the eligible turns"):
        resolve_item(raw)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r["gold"]["amounts"][0].update(quote="9,999,999元"), "not found"),
        (lambda r: r["gold"].update(flags=[FLAG_NAMES[0]], flag_quotes={}), "no evidence"),
        (lambda r: r["gold"].update(flag_quotes={FLAG_NAMES[1]: ["您已逾期"]}), "not in gold.flags"),
        (lambda r: r.pop("gold"), "gold"),
        (lambda r: r.update(turns=[]), "exactly one of"),
    ],
)
def test_bad_raw_items_raise_readable_errors(mutate, message) -> None:
    raw = text_item("r-5", "fam")
    mutate(raw)
    with pytest.raises(ResolveError, match=message):
        resolve_item(raw)


def test_amount_quote_skips_hits_inside_longer_numbers_unless_occurrence_given() -> None:
    raw = text_item("r-6", "fam")
    raw["text"] = "本期应还1,045.00元，其中利息45.00元。"
    raw["gold"]["amounts"] = [{"quote": "45.00元", "value": 45, "role": OVERDUE_AMOUNT}]
    raw["gold"]["deadlines"] = []
    standalone = raw["text"].rindex("45.00元")
    assert resolve_item(raw)["amounts"][0]["start"] == standalone
    # an explicit occurrence counts plain substring hits (hit 0 is inside 1,045.00元)
    raw["gold"]["amounts"][0]["occurrence"] = 1
    assert resolve_item(raw)["amounts"][0]["start"] == standalone
