"""The one table of legal bases: every spec flag, QA rule and QA check and the rules it rests on.

``models.labels`` reads each flag's ``basis`` from here, the QA scorer (``models.qa``) cites
its violations and checks from here, and ``docs/qa.md`` reproduces the table. Nothing else
in the package spells out a legal citation.

This module imports nothing from the package so that ``models.labels`` can import it.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- the sources, cited once ---------------------------------------------------

# key -> (citation, what it says that matters here). ``basis`` strings quote the citation;
# the gloss is for docs/qa.md and the HTML report.
SOURCES: dict[str, tuple[str, str]] = {
    "cc68": ("《商业银行信用卡业务监督管理办法》第六十八条",
             "只对债务人本人及其担保人催收，不得对与债务无关的第三人催收，不得采用暴力、胁迫、恐吓或辱骂等不当催收行为"),
    "cc69": ("《商业银行信用卡业务监督管理办法》第六十九条", "催收函应载明的内容：债权机构、欠款金额、还款方式等"),
    "convention": ("《互联网金融逾期债务催收自律公约（试行）》第十三条至第二十一条",
                   "催收行为规范：表明身份，不得冒用行政机关或司法机关名义，不得暴力威胁或侮辱，不得骚扰无关第三人，"
                   "合理的催收时间与频次，通过合法渠道收款"),
    "pipl10": ("《个人信息保护法》第十条", "不得非法收集、使用、加工、传输、买卖、提供或者公开他人个人信息"),
    "pipl25": ("《个人信息保护法》第二十五条", "个人信息处理者不得公开其处理的个人信息，取得个人单独同意的除外"),
    "crim293_1": ("《刑法》第二百九十三条之一", "催收非法债务罪：暴力、胁迫，限制人身自由或侵入住宅，恐吓、跟踪、骚扰"),
    "crim279": ("《刑法》第二百七十九条", "招摇撞骗：冒充国家机关工作人员"),
    "soft_violence": ("《关于办理实施“软暴力”的刑事案件若干问题的意见》（2019）",
                      "滋扰、纠缠、哄闹、聚众造势，跟踪、贴报、喷涂、信息骚扰等软暴力手段"),
    "cba2026": ("中国银行业协会催收工作指引（2026-01-30）",
                "未经债务人同意，22:00至次日8:00不得催收来电；每日主动拨打不超过6次"),
    "antifraud": ("《反电信网络诈骗法》", "正规机构只通过官方渠道收款，征信记录不能花钱“修复”"),
}

FLAG = "flag"  # a spec flag (shared/spec/labels.md §2)
QA_RULE = "qa_rule"  # a rule the QA scorer checks from call metadata and turns
CHECK = "check"  # something the agent should do on every call


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # FLAG, QA_RULE or CHECK
    zh: str
    sources: tuple[str, ...]  # keys of SOURCES, most specific first
    note: str = ""  # what the rule forbids or requires, where the sources do not say it alone

    @property
    def basis(self) -> str:
        cited = "；".join(SOURCES[key][0] for key in self.sources)
        return f"{cited}；{self.note}" if self.note else cited


RULES: tuple[Rule, ...] = (
    # spec flags
    Rule("violent_threat", FLAG, "暴力威胁", ("cc68", "convention", "crim293_1", "soft_violence")),
    Rule("false_legal_threat", FLAG, "虚假法律威胁/冒充公检法", ("convention", "crim279"),
         "民事欠款不产生拘留、坐牢、案底等刑事后果"),
    Rule("third_party_contact", FLAG, "联系第三方", ("cc68", "convention", "pipl10")),
    Rule("public_exposure", FLAG, "公开曝光", ("pipl10", "pipl25", "convention", "soft_violence")),
    Rule("insult", FLAG, "侮辱谩骂", ("cc68", "convention", "soft_violence")),
    Rule("harassment", FLAG, "骚扰", ("cc68", "soft_violence", "crim293_1", "cba2026")),
    Rule("scam_risk", FLAG, "疑似诈骗", ("antifraud", "convention")),
    # QA rules (from call metadata, or from what the person reached says)
    Rule("off_hours_contact", QA_RULE, "非规定时段催收", ("cba2026", "convention", "soft_violence"),
         "22:00至次日8:00未经债务人同意来电催收"),
    Rule("excessive_dialing", QA_RULE, "频繁拨打", ("cba2026", "convention", "soft_violence"),
         "同一债务人当日主动拨打超过6次"),
    Rule("third_party_disclosure", QA_RULE, "向第三人透露欠款", ("cc68", "pipl10", "convention"),
         "接听者不是债务人本人时透露欠款信息"),
    # QA checks (passed when the agent does it)
    Rule("agent_identified", CHECK, "表明所属机构", ("convention", "cc69"),
         "催收人员应表明其所代表的机构或债权方"),
    Rule("debt_stated", CHECK, "告知欠款金额", ("cc69",), "应告知债务人欠款或逾期金额"),
    Rule("lawful_payment_offered", CHECK, "提供合法还款渠道", ("cc69", "convention", "antifraud"),
         "只通过官方渠道（APP、手机银行、官方公众号、对公账户、网点）或协商还款方案收款，不得要求转入个人账户"),
)

RULE_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}
FLAG_RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES if r.kind == FLAG)
QA_RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES if r.kind == QA_RULE)
CHECK_NAMES: tuple[str, ...] = tuple(r.name for r in RULES if r.kind == CHECK)
VIOLATION_NAMES: tuple[str, ...] = FLAG_RULE_NAMES + QA_RULE_NAMES


def basis(name: str) -> str:
    """The legal basis of a flag, QA rule or check; KeyError for unknown names."""
    return RULE_BY_NAME[name].basis


def basis_table_markdown() -> str:
    """The table as Markdown (docs/qa.md is written from this)."""
    lines = ["| name | kind | 中文 | basis |", "| --- | --- | --- | --- |"]
    lines += [f"| `{r.name}` | {r.kind} | {r.zh} | {r.basis} |" for r in RULES]
    lines += ["", "| source | what it says (as used here) |", "| --- | --- |"]
    lines += [f"| {citation} | {gloss} |" for citation, gloss in SOURCES.values()]
    return "\n".join(lines)
