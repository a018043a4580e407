"""Verify built corpus items against the label contract (shared/spec/labels.md).

The checker is deliberately independent of the models' own extractors: it has its
own small money parser and deadline recomputer, so a mistake in hand-written gold
(or in the generator) is caught instead of being copied into a model's training
target. Forms it cannot parse are skipped, never reported: the checker must be
certain before it calls something wrong.

``check_item`` returns a list of ``(item_id, message)`` problems; an empty list
means the item may be kept.
"""

from __future__ import annotations

import calendar
import logging
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from corpora.resolve import span_source
from models.labels import (
    AGENT,
    AMOUNT_ROLE_NAMES,
    CURRENCY_CNY,
    DEADLINE_KINDS,
    FLAG_NAMES,
    SPEAKERS,
    STAGE_NAMES,
)

log = logging.getLogger(__name__)

CHANNELS: tuple[str, ...] = ("sms", "app", "letter", "email", "im", "call", "web", "other")
# "templated": hand-written document skeletons filled per item by a one-off script (batch b).
SOURCES: tuple[str, ...] = ("hand", "templated", "generated")
SPLITS: tuple[str, ...] = ("train", "dev", "test")

# Plausibility bounds: a consumer debt text stating more than 100 million yuan, or
# more than 20 years overdue, is a typo, not a case.
MAX_AMOUNT = 1e8
MAX_OVERDUE_DAYS = 20 * 366
# Deadlines lie after the reference date (a past date is an event, not a deadline,
# spec §4) and within a year and a bit of it.
MAX_DEADLINE_AHEAD = timedelta(days=400)

Problem = tuple[str, str]

# --------------------------------------------------------------------------- money

_CN_DIGITS = "零〇一二两三四五六七八九壹贰叁肆伍陆柒捌玖貮"
_CN_UNITS = "十拾百佰千仟万萬亿億"
_CN_NUM = _CN_DIGITS + _CN_UNITS + "点"
_PREFIX = re.compile(
    r"^(?:人民币|人民幣|新台币|新台幣|台币|台幣|港币|港幣|港元|澳门币|澳門幣|美元|RMB|CNY|NT\$|HK\$|US\$|\$|￥|¥|共计|共計|合计|合計|约|約)\s*"
)
_SUFFIX = re.compile(r"(?:元整|圆整|圓整|元|圆|圓|块钱|塊錢|块|塊|整)$")
_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
# Arabic coefficients with 万/千/百 (and w/k) units: 3万5千, 1.2万, 2.5w, 5k, 10万
_MIXED = re.compile(
    rf"^(?:({_ARABIC})([万萬wW]))?(?:({_ARABIC})([千kK]))?(?:({_ARABIC})(百))?(?:({_ARABIC}))?$"
)
_UNIT_VALUE = {
    "万": 10_000,
    "萬": 10_000,
    "w": 10_000,
    "W": 10_000,
    "千": 1000,
    "k": 1000,
    "K": 1000,
    "百": 100,
}
_JIAO_FEN = re.compile(r"^(.*?)[元块塊](?:(.+?)[角毛])?(?:(.+?)分)?(?:钱)?$")


# Checked independently of corpora.resolve: which currency a quote names.
_FOREIGN = re.compile(
    r"(新台[币幣]|台[币幣]|NT\$)|(港[币幣元]|HK\$)|(澳[门門][币幣元]|MOP)|(美元|美金|US\$|USD)"
)
_FOREIGN_CODES = ("TWD", "HKD", "MOP", "USD")


def _quote_currency(quote: str) -> str:
    m = _FOREIGN.search(quote)
    return _FOREIGN_CODES[m.lastindex - 1] if m else CURRENCY_CNY


def _normalise(s: str) -> str:
    """Full-width digits, commas and stops to ASCII (NFKC), spaces removed."""
    s = unicodedata.normalize("NFKC", s)
    return s.replace("，", ",").replace("．", ".").replace(" ", "")


@lru_cache(maxsize=1)
def _cn2an():
    import cn2an  # lazy: import costs ~0.3 s and only Chinese numerals need it

    return cn2an


