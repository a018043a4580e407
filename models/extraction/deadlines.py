"""Deadlines: when money or an action is due from the debtor (spec §4).

Candidates (one regex pass over the folded text):

* absolute: 2026年3月14日, 3月14日 / 3月14号, 2026-03-14 (also / and .), 3.14 and
  11/30 (only with 前/之前 after or 请于/最迟… before), 十二月月底 / 12月底, a bare
  time 下午5点前 / 17:00前;
* relative: 今天/今日/今晚/明天/后天/大后天/次日, 本周五 / 下周一 / 周三, 月底 /
  本月底 / 下月底, 本月25日 / 下个月5号, 年底, 三号之前 (day only), N天内 /
  N日内 / N个工作日内 / N小时内 / N周内 / N个月内 / 半个月内, with an optional
  start phrase (自收到本函之日起七日内, 本函送达之日起十日内, 收到本通知后3日内).

An optional clock time follows a date (今天下午5点前, 3月5日24时前, 今日18:00前)
and an optional 前 / 之前 / 以前 / 为止 / 内 closes the quote.

Resolution (reference_time = receipt): a date alone is 23:59:59 of that day;
今天 with no hour is today 23:59:59; N天内 is the end of the day N days after
the reference date; N小时内 is reference_time + N hours; 本月25日 is the 25th of
the reference month; 月底 is the last day of the month, 23:59:59; a date with
no year takes the reference year, or the next year if that date has passed by
more than 31 days; a day with no month (三号之前) takes the reference month, or
the next month if that day has passed; 24时 / 24:00 / 晚上12点 is 23:59:59;
今天12点前 is exactly 12:00:00.

A candidate is a deadline only when the words around it say that something is
due from the debtor: 请于 / 务必 / 限你 / 最迟 / 还款日为 before it, or a debtor
verb (还, 清偿, 缴, 联系, 致电, 到期…) as the first cue after it, or 前 / 内 closing
it. It is dropped when it dates something else: a past event (已于…, 成功还款,
a stated date that is already past unless 请于… demands it), a balance date
(截至…, 截止X，您尚欠…), a start (自…起, 从…开始, 逾期开始日), the end of a period
(4月9日至7月8日), a recurring date (每月15日), a duration (期限为三十日), a
question (今天能不能还？), a threatened consequence (不然明天…, 否则…), the
speaker's own promise (我今天就还), or the sender's own step (我行将于…, 安排外访,
上门, 起诉, 移交, 寄送, 联系您…). A debit date (将于明日扣款) is due from the
debtor, who must fund the account.

Text is folded first (full width to ASCII, traditional to simplified, one char
for one char), dialect day words are known (今儿/明儿/听日, 晌午), and in ASR
transcripts a space between Chinese characters ends a clause. Identical values
found twice in one text are listed once.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..labels import DEADLINE_KINDS
from .numerals import CN_DIGIT_CHARS, fold, small_int

ABSOLUTE, RELATIVE = DEADLINE_KINDS


@dataclass(frozen=True)
class DeadlineMatch:
    text: str
    start: int
    end: int
    value: str
    kind: str


_CN = CN_DIGIT_CHARS
_ND = rf"(?:[0-9]{{1,2}}|[{_CN}十]{{1,3}})"
_NY = r"(?:[0-9]{4}|[零〇○一二三四五六七八九]{4})"
_NC = rf"(?:[0-9]{{1,3}}|[{_CN}十百]{{1,4}})"
_DOC = r"(?:函件|律师函|催收函|催告函|催款函|通知书|通知函|告知书|通知|函|短信|信息|邮件)"
_WPRE = (
    rf"(?:(?:自|从)?(?:(?:收到|接到|签收)(?:本|此|该)?{_DOC}|(?:本|此|该){_DOC}(?:送达|发出|签收))"
    r"(?:之日|当日)?(?:起|后)|(?:自|从)?(?:即日|今日|今天)起)"
)
_NB = r"(?<![0-9A-Za-z~\-])"  # a number does not start inside another number / identifier

_HEAD_START = rf"(?=[0-9{_CN}十百半自从收接签本此该即今这当下次年月大后明周星礼上中晚早凌傍听])"
_HEAD_RE = re.compile(
    rf"""
    {_HEAD_START}
    (?:(?P<within>(?P<wpre>{_WPRE})?{_NB}(?P<wn>{_NC}|半)(?P<wu>个工作日|个自然日|个小时|小时|日|天|周|个星期|星期|个礼拜|个月)之?内)
    |(?P<ymd>{_NB}(?P<y>{_NY})年(?P<m>{_ND})月(?P<d>{_ND})[日号]?)
    |(?P<iso>{_NB}(?P<iy>[0-9]{{4}})(?P<isep>[-/.])(?P<im>[0-9]{{1,2}})(?P=isep)(?P<id>[0-9]{{1,2}})(?![0-9A-Za-z_]|[-/.][0-9]))
    |(?P<mend>{_NB}(?P<mem>{_ND})月份?(?:月底|底|月末|末|最后一天))
    |(?P<md>{_NB}(?P<mm>{_ND})月(?P<mdd>{_ND})(?P<mdu>[日号])?)
    |(?P<rm>(?P<rmw>本月|这个月|这月|当月|下月|下个月|次月)的?(?:(?P<rmd>{_ND})[日号]|(?P<rmend>底|末|月底|月末|最后一天)))
    |(?P<ye>(?:今年|本年度?)?(?:年底|年末|年终))
    |(?P<me>月底|月末)
    |(?P<rd>大后天|后天|明天|明日|明晚|明早|明晨|明儿个|明儿|听日|今天|今日|今晚|今夜|今早|今儿个|今儿|当天|当日|次日)
    |(?P<wk>(?P<wkp>本周|这周|本星期|这星期|这个星期|这礼拜|这个礼拜|下周|下星期|下个星期|下礼拜|下个礼拜|周|星期|礼拜)(?P<wkd>[一二三四五六日天末1-7]))
    |(?P<sl>(?<![0-9A-Za-z_./:\-])(?P<sm>1[0-2]|0?[1-9])(?P<ssep>[/.])(?P<sd>3[01]|[12][0-9]|0?[1-9])(?![0-9A-Za-z_%]|[/.][0-9]))
    |(?P<od>(?<![0-9年月周第号.\-/:A-Za-z{_CN}十])(?P<odn>{_ND})[号日])
    |(?P<to>(?P<tap>上午|下午|中午|晚上|早上|凌晨|傍晚)?(?<![0-9:.])(?P<th>{_ND})(?:[点时](?P<tmi>[0-9]{{1,2}}|半)?分?|:(?P<tmi2>[0-9]{{2}}))))
    """,
    re.X,
)
_TIME_RE = re.compile(
    rf"的?\s*(?P<ap>上午|下午|中午|晚上|早上|凌晨|傍晚|夜里|晚|早)?(?P<h>{_ND})"
    rf"(?:(?P<hs>[点时])(?:(?P<half>半)|(?P<mi>[0-9]{{1,2}}|[{_CN}十]{{1,3}})分?|整)?|:(?P<mi2>[0-9]{{2}})(?::[0-9]{{2}})?)"
)
_RANGE_END = re.compile(r"[日号0-9](?:至|到|-|~)\s*$")
_OTHER_DAY = re.compile(r"还款日|到期日|扣款日|该日|那天|届时")
_WEEKDAY_NOTE = re.compile(r"\s*[(（](?:星期|周|礼拜)[一二三四五六日天][)）]")
_NOON_BEFORE = re.compile(r"(?:中午|上午|午前|晌午)(?=之前|以前|前)")
_SUFFIX_RE = re.compile(r"之前|以前|前(?![往来去夕者面天日])|之内|以内|为止|截止|止(?!息)")

_IMM_NEG_LEFT = re.compile(
    r"(?:已于|已经于|曾于|已在|已经在|截至|截至到|自|从|早在|此前|上次|之前的|已是|是在)\s*$"
)
_SENDER_LEFT = re.compile(
    r"(?:我行|我司|我们|本行|本院|本所|本会|我部|我社|我公司|信贷员|工作人员|外访人员|律师|我|我这边|那我)"
    r"(?:将|会|定|拟|计划)?(?:于|在)?\s*$"
)
_LEFT_NEG = re.compile(
    r"不然|否则|要不然|要不|每月|每期|每周|每年|每个月|逾期开始|开始逾期|首次逾期|逾期日|借款日|放款日|出账日|账单日|签订|签约|申请日|"
    r"发函日|落款|上个月|上月|上周|去年|昨天|前天|出生|生日|成立|注册"
)
_STRONG_LEFT = re.compile(
    r"(?:请于|请在|请您于|请您在|请你于|请你在|务必于|务必在|务必|必须于|必须在|必须|须于|须在|需于|需在|"
    r"要在|要于|限你|限您|限于|限期|最晚|最迟|最晚于|最迟于|截止日期?|截止时间|截止到|截止至|还款日期?|到期日|期限|最后还款日|还款期限|扣款日|"
    r"最后期限|请|请您|请你|务请|敬请|麻烦您|麻烦你|希望您|希望你|建议您|建议你)(?:为|是|:)?\s*(?:于|在)?\s*$"
)
_WEAK_LEFT = re.compile(r"请|务必|必须|须|限(?:你|您|期|于)|需要|需|要求|最晚|最迟")
_IMM_NEG_RIGHT = re.compile(
    rf"(?:起(?!诉)|开始|以来|以后|之后|后(?!天)|(?:至|到|-|~)(?=[0-9{_CN}十]|本月|下月|今天|今日|明天|明日|次日|[月号日])|那天|左右|曾|生效)"
)
_RIGHT_CUE = re.compile(
    r"(?P<neg>已|成功|安排|上门|外访|走访|拜访|前往|核实|起诉|诉讼|提起|立案|开庭|移交|委托|委外|寄送|寄出|发送|发出|"
    r"发函|送达|上报|报送|通知您|通知你|联系您|联系你|致电您|致电你|给您打|给你打|打给|发到|曝光|开始|借款|借的|放款|"
    r"办理了|申请|签|出账|再次|会再|派|抓|拘留|贴|发给|与您联系|和您联系|与你联系|会与|会给|会联系|"
    r"我们(?:会|将|就|要)|我司(?:会|将|就)|我行(?:会|将|就)|本所(?:会|将)|我们的|工作人员|外访人员|"
    r"到期清零|到期失效|到期作废|清零|失效|转入外部|转交|移送|递交|核查|审核|答复您|告知您|以短信|"
    r"就还|会还|一定还|再还|才还|尽量|再说|再联系|再打|再给|就会|会被|就把|就去|就让|就找|就打|都会|全家|"
    r"安排(?:外访|人员|上门|工作人员|专人|律师)|来电|是想|值班|值夜班)"
    r"|(?P<pos>还|偿|还清|结清|清偿|付清|缴清|缴|交|支付|付|转入|转账|处理|联系|致电|回电|来电|回复|到期|截止|存入|存够|"
    r"补|到账|入账|打过来|转过来|协商|履行|办结|前来|到我|携带|提交|扣款|划扣|代扣|扣收|必须|答复|安排一下|安排还款)"
)
_ASOF_RIGHT = re.compile(
    r"[,，]?\s*(?:您|你)?的?(?:尚欠|共欠|仍欠|欠|累计|已|逾期|账户|贷款|借款|信用卡|本金|合计|共计)"
)
_QUESTION = re.compile(r"[?？]|吗|能不能|能否|可不可以|行不行|好不好|是不是|有没有|可以不")
_BREAK = frozenset("，,。；;！!？?\n")
_SENT_BREAK = frozenset("。；;！!？?\n")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 6}
_DAY_OFFSET = {
    "大后天": 3,
    "后天": 2,
    **dict.fromkeys(("明天", "明日", "明晚", "明早", "明晨", "明儿个", "明儿", "听日", "次日"), 1),
}
_TRIGGER = re.compile(r"[0-9今明后本下月周星礼号日天时点底末内午晚当次年" + _CN + "十]")


def _digit_comma(t: str, i: int) -> bool:
    """A comma inside a number (8,000), which does not end a clause."""
    return t[i] == "," and 0 < i < len(t) - 1 and t[i - 1].isdigit() and t[i + 1].isdigit()


def _is_break(t: str, i: int, breaks: frozenset) -> bool:
    c = t[i]
    if c in breaks:
        return not _digit_comma(t, i)
    # ASR transcripts mark pauses with a space between Chinese characters
    return c == " " and 0 < i < len(t) - 1 and t[i - 1] > "\u2e80" and t[i + 1] > "\u2e80"


def _clause_left(t: str, s: int, limit: int = 24) -> str:
    lo = max(0, s - limit)
    i = s - 1
    while i >= lo and not _is_break(t, i, _BREAK):
        i -= 1
    return t[i + 1 : s]


def _clause_right(t: str, e: int, limit: int = 24) -> str:
    hi = min(len(t), e + limit)
    j = e
    while j < hi and not _is_break(t, j, _BREAK):
        j += 1
    return t[e:j]


def _sentence(t: str, s: int, e: int, limit: int = 40) -> str:
    lo, hi = max(0, s - limit), min(len(t), e + limit)
    i = s - 1
    while i >= lo and not _is_break(t, i, _SENT_BREAK):
        i -= 1
    j = e
    while j < hi and not _is_break(t, j, _SENT_BREAK):
        j += 1
    return t[i + 1 : min(j + 1, len(t))]


def _eod(d: date) -> datetime:
    return datetime.combine(d, time(23, 59, 59))


def _year_for(ref: date, m: int, d: int) -> date | None:
    """A month-day with no year: the reference year, or the next if passed by more than 31 days."""
    try:
        cand = date(ref.year, m, d)
    except ValueError:
        cand = None
    if cand is None or (ref - cand).days > 31:
        try:
            return date(ref.year + 1, m, d)
        except ValueError:
            return None
    return cand


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _add_months(d: date, n: int) -> tuple[int, int]:
    k = d.year * 12 + (d.month - 1) + n
    return k // 12, k % 12 + 1


def _add_workdays(d: date, n: int) -> date:
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def _clock(m: re.Match, evening: bool) -> tuple[int, int, int] | None:
    """(h, m, s) of a clock-time match; 24时 -> 23:59:59."""
    h = small_int(m.group("h") if "h" in m.re.groupindex else m.group("th"))
    if h is None:
        return None
    ap = m.group("ap") if "ap" in m.re.groupindex else m.group("tap")
    mi_txt = None
    half = False
    if "mi" in m.re.groupindex:
        mi_txt = m.group("mi") or m.group("mi2")
        half = bool(m.group("half"))
    else:
        tmi = m.group("tmi")
        half = tmi == "半"
        mi_txt = None if half else (tmi or m.group("tmi2"))
    mi = small_int(mi_txt) if mi_txt else 0
    if mi is None or mi > 59:
        return None
    if half:
        mi = 30
    if ap in ("下午", "晚上", "傍晚", "夜里", "晚") or (ap is None and evening):
        if h == 12 and ap not in ("下午",):
            return 23, 59, 59
        if h < 12:
            h += 12
    elif ap == "中午" and h < 5:
        h += 12
    if h == 24 and mi == 0:
        return 23, 59, 59
    if h > 23:
        return None
    return h, mi, 0


def _to_ref(reference_time) -> datetime:
    if isinstance(reference_time, datetime):
        return reference_time.replace(tzinfo=None)
    if isinstance(reference_time, date):
        return datetime.combine(reference_time, time(0, 0))
    if isinstance(reference_time, str):
        try:
            return datetime.fromisoformat(reference_time.strip()).replace(tzinfo=None)
        except ValueError:
            pass
    return datetime.now().replace(microsecond=0)


def _resolve(m: re.Match, ref: datetime) -> tuple[date | datetime, str, bool, str] | None:
    """(day or exact datetime, kind, accepts a clock time, head type) of a head match."""
    g = m.group
    today = ref.date()
    if g("within"):
        n = 0.5 if g("wn") == "半" else small_int(g("wn"))
        if n is None:
            return None
        u = g("wu")
        if u in ("小时", "个小时"):
            if n == 0.5:
                return ref + timedelta(minutes=30), RELATIVE, False, "within"
            return ref + timedelta(hours=n), RELATIVE, False, "within"
        if u == "个工作日":
            return _add_workdays(today, int(n)), RELATIVE, False, "within"
        if u == "个月":
            if n == 0.5:
                return today + timedelta(days=15), RELATIVE, False, "within"
            y, mo = _add_months(today, int(n))
            return date(y, mo, min(today.day, calendar.monthrange(y, mo)[1])), RELATIVE, False, "within"
        if n == 0.5:
            return None
        days = int(n) * (7 if u in ("周", "个星期", "星期", "个礼拜") else 1)
        return today + timedelta(days=days), RELATIVE, False, "within"
    if g("ymd") or g("iso"):
        y = small_int(g("y") or g("iy"))
        mo = small_int(g("m") or g("im"))
        d = small_int(g("d") or g("id"))
        if y is None or mo is None or d is None or not (1900 <= y <= 2200):
            return None
        return date(y, mo, d), ABSOLUTE, True, "ymd"
    if g("mend"):
        mo = small_int(g("mem"))
        if mo is None or not 1 <= mo <= 12:
            return None
        end = _month_end(today.year, mo)
        if (today - end).days > 31:
            end = _month_end(today.year + 1, mo)
        return end, ABSOLUTE, False, "mend"
    if g("md"):
        mo, d = small_int(g("mm")), small_int(g("mdd"))
        if mo is None or d is None or not (1 <= mo <= 12 and 1 <= d <= 31):
            return None
        day = _year_for(today, mo, d)
        return (day, ABSOLUTE, True, "md" if g("mdu") else "md?") if day else None
    if g("rm"):
        nxt = g("rmw") in ("下月", "下个月", "次月")
        y, mo = _add_months(today, 1 if nxt else 0)
        if g("rmend"):
            return _month_end(y, mo), RELATIVE, False, "rm"
        d = small_int(g("rmd"))
        if d is None:
            return None
        return date(y, mo, d), RELATIVE, True, "rm"
    if g("ye"):
        return date(today.year, 12, 31), RELATIVE, False, "ye"
    if g("me"):
        return _month_end(today.year, today.month), RELATIVE, False, "me"
    if g("rd"):
        w = g("rd")
        off = _DAY_OFFSET.get(w, 0)
        return today + timedelta(days=off), RELATIVE, True, "rd"
    if g("wk"):
        p, dch = g("wkp"), g("wkd")
        idx = int(dch) - 1 if dch.isdigit() else _WEEKDAYS[dch]
        if idx > 6:
            return None
        monday = today - timedelta(days=today.weekday())
        day = monday + timedelta(days=idx)
        if p.startswith("下"):
            day += timedelta(days=7)
        elif p in ("周", "星期", "礼拜") and day < today:
            day += timedelta(days=7)
        return day, RELATIVE, True, "wk"
    if g("sl"):
        mo, d = int(g("sm")), int(g("sd"))
        day = _year_for(today, mo, d)
        return (day, ABSOLUTE, True, "sl") if day else None
    if g("od"):
        d = small_int(g("odn"))
        if d is None or not 1 <= d <= 31:
            return None
        y, mo = today.year, today.month
        if d < today.day:
            y, mo = _add_months(today, 1)
        return date(y, mo, d), RELATIVE, True, "od"
    if g("to"):
        c = _clock(m, False)
        if c is None:
            return None
        return datetime.combine(today, time(*c)), ABSOLUTE, False, "to"
    return None


def _is_deadline(t: str, s: int, e: int, suffix: bool, head: str, when: datetime, ref: datetime) -> bool:
    imm = t[max(0, s - 8) : s]
    if head != "within" and _IMM_NEG_LEFT.search(imm):
        return False
    if imm.endswith(("截止", "截止到", "截止至")) and _ASOF_RIGHT.match(t, e):
        return False
    left = _clause_left(t, s)
    if _LEFT_NEG.search(left) or _SENDER_LEFT.search(imm):
        return False
    if _QUESTION.search(_sentence(t, s, e)):
        return False
    if _IMM_NEG_RIGHT.match(t, e):
        return False
    strong = bool(_STRONG_LEFT.search(imm))
    if head in ("sl", "od", "to", "md?") and not (suffix or strong):
        return False
    if head == "od" and not suffix and t[e - 1] == "日":
        return False  # 期限为三十日 is a duration; a bare 日 day needs 前
    if _RANGE_END.search(imm):
        return False  # 4月9日至7月8日: the end of a period
    if head == "rd" and t[s:e].startswith(("当天", "当日")) and _OTHER_DAY.search(left):
        return False  # 还款日当日24:00前: that day, not today
    if head in ("ymd", "md", "md?", "sl", "mend", "to") and not strong and when < ref:
        return False  # a stated date or time already past dates an event, unless the text demands it
    if strong:
        return True
    cue = _RIGHT_CUE.search(_clause_right(t, e))
    if cue:
        return cue.group("pos") is not None
    if suffix or head == "within":
        return True
    return bool(_WEAK_LEFT.search(left))


def _extract(text: str, ref: datetime) -> list[DeadlineMatch]:
    t = fold(text)
    if not _TRIGGER.search(t):
        return []
    out: list[DeadlineMatch] = []
    last_end = 0
    for m in _HEAD_RE.finditer(t):
        if m.start() < last_end:
            continue  # a clock time or suffix already taken by the previous candidate
        try:
            r = _resolve(m, ref)
        except (ValueError, OverflowError):
            continue
        if r is None:
            continue
        when, kind, takes_time, head = r
        s, e = m.span()
        if isinstance(when, datetime):
            value = when
        else:
            value = _eod(when)
            wn = _WEEKDAY_NOTE.match(t, e) if takes_time else None
            if wn:
                e = wn.end()
            noon = _NOON_BEFORE.match(t, e) if takes_time else None
            if noon:
                value = datetime.combine(when, time(12, 0))
                e = noon.end()
            elif takes_time:
                tm = _TIME_RE.match(t, e)
                if tm:
                    c = _clock(tm, head == "rd" and m.group("rd") in ("今晚", "明晚", "今夜"))
                    if c is not None:
                        value = datetime.combine(when, time(*c))
                        e = tm.end()
                elif head == "rd" and m.group("rd") in ("今晚", "明晚", "今夜"):
                    value = _eod(when)
        sm = _SUFFIX_RE.match(t, e)
        suffix = head == "within"
        if sm:
            e = sm.end()
            suffix = True
        last_end = e
        if not _is_deadline(t, s, e, suffix, head, value, ref):
            continue
        iso = value.isoformat(timespec="seconds")
        if any(d.value == iso for d in out):
            continue  # 今日为还款日…请于今日24时前: one deadline, said twice
        out.append(DeadlineMatch(text[s:e], s, e, iso, kind))
    return out


def extract_deadlines(text: str, reference_time: datetime) -> list[DeadlineMatch]:
    """Deadlines in ``text`` resolved against ``reference_time``; spans index the original text.

    Never raises: a bad ``reference_time`` falls back to now, a bad string gives [].
    """
    try:
        if not isinstance(text, str) or not text:
            return []
        return _extract(text, _to_ref(reference_time))
    except Exception:  # pragma: no cover - last line of defence
        return []
