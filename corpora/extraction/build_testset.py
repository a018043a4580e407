"""Build ``corpora/extraction/testset.jsonl``: the labelled extraction test set.

Two parts, both written here (none of it comes from the spec examples):

* ``hand_cases.py``: hand-written texts with hand labels, including the hard cases
  (distractor dates, identifiers, ASR forms, approximations, transcripts turns).
* ``hand_cases_b.py``: a second, blind hand-written batch (labelled before the
  extractor was run on it), ids ``ext-handb-*``.
* composed texts: hand-written clause templates (creditor, overdue clause, amount
  clause with its role, deadline or distractor clause, noise such as card tails,
  case numbers and phone numbers) filled from hand-written surface forms. The gold
  value of every amount form is written next to it; deadline values are computed
  here, independently of ``models.extraction``, from the spec §4 rules.

Run: ``python -m corpora.extraction.build_testset`` (deterministic, seed fixed).
"""

from __future__ import annotations

import calendar
import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from .hand_cases import CASES
from .hand_cases_b import CASES_B

OUT = Path(__file__).with_name("testset.jsonl")
SEED = 20261122
N_COMPOSED = 520

O, M, T, F, S, X = "overdue_amount", "minimum_payment", "total_due", "fee", "settlement", "other"  # noqa: E741
A, R = "absolute", "relative"
CN = "零一二三四五六七八九"

# ---------------------------------------------------------------- amount surface forms: (text, value)
AMOUNT_FORMS: list[tuple[str, float]] = [
    ("4,386.20元", 4386.2),
    ("12,345.67元", 12345.67),
    ("８，８００元", 8800),
    ("￥3,150", 3150),
    ("¥980.00", 980),
    ("RMB 6,000", 6000),
    ("人民币7,200元", 7200),
    ("人民币伍仟元整", 5000),
    ("壹万贰仟元整", 12000),
    ("叁仟伍佰元", 3500),
    ("1.2万元", 12000),
    ("3.5万", 35000),
    ("2万3千元", 23000),
    ("3万5千元", 35000),
    ("13万2千元", 132000),
    ("一万二千元", 12000),
    ("十万零一千元", 101000),
    ("8千8百元", 8800),
    ("八千八百元", 8800),
    ("两万五千元", 25000),
    ("五千块", 5000),
    ("3k", 3000),
    ("2.5w", 25000),
    ("1万5千块", 15000),
    ("6,000.00元", 6000),
    ("九百八十元", 980),
    ("1,000,000元", 1_000_000),
    ("350元", 350),
    ("28.5元", 28.5),
    ("2,136元4角8分", 2136.48),
    ("68元5角", 68.5),
    ("1200块钱", 1200),
    ("两千三百块", 2300),
    ("4万元", 40000),
    ("5000元整", 5000),
    ("贰拾万元整", 200000),
    ("1.05万元", 10500),
    ("七千二百五十元", 7250),
    ("１２，６００元", 12600),
    ("¥ 2,480.50", 2480.5),
    ("CNY 3,300", 3300),
    ("15,200元", 15200),
    ("3,980元", 3980),
    ("762.35元", 762.35),
    ("1,580元", 1580),
    ("9,300元", 9300),
    ("二万元", 20000),
    ("陆仟捌佰元整", 6800),
    ("1.8w", 18000),
    ("4.2万元", 42000),
    ("三百二十元", 320),
    ("156元", 156),
    ("88.80元", 88.8),
    ("2,000元", 2000),
    ("五万块钱", 50000),
    ("11,111元", 11111),
]
SMALL_FORMS: list[tuple[str, float]] = [  # fees
    ("68元", 68),
    ("126.40元", 126.4),
    ("二百元", 200),
    ("35.5元", 35.5),
    ("320元", 320),
    ("¥45.00", 45),
    ("1,012.30元", 1012.3),
    ("九十八元", 98),
    ("56元5角", 56.5),
    ("210元", 210),
    ("４８０元", 480),
]