def _cn_number(s: str) -> float | None:
    """A pure Chinese / financial numeral (八千八百, 叁万贰仟, 两万三) via cn2an."""
    if not s or any(c not in _CN_NUM for c in s):
        return None
    try:
        return float(_cn2an().cn2an(s, "normal"))
    except (ValueError, KeyError, IndexError):
        return None


def _number(s: str) -> float | None:
    """A bare number: Arabic with separators/units, or Chinese numerals."""
    if not s:
        return None
    m = _MIXED.match(s)
    if m and any(m.groups()):
        total = 0.0
        groups = m.groups()
        for i in range(0, 6, 2):
            if groups[i] is not None:
                total += float(groups[i].replace(",", "")) * _UNIT_VALUE[groups[i + 1]]
        if groups[6] is not None:
            # a trailing bare part after a unit only makes sense as a plain number:
            # "3万5000" -> 35000; but "3万5" is colloquial for 35000 too -- skip that.
            tail = groups[6].replace(",", "")
            last_unit = next((groups[i + 1] for i in (4, 2, 0) if groups[i] is not None), None)
            if last_unit is not None and re.fullmatch(r"[1-9]", tail) and last_unit != "百":
                # colloquial "1万2" = 12000, "2千5" = 2500: one digit is the next unit down
                total += int(tail) * _UNIT_VALUE[last_unit] / 10
            elif last_unit is not None and len(tail.split(".")[0]) < 3:
                return None  # "3万50": not a form anyone writes on purpose
            else:
                total += float(tail)
        return total
    return _cn_number(s)


def parse_money(quote: str) -> float | None:
    """Value in yuan of a money quote, or None when the form is not understood.

    Handles ¥/人民币 prefixes, 元/整/块 suffixes, Arabic numbers with thousands
    separators and decimals, full-width digits, 万/千/百/w/k units with Arabic
    coefficients, Chinese and financial numerals, and 元角分 compounds.
    """
    s = _normalise(quote)
    while (stripped := _PREFIX.sub("", s)) != s:  # "共计人民币…": several prefixes
        s = stripped
    m = _JIAO_FEN.match(s)
    if m and (m.group(2) or m.group(3)):
        yuan = _number(m.group(1)) if m.group(1) else 0.0
        jiao = _number(m.group(2)) if m.group(2) else 0.0
        fen = _number(m.group(3)) if m.group(3) else 0.0
        if yuan is None or jiao is None or fen is None or jiao >= 10 or fen >= 10:
            return None
        return round(yuan + jiao / 10 + fen / 100, 2)
    s = _SUFFIX.sub("", s)
    # "万元" / "千元" after stripping 元 is already a unit on the number
    return _number(s)


# ------------------------------------------------------------------------ deadlines

_END_OF_DAY = (23, 59, 59)
_NUM = r"(\d+|[零〇一二两三四五六七八九十]+)"
_BEFORE = r"(?:前|之前|以前|之内|之內|内|內|为止|為止)?"
# an hour/minute tail: 18:00, 24时, 下午5点, 12点半 is not plain -> not handled
_TIME = r"(?:(上午|早上|中午|下午|傍晚|晚上)?(\d{1,2}|[一二两三四五六七八九十]{1,3})(?:[:：](\d{2})|[点點时時](?:整)?)(?:(\d{1,2})分)?)?"
_DATE_FULL = re.compile(rf"^(\d{{4}})(?:年|/|-)(\d{{1,2}})(?:月|/|-)(\d{{1,2}})[日号]?{_TIME}{_BEFORE}$")
_DATE_MD = re.compile(rf"^(\d{{1,2}})月(\d{{1,2}})[日号]{_TIME}{_BEFORE}$")
_THIS_MONTH = re.compile(rf"^本月(\d{{1,2}})[日号]{_TIME}{_BEFORE}$")
_MONTH_END = re.compile(rf"^(?:本月|当月)?月?底{_BEFORE}$")
_DAY_WORD = re.compile(rf"^(今天|今日|当天|当日|明天|明日|后天|今晚|明晚){_TIME}{_BEFORE}$")
_WITHIN_DAYS = re.compile(rf"^(?:.*?(?:起|后|後))?{_NUM}(?:日|天)(?:之)?[内內]$")
_WITHIN_HOURS = re.compile(rf"^(?:.*?(?:起|后|後))?{_NUM}(?:个|個)?小[时時](?:之)?[内內]$")
_DAY_OFFSET = {
    "今天": 0,
    "今日": 0,
    "当天": 0,
    "当日": 0,
    "今晚": 0,
    "明天": 1,
    "明日": 1,
    "后天": 2,
    "明晚": 1,
}


