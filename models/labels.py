"""The one place that names stages, flags, amount roles and deadline kinds.

Every other module imports label strings from here; the names are the contract in
``shared/spec/labels.md`` and must never be renamed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rules import FLAG_RULE_NAMES, basis

# --- escalation stages, ordered from mildest to most severe -----------------


@dataclass(frozen=True)
class Stage:
    name: str
    zh: str
    plain: str  # what it means for a borrower, in plain Chinese


STAGES: tuple[Stage, ...] = (
    Stage("none", "非催收信息", "这不是一条催收信息（营销、验证码、普通通知、文章等）。"),
    Stage("reminder", "还款提醒", "还未逾期，只是提醒您按时还款。"),
    Stage("overdue_notice", "逾期催收", "债权方自己在催收：账户已逾期，要求尽快还款。"),
    Stage("formal_demand", "正式催收函", "债权方已发出书面催收函或催款通知书。"),
    Stage("lawyer_letter", "律师函/法务", "案件已交律师事务所或债权方法务部处理。"),
    Stage("agency", "委外催收", "债务已委托第三方催收机构或资产管理公司处理。"),
    Stage("home_visit", "上门外访", "对方已安排或进行上门、外访核实。"),
    Stage("litigation", "诉讼", "已起诉、立案、仲裁或进入强制执行。"),
)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
STAGE_RANK: dict[str, int] = {name: i for i, name in enumerate(STAGE_NAMES)}
STAGE_BY_NAME: dict[str, Stage] = {s.name: s for s in STAGES}
NO_STAGE = "none"

# --- flags: conduct the rules forbid ----------------------------------------


@dataclass(frozen=True)
class Flag:
    name: str
    zh: str
    explanation: str  # plain words for a borrower
    basis: str  # the rule it rests on, from models.rules (the one table)


# (name, Chinese name, plain explanation); each flag's basis comes from ``models.rules``.
_FLAG_TEXTS: tuple[tuple[str, str, str], ...] = (
    ("violent_threat", "暴力威胁", "威胁伤害您本人、家人或财产，或暗示会这样做。"),
    ("false_legal_threat", "虚假法律威胁/冒充公检法",
     "冒充警察、法院、检察院或政府，或对普通民事欠款虚构拘留、坐牢、案底、影响子女上学政审等后果。"),
    ("third_party_contact", "联系第三方",
     "向您以外的人（家人、朋友、同事、单位、通讯录、邻居、村委会）透露欠款或威胁联系他们。"),
    ("public_exposure", "公开曝光",
     "公开或威胁公开您的身份、照片、身份证号、住址或欠款（曝光、挂网、朋友圈、大字报、发群）。"),
    ("insult", "侮辱谩骂", "使用侮辱、贬低人格的语言。"),
    ("harassment", "骚扰", "轰炸式或恐吓式联系：昼夜不停打电话、深夜来电、大量短信、跟踪。"),
    ("scam_risk", "疑似诈骗",
     "可能不是真正的债权方：要求转账到个人账户、扫码、下载非官方APP或点链接、索要验证码或密码、“征信修复”、“注销账户”。"),
)
FLAGS: tuple[Flag, ...] = tuple(Flag(name, zh, explanation, basis(name)) for name, zh, explanation in _FLAG_TEXTS)
FLAG_NAMES: tuple[str, ...] = tuple(f.name for f in FLAGS)
FLAG_BY_NAME: dict[str, Flag] = {f.name: f for f in FLAGS}
assert FLAG_NAMES == FLAG_RULE_NAMES, "models.rules must list the spec flags in the same order"

# --- amounts and deadlines ---------------------------------------------------

AMOUNT_ROLES: dict[str, str] = {
    "overdue_amount": "逾期金额/欠款",
    "minimum_payment": "最低还款额",
    "total_due": "应还总额",
    "fee": "费用（滞纳金、罚息、利息、违约金、手续费）",
    "settlement": "减免或协商后金额",
    "other": "其他金额",
}
AMOUNT_ROLE_NAMES: tuple[str, ...] = tuple(AMOUNT_ROLES)
DEFAULT_AMOUNT_ROLE = "other"
CURRENCY_CNY = "CNY"

DEADLINE_KINDS: tuple[str, ...] = ("absolute", "relative")

SPEAKERS: tuple[str, ...] = ("agent", "customer")
AGENT = "agent"
CUSTOMER = "customer"


def stage_rank(name: str) -> int:
    """Position on the escalation ladder; raises KeyError for unknown names."""
    return STAGE_RANK[name]


def highest_stage(names: list[str]) -> str:
    """The most severe stage among ``names`` (``none`` for an empty list)."""
    return max(names, key=stage_rank, default=NO_STAGE)