AMOUNT_CLAUSES: list[tuple[str, str]] = [
    ("逾期金额{a}", O),
    ("欠款{a}", O),
    ("您的欠款为{a}", O),
    ("尚欠{a}", O),
    ("逾期款项{a}", O),
    ("拖欠款项{a}", O),
    ("逾期本金{a}", O),
    ("欠款金额为{a}", O),
    ("逾期应还{a}", O),
    ("应还总额{a}", T),
    ("全部欠款{a}", T),
    ("本息合计{a}", T),
    ("应还金额{a}", T),
    ("欠款总额{a}", T),
    ("共计{a}", T),
    ("待还金额{a}", T),
    ("最低还款额{a}", M),
    ("最低还款{a}", M),
    ("减免后仅需还款{a}", S),
    ("协商后一次性还款{a}即可结清", S),
    ("优惠后只需还{a}", S),
]
FEE_CLAUSES = [
    "滞纳金{a}",
    "罚息{a}",
    "违约金{a}",
    "利息{a}",
    "手续费{a}",
    "另产生滞纳金{a}",
    "已产生罚息{a}",
]

CREDITORS = [
    "【江南银行】",
    "【北辰银行】",
    "【海川银行】",
    "【永信银行】",
    "【瑞丰银行】",
    "【华源银行】",
    "【恒昌银行】",
    "【东岳银行】",
    "【云开银行】",
    "【泰和银行】",
    "【安盈消费金融】",
    "【小橙分期】",
    "【借呗呗】",
    "【闪贷】",
    "【速到钱】",
    "【及时雨金融】",
    "【好借】",
    "【易分期】",
    "【快借宝】",
    "【信达催收】",
    "【诚达资产】",
    "【鑫诚信息】",
    "【众信资产】",
    "【恒远资产】",
    "【合众催收】",
    "",
]
NAMES = [
    "王先生",
    "李女士",
    "张先生",
    "刘女士",
    "陈先生",
    "杨女士",
    "赵先生",
    "黄女士",
    "周先生",
    "吴女士",
    "尊敬的客户",
    "您好",
    "徐先生",
    "孙女士",
    "马先生",
    "朱女士",
    "胡先生",
    "郭女士",
]
PRODUCTS = [
    "您尾号{tail}的信用卡",
    "您的信用卡",
    "您在我司的借款",
    "您的贷款",
    "您的账户",
    "您在快借宝的借款",
    "您的分期账单",
    "您尾号{tail}的贷记卡",
]
CLOSINGS = [
    "",
    "如已还款请忽略。",
    "详询400-{p3}-{p4}。",
    "回复TD退订。",
    "以免影响您的个人征信。",
    "请通过官方APP还款。",
    "咨询请致电95{p3}。",
    "逾期将继续产生罚息。",
]


def eod(d: date) -> str:
    return f"{d.isoformat()}T23:59:59"


def at(d: date, h: int, mi: int = 0) -> str:
    return f"{d.isoformat()}T{h:02d}:{mi:02d}:00"


def cn_num(n: int) -> str:
    """1..99 in Chinese (七, 十, 十五, 二十, 三十一)."""
    if n < 10:
        return CN[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN[tens]) + "十" + (CN[ones] if ones else "")