def _small_int(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    v = _cn_number(s)
    return int(v) if v is not None and v == int(v) else None


def _at_time(
    day: date, ampm: str | None, hour: str | None, minute: str | None, evening: bool = False
) -> datetime | None:
    """A day plus an optional clock time; no time (or 24时) is the end of the day."""
    if hour is None:
        return datetime(day.year, day.month, day.day, *_END_OF_DAY)
    hh = _small_int(hour)
    if hh is None:
        return None
    h, mi = hh, int(minute or 0)
    if h == 24 and mi == 0:
        return datetime(day.year, day.month, day.day, *_END_OF_DAY)
    if (ampm in ("下午", "傍晚", "晚上") or evening) and h < 12:
        h += 12
    if not (0 <= h < 24 and 0 <= mi < 60):
        return None
    return datetime(day.year, day.month, day.day, h, mi, 0)


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def recompute_deadline(quote: str, reference_time: datetime) -> tuple[datetime, str] | None:
    """(value, kind) for the plain deadline forms of spec §4, or None if not plain."""
    s = _normalise(quote).replace("：", ":")
    ref_day = reference_time.date()

    if m := _DATE_FULL.match(s):
        day = _safe_date(int(m[1]), int(m[2]), int(m[3]))
        return (_at(day, m, 4), "absolute") if day and _at(day, m, 4) else None
    if m := _DATE_MD.match(s):
        day = _safe_date(ref_day.year, int(m[1]), int(m[2]))
        if day is None:
            return None
        # a date with no year that has passed by more than 31 days is next year's
        if (ref_day - day).days > 31:
            day = _safe_date(ref_day.year + 1, day.month, day.day)
        value = _at(day, m, 3) if day else None
        return (value, "absolute") if value else None
    if m := _THIS_MONTH.match(s):
        day = _safe_date(ref_day.year, ref_day.month, int(m[1]))
        value = _at(day, m, 2) if day else None
        return (value, "relative") if value else None
    if _MONTH_END.match(s):
        last = calendar.monthrange(ref_day.year, ref_day.month)[1]
        return datetime(ref_day.year, ref_day.month, last, *_END_OF_DAY), "relative"
    if m := _DAY_WORD.match(s):
        day = ref_day + timedelta(days=_DAY_OFFSET[m[1]])
        value = _at_time(day, m[2], m[3], m[4] or m[5], evening=m[1] in ("今晚", "明晚"))
        return (value, "relative") if value else None
    if m := _WITHIN_DAYS.match(s):
        n = _small_int(m[1])
        if n is None:
            return None
        day = ref_day + timedelta(days=n)
        return datetime(day.year, day.month, day.day, *_END_OF_DAY), "relative"
    if m := _WITHIN_HOURS.match(s):
        n = _small_int(m[1])
        return (reference_time + timedelta(hours=n), "relative") if n is not None else None
    return None


def _at(day: date, m: re.Match[str], first: int) -> datetime | None:
    """Apply the _TIME groups that start at group ``first`` of ``m``."""
    return _at_time(day, m[first], m[first + 1], m[first + 2] or m[first + 3])


def parse_iso(value: Any) -> datetime | None:
    """Strict ``YYYY-MM-DDTHH:MM:SS`` (no zone, no fraction), else None."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


# --------------------------------------------------------------------------- items


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_span(item: dict[str, Any], span: Any, what: str, out: list[str]) -> bool:
    """Offsets must be ints and ``text[start:end]`` must equal the span's text."""
    if not isinstance(span, dict):
        out.append(f"{what}: span is not an object")
        return False
    start, end, text = span.get("start"), span.get("end"), span.get("text")
    if not (_is_int(start) and _is_int(end) and isinstance(text, str) and text):
        out.append(f"{what}: span needs int start/end and non-empty text, got {span!r}")
        return False
    if "turns" not in item and "turn" in span:
        out.append(f"{what}: span has a turn but the item is not a transcript")
        return False
    source = span_source(item, span)
    if source is None:
        out.append(f"{what}: missing or invalid turn index {span.get('turn')!r}")
        return False
    if not (0 <= start < end <= len(source)) or source[start:end] != text:
        got = source[start:end] if 0 <= start <= end <= len(source) else "<out of range>"
        out.append(f"{what}: span [{start}:{end}] is {got!r}, not {text!r}")
        return False
    return True


def _digit(ch: str) -> bool:
    return len(ch) == 1 and unicodedata.normalize("NFKC", ch).isdigit()


def _cuts_number(source: str, start: int, end: int) -> bool:
    """True when the characters around [start:end] continue a number.

    A digit right before or after always continues it. A comma only does when it
    is a thousands separator (exactly three digits on its far side): "¥880.00，2月"
    is a clause break, "1,000" cut as "1" is not. A full stop only when a digit
    follows it (a decimal point).
    """
    norm = unicodedata.normalize("NFKC", source)  # same length for digits/commas
    if len(norm) != len(source):
        norm = source
    before = norm[start - 1] if start > 0 else ""
    after = norm[end] if end < len(norm) else ""
    if _digit(before) or _digit(after):
        return True
    if after == "," and re.match(r"\d{3}(?!\d)", norm[end + 1 :]):
        return True
    if after == "." and _digit(norm[end + 1 : end + 2]):
        return True
    if before == "," and _digit(norm[start - 2 : start - 1]) and re.match(r"\d{3}(?!\d)", norm[start:]):
        return True
    return before == "." and _digit(norm[start - 2 : start - 1])


def _check_amount(item: dict[str, Any], a: dict[str, Any], out: list[str]) -> None:
    what = f"amount {a.get('text')!r}"
    if not _check_span(item, a, what, out):
        return
    value = a.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        out.append(f"{what}: value {value!r} is not a number")
        return
    if not 0 <= value <= MAX_AMOUNT:  # 0.00元 is a real sum ("剩余应还0.00元")
        out.append(f"{what}: implausible value {value!r}")
    expected = _quote_currency(a["text"])
    if a.get("currency") != expected:
        out.append(f"{what}: currency {a.get('currency')!r} but the quote is in {expected}")
    if a.get("role") not in AMOUNT_ROLE_NAMES:
        out.append(f"{what}: unknown role {a.get('role')!r}")
    # A span cut out of a longer number ("3000" inside "13000") is a wrong span.
    if _cuts_number(span_source(item, a) or "", a["start"], a["end"]):
        source = span_source(item, a) or ""
        out.append(f"{what}: span cuts a longer number ({source[max(0, a['start'] - 3) : a['end'] + 3]!r})")
    parsed = parse_money(a["text"])
    if parsed is not None and abs(parsed - float(value)) > 0.005:
        out.append(f"{what}: value {value!r} but the quote says {parsed:g}")


def _check_deadline(item: dict[str, Any], d: dict[str, Any], ref: datetime | None, out: list[str]) -> None:
    what = f"deadline {d.get('text')!r}"
    if not _check_span(item, d, what, out):
        return
    if d.get("kind") not in DEADLINE_KINDS:
        out.append(f"{what}: unknown kind {d.get('kind')!r}")
    value = parse_iso(d.get("value"))
    if value is None:
        out.append(f"{what}: value {d.get('value')!r} is not YYYY-MM-DDTHH:MM:SS")
        return
    if ref is None:
        return
    if value.date() < ref.date():
        out.append(f"{what}: value {d['value']} is before the reference date {ref.date()}")
    elif value - ref > MAX_DEADLINE_AHEAD:
        out.append(f"{what}: value {d['value']} is implausibly far after {ref.isoformat()}")
    expected = recompute_deadline(d["text"], ref)
    if expected is not None:
        exp_value, exp_kind = expected
        if exp_value != value:
            out.append(f"{what}: value {d['value']} but spec §4 gives {exp_value.isoformat()}")
        if d.get("kind") in DEADLINE_KINDS and exp_kind != d.get("kind"):
            out.append(f"{what}: kind {d.get('kind')!r} but the form is {exp_kind}")


def _overlapping(spans: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of spans (same turn) that overlap: the same sum listed twice, say."""
    pairs = []
    ordered = sorted(
        (s for s in spans if _is_int(s.get("start")) and _is_int(s.get("end"))),
        key=lambda s: (s.get("turn", -1), s["start"]),
    )
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.get("turn", -1) == b.get("turn", -1) and b["start"] < a["end"]:
            pairs.append((a.get("text"), b.get("text")))
    return pairs


def check_item(item: dict[str, Any], *, require_split: bool = False) -> list[Problem]:
    """Every problem with one built item, as (item id, message) pairs."""
    item_id = str(item.get("id") or "<no id>")
    out: list[str] = []

    if not isinstance(item.get("id"), str) or not item["id"]:
        out.append("missing id")
    has_text, has_turns = "text" in item, "turns" in item
    if has_text == has_turns:
        out.append("needs exactly one of text and turns")
        return [(item_id, m) for m in out]
    if has_text and (not isinstance(item["text"], str) or not item["text"].strip()):
        out.append("empty text")
    if has_turns:
        for i, t in enumerate(item["turns"]):
            if t.get("speaker") not in SPEAKERS:
                out.append(f"turn {i}: speaker {t.get('speaker')!r} is not one of {SPEAKERS}")
            if not isinstance(t.get("text"), str) or not t["text"].strip():
                out.append(f"turn {i}: empty text")
    if out:
        return [(item_id, m) for m in out]

    ref = parse_iso(item.get("reference_time"))
    if ref is None:
        out.append(f"reference_time {item.get('reference_time')!r} is not YYYY-MM-DDTHH:MM:SS")
    if item.get("channel") not in CHANNELS:
        out.append(f"unknown channel {item.get('channel')!r}")
    if has_turns and item.get("channel") not in ("call", "im", "app", "other"):
        out.append(f"a transcript with channel {item.get('channel')!r} (expected call or im)")
    if item.get("source") not in SOURCES:
        out.append(f"unknown source {item.get('source')!r}")
    if not isinstance(item.get("family"), str) or not item["family"]:
        out.append("missing family")
    if require_split and item.get("split") not in SPLITS:
        out.append(f"split {item.get('split')!r} is not one of {SPLITS}")
    if item.get("stage") not in STAGE_NAMES:
        out.append(f"unknown stage {item.get('stage')!r}")

    flags = item.get("flags") or []
    labels = [f.get("label") for f in flags if isinstance(f, dict)]
    for label in labels:
        if label not in FLAG_NAMES:
            out.append(f"unknown flag {label!r}")
    dup = sorted({x for x in labels if labels.count(x) > 1 and isinstance(x, str)})
    if dup:
        out.append(f"flag listed twice: {dup}")
    for f in flags:
        if not isinstance(f, dict) or not f.get("evidence"):
            out.append(f"flag {f.get('label') if isinstance(f, dict) else f!r} has no evidence")
            continue
        for span in f["evidence"]:
            what = f"flag {f['label']} evidence {span.get('text')!r}" if isinstance(span, dict) else "flag"
            if _check_span(item, span, what, out) and has_turns:
                speaker = item["turns"][span["turn"]].get("speaker")
                if speaker != AGENT:
                    out.append(f"{what}: evidence in turn {span['turn']} spoken by {speaker}, not the agent")

    amounts = item.get("amounts") or []
    for a in amounts:
        _check_amount(item, a, out)
    deadlines = item.get("deadlines") or []
    for d in deadlines:
        _check_deadline(item, d, ref, out)
    for kind, spans in (("amounts", amounts), ("deadlines", deadlines)):
        for a, b in _overlapping(spans):
            out.append(f"{kind} overlap: {a!r} and {b!r}")
        keys = [(s.get("turn", -1), s.get("start", 0)) for s in spans]
        if keys != sorted(keys):
            out.append(f"{kind} are not sorted by (turn, start)")

    od = item.get("overdue_days")
    if od is not None and not (_is_int(od) and 0 <= od <= MAX_OVERDUE_DAYS):
        out.append(f"overdue_days {od!r} is not null or a plausible day count")
    return [(item_id, m) for m in out]


def check_items(items: list[dict[str, Any]], *, require_split: bool = False) -> list[Problem]:
    """Problems over many items, plus ids that occur twice."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for item in items:
        problems.extend(check_item(item, require_split=require_split))
        if item.get("id") in seen:
            problems.append((str(item.get("id")), "duplicate id"))
        seen.add(item.get("id"))
    return problems
