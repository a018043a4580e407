"""Days overdue, when the text states them (spec §5).

逾期45天 -> 45, 已逾期1年 -> 365, 逾期三个月 -> 90 (a month is 30 days, a week 7,
a year 365), 逾期第30天 -> 30, 逾期一个半月 -> 45, 逾期半年 -> 180. The first
statement about the reader's own account wins. Not read as overdue days: a
range (逾期1-30天, generic wording in articles), a conditional (如逾期超过30天,
若逾期3天以上), and a number of days with no 逾期 / 拖欠 before it (最快3天).
"""

from __future__ import annotations

import re

from .numerals import CN_DIGIT_CHARS, fold, small_int

_N = rf"(?:[0-9]{{1,5}}|[{CN_DIGIT_CHARS}十百千]{{1,6}})"
_OVERDUE_RE = re.compile(
    r"(?:逾期|拖欠|已经拖了|已拖|拖了|拖|yq|YQ)"
    r"(?:时间|天数|时长|期限)?(?:[:为是]|已经|已达|长达|已|达|了|有|将近|接近|近|约|超过|满|共|至今|到)*"
    rf"\s*(?P<first>第)?\s*(?P<n>{_N}|半)\s*(?P<half>个半|半)?(?P<unit>个自然日|个工作日|天|日|个多月|个月|月|年|周|个星期|星期|个礼拜)"
)
_COND_BEFORE = re.compile(
    r"(?:如|若|如果|假如|一旦|倘若|超过|避免|防止|以免|不要|别|一般|通常|往往|一旦)[^，。,；;！？\n]{0,3}$"
)
_QUESTION = re.compile(r"[?？]|吗|怎么办|怎样|会不会|能不能")
_SENT_END = re.compile(r"[，,。！!？?\n；;]|(?<=[\u2e80-\U0002ffff]) (?=[\u2e80-\U0002ffff])")


def _sentence_after(t: str, pos: int) -> str:
    m = _SENT_END.search(t, pos)
    return t[pos : m.end() if m else len(t)]


_EXPLICIT_DAYS = re.compile(r"\s*[(（]\s*([0-9]{1,5})\s*天\s*[)）]")


_THRESHOLD_AFTER = re.compile(r"\s*(?:以上|以下|及以上|或以上|以内)")
_OWN = re.compile(r"您|你|账户|借款|贷款|信用卡|欠款")


def _sentence_before(t: str, pos: int) -> str:
    i = pos - 1
    while i >= 0 and t[i] not in "。！!？?\n；;":
        i -= 1
    return t[i + 1 : pos]


_UNIT_DAYS = {
    **dict.fromkeys(("天", "日", "个自然日", "个工作日"), 1),
    **dict.fromkeys(("个月", "个多月", "月"), 30),
    **dict.fromkeys(("周", "个星期", "星期", "个礼拜"), 7),
    "年": 365,
}


def _extract(text: str) -> int | None:
    """The extractor without its safety net (the fuzz run calls this to see real exceptions)."""
    t = fold(text)
    if "逾期" not in t and "拖" not in t and "yq" not in t and "YQ" not in t:
        return None
    for m in _OVERDUE_RE.finditer(t):
        after = t[m.end() : m.end() + 1]
        before = t[m.start() - 1 : m.start()] if m.start() else ""
        if after in ("-", "~", "至", "到") or before in ("-", "~"):
            continue
        if _COND_BEFORE.search(t[max(0, m.start() - 6) : m.start()]):
            continue
        if _QUESTION.search(_sentence_after(t, m.end())):
            continue  # 逾期3天会上征信吗？ asks about a case, it states none
        if _THRESHOLD_AFTER.match(t, m.end()) and not _OWN.search(_sentence_before(t, m.start())):
            continue  # 逾期90天以上的账户…: a threshold, not the reader's account
        explicit = _EXPLICIT_DAYS.match(t, m.end())
        if explicit:
            return int(explicit.group(1))  # 半年（182天）: the stated count wins
        n_txt = m.group("n")
        unit = _UNIT_DAYS[m.group("unit")]
        if n_txt == "半":
            if unit == 365:
                return 180  # 半年: six months of 30 days
            n = 0.5
        else:
            v = small_int(n_txt)
            if v is None:
                continue
            n = float(v)
        if m.group("half"):
            n += 0.5
        days = int(round(n * unit))
        if 0 < days <= 100_000:
            return days
    return None


def extract_overdue_days(text: str) -> int | None:
    """The number of days overdue stated in ``text``, else None. Never raises."""
    try:
        if not isinstance(text, str) or not text:
            return None
        return _extract(text)
    except Exception:  # pragma: no cover - never raise
        return None