def month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def deadline_form(rng: random.Random, ref: datetime) -> tuple[str, str, str]:
    """(surface, gold value, kind) of a random deadline form, resolved by the spec rules."""
    today = ref.date()
    k = rng.randint(1, 50)
    tgt = today + timedelta(days=k)
    choice = rng.randrange(26)
    if choice == 0:
        return f"{tgt.year}年{tgt.month}月{tgt.day}日前", eod(tgt), A
    if choice == 1:
        return f"{tgt.month}月{tgt.day}日前", eod(tgt), A
    if choice == 2:
        return f"{tgt.month}月{tgt.day}号之前", eod(tgt), A
    if choice == 3:
        return f"{tgt.month}.{tgt.day}前", eod(tgt), A
    if choice == 4:
        return f"{tgt.month}/{tgt.day}前", eod(tgt), A
    if choice == 5:
        return f"{tgt.isoformat()}前", eod(tgt), A
    if choice == 6:
        h = rng.randint(9, 18)
        return f"{tgt.month}月{tgt.day}日{h}点前", at(tgt, h), A
    if choice == 7:
        return f"{tgt.month}月{tgt.day}日24时前", eod(tgt), A
    if choice == 8:
        return rng.choice(["今天", "今日"]), eod(today), R
    if choice == 9:
        h = rng.randint(max(ref.hour + 1, 9), 23) if ref.hour < 22 else 23
        word = rng.choice(["今天", "今日"])
        return f"{word}{h}点前", at(today, h), R
    if choice == 10:
        h = rng.randint(1, 6)
        return f"今天下午{h}点前", at(today, 12 + h), R
    if choice == 11:
        h = rng.randint(7, 11)
        return f"今晚{h}点前", at(today, 12 + h), R
    if choice == 12:
        return "明天", eod(today + timedelta(days=1)), R
    if choice == 13:
        h = rng.randint(8, 11)
        return f"明天上午{h}点前", at(today + timedelta(days=1), h), R
    if choice == 14:
        return "后天前", eod(today + timedelta(days=2)), R
    if choice == 15:
        n = rng.choice([1, 2, 3, 5, 7, 10, 15])
        unit = rng.choice(["日内", "天内"])
        num = str(n) if rng.random() < 0.6 else cn_num(n)
        return f"{num}{unit}", eod(today + timedelta(days=n)), R
    if choice == 16:
        n = rng.choice([2, 12, 24, 48, 72])
        return f"{n}小时内", (ref + timedelta(hours=n)).isoformat(timespec="seconds"), R
    if choice == 17:
        # this week's Friday, only when it is still ahead
        fri = today + timedelta(days=4 - today.weekday())
        if fri >= today:
            return "本周五前", eod(fri), R
        return "下周一前", eod(today + timedelta(days=7 - today.weekday())), R
    if choice == 18:
        return "下周一前", eod(today + timedelta(days=7 - today.weekday())), R
    if choice == 19:
        return "月底前", eod(month_end(today.year, today.month)), R
    if choice == 20:
        last = calendar.monthrange(today.year, today.month)[1]
        d = rng.randint(today.day, last)
        return f"本月{d}日前", eod(date(today.year, today.month, d)), R
    if choice == 21:
        y, m = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        d = rng.randint(1, 28)
        return f"下个月{d}号前", eod(date(y, m, d)), R
    if choice == 22:
        n = rng.choice([3, 5, 7, 10, 15])
        return f"自收到本函之日起{cn_num(n)}日内", eod(today + timedelta(days=n)), R
    if choice == 23:
        n = rng.choice([3, 5, 7, 10, 15])
        return f"本函送达之日起{cn_num(n)}日内", eod(today + timedelta(days=n)), R
    if choice == 24:
        y, m = tgt.year, tgt.month
        return f"{cn_num(m)}月月底之前", eod(month_end(y, m)), A
    d = rng.randint(1, 28)
    y, m = today.year, today.month
    if d < today.day:
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{cn_num(d)}号之前", eod(date(y, m, d)), R


DEADLINE_CLAUSES = [
    "请于{d}还款",
    "请在{d}还清",
    "务必于{d}处理",
    "请您{d}联系我们",
    "请于{d}归还欠款",
    "限你{d}还上",
    "请于{d}通过官方APP还款",
    "请务必在{d}存入足额款项",
    "请于{d}与我司联系协商还款",
    "最迟{d}必须还清",
]


def distractor(rng: random.Random, ref: datetime) -> str:
    today = ref.date()
    past = today - timedelta(days=rng.randint(2, 25))
    fut = today + timedelta(days=rng.randint(2, 20))
    choices = [
        f"我司已于{past.month}月{past.day}日向您寄送催收函",
        f"我行将于{fut.month}月{fut.day}日安排外访人员上门核实",
        f"截至{past.year}年{past.month}月{past.day}日，您的账户仍未结清",
        f"自{fut.month}月{fut.day}日起您的账户将移交第三方机构处理",
        f"您的逾期开始日为{past.month}月{past.day}日",
        "我们明天会再次与您联系",
        "下周一我行将安排外访人员核实您的地址",
        f"外访人员已于{past.month}月{past.day}日到您单位走访",
        f"我司定于{fut.month}月{fut.day}日向法院提起诉讼",
        f"{past.year}年{past.month}月{past.day}日我行已将您的逾期信息上报征信",
    ]
    return rng.choice(choices)


def overdue_clause(rng: random.Random) -> tuple[str, int | None]:
    c = rng.randrange(9)
    n = rng.choice([3, 5, 7, 12, 15, 23, 30, 45, 60, 88, 97, 120, 180, 200])
    if c == 0:
        return f"已逾期{n}天", n
    if c == 1:
        k = rng.randint(1, 6)
        return f"已逾期{cn_num(k)}个月", 30 * k
    if c == 2:
        return "已逾期1年", 365
    if c == 3:
        return f"逾期第{n}天", n
    if c == 4:
        return f"已经逾期{cn_num(n) if n < 100 else n}天", n
    if c == 5:
        return "已逾期", None
    if c == 6:
        return f"已逾期{n}日", n
    return "", None


