"""Turn one raw corpus item (corpora/FORMAT.md) into a built item with character spans.

Raw items name their evidence by quoting it; models and evaluations need offsets.
This module does only that translation (plus copying the metadata across): it does
not judge whether the labels are right -- that is ``corpora.check``'s job.

A built item mirrors the result format of shared/spec/labels.md §6/§7::

    {"id", "text" | "turns", "reference_time", "channel", "family", "source", "split",
     "stage", "flags": [{"label", "evidence": [{"start", "end", "text"[, "turn"]}]}],
     "amounts": [{"text", "start", "end", "value", "currency", "role"[, "turn"]}],
     "deadlines": [{"text", "start", "end", "value", "kind"[, "turn"]}],
     "overdue_days", "note"?}
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from typing import Any

from models.labels import AGENT, CURRENCY_CNY

log = logging.getLogger(__name__)

# Metadata copied verbatim from the raw item; ``split`` is filled in by the build.
META_FIELDS: tuple[str, ...] = ("reference_time", "channel", "family", "source")


# The raw format has no currency field and every built amount used to say CNY;
# a few hand items quote 新台幣/港幣 sums, whose value is in that currency. The
# currency is read off the quote (an explicit "currency" on the raw entry wins).
_CURRENCY_MARKERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("新台币", "新台幣", "台币", "台幣", "NT$"), "TWD"),
    (("港币", "港幣", "港元", "HK$"), "HKD"),
    (("澳门币", "澳門幣", "澳门元", "澳門元", "MOP"), "MOP"),
    (("美元", "美金", "US$", "USD"), "USD"),
)


def infer_currency(quote: str) -> str:
    for markers, code in _CURRENCY_MARKERS:
        if any(m in quote for m in markers):
            return code
    return CURRENCY_CNY


class ResolveError(ValueError):
    """A raw item that cannot be turned into spans (missing quote, bad structure)."""


def _quote_entry(entry: Any) -> tuple[str, int | None, int | None]:
    """Accept a quote as a plain string or as {"quote", "occurrence"?, "turn"?}."""
    if isinstance(entry, str):
        return entry, None, None
    if isinstance(entry, dict) and isinstance(entry.get("quote"), str):
        occ = entry.get("occurrence")
        turn = entry.get("turn")
        if occ is not None and (not isinstance(occ, int) or isinstance(occ, bool) or occ < 0):
            raise ResolveError(f"bad occurrence {occ!r} for quote {entry['quote']!r}")
        if turn is not None and (not isinstance(turn, int) or isinstance(turn, bool)):
            raise ResolveError(f"bad turn {turn!r} for quote {entry['quote']!r}")
        return entry["quote"], occ, turn
    raise ResolveError(f"quote must be a string or an object with 'quote', got {entry!r}")


def _occurrences(haystack: str, needle: str) -> list[int]:
    """Start offsets of every (possibly overlapping) occurrence of ``needle``."""
    starts, pos = [], haystack.find(needle)
    while pos != -1:
        starts.append(pos)
        pos = haystack.find(needle, pos + 1)
    return starts


def _inside_number(text: str, start: int, end: int) -> bool:
    """True when a hit continues a longer number on either side ("0.00元" in "680.00元")."""

    def digit(i: int) -> bool:
        return 0 <= i < len(text) and unicodedata.normalize("NFKC", text[i]).isdigit()

    before = text[start - 1] if start > 0 else ""
    return digit(start - 1) or digit(end) or (before in ".．,，" and digit(start - 2) and digit(start))


def find_span(
    segments: list[tuple[int | None, str]],
    quote: str,
    occurrence: int | None,
    what: str,
    whole_numbers: bool = False,
) -> tuple[int | None, int, int]:
    """Locate the ``occurrence``-th (0-based, default first) hit of ``quote``.

    ``segments`` is the searchable text as (turn index or None, text) pairs, in
    reading order; occurrences are counted across segments in that order, so for a
    transcript "occurrence 1" is the second time the quote is said in the eligible
    turns.
    """
    if not quote:
        raise ResolveError(f"empty {what} quote")
    hits = [(turn, start) for turn, text in segments for start in _occurrences(text, quote)]
    if whole_numbers:
        # An amount quote never means the tail of a longer number; skip such hits
        # (when some other hit remains) before counting occurrences.
        texts = dict(segments)
        whole = [(t, st) for t, st in hits if not _inside_number(texts[t], st, st + len(quote))]
        hits = whole or hits
    n = 0 if occurrence is None else occurrence
    if not hits:
        raise ResolveError(f"{what} quote {quote!r} not found" + _where(segments))
    if n >= len(hits):
        raise ResolveError(f"{what} quote {quote!r} has occurrence {n} but only {len(hits)} found")
    turn, start = hits[n]
    return turn, start, start + len(quote)


def _where(segments: list[tuple[int | None, str]]) -> str:
    if segments and segments[0][0] is not None:
        return " in the eligible turns " + str([t for t, _ in segments])
    return " in the text"


def _span(turn: int | None, start: int, end: int, text: str) -> dict[str, Any]:
    span: dict[str, Any] = {"start": start, "end": end, "text": text}
    if turn is not None:
        span["turn"] = turn
    return span


def _segments(raw: dict[str, Any], *, agent_only: bool) -> list[tuple[int | None, str]]:
    if "turns" in raw:
        return [
            (i, t["text"]) for i, t in enumerate(raw["turns"]) if not agent_only or t.get("speaker") == AGENT
        ]
    return [(None, raw["text"])]


def _restrict(segments: list[tuple[int | None, str]], turn: int | None) -> list[tuple[int | None, str]]:
    """An explicit ``turn`` on a quote narrows the search to that one turn."""
    if turn is None:
        return segments
    picked = [s for s in segments if s[0] == turn]
    if not picked:
        raise ResolveError(f"turn {turn} is not an eligible turn for this quote")
    return picked


def _validate_shape(raw: Any) -> None:
    if not isinstance(raw, dict):
        raise ResolveError("item is not a JSON object")
    if not isinstance(raw.get("id"), str) or not raw["id"]:
        raise ResolveError("missing or empty 'id'")
    has_text, has_turns = "text" in raw, "turns" in raw
    if has_text == has_turns:
        raise ResolveError("item must have exactly one of 'text' and 'turns'")
    if has_text and (not isinstance(raw["text"], str) or not raw["text"].strip()):
        raise ResolveError("'text' must be a non-empty string")
    if has_turns:
        turns = raw["turns"]
        if not isinstance(turns, list) or not turns:
            raise ResolveError("'turns' must be a non-empty list")
        for i, t in enumerate(turns):
            if not isinstance(t, dict) or not isinstance(t.get("text"), str) or "speaker" not in t:
                raise ResolveError(f"turn {i} must be an object with 'speaker' and 'text'")
    if not isinstance(raw.get("gold"), dict):
        raise ResolveError("missing 'gold' object")


def _list(gold: dict[str, Any], key: str) -> list[Any]:
    value = gold.get(key) or []
    if not isinstance(value, list):
        raise ResolveError(f"gold.{key} must be a list")
    return value


def _resolve_values(
    raw: dict[str, Any], entries: list[Any], what: str, fields: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Resolve amount or deadline entries (any turn) and sort them by (turn, start).

    A quote listed twice without ``occurrence`` means the same words said twice
    ("3,000元 ... 3,000元"): the k-th repeat takes occurrence k instead of landing on
    the first hit again, which would silently duplicate a span.
    """
    seen: Counter[str] = Counter()
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("quote"), str):
            raise ResolveError(f"{what} entry must be an object with 'quote': {entry!r}")
        quote, occ, turn = _quote_entry(entry)
        # An explicit occurrence counts plain substring hits, as FORMAT.md says
        # ("45.00元" inside "1,045.00元" is hit 0). Without one, an amount quote
        # takes the first hit that is not the tail of a longer number.
        implicit = occ is None
        if implicit:
            occ = seen[quote]
        seen[quote] += 1
        segs = _restrict(_segments(raw, agent_only=False), turn)
        t, start, end = find_span(segs, quote, occ, what, whole_numbers=implicit and what == "amount")
        built: dict[str, Any] = {"text": quote, "start": start, "end": end}
        for f in fields:
            built[f] = entry.get(f)
        if what == "amount":
            built["currency"] = entry.get("currency") or infer_currency(quote)
            # keep the documented key order: text,start,end,value,currency,role
            built = {k: built[k] for k in ("text", "start", "end", "value", "currency", "role")}
        if t is not None:
            built["turn"] = t
        out.append(built)
    out.sort(key=lambda s: (s.get("turn", -1), s["start"], s["end"]))
    return out


