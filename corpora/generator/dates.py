"""Deadline expressions and their resolution against reference_time (labels.md §4).

A deadline is first chosen as a *spec* (a small tuple saying what it means), rendered
into one of several surfaces, and resolved by ``resolve(spec, ref)`` -- written here
independently of any model, it is the ground truth for ``gold.deadlines``.

Specs:
  ("date", y, m, d, hh, mm)      calendar date with year; hh None -> 23:59:59   absolute
  ("md", m, d, hh, mm)            month/day, year by the 31-day rule              absolute
  ("month_end_named", m)          e.g. 十二月月底, year by the 31-day rule        absolute
  ("day", k, hh, mm)              today (k=0), tomorrow (1), day after (2)        relative
  ("days", n)                     N天内/N日内/收到本函之日起N日内: end of ref+N   relative
  ("hours", n)                    N小时内: ref + N hours                          relative
  ("weekday", w, wd)              本周X (w=0) / 下周X (w=1), wd 0=Monday          relative
  ("month_day", k, d)             本月25日 (k=0), 下月5日 (k=1), 三号之前          relative
  ("month_end", k)                月底 / 本月底 (k=0)                             relative
"""

from __future__ import annotations

import calendar
import random
from datetime import date, datetime, timedelta

import cn2an

EOD = (23, 59, 59)


def _eod(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, *EOD)


def _at(d: date, hh: int | None, mm: int | None) -> datetime:
    if hh is None or hh >= 24:
        return _eod(d)
    return datetime(d.year, d.month, d.day, hh, mm or 0, 0)


def year_for(m: int, d: int, ref: datetime) -> int:
    """A date with no year takes the reference year, or the next year if that date
    has passed by more than 31 days."""
    cand = date(ref.year, m, d)
    if (ref.date() - cand).days > 31:
        return ref.year + 1
    return ref.year


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    m0 = m - 1 + k
    return y + m0 // 12, m0 % 12 + 1


def resolve(spec: tuple, ref: datetime) -> datetime:
    t = spec[0]
    if t == "date":
        _, y, m, d, hh, mm = spec
        return _at(date(y, m, d), hh, mm)
    if t == "md":
        _, m, d, hh, mm = spec
        return _at(date(year_for(m, d, ref), m, d), hh, mm)
    if t == "month_end_named":
        m = spec[1]
        y = year_for(m, calendar.monthrange(ref.year, m)[1], ref)
        return _eod(date(y, m, calendar.monthrange(y, m)[1]))
    if t == "day":
        _, k, hh, mm = spec
        return _at(ref.date() + timedelta(days=k), hh, mm)
    if t == "days":
        return _eod(ref.date() + timedelta(days=spec[1]))
    if t == "hours":
        return ref + timedelta(hours=spec[1])
    if t == "weekday":
        _, w, wd = spec
        monday = ref.date() - timedelta(days=ref.weekday())
        return _eod(monday + timedelta(days=7 * w + wd))
    if t == "month_day":
        _, k, d = spec
        y, m = _add_months(ref.year, ref.month, k)
        return _eod(date(y, m, d))
    if t == "month_end":
        y, m = _add_months(ref.year, ref.month, spec[1])
        return _eod(date(y, m, calendar.monthrange(y, m)[1]))
    raise ValueError(spec)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def kind_of(spec: tuple) -> str:
    return "absolute" if spec[0] in ("date", "md", "month_end_named") else "relative"


# --- surfaces -------------------------------------------------------------------

WD_CN = "一二三四五六日"


def cn_num(n: int) -> str:
    return cn2an.an2cn(n, "low")


def cn_digits(s: str) -> str:
    return "".join("零一二三四五六七八九"[int(c)] if c.isdigit() else c for c in s)


def _time_phrase(hh: int, mm: int, rng: random.Random) -> str:
    if hh >= 24:
        return rng.choice(["24时", "24点", "24:00"])
    if mm:
        return rng.choice([f"{hh}:{mm:02d}", f"{hh}点{mm}分" if mm != 30 else f"{hh}点半"])
    opts = [f"{hh}:00", f"{hh}点", f"{hh}时"]
    if hh == 12:
        opts += ["中午12点", "中午十二点", "12点"]
    elif hh > 12:
        opts += [
            f"下午{hh - 12}点",
            f"下午{hh - 12}点",
            f"晚上{hh - 12}点" if hh >= 18 else f"下午{cn_num(hh - 12)}点",
        ]
    else:
        opts += [f"上午{hh}点", f"早上{hh}点" if hh <= 9 else f"上午{cn_num(hh)}点"]
    return rng.choice(opts)


def _md(m: int, d: int, rng: random.Random, cn: bool = False) -> str:
    if cn:
        return f"{cn_num(m)}月{cn_num(d)}" + rng.choice(["日", "号"])
    return rng.choice([f"{m}月{d}日", f"{m}月{d}日", f"{m}月{d}号", f"{m:02d}月{d:02d}日"])


