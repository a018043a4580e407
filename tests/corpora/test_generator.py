"""Tests for the corpus generator (corpora/generator): determinism, exact quotes,
flags only in agent turns, deadline resolution by spec §4."""

from __future__ import annotations

import json
import random
from datetime import datetime

import pytest

from corpora.generator import dates, money
from corpora.generator.plan import generate
from corpora.generator.stats import top_coverage
from models.labels import AGENT, AMOUNT_ROLE_NAMES, DEADLINE_KINDS, FLAG_NAMES, STAGE_NAMES

N = 300


@pytest.fixture(scope="module")
def items():
    return generate(0, N)


def _segments(item):
    if "text" in item:
        return [(None, item["text"], "all")]
    return [(i, t["text"], t["speaker"]) for i, t in enumerate(item["turns"])]


def _count(hay: str, needle: str) -> int:
    n, i = 0, hay.find(needle)
    while i != -1:
        n += 1
        i = hay.find(needle, i + 1)
    return n


def test_deterministic_for_a_seed(items):
    again = generate(0, N)
    assert json.dumps(items, ensure_ascii=False) == json.dumps(again, ensure_ascii=False)
    other = generate(1, 50)
    assert [i.get("text") for i in other] != [i.get("text") for i in items[:50]]


def test_format_and_labels(items):
    ids = set()
    for it in items:
        assert it["id"] not in ids
        ids.add(it["id"])
        assert it["source"] == "generated" and it["family"].startswith("gen:")
        assert ("text" in it) != ("turns" in it)
        g = it["gold"]
        assert g["stage"] in STAGE_NAMES
        assert set(g["flags"]) <= set(FLAG_NAMES) and set(g["flag_quotes"]) == set(g["flags"])
        assert all(a["role"] in AMOUNT_ROLE_NAMES for a in g["amounts"])
        assert all(d["kind"] in DEADLINE_KINDS for d in g["deadlines"])
        datetime.fromisoformat(it["reference_time"])
        size = len(it["text"]) if "text" in it else sum(len(t["text"]) for t in it["turns"])
        assert 15 <= size <= 1500


def test_every_quote_is_an_exact_substring(items):
    for it in items:
        segs = _segments(it)
        g = it["gold"]
        entries = [e for e in g["amounts"] + g["deadlines"]]
        for qs in g["flag_quotes"].values():
            entries += [q if isinstance(q, dict) else {"quote": q} for q in qs]
        for e in entries:
            q = e["quote"]
            texts = [t for i, t, _ in segs if e.get("turn") is None or i == e["turn"]]
            assert any(q in t for t in texts), (it["id"], q)
            if "occurrence" in e:
                assert sum(_count(t, q) for t in texts) > e["occurrence"], (it["id"], q)


def test_flag_quotes_only_in_agent_turns(items):
    transcripts = [it for it in items if "turns" in it]
    assert transcripts
    for it in transcripts:
        for qs in it["gold"]["flag_quotes"].values():
            for q in qs:
                turn = it["turns"][q["turn"]]
                assert turn["speaker"] == AGENT
                assert q["quote"] in turn["text"]


def test_resolver_hand_checked_cases():
    ref = datetime(2026, 8, 28, 10, 0, 0)
    iso = lambda spec, r=ref: dates.iso(dates.resolve(spec, r))  # noqa: E731
    assert iso(("days", 7)) == "2026-09-04T23:59:59"  # 收到本函之日起七日内
    assert iso(("day", 0, None, None)) == "2026-08-28T23:59:59"  # 今天
    assert iso(("day", 0, 24, 0)) == "2026-08-28T23:59:59"  # 今日24时前
    assert iso(("day", 1, 15, 0)) == "2026-08-29T15:00:00"  # 明天下午3点前
    assert iso(("month_end", 0)) == "2026-08-31T23:59:59"  # 月底
    assert iso(("month_day", 0, 30)) == "2026-08-30T23:59:59"  # 本月30日
    assert iso(("weekday", 1, 0)) == "2026-08-31T23:59:59"  # 下周一 (28th is a Friday)
    assert iso(("hours", 48), datetime(2026, 12, 31, 20, 0)) == "2027-01-02T20:00:00"
    assert iso(("hours", 24), datetime(2026, 2, 28, 16, 20)) == "2026-03-01T16:20:00"
    assert iso(("md", 2, 15, None, None), datetime(2026, 2, 6, 10)) == "2026-02-15T23:59:59"
    # a yearless date passed by more than 31 days takes the next year
    assert iso(("md", 1, 10, None, None), datetime(2026, 12, 18, 10)) == "2027-01-10T23:59:59"
    assert iso(("md", 3, 5, 24, 0), datetime(2026, 3, 2, 9)) == "2026-03-05T23:59:59"
    assert iso(("month_end", 0), datetime(2026, 2, 10, 11)) == "2026-02-28T23:59:59"
    assert iso(("month_end_named", 12), datetime(2026, 11, 25)) == "2026-12-31T23:59:59"
    assert dates.kind_of(("md", 3, 14, None, None)) == "absolute"
    assert dates.kind_of(("month_day", 0, 25)) == "relative"


def test_generated_deadlines_match_resolver(items):
    rng = random.Random(7)
    for _ in range(300):
        ref = dates.random_ref(rng)
        spec = dates.pick_spec(rng, ref)
        value = dates.resolve(spec, ref)
        assert value > ref or spec[0] == "day"
    seen = [d for it in items for d in it["gold"]["deadlines"]]
    assert seen and all(datetime.fromisoformat(d["value"]) for d in seen)


@pytest.mark.parametrize(
    "cents,forms",
    [(1200000, {"1.2万", "1万2", "一万二", "12k", "1.2万元"}), (880000, {"八千八百元", "8,800元"}), (213648, {"2,136元4角8分"})],
)
def test_money_forms_keep_the_value(cents, forms):
    rng = random.Random(0)
    seen = {money.render_form(cents, f, rng) for f in money.compatible_forms(cents) for _ in range(30)}
    assert forms & seen
    assert money.value_of(cents) == cents / 100


def test_not_template_like(items):
    cov, _ = top_coverage(items)
    assert cov < 0.15
