"""Sums of money in a text (spec §3).

What counts as an amount: a numeral with money evidence, i.e. a currency word
before it (人民币, RMB, CNY, ¥/￥, HK$, US$) or after it (元, 块, 圆, 元整, 块钱,
美元, 蚊…), a magnitude that is only used for money in these texts (万, 亿, w, k,
a Chinese thousand 一千二, grouped digits 8,400) with no counting word after it
(2万人, 一千个电话 are not money), or, for a bare number, a money verb or noun
right before it (欠, 还, 借, 付, 金额, 罚息…: 只能先还3000) or after it (2500的月供).
Currency: CNY unless a foreign currency word says otherwise.

Never an amount: numbers glued to letters, digits, ``-`` ``/`` ``.`` (phone
numbers 400-820-1234, dates 2026-03-14 / 11/30 / 3.14, links, WeChat ids), a
number followed by a count or time word (45天, 3个月, 2期, 100个, 50%), a number
after 尾号 / 卡号 / 账号 / 案号 / 工号 / 电话 / 验证码 / 身份证…, and long digit
strings with no currency (account and ID numbers).

Values: ``value`` is in units of the currency; 元角分 fold into one value
(2,136元4角8分 = 2136.48, 三块五 = 3.5).

Ranges and approximations (documented choice):

* ``约 3000元``, ``3000元左右``, ``至少3000元``, ``3000元以上``, ``最多3000元``: the
  hedge word stays outside the quote and the value is the stated number.
* ``3000多元`` / ``一千余元``: 多/余 is inside the quote; the value is the stated
  number (the lower bound).
* ``两三千``, ``七八百`` (adjacent digits): the lower bound (2000, 700).
* ``3000-5000元``, ``3000至5000元``, ``三到五千元``, ``1-2万``: one amount spanning
  the whole range, value = the lower bound (3000, 3000, 10000); a bound
  written without its unit borrows the unit of the upper bound.

The lower bound is what the text commits to for certain, so a range never
inflates what a borrower is told is owed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..labels import CURRENCY_CNY
from .numerals import CN_DIGIT_CHARS, CN_DIGITS, CN_UNITS, fold, to_number
from .roles import assign_role


@dataclass(frozen=True)
class AmountMatch:
    text: str
    start: int
    end: int
    value: float
    currency: str
    role: str


_D = CN_DIGIT_CHARS
_ARABIC = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?"
_HEAD = rf"(?:{_ARABIC}|[{_D}]点[{_D}]+|[{_D}]{{1,2}}|[十拾][{_D}]?)"
_TAIL = rf"(?:[十拾百佰千仟万萬亿億]+(?:零?(?:{_ARABIC})|[{_D}]{{1,2}}|[十拾][{_D}]?)?)"
NUM = rf"(?:{_HEAD}{_TAIL}*)"

_AMOUNT_RE = re.compile(
    rf"""
    (?=[0-9{_D}十拾人RrCHUu¥$港美])
    (?P<pre>(?:人民币|RMB|rmb|CNY|HK\$|HKD|US\$|USD|港币|港元|美元|¥|\$)\s*:?\s*)?
    (?:(?P<lo>{NUM})(?P<lomult>[wWkK](?![A-Za-z]))?(?P<locur>元|块)?\s*(?P<rsep>-|~|至|到)\s*)?
    (?P<num>{NUM})
    (?:(?P<mult>[wWkK])(?P<multd>[0-9](?![0-9.,]))?(?![A-Za-z]))?
    (?P<approx>多|余)?
    (?:[ ]?(?P<cur>元整|元钱|块钱|元|块|圆整|圆|美元|美金|港币|港元|欧元|蚊))?
    """,
    re.X,
)
_SUB_RE = re.compile(
    rf"(?:(?P<j>[0-9{_D}])[角毛])?(?:(?P<f>[0-9{_D}])分(?!不|都|也|钱[都也不]))?(?P<z>钱|整)?"
)
_KUAI_RE = re.compile(rf"(?P<j>[{_D}1-9])(?![0-9{_D}十拾百佰千仟万萬亿億角毛分天日号个月年点时])")

_CURRENCY = {
    "美元": "USD",
    "美金": "USD",
    "港币": "HKD",
    "港元": "HKD",
    "欧元": "EUR",
    "蚊": "HKD",
    "HK$": "HKD",
    "HKD": "HKD",
    "US$": "USD",
    "USD": "USD",
    "$": "USD",
}
_BIG_UNITS = frozenset("万萬亿億wWkK")

# a count, time or measure word after a bare number: not money
_COUNT_AFTER = re.compile(
    r"\s*(?:[天日号月年期个次条人岁位名件份家笔张分秒点时倍米克斤页楼层户折成级度字步通封遍届轮%‰℃只台套辆间栋元]|周(?!转)"
    r"|小时|星期|礼拜|公里|平米|平方|毫|厘|积分|个月|用户|客户|会员|粉丝|网友|居民|w|W|k|K)"
)
# identifiers: the number right after these words is not money
_ID_BEFORE = re.compile(
    r"(?:尾号|卡号|账号|帐号|账户|帐户|户号|案号|工号|编号|单号|订单号|合同号|身份证号?|证件号|电话|手机号?|致电|"
    r"拨打|热线|验证码|密码|代码|邮编|号码|QQ|qq|微信|第|尾数|末四位|后四位|专户|卡|客服|分机|房间|门牌|批次|文号|"
    r"No\.?|NO\.?|ID|id|序号|工单|编码|流水号|凭证号|车牌|字第|民初|执|号|短号|座机|传真|信箱|邮箱|网址|地址)"
    r"[\s:#为是：]*$"
)
# money words right before a bare number
_MONEY_BEFORE = re.compile(
    r"(?:还|欠|借|付|交|缴|给|凑|赔|补|退|差|剩|汇|存|金额|欠款|本金|利息|罚息|滞纳金|手续费|违约金|费用|总额|合计|"
    r"共计|总计|一共|余额|首付|最低|应还|还款额|还款|减免|优惠|结清|月供|工资|收入|额度|到手|房租|租金|生活费|花了)"
    r"(?:了|的|为|是|:|共|约|大约|至少|先|再|就|也|都|款|额|上|掉|清|回|完|到|你|我|他|她|们|个|才|只有|有|仅)*\s*$"
)
# a bare number followed by a money noun: 每月2500的月供
_MONEY_AFTER = re.compile(
    r"\s*的?(?:月供|欠款|借款|利息|罚息|本金|贷款|工资|费用|手续费|违约金|滞纳金|本息|货款|首付)"
)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?")  # 8,400: grouped digits are money here
_BAD_LEFT = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_./-+#@&=%\\")
_BAD_RIGHT_GLUE = re.compile(r"[0-9A-Za-z_@]|[-/.][0-9]")


def _unit_scale(numeral: str, mult: str | None) -> int:
    if mult:
        return 10_000 if mult in "wW" else 1000
    for c in numeral:
        if c in CN_UNITS:
            return CN_UNITS[c]
    return 1


def _has_unit(numeral: str) -> bool:
    return any(c in CN_UNITS for c in numeral)


def _digit(c: str) -> int:
    return int(c) if c.isascii() else CN_DIGITS[c]


def _scan(t: str) -> list[tuple[int, int, float, str]]:
    """(start, end, value, currency) of every amount in folded text ``t``."""
    found: list[tuple[int, int, float, str]] = []
    for m in _AMOUNT_RE.finditer(t):
        num, mult, cur, pre = m.group("num"), m.group("mult"), m.group("cur"), m.group("pre")
        parsed = to_number(num + (mult or ""))
        if parsed is None:
            continue
        value = parsed[0]
        if m.group("multd"):  # 1w2 = 12000, 3k5 = 3500
            value += int(m.group("multd")) * _unit_scale("", mult) / 10
        start = m.start()
        num_start = m.start("lo") if m.group("lo") else m.start("num")
        end = m.end()
        # ---- range: keep the lower bound -----------------------------------------
        if m.group("lo"):
            lo = to_number(m.group("lo") + (m.group("lomult") or ""))
            hi_big = bool(mult) or any(c in _BIG_UNITS for c in num)
            if (
                lo is not None
                and m.group("rsep") in ("-", "~")
                and not (cur or pre or m.group("locur") or hi_big)
            ):
                lo = None  # 400-820, 1-30天: not a money range without a currency word
            if lo is not None:
                lo_v = lo[0]
                if not _has_unit(m.group("lo")) and not m.group("lomult") and lo_v > 0:
                    scale = _unit_scale(num, mult)
                    if scale > 1 and lo_v * scale <= value:
                        lo_v *= scale
                if lo_v <= value:
                    value = lo_v
                else:
                    lo = None
            if lo is None:
                start = num_start = m.start("num")
                if pre:
                    continue  # 人民币 belonged to the dropped lower bound
        # ---- left neighbour -----------------------------------------------------
        if not pre and num_start > 0 and t[num_start - 1] in _BAD_LEFT:
            continue
        # ---- sub-units 角 / 分 and colloquial 三块五 ------------------------------
        if cur in ("元", "块", "圆", "块钱", "元钱"):
            sm = _SUB_RE.match(t, end)
            if sm and sm.end() > end:
                if sm.group("j"):
                    value += _digit(sm.group("j")) / 10
                if sm.group("f"):
                    value += _digit(sm.group("f")) / 100
                end = sm.end()
            elif cur == "块":
                km = _KUAI_RE.match(t, end)
                if km:
                    value += _digit(km.group("j")) / 10
                    end = km.end()
        if cur == "块" and (
            t[end : end + 1] == "儿" or (num == "一" and not pre and t[end : end + 1] != "钱")
        ):
            continue  # 一块儿, 一块砖头: "together" / a piece, not one yuan
        money = bool(pre or cur)
        if not money:
            right = t[end : end + 4]
            if _BAD_RIGHT_GLUE.match(right) or _COUNT_AFTER.match(right) or right[:1] == "几":
                continue
            left = t[max(0, num_start - 12) : num_start]
            if _ID_BEFORE.search(left):
                continue
            # 万/亿/w/k, grouped digits (8,400) or a Chinese thousand (一千二, 三千八) carry the money by themselves
            big = (
                bool(mult)
                or any(c in _BIG_UNITS for c in num)
                or _GROUPED.fullmatch(num) is not None
                or any(c in "千仟" for c in num)
            )
            if not big:
                bare = num.replace(",", "")
                if not bare[:1].isdigit() and not any(c in CN_UNITS for c in bare):
                    continue  # a bare Chinese numeral needs a unit: 六一 is a date, 一二 a list
                if value < 10 or not (_MONEY_BEFORE.search(left) or _MONEY_AFTER.match(t, end)):
                    continue
                if bare[:1] == "0" and not bare.startswith("0."):
                    continue
                if len(bare.split(".")[0]) > 8:
                    continue
        else:
            if _BAD_RIGHT_GLUE.match(t[end : end + 2]) and not cur:
                continue
        pre_word = (pre or "").strip(" :")
        currency = _CURRENCY.get(cur or "") or _CURRENCY.get(pre_word, CURRENCY_CNY)
        found.append((start, end, round(value, 2), currency))
    return found


def _extract(text: str) -> list[AmountMatch]:
    """The extractor without its safety net (the fuzz run calls this to see real exceptions)."""
    t = fold(text)
    out: list[AmountMatch] = []
    prev_end = 0
    for start, end, value, currency in _scan(t):
        role = assign_role(t, start, end, prev_end)
        out.append(AmountMatch(text[start:end], start, end, value, currency, role))
        prev_end = end
    return out


def extract_amounts(text: str) -> list[AmountMatch]:
    """Every sum of money in ``text``, in order; spans index the original text. Never raises."""
    try:
        if not isinstance(text, str) or not text:
            return []
        return _extract(text)
    except Exception:  # pragma: no cover - last line of defence: never raise
        return []