def render(spec: tuple, ref: datetime, rng: random.Random, style: str = "by") -> str:
    """style: 'by' (may carry 前/之前/内), 'due' (a bare due date), 'spoken' (no symbols)."""
    spoken = style == "spoken"
    by = style in ("by", "spoken")
    before = rng.choice(["前", "前", "前", "之前", "以前"]) if by else ""
    t = spec[0]
    if t == "date":
        _, y, m, d, hh, mm = spec
        if spoken:
            base = rng.choice([f"{y}年{m}月{d}日", f"{m}月{d}号"]) if hh is None else f"{m}月{d}号"
        else:
            forms = [f"{y}年{m}月{d}日", f"{y}年{m}月{d}日", f"{y}年{m:02d}月{d:02d}日"]
            if hh is None:
                forms += [f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{y}.{m}.{d}"]
            base = rng.choice(forms)
        if hh is not None:
            return base + _time_phrase(hh, mm, rng) + (before or "前")
        return base + before
    if t == "md":
        _, m, d, hh, mm = spec
        if hh is not None:
            return _md(m, d, rng) + _time_phrase(hh, mm, rng) + (before or "前")
        if spoken:
            return _md(m, d, rng, cn=rng.random() < 0.5) + before
        forms = [_md(m, d, rng), _md(m, d, rng), _md(m, d, rng, cn=True)]
        if by:
            forms += [f"{m}.{d}", f"{m}/{d}"]
        return rng.choice(forms) + before
    if t == "month_end_named":
        m = spec[1]
        return rng.choice([f"{cn_num(m)}月月底", f"{m}月底", f"{m}月月底", f"{cn_num(m)}月底"]) + (
            rng.choice(["前", "之前", ""]) if by else ""
        )
    if t == "day":
        _, k, hh, mm = spec
        word = {0: ["今天", "今日", "今天", "当天"], 1: ["明天", "明日", "明天"], 2: ["后天", "后日"]}[k]
        w = rng.choice(word)
        if hh is None:
            if k == 0 and by:
                return rng.choice([w, w + "内", "今天之内", "今日内", "今天下班前" if False else w])
            return w
        if hh >= 24:
            return w + rng.choice(["24时前", "24点前", "24:00前", "24时之前"])
        tp = _time_phrase(hh, mm, rng)
        if k == 0 and hh >= 18 and not mm and rng.random() < 0.5:
            return "今晚" + str(hh - 12) + "点" + rng.choice(["前", "之前"])
        if k == 1 and hh < 12 and not mm and rng.random() < 0.4:
            return "明早" + str(hh) + "点" + rng.choice(["前", "之前"])
        return w + tp + rng.choice(["前", "前", "之前", "以前"])
    if t == "days":
        n = spec[1]
        num = rng.choice([str(n), cn_num(n)]) if n <= 30 else str(n)
        if style == "letter":
            return rng.choice(
                [
                    f"收到本函之日起{num}日内",
                    f"自收到本函之日起{num}日内",
                    f"本函送达之日起{num}日内",
                    f"自本通知送达之日起{num}日内",
                    f"收到本通知后{num}日内",
                    f"接到本函后{num}天内",
                    f"自收函之日起{num}日内",
                ]
            )
        return rng.choice([f"{num}日内", f"{num}天内", f"{num}天之内", f"{num}日之内", f"{num}个自然日内"])
    if t == "hours":
        n = spec[1]
        num = rng.choice([str(n), cn_num(n)]) if not spoken else cn_num(n)
        return rng.choice([f"{num}小时内", f"{num}小时之内", f"{num}个小时内"])
    if t == "weekday":
        _, w, wd = spec
        day = WD_CN[wd]
        pre = rng.choice(["本周", "这周", "本星期"]) if w == 0 else rng.choice(["下周", "下星期", "下礼拜"])
        if wd == 6 and rng.random() < 0.5:
            day = rng.choice(["日", "天"])
        return pre + day + (before if by else "")
    if t == "month_day":
        _, k, d = spec
        if k == 0:
            if rng.random() < 0.3 and by:
                return rng.choice([f"{cn_num(d)}号之前", f"{d}号之前", f"{d}号前"])
            return rng.choice([f"本月{d}日", f"本月{d}号", f"这个月{d}号", f"本月{cn_num(d)}日"]) + (
                before if by else ""
            )
        return rng.choice([f"下月{d}日", f"下个月{d}号", f"下月{cn_num(d)}日"]) + (before if by else "")
    if t == "month_end":
        return rng.choice(["月底", "本月底", "这个月底", "本月月底", "月末"]) + (
            rng.choice(["前", "之前", ""]) if by else ""
        )
    raise ValueError(spec)


def pick_spec(rng: random.Random, ref: datetime, style: str = "by") -> tuple:
    """A plausible deadline spec in the future of ref."""
    for _ in range(50):
        r = rng.random()
        k = rng.choice([1, 2, 3, 3, 5, 7, 7, 10, 14, 15, 20, 30])
        fut = ref.date() + timedelta(days=k)
        if style == "letter":
            if r < 0.55:
                return ("days", rng.choice([3, 5, 7, 7, 10, 15]))
            if r < 0.8:
                return ("date", fut.year, fut.month, fut.day, None, None)
            return ("md", fut.month, fut.day, None, None)
        if r < 0.16:
            return (
                "date",
                fut.year,
                fut.month,
                fut.day,
                None if rng.random() < 0.85 else rng.choice([12, 17, 18, 24]),
                0,
            )
        if r < 0.36:
            hh = None if rng.random() < 0.8 else rng.choice([12, 15, 17, 18, 24])
            return ("md", fut.month, fut.day, hh, 0)
        if r < 0.46:
            if style == "due":
                return ("day", 0, None, None)
            hh = rng.choice([None, None, 12, 15, 16, 17, 18, 20, 22, 24])
            if hh is not None and hh < 24 and hh <= ref.hour + 1:
                continue
            return ("day", 0, hh, rng.choice([0, 0, 0, 30]))
        if r < 0.56:
            kk = rng.choice([1, 1, 1, 2])
            hh = rng.choice([None, None, 10, 12, 15, 17, 18, 24])
            return ("day", kk, hh, 0)
        if r < 0.7:
            if style == "due":
                continue
            return ("days", rng.choice([1, 2, 3, 3, 3, 5, 7, 7, 10, 15, 30]))
        if r < 0.76:
            if style == "due":
                continue
            return ("hours", rng.choice([2, 6, 12, 24, 24, 48, 48, 72]))
        if r < 0.84:
            wd = rng.randrange(7)
            if rng.random() < 0.5:
                if wd <= ref.weekday():
                    continue
                return ("weekday", 0, wd)
            return ("weekday", 1, wd)
        if r < 0.93:
            lastd = calendar.monthrange(ref.year, ref.month)[1]
            if rng.random() < 0.6:
                if ref.day >= 28:
                    continue
                d = rng.randrange(ref.day + 1, min(28, lastd) + 1)
                return ("month_day", 0, d)
            return ("month_day", 1, rng.randrange(1, 29))
        if r < 0.98:
            return ("month_end", 0)
        m = (ref.month % 12) + 1 if ref.day > 20 else ref.month
        return ("month_end_named", m)
    return ("days", 3)


def deadline(rng: random.Random, ref: datetime, style: str = "by") -> tuple[str, str, str]:
    spec = pick_spec(rng, ref, "letter" if style == "letter" else ("due" if style == "due" else "by"))
    surf = render(spec, ref, rng, style)
    return surf, iso(resolve(spec, ref)), kind_of(spec)


# --- distractor dates (never labelled) ----------------------------------------------


def date_text(d: date, rng: random.Random, with_year: bool | None = None) -> str:
    if with_year is None:
        with_year = rng.random() < 0.5
    if with_year:
        return rng.choice(
            [
                f"{d.year}年{d.month}月{d.day}日",
                f"{d.year}年{d.month}月{d.day}日",
                f"{d.year}-{d.month:02d}-{d.day:02d}",
                f"{d.year}.{d.month:02d}.{d.day:02d}",
            ]
        )
    return rng.choice([f"{d.month}月{d.day}日", f"{d.month}月{d.day}号"])


def past_date(
    rng: random.Random, ref: datetime, lo: int = 2, hi: int = 200, with_year: bool | None = None
) -> str:
    return date_text(ref.date() - timedelta(days=rng.randrange(lo, hi)), rng, with_year)


def future_date(rng: random.Random, ref: datetime, lo: int = 1, hi: int = 20) -> str:
    return date_text(ref.date() + timedelta(days=rng.randrange(lo, hi)), rng, None)


def visit_when(rng: random.Random, ref: datetime) -> str:
    """When the sender will act (a visit, a hearing): never a deadline."""
    r = rng.random()
    if r < 0.45:
        return future_date(rng, ref, 1, 15) + rng.choice(["", "上午", "下午", "9时", "14时"])
    if r < 0.7:
        return rng.choice(["本周", "下周", "近日", "近期", "三个工作日后", "本周内", "下周内"])
    if r < 0.85:
        return rng.choice(["下周", "本周"]) + rng.choice(["一", "二", "三", "四", "五"])
    return rng.choice(["明天上午", "后天下午", "月底前后", "本月中旬", "下月初"])


def letter_date(rng: random.Random, ref: datetime) -> str:
    d = ref.date() - timedelta(days=rng.choice([0, 0, 1, 2, 3, 5]))
    return rng.choice(
        [
            f"{d.year}年{d.month}月{d.day}日",
            f"{d.year}年{d.month}月{d.day}日",
            f"{cn_digits(str(d.year))}年{cn_num(d.month)}月{cn_num(d.day)}日",
            f"{d.year}-{d.month:02d}-{d.day:02d}",
        ]
    )


def random_ref(rng: random.Random, late: bool = False) -> datetime:
    start = datetime(2025, 1, 1)
    days = (datetime(2027, 6, 30) - start).days
    d = start + timedelta(days=rng.randrange(days))
    hh = rng.choice([22, 23, 0, 1, 2, 5, 6]) if late else rng.choice(range(8, 21))
    return d.replace(hour=hh, minute=rng.randrange(60), second=rng.choice([0, 0, 0, rng.randrange(60)]))
