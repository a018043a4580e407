"""The role of an amount, read from the words around it (spec §3).

The left window runs from the end of the previous amount (or the start of the
sentence, at most ``WINDOW`` characters back) to the amount. Rules, in order:

1. a settlement marker anywhere in the window (减免后, 协商后, 优惠后, 仅需…) wins:
   the negotiated, reduced figure is ``settlement``;
2. otherwise the keyword nearest to the amount decides (the longest one when
   two end at the same place: 全部欠款 beats 欠款);
3. with no keyword, a verb right after the amount that demands the debt
   back (…还上, …还清, …已逾期) makes it ``overdue_amount``;
4. otherwise ``other``.
"""

from __future__ import annotations

import re

from ..labels import AMOUNT_ROLE_NAMES, DEFAULT_AMOUNT_ROLE

OVERDUE, MINIMUM, TOTAL, FEE, SETTLEMENT = (
    "overdue_amount",
    "minimum_payment",
    "total_due",
    "fee",
    "settlement",
)
assert {OVERDUE, MINIMUM, TOTAL, FEE, SETTLEMENT, DEFAULT_AMOUNT_ROLE} <= set(AMOUNT_ROLE_NAMES)

WINDOW = 26

_KEYWORDS: dict[str, tuple[str, ...]] = {
    MINIMUM: tuple(
        "最低还款额 最低还款金额 最低还款 最低应还 最低需还 最低 最少还 至少还 "
        "至少需还 至少需要还 至少先还".split()
    ),
    TOTAL: tuple(
        "应还总额 应还金额 应还款额 应还款金额 应还本息 本期应还 应还 应付 需还 "
        "待还金额 待还总额 待还 全部欠款 全部款项 欠款总额 总欠款 欠款合计 总额 "
        "合计 共计 总计 一共 一次性结清 一次性还清 结清金额 全额 本息合计 "
        "本息共计 剩余应还 全部本息 账单金额 本期账单 还款金额 还款额 总共 本息 连本带息 需要偿还 需偿还 应偿还 待扣金额 待扣".split()
    ),
    FEE: tuple(
        "滞纳金 罚息 利息 违约金 手续费 服务费 管理费 逾期费 罚金 复利 分期费 "
        "年费 催收费 费用 息费 逾期管理费 超限费 砍头息 服务费用 仲裁费 诉讼费 律师费 保全费 拖车费 停车费 受理费 公告费".split()
    ),
    OVERDUE: tuple(
        "逾期金额 逾期款项 逾期本金 逾期欠款 逾期应还 逾期未还 逾期本息 逾期款 "
        "欠款金额 欠款 拖欠 尚欠 欠 未还金额 未还款项 未还 逾期 欠费 所欠 剩下 剩余 剩 还差 差 本金 未还本金".split()
    ),
    DEFAULT_AMOUNT_ROLE: tuple(
        "还款 已还 成功还款 还了 借了 额度 授信 收入 工资 到账 转账 "
        "入账 放款 存款 余额 可用 先还 只能还 只能先还 支出 消费 提现 获得借款 借款金额 放款金额 "
        "成功扣款 已扣款 扣款成功 累计还款 提前归还 节省".split()
    ),
}
_SETTLEMENT_MARKERS = tuple(
    "减免后 协商后 优惠后 折后 减免至 减至 降至 减为 减免为 仅需 只需 "
    "只要还 和解 结清优惠 优惠价 特批 协商金额 协商还款金额 免息后".split()
)

_ROLE_OF: dict[str, str] = {}
for _role, _words in _KEYWORDS.items():
    for _w in _words:
        _ROLE_OF.setdefault(_w, _role)
_KW_RE = re.compile("|".join(sorted(map(re.escape, _ROLE_OF), key=len, reverse=True)))
_SETTLE_RE = re.compile("|".join(map(re.escape, _SETTLEMENT_MARKERS)))
_SENT_END = re.compile(r"[。！？!?;；\n]")
_AGGREGATORS = frozenset(("合计", "共计", "总计", "一共", "总共"))
_FEE_WORDS = frozenset(_KEYWORDS[FEE])
_PRINCIPAL = re.compile(r"本金|欠款|本息|借款|贷款|欠")
_POST_MINIMUM = re.compile(r"^\s*(?:作为|做为)(?:最低还款|首期|首付)")
_POST_SETTLE = re.compile(r"^\s*(?:即可|就可以|就能)?结清")
_POST_OVERDUE = re.compile(
    r"^\s*(?:还上|还清|还回来|还进来|还给|已逾期|已经逾期|逾期未还|未还|没还|拖欠|的(?:借款|欠款|贷款)(?:已|已经)?逾期)"
)


def _window(text: str, start: int, floor: int) -> str:
    lo = max(floor, start - WINDOW, 0)
    left = text[lo:start]
    cut = None
    for m in _SENT_END.finditer(left):
        cut = m.end()
    return left[cut:] if cut is not None else left


def _nearest(left: str) -> str | None:
    best_end, best_len, best_role, best_word = -1, 0, None, ""
    # overlapping search: try every start so that 全部欠款 and 欠款 both count
    i = 0
    n = len(left)
    while i < n:
        m = _KW_RE.match(left, i)
        if m:
            e, ln = m.end(), m.end() - m.start()
            if e > best_end or (e == best_end and ln > best_len):
                best_end, best_len, best_role, best_word = e, ln, _ROLE_OF[m.group()], m.group()
        i += 1
    if best_word in _AGGREGATORS:
        # 利息、罚息共计X is a fee; 本金及利息共计X is the total
        before = left[: best_end - best_len]
        if any(w in before for w in _FEE_WORDS) and not _PRINCIPAL.search(before):
            return FEE
    return best_role


def assign_role(text: str, start: int, end: int, floor: int = 0) -> str:
    """Role of the amount at ``text[start:end]`` (folded text); ``floor`` = end of the previous amount."""
    left = _window(text, start, floor)
    if _SETTLE_RE.search(left):
        return SETTLEMENT
    right = text[end : end + 10]
    if _POST_SETTLE.match(right):
        return SETTLEMENT  # 按34,781元结清
    role = _nearest(left)
    if _POST_MINIMUM.match(right) and role in (None, DEFAULT_AMOUNT_ROLE):
        return MINIMUM  # 先还2300元作为最低还款
    if role is not None and role != DEFAULT_AMOUNT_ROLE:
        return role
    if _POST_OVERDUE.match(right):
        return OVERDUE
    return DEFAULT_AMOUNT_ROLE
