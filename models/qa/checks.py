"""Rules over the normalised agent text: the three QA checks and third-party disclosure.

They read ``models.text.normalize`` output (folded, simplified, de-obfuscated) and need no
punctuation, so ASR transcripts ("您好这里是华信银行信用卡中心") work as well as chat. Only
agent turns are ever passed in for the checks; customer turns are read only to learn that
the person who answered is not the debtor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..schema import Amount

_CJK = r"[\u4e00-\u9fff]"

# --- agent_identified: the agent names the organisation it calls for, or the creditor ----
_ORG_SUFFIX = (r"(?:银行|信用卡中心|消费金融|消金|小额贷款|小贷|金融|保险|信托|律师事务所|律所|资产管理|资管|"
               r"科技|公司|集团|平台|贷后组|贷后部|法务部|风险管理部|风控部|催收部|催收中心|客服中心|速贷|借呗|花呗|白条)")
_ORG_RE = re.compile(rf"({_CJK}{{1,10}}?|[a-z]{{2,12}}){_ORG_SUFFIX}")
# Words after which a new noun phrase starts: the name is what follows the last of them.
_BOUNDARY_RE = re.compile(
    r".*(?:这里是|这边是|我是|我们是|就是|您好|你好|关于|因为|受|在|的|是|了|从|为|于|对|向|给|和|与|我|您|你|他|她|们|这|那|里|边|"
    r"嗯|啊|哎|额|呃|喂|请|说|就|欠|还|借|已|经|期|月|天|年|元|块|到|去|要|会|把|被|让|跟|也|都|不|没|有|"
    r"个人|消费|信用|网络|小额|该笔|这笔|其他|一家|各|家)"
)
_GENERIC_NAMES = {"我司", "本司", "本行", "我行", "贵司", "商业", "国有", "正规", "官方", "相关", "合作", "第三方",
                  "催收", "委托", "律师", "该", "本", "某"}
_ENTRUSTED_RE = re.compile(rf"(?:受|接受)({_CJK}{{2,12}}?)(?:的)?委托")


def _org_names(text: str) -> list[tuple[int, int]]:
    """Spans of named organisations in normalised ``text``."""
    spans = []
    for m in _ORG_RE.finditer(text):
        name = m.group(1)
        cut = _BOUNDARY_RE.match(name)
        rest = name[cut.end():] if cut else name
        if len(rest) >= 2 and rest not in _GENERIC_NAMES:
            spans.append((m.start(1) + len(name) - len(rest), m.end()))
    for m in _ENTRUSTED_RE.finditer(text):
        if m.group(1) not in _GENERIC_NAMES:
            spans.append(m.span())
    return spans


def names_organisation(text: str) -> bool:
    return bool(_org_names(text))


# --- debt_stated ------------------------------------------------------------------------
_DEBT_ROLES = {"overdue_amount", "total_due", "minimum_payment", "settlement"}
_DEBT_WORDS_RE = re.compile(r"欠|逾期|拖欠|应还|待还|未还|本息|本金|结清|还款金额|账单")


def states_debt(text: str, amounts: list[Amount]) -> bool:
    """An amount in this agent turn that is the debt (by role, or by the words around it)."""
    if any(a.role in _DEBT_ROLES for a in amounts):
        return True
    return bool(amounts) and bool(_DEBT_WORDS_RE.search(text))


# --- lawful_payment_offered -------------------------------------------------------------
_OFFICIAL = (r"(?:官方app|app|手机银行|网上银行|网银|官方公众号|公众号|小程序|官方渠道|官方客服|官网|对公账户|对公账号|"
             r"公司账户|网点|柜台|营业厅|还款账户|还款卡|自动扣款|绑定的?银行卡)")
_PAY_VERBS = r"(?:还款|还上|还清|还钱|还进|结清|缴纳|缴费|付款|支付|入账|存入|存到|转入|打入|操作|处理|申请|办理)"
_OFFICIAL_RE = re.compile(
    rf"(?:通过|在|用|登录|登陆|打开|进入|到|去|存入|存到|转入|转到|打到|汇入|存进){_CJK}{{0,12}}?{_OFFICIAL}"
    rf"|{_OFFICIAL}{_CJK}{{0,8}}?{_PAY_VERBS}"
)
_PLAN_RE = re.compile(
    r"分期|还款方案|协商还款|协商方案|协商一下|看看方案|出个方案|减免|延期还款|停息挂账|还款计划|先还一部分|部分还款|想想办法"
)
_PERSONAL_RE = re.compile(
    r"个人账户|私人账户|个人账号|私人账号|个人卡|私人卡|我的(?:卡|账户|账号|微信|支付宝)|我个人的|微信转|支付宝转|"
    r"转给我|打给我|加(?:我)?微信|扫码|二维码|收款码"
)
_NEGATION_RE = re.compile(r"(?:不|没|无|别|勿|未|禁止|谨防|严禁|防止)")


def _negated(text: str, start: int, window: int = 8) -> bool:
    return bool(_NEGATION_RE.search(text[max(0, start - window):start]))


def personal_account(text: str) -> bool:
    """The agent asks for payment into a personal or unofficial account (not negated)."""
    return any(not _negated(text, m.start()) for m in _PERSONAL_RE.finditer(text))


def offers_lawful_payment(text: str) -> bool:
    if _OFFICIAL_RE.search(text):
        return True
    return any(not _negated(text, m.start(), window=3) for m in _PLAN_RE.finditer(text))


# --- third_party_disclosure -------------------------------------------------------------
_NOT_DEBTOR_RE = re.compile(
    r"不是(?:他|她)?本人|我不是(?:他|她)|打错了|找错人|没有这个人|不认识(?:他|她)|(?:他|她)不在|"
    r"我是(?:他|她)的?(?:妈|爸|母亲|父亲|老婆|老公|妻子|丈夫|爱人|儿子|女儿|同事|朋友|领导|老板|哥|姐|弟|妹|家人|室友|邻居)"
)
_DISCLOSE_RE = re.compile(r"欠|逾期|拖欠|还款|还钱|借款|贷款|账单|催收|未还|结清|本息|违约|起诉")


def says_not_debtor(text: str) -> bool:
    return bool(_NOT_DEBTOR_RE.search(text))


def discloses_debt(text: str, amounts: list[Amount]) -> bool:
    return bool(amounts) or bool(_DISCLOSE_RE.search(text))


@dataclass(frozen=True)
class TurnText:
    index: int
    speaker: str
    original: str
    norm: str