def resolve_item(raw: dict[str, Any]) -> dict[str, Any]:
    """Build one item; raises ResolveError with a readable message on any problem."""
    _validate_shape(raw)
    gold = raw["gold"]
    item: dict[str, Any] = {"id": raw["id"]}
    if "turns" in raw:
        item["turns"] = [{"speaker": t["speaker"], "text": t["text"]} for t in raw["turns"]]
    else:
        item["text"] = raw["text"]
    for f in META_FIELDS:
        item[f] = raw.get(f)
    item["split"] = raw.get("split")
    item["stage"] = gold.get("stage")

    flag_names = _list(gold, "flags")
    quotes = gold.get("flag_quotes") or {}
    if not isinstance(quotes, dict):
        raise ResolveError("gold.flag_quotes must be an object")
    extra = sorted(set(quotes) - set(flag_names))
    if extra:
        raise ResolveError(f"flag_quotes given for flags not in gold.flags: {extra}")
    flags = []
    for label in flag_names:
        entries = quotes.get(label)
        if isinstance(entries, str | dict):
            entries = [entries]
        if not entries:
            raise ResolveError(f"flag {label!r} has no evidence quote")
        evidence = []
        for entry in entries:
            quote, occ, turn = _quote_entry(entry)
            # Flags judge the agent's conduct only (spec §7), so customer turns are
            # not searched at all: a quote said only by the customer fails here.
            segs = _restrict(_segments(raw, agent_only=True), turn)
            t, start, end = find_span(segs, quote, occ, f"flag {label}")
            evidence.append(_span(t, start, end, quote))
        evidence.sort(key=lambda s: (s.get("turn", -1), s["start"], s["end"]))
        flags.append({"label": label, "evidence": evidence})
    item["flags"] = flags

    item["amounts"] = _resolve_values(raw, _list(gold, "amounts"), "amount", ("value", "role"))
    item["deadlines"] = _resolve_values(raw, _list(gold, "deadlines"), "deadline", ("value", "kind"))
    item["overdue_days"] = gold.get("overdue_days")
    if raw.get("note"):
        item["note"] = raw["note"]
    return item


def item_text(item: dict[str, Any]) -> str:
    """The whole text of an item (turns joined by newlines), for dedup and stats."""
    if "turns" in item:
        return "\n".join(t["text"] for t in item["turns"])
    return item["text"]


def span_source(item: dict[str, Any], span: dict[str, Any]) -> str | None:
    """The string a span's offsets point into (a turn's text or the text); None if invalid."""
    if "turns" in item:
        turn = span.get("turn")
        if not isinstance(turn, int) or isinstance(turn, bool) or not 0 <= turn < len(item["turns"]):
            return None
        return item["turns"][turn]["text"]
    return item.get("text")