def noise(rng: random.Random) -> str:
    c = rng.randrange(7)
    if c == 0:
        return f"案号({rng.randint(2024, 2027)})沪0105民初{rng.randint(1000, 99999)}号，"
    if c == 1:
        return f"日利率0.0{rng.randint(2, 9)}%，"
    if c == 2:
        return f"工号{rng.randint(1000, 9999)}提醒您："
    if c == 3:
        return f"合同编号HT-{rng.randint(2024, 2027)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}-{rng.randint(1, 999):03d}，"
    return ""


def composed(rng: random.Random, i: int) -> dict:
    ref = datetime(2025, 1, 1, 0, 0) + timedelta(
        days=rng.randint(0, 910),
        hours=rng.randint(8, 20),
        minutes=rng.choice([0, 5, 10, 15, 20, 30, 40, 45, 50]),
    )
    tail = f"{rng.randint(0, 9999):04d}"
    parts: list[str] = []
    amounts: list[dict] = []
    deadlines: list[dict] = []
    text = rng.choice(CREDITORS) + rng.choice(NAMES) + "，"
    text += noise(rng)
    product = rng.choice(PRODUCTS).format(tail=tail)
    od_text, od = overdue_clause(rng)
    if od_text:
        text += product + od_text + "，"
    else:
        text += product
        text += "，" if not text.endswith("，") else ""
    # one or two amount clauses, maybe a fee
    n_amt = rng.choice([1, 1, 1, 2])
    for _ in range(n_amt):
        tmpl, role = rng.choice(AMOUNT_CLAUSES)
        form, value = rng.choice(AMOUNT_FORMS)
        clause = tmpl.format(a=form)
        amounts.append({"quote": form, "value": value, "role": role})
        parts.append(clause)
    if rng.random() < 0.35:
        form, value = rng.choice(SMALL_FORMS)
        parts.append(rng.choice(FEE_CLAUSES).format(a=form))
        amounts.append({"quote": form, "value": value, "role": F})
    text += "，".join(parts) + "。"
    # deadline, distractor, both or neither
    c = rng.randrange(10)
    if c < 6:
        surf, val, kind = deadline_form(rng, ref)
        text += rng.choice(DEADLINE_CLAUSES).format(d=surf) + "。"
        deadlines.append({"quote": surf, "value": val, "kind": kind})
    if c in (5, 6, 7):
        text = text + distractor(rng, ref) + "。"
    text += rng.choice(CLOSINGS).format(p3=rng.randint(100, 999), p4=rng.randint(1000, 9999))
    # quotes must be unique in the text for the first-occurrence rule; drop the case otherwise
    for item in amounts + deadlines:
        if text.count(item["quote"]) != 1:
            return {}
    # amounts in order of appearance
    amounts.sort(key=lambda a: text.index(a["quote"]))
    return {
        "text": text,
        "reference_time": ref.isoformat(timespec="seconds"),
        "amounts": amounts,
        "deadlines": deadlines,
        "overdue_days": od,
    }


def build() -> list[dict]:
    out: list[dict] = []
    for j, case in enumerate(CASES):
        out.append({"id": f"ext-hand-{j + 1:04d}", **case})
    for j, case in enumerate(CASES_B):
        out.append({"id": f"ext-handb-{j + 1:04d}", **case})
    rng = random.Random(SEED)
    seen = {c["text"] for c in out}
    k = 0
    while k < N_COMPOSED:
        case = composed(rng, k)
        if not case or case["text"] in seen:
            continue
        seen.add(case["text"])
        k += 1
        out.append({"id": f"ext-comp-{k:04d}", **case})
    for case in out:
        spans = []
        for a in case["amounts"]:
            assert a["quote"] in case["text"], (case["id"], a)
            pos = -1
            for _ in range(a.get("occurrence", 0) + 1):
                pos = case["text"].index(a["quote"], pos + 1)
            spans.append((pos, pos + len(a["quote"])))
        spans.sort()
        for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False):
            assert e1 <= s2, (case["id"], "gold amount spans overlap: give an occurrence")
        for d in case["deadlines"]:
            assert d["quote"] in case["text"], (case["id"], d)
        datetime.fromisoformat(case["reference_time"])
    return out


def main() -> None:
    cases = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
