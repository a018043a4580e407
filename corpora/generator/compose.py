"""Compose whole items -- SMS, app pushes, emails, letters, IM chats, call transcripts and
non-collection texts -- from fragments, with labels known by construction."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from models.labels import AGENT, CUSTOMER, NO_STAGE, STAGE_RANK

from . import dates, noise
from .context import Ctx
from .doc import Piece, assemble, occurrence
from .fragments import calls as C
from .fragments import common as K
from .fragments import flags as F
from .fragments import letters as LT
from .fragments import negatives as N
from .fragments import nonecoll as NC
from .fragments import stages as S

COLLECTION_STAGES = ("reminder", "overdue_notice", "formal_demand", "lawyer_letter", "agency", "home_visit", "litigation")


@dataclass
class Plan:
    stage: str
    channel: str
    flags: tuple[str, ...] = ()
    hard_negative: str | None = None  # policy | negated | reported | antiscam | stern | complaint | article ...
    none_kind: str | None = None
    skeleton: int = 0
    register: str = "polite"
    third_party_addressed: bool = False


@dataclass
class Out:
    text: str | None = None
    turns: list[dict] | None = None
    gold: dict = field(default_factory=dict)
    family: str = ""
    note: str | None = None
    ref: str = ""
    cred: str = ""


# --- joining clauses ---------------------------------------------------------------


def join(clauses: list[list[Piece]], rng: random.Random, rough: bool = False, end: bool = True) -> list[Piece]:
    out: list[Piece] = []
    clauses = [c for c in clauses if c]
    for i, c in enumerate(clauses):
        out.extend(c)
        last = i == len(clauses) - 1
        if last and not end:
            break
        tail_txt = "".join(p.text for p in c).rstrip()
        if tail_txt and tail_txt[-1] in "。！？!?：:，；】":
            continue
        r = rng.random()
        if last:
            sep = rng.choice(["。", "。", "。", "！" if rough else "。", ""])
        elif r < 0.45:
            sep = "，"
        elif r < 0.85:
            sep = "。"
        elif r < 0.93:
            sep = "！" if rough or rng.random() < 0.3 else "。"
        elif r < 0.97:
            sep = "；"
        else:
            sep = " "
        out.append(Piece(sep))
    return out


def flag_clauses(ctx: Ctx, plan_flags: tuple[str, ...]) -> list[list[Piece]]:
    """One or two evidence-bearing clauses per flag; PE+TPC often share one clause."""
    rng = ctx.rng
    out: list[list[Piece]] = []
    todo = list(plan_flags)
    if "public_exposure" in todo and "third_party_contact" in todo and rng.random() < 0.6:
        out.append(ctx.frag(ctx.pick(F.EXPOSURE_GROUP), ("public_exposure", "third_party_contact")))
        todo.remove("public_exposure")
        todo.remove("third_party_contact")
    for f in todo:
        if f == "public_exposure" and rng.random() < 0.25:
            lines = F.EXPOSURE_REVEAL
        elif f == "false_legal_threat" and ctx.stage == "litigation" and rng.random() < 0.4:
            lines = F.FALSE_COURT
        else:
            lines = F.FLAG_LINES[f]
        for _ in range(1 if rng.random() < 0.7 else 2):
            out.append(ctx.frag(ctx.pick(lines), (f,)))
    rng.shuffle(out)
    return out


NEG_POOLS = {"policy": N.POLICY, "negated": N.NEGATED, "reported": N.REPORTED, "antiscam": N.ANTISCAM, "stern": K.LAWFUL}


def neg_clauses(ctx: Ctx, kind: str | None) -> list[list[Piece]]:
    if not kind or kind not in NEG_POOLS:
        return []
    pool = NEG_POOLS[kind]
    n = 1 if ctx.rng.random() < 0.6 else 2
    return [ctx.frag(ctx.pick(pool)) for _ in range(n)]


def amount_clauses(ctx: Ctx, stage: str) -> list[list[Piece]]:
    rng = ctx.rng
    if stage == "reminder":
        roles = ["total_due"] + (["minimum_payment"] if rng.random() < 0.5 else []) + (["fee"] if rng.random() < 0.15 else [])
    else:
        roles = ["overdue_amount" if rng.random() < 0.75 else "total_due"]
        if rng.random() < 0.35:
            roles.append("fee")
        if rng.random() < 0.2 and roles[0] != "total_due":
            roles.append("total_due")
        if stage in ("agency", "lawyer_letter", "litigation", "home_visit") and rng.random() < 0.3:
            roles.append("settlement")
        if stage == "overdue_notice" and rng.random() < 0.15:
            roles.append("minimum_payment")
        if rng.random() < 0.08:
            roles.append("other")
    if rng.random() < 0.08:
        roles = []
    return [ctx.frag(ctx.pick(K.AMT[r])) for r in roles]


def cond_clause(ctx: Ctx, stage: str) -> list[Piece] | None:
    higher = [s for s in K.COND if STAGE_RANK[s] > STAGE_RANK[stage]]
    if not higher:
        return None
    return ctx.frag(ctx.pick(K.COND[ctx.pick(higher)]))


def body_clauses(ctx: Ctx, plan: Plan, long: bool = False) -> list[list[Piece]]:
    """The core of a collection message: account, amounts, stage, flags, negatives,
    deadline, payment; returned in a plausible but varied order."""
    rng = ctx.rng
    stage = plan.stage
    head: list[list[Piece]] = []
    if stage == "reminder":
        if plan.third_party_addressed:
            head.append(ctx.frag(ctx.pick(F.THIRD_PARTY_ADDRESSED), ("third_party_contact",)))
        if rng.random() < 0.5:
            head.append(ctx.frag(ctx.pick(S.REMINDER)))
        head.extend(amount_clauses(ctx, stage))
        head.append(ctx.frag(ctx.pick(K.DEADLINE_DUE)))
        if rng.random() < 0.4:
            head.append(ctx.frag(ctx.pick(S.REMINDER)))
    else:
        if plan.third_party_addressed:
            head.append(ctx.frag(ctx.pick(F.THIRD_PARTY_ADDRESSED), ("third_party_contact",)))
        elif rng.random() < 0.78:
            head.append(ctx.frag(ctx.pick(K.OVERDUE)))
        else:
            head.append(ctx.frag(ctx.pick(K.OVERDUE_VAGUE)))
        head.extend(amount_clauses(ctx, stage))
        if rng.random() < (0.45 if long else 0.2):
            head.insert(rng.randrange(len(head) + 1), ctx.frag(ctx.pick(K.HISTORY)))
    mid: list[list[Piece]] = []
    if stage not in ("reminder",):
        lines = S.STAGE_LINES[stage]
        mid.append(ctx.frag(ctx.pick(lines)))
        if rng.random() < (0.5 if long else 0.2):
            mid.append(ctx.frag(ctx.pick(lines)))
    if stage not in ("reminder", "overdue_notice") and rng.random() < 0.2:
        lower = [s for s in ("overdue_notice", "formal_demand", "lawyer_letter", "agency") if STAGE_RANK[s] < STAGE_RANK[stage]]
        if lower and rng.random() < 0.5:
            mid.insert(0, ctx.frag(ctx.pick(K.HISTORY)))
    extra: list[list[Piece]] = []
    extra += flag_clauses(ctx, tuple(f for f in plan.flags if not (f == "third_party_contact" and plan.third_party_addressed)))
    extra += neg_clauses(ctx, plan.hard_negative)
    if stage != "reminder":
        if rng.random() < (0.35 if long else 0.2):
            c = cond_clause(ctx, stage)
            if c:
                extra.append(c)
        if rng.random() < 0.2:
            extra.append(ctx.frag(ctx.pick(K.VAGUE)))
        if rng.random() < (0.5 if long else 0.3):
            extra.append(ctx.frag(ctx.pick(K.LAWFUL)))
    rng.shuffle(extra)
    tail: list[list[Piece]] = []
    if stage != "reminder" and rng.random() < 0.6:
        tail.append(ctx.frag(ctx.pick(K.DEADLINE)))
    if rng.random() < (0.6 if long else 0.35) and "scam_risk" not in plan.flags:
        tail.append(ctx.frag(ctx.pick(K.PAY)))
    if rng.random() < (0.5 if long else 0.35):
        tail.append(ctx.frag(ctx.pick(K.CONTACT)))
    if len(tail) > 1 and rng.random() < 0.4:
        rng.shuffle(tail)
    if rng.random() < 0.25 and head and mid:
        return mid + head + extra + tail
    if rng.random() < 0.3:
        return head + extra + mid + tail
    return head + mid + extra + tail


# --- channels -------------------------------------------------------------------------


def _greet(ctx: Ctx, plan: Plan) -> list[Piece]:
    if plan.third_party_addressed:
        t = ctx.third
        return [Piece(ctx.pick([t["surname"] + t["title"], t["full"], t["surname"] + t["title"] + "您好", "您好"]), "fixed")]
    return ctx.frag(ctx.pick(K.GREET))


def compose_sms(ctx: Ctx, plan: Plan) -> list[Piece]:
    rng = ctx.rng
    rough = plan.register == "rough"
    sk = plan.skeleton
    pieces: list[Piece] = []
    header = ctx.frag(ctx.pick(K.SIGN_SMS_BY_STAGE.get(plan.stage, K.SIGN_SMS))) if not rough or rng.random() < 0.3 else []
    if sk == 5 and plan.stage != "reminder":
        # key-value notice
        kv = [ctx.frag("[欠款人|借款人|客户姓名][：|:]<FULL>"), ctx.frag("[逾期金额|欠款金额][：|:]<AMT:overdue>")]
        if rng.random() < 0.6:
            kv.append(ctx.frag("[状态|账户状态|逾期情况][：|:]<OD>"))
        kv.append(ctx.frag("[处理阶段|当前阶段|案件状态][：|:]" + STAGE_KV[plan.stage]))
        if rng.random() < 0.6:
            kv.append(ctx.frag("[还款期限|处理期限|最后期限][：|:]<DL>"))
        body = [ctx.frag(ctx.pick(S.STAGE_LINES[plan.stage]))] + flag_clauses(ctx, plan.flags) + neg_clauses(ctx, plan.hard_negative)
        sep = rng.choice(["；", "\n", "，", " "])
        for c in kv:
            pieces += c + [Piece(sep)]
        pieces += join(body, rng, rough)
        if rng.random() < 0.5:
            pieces += join([ctx.frag(ctx.pick(K.CONTACT))], rng, rough)
        return header + pieces
    clauses: list[list[Piece]] = []
    if sk != 2 and rng.random() < 0.75:
        g = _greet(ctx, plan)
        clauses.append(g)
    body = body_clauses(ctx, plan, long=(sk == 3))
    if sk == 2:  # short
        k = rng.randrange(2, 4)
        body = [c for i, c in enumerate(body) if i < k or any(p.kind == "open" for p in c)]
    clauses += body
    if rng.random() < (0.5 if sk in (1, 3) else 0.25):
        clauses.append(ctx.frag(ctx.pick(K.CLOSE)))
    pieces = join(clauses, rng, rough)
    if sk == 4 or (rough and rng.random() < 0.4):
        pieces += [Piece(rng.choice(["——", "-", "—— ", " ", "【", ""]))] + [Piece(ctx.agent, "fixed")]
        if pieces[-2].text == "【":
            pieces.append(Piece("】"))
        header = []
    if sk == 1 and header:
        pieces = pieces + header
    else:
        pieces = header + pieces
    if rng.random() < 0.25 and not rough:
        pieces += ctx.frag(ctx.pick(K.OPTOUT))
    return pieces


STAGE_KV = {
    "overdue_notice": "[逾期催收|贷后催收|逾期处理中]",
    "formal_demand": "[已发催收函|书面催告|催款通知已寄出]",
    "lawyer_letter": "[法务处理|律师函已发|已转法务]",
    "agency": "[委外催收|第三方处置|已委托<AGS>]",
    "home_visit": "[待外访|外访核实|已安排上门核实]",
    "litigation": "[诉讼中|已起诉|已立案|强制执行中]",
    "reminder": "[待还款|未到期]",
}


def compose_app(ctx: Ctx, plan: Plan) -> list[Piece]:
    rng = ctx.rng
    title = ctx.frag(ctx.pick(APP_TITLES[plan.stage]))
    body = body_clauses(ctx, plan, long=False)
    k = rng.randrange(2, 5)
    body = [c for i, c in enumerate(body) if i < k or any(p.kind == "open" for p in c)]
    sep = rng.choice(["\n", "：", " | ", "｜", " "])
    return title + [Piece(sep)] + join(body, rng, plan.register == "rough")


APP_TITLES = {
    "reminder": ["[还款提醒|账单提醒|到期提醒]", "[【<APP>】|<APP>]还款日[临近|将至]", "[您有一笔账单|账单]待还"],
    "overdue_notice": ["[逾期提醒|逾期通知|【逾期】]", "[<APP>|【<APP>】]账户逾期", "[重要|紧急]：[请尽快还款|账户已逾期]"],
    "formal_demand": ["[催告通知|书面催告|【催收函】]", "[<APP>|<CRED>][正式|书面]通知"],
    "lawyer_letter": ["[法务通知|律师函提醒|【法务部】]", "[<CRED>|<APP>]法务告知"],
    "agency": ["[委外通知|委托催收告知]", "[<APP>|<CRED>][账户|债权]处置通知"],
    "home_visit": ["[外访通知|上门核实提醒]", "[<CRED>|<APP>]外访告知"],
    "litigation": ["[诉讼通知|立案提醒|【诉讼】]", "[<CRED>|<APP>]诉讼进展"],
}


def _paragraphs(clauses: list[list[Piece]], rng: random.Random, rough: bool) -> list[Piece]:
    out: list[Piece] = []
    i = 0
    while i < len(clauses):
        k = rng.randrange(2, 5)
        para = clauses[i: i + k]
        i += k
        out += join(para, rng, rough) + [Piece("\n")]
    return out


def compose_letter(ctx: Ctx, plan: Plan, email: bool = False) -> list[Piece]:
    rng = ctx.rng
    ctx.money_register = "formal"
    titles = LT.TITLES.get(plan.stage) or LT.TITLES["overdue_notice"]
    out: list[Piece] = []
    if email:
        out += ctx.frag(ctx.pick(LT.EMAIL_SUBJECT[plan.stage])) + [Piece("\n")]
        if rng.random() < 0.3:
            out += ctx.frag(ctx.pick(titles)) + [Piece("\n")]
    else:
        out += ctx.frag(ctx.pick(titles)) + [Piece("\n")]
        if rng.random() < 0.3:
            out += [Piece(ctx.pick(["编号：", "函号：", "文书编号："]) + f"{ctx.ref.year}{rng.randrange(10**5, 10**7)}")] + [Piece("\n")]
    out += ctx.frag(ctx.pick(LT.SALUTE)) + [Piece("\n")]
    clauses: list[list[Piece]] = []
    if rng.random() < 0.6:
        clauses.append(ctx.frag(ctx.pick(LT.LETTER_OPEN)))
    body = body_clauses(ctx, plan, long=True)
    clauses += body
    verbose = rng.random() < 0.3
    if plan.stage != "reminder" and (verbose or rng.random() < 0.5):
        legal = [ctx.frag(t) for t in rng.sample(LT.LEGAL, rng.randrange(4, 10) if verbose else rng.randrange(1, 4))]
        at = rng.randrange(1, len(clauses) + 1) if clauses else 0
        clauses[at:at] = legal
    if plan.stage != "reminder" and rng.random() < 0.2 and not any(p.kind == "amount" for c in clauses for p in c):
        clauses.insert(min(2, len(clauses)), ctx.frag(ctx.pick(LT.ITEMS)))
    if any(c for c in body) and rng.random() < 0.5:
        clauses.append(ctx.frag(ctx.pick(K.DEADLINE).replace("<DL>", "<DL:letter>")))
    out += _paragraphs(clauses, rng, plan.register == "rough")
    closes = rng.sample(LT.LETTER_CLOSE, 2)
    out += ctx.frag(closes[0]) + [Piece("\n")]
    if rng.random() < 0.3:
        out += ctx.frag(closes[1]) + [Piece("\n")]
    out += ctx.frag(ctx.pick(LT.SIGN[plan.stage])) + [Piece("\n")]
    out += ctx.frag("<LDATE>")
    if email and rng.random() < 0.7:
        out += [Piece("\n")] + ctx.frag(ctx.pick(LT.EMAIL_FOOT))
    return out


# --- transcripts -------------------------------------------------------------------------


def _turn(ctx: Ctx, templates: list[str], flags_by: list[tuple[str, ...]] | None = None) -> list[Piece]:
    cl = [ctx.frag(t, f) for t, f in zip(templates, flags_by or [()] * len(templates), strict=True)]
    return join(cl, ctx.rng, ctx.register == "rough")


def compose_dialog(ctx: Ctx, plan: Plan, call: bool) -> list[tuple[str, list[Piece]]]:
    rng = ctx.rng
    turns: list[tuple[str, list[Piece]]] = []
    A = lambda cl: turns.append((AGENT, join([c for c in cl if c], rng, plan.register == "rough")))  # noqa: E731
    U = lambda cl: turns.append((CUSTOMER, join([c for c in cl if c], rng, False)))  # noqa: E731
    opens = list(C.AGENT_OPEN if call else C.IM_OPEN)
    if STAGE_RANK[plan.stage] >= STAGE_RANK["agency"]:
        opens += (C.AGENT_OPEN_AGENCY if call else C.IM_OPEN_AGENCY) * 3
    if STAGE_RANK[plan.stage] >= STAGE_RANK["lawyer_letter"] and call:
        opens += C.AGENT_OPEN_FIRM * 2
    A([ctx.frag(ctx.pick(opens))])
    third = plan.third_party_addressed or (plan.hard_negative == "thirdparty_ok")
    if third:
        U([ctx.frag(ctx.pick(C.CUST_THIRDPARTY))])
        if plan.third_party_addressed:
            A([ctx.frag(ctx.pick(F.THIRD_PARTY_ADDRESSED), ("third_party_contact",))] + amount_clauses(ctx, plan.stage)[:1])
            U([ctx.frag(ctx.pick(C.CUST_THIRDPARTY + C.CUST_ANGRY))])
        else:
            A([ctx.frag(ctx.pick(C.AGENT_THIRDPARTY_OK))])
            U([ctx.frag(ctx.pick(C.CUST_HANDOVER))])
            A([ctx.frag(ctx.pick(C.AGENT_IDCHECK))])
            U([ctx.frag(ctx.pick(C.CUST_GREET))])
    else:
        U([ctx.frag(ctx.pick(C.CUST_GREET))])
        if call and rng.random() < 0.3:
            A([ctx.frag(ctx.pick(C.AGENT_IDCHECK))])
            U([ctx.frag(rng.choice(["[对|是的|嗯]，[是我|我本人]", "[嗯|好]，[你说|说吧]", "[可以|行]，[你讲|什么事]", "[尾号|后四位是]<TAIL>"]))])
    if plan.third_party_addressed:
        st = []
    else:
        st = [ctx.frag(ctx.pick(K.OVERDUE if rng.random() < 0.75 else K.OVERDUE_VAGUE))] if plan.stage != "reminder" else [ctx.frag(ctx.pick(S.REMINDER))]
        st += amount_clauses(ctx, plan.stage)[:2]
        if plan.stage == "reminder":
            st.append(ctx.frag(ctx.pick(K.DEADLINE_DUE)))
        A(st)
    # the rest: agent blocks interleaved with customer replies
    agent_blocks: list[list[list[Piece]]] = []
    if plan.stage not in ("reminder", "overdue_notice") or rng.random() < 0.5:
        pool = S.STAGE_LINES.get(plan.stage, S.OVERDUE_NOTICE)
        agent_blocks.append([ctx.frag(ctx.pick(pool))])
    fl = flag_clauses(ctx, tuple(f for f in plan.flags if not (f == "third_party_contact" and plan.third_party_addressed)))
    for c in fl:
        agent_blocks.append([c] + ([ctx.frag(ctx.pick(K.LAWFUL))] if rng.random() < 0.15 else []))
    for c in neg_clauses(ctx, plan.hard_negative):
        agent_blocks.append([c])
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3, 4, 6])):
        agent_blocks.append([ctx.frag(ctx.pick(C.AGENT_NEGOTIATE))])
    if rng.random() < 0.25 and plan.stage != "reminder":
        c = cond_clause(ctx, plan.stage)
        if c:
            agent_blocks.append([c])
    rng.shuffle(agent_blocks)
    if rng.random() < 0.6:
        dl = [ctx.frag(ctx.pick(K.DEADLINE))]
        if rng.random() < 0.5 and "scam_risk" not in plan.flags:
            dl.append(ctx.frag(ctx.pick(K.PAY)))
        agent_blocks.append(dl)
    cust_pools = [C.CUST_EXCUSE, C.CUST_EXCUSE, C.CUST_ANGRY, C.CUST_QUESTION, C.CUST_OFFER, C.CUST_AGREE]
    if plan.flags and rng.random() < 0.6:
        cust_pools += [C.CUST_ANGRY, C.CUST_ANGRY]
    for blk in agent_blocks:
        U([ctx.frag(ctx.pick(ctx.pick(cust_pools)))] + ([ctx.frag(ctx.pick(C.CUST_EXCUSE))] if rng.random() < 0.2 else []))
        A(blk)
    if rng.random() < 0.7:
        U([ctx.frag(ctx.pick(C.CUST_AGREE + C.CUST_ANGRY))])
        if rng.random() < 0.7:
            A([ctx.frag(ctx.pick(C.AGENT_CLOSE))])
    return turns


# --- non-collection texts -----------------------------------------------------------------


def compose_none(ctx: Ctx, plan: Plan) -> list[Piece]:
    rng = ctx.rng
    k = plan.none_kind
    hdr = ctx.frag(ctx.pick(K.SIGN_SMS)) if plan.channel in ("sms", "app") and rng.random() < 0.8 else []

    def pick_n(pool, lo, hi):
        return [ctx.frag(t) for t in rng.sample(pool, min(len(pool), rng.randrange(lo, hi + 1)))]

    if k == "marketing":
        cl = pick_n(NC.MARKETING, 1, 3)
        tail = ctx.frag(ctx.pick(K.OPTOUT)) if rng.random() < 0.6 else []
        return hdr + join(cl, rng) + tail
    if k == "code":
        return hdr + join(pick_n(NC.CODE, 1, 2), rng)
    if k == "confirm":
        return hdr + join(pick_n(NC.CONFIRM, 1, 2) + ([ctx.frag(ctx.pick(K.CLOSE[1:3]))] if rng.random() < 0.3 else []), rng)
    if k == "loanad":
        return hdr + join(pick_n(NC.LOANAD, 2, 4), rng) + (ctx.frag(ctx.pick(K.OPTOUT)) if rng.random() < 0.5 else [])
    if k == "notice":
        return hdr + join(pick_n(NC.NOTICE, 1, 2), rng)
    if k == "chat":
        return join(pick_n(NC.CHAT, 1, 3), rng)
    if k == "article":
        title = ctx.frag(ctx.pick(N.ARTICLE_TITLES))
        return title + [Piece("\n")] + _paragraphs(pick_n(N.ARTICLE_LINES, 3, 14), rng, False)
    if k == "antiscam":
        lines = pick_n(N.ANTISCAM_NOTICE[1:], 2, 4)
        return ctx.frag(N.ANTISCAM_NOTICE[0]) + join(lines, rng)
    if k == "complaint":
        lead = ctx.frag(ctx.pick(N.COMPLAINT_LEAD))
        quoted = []
        for _ in range(rng.randrange(1, 3)):
            f = ctx.pick(list(F.FLAG_LINES))
            q = ctx.frag(ctx.pick(F.FLAG_LINES[f]).replace("{", "").replace("}", ""))
            quoted.append(q)
        qp: list[Piece] = [Piece(rng.choice(["“", "：“", "「", "\""]))]
        for i, q in enumerate(quoted):
            qp += q + ([Piece("，")] if i < len(quoted) - 1 else [])
        qp.append(Piece(rng.choice(["”", "」", "\""])))
        tail = pick_n(N.COMPLAINT_TAIL, 1, 2)
        return lead + qp + [Piece(rng.choice(["。", "，", "！"]))] + join(tail, rng)
    if k == "scam_ad":
        sc = [ctx.frag(ctx.pick(F.SCAM), ("scam_risk",)) for _ in range(rng.randrange(1, 3))]
        extra = pick_n(NC.LOANAD, 0, 2)
        cl = sc + extra
        rng.shuffle(cl)
        return hdr + join(cl, rng) + (ctx.frag(ctx.pick(K.OPTOUT)) if rng.random() < 0.3 else [])
    raise ValueError(k)


# --- noise and assembly ------------------------------------------------------------------


def apply_noise(pieces: list[Piece], ctx: Ctx, plan: Plan) -> list[Piece]:
    rng = ctx.rng
    if plan.register == "rough":
        pieces = noise.rough(pieces)
    if plan.channel in ("sms", "im", "app") and rng.random() < (0.25 if plan.flags else 0.06):
        pieces = noise.evasive(pieces, rng)
    if rng.random() < 0.07:
        pieces = noise.typos(pieces, rng)
    if rng.random() < 0.05:
        pieces = noise.fullwidth(pieces, rng)
    if plan.channel in ("sms", "app", "im") and rng.random() < 0.07:
        pieces = noise.emoji(pieces, rng)
    if rng.random() < 0.04:
        pieces = noise.ascii_punct(pieces, rng)
    if plan.channel in ("sms", "app") and rng.random() < 0.1:
        pieces = noise.spaces(pieces, rng)
    if rng.random() < 0.04:
        pieces = noise.traditional(pieces, rng)
    return pieces


def _entries(built_list, transcript: bool):
    amounts, deadlines, fq = [], [], {}
    for ti, b in built_list:
        for a in b.amounts:
            e = {"quote": a["quote"], "value": a["value"], "role": a["role"]}
            occ = occurrence(b.text, a["quote"], a["_start"])
            if transcript:
                e["turn"] = ti
            e["occurrence"] = occ
            amounts.append(e)
        for d in b.deadlines:
            e = {"quote": d["quote"], "value": d["value"], "kind": d["kind"]}
            occ = occurrence(b.text, d["quote"], d["_start"])
            if transcript:
                e["turn"] = ti
            e["occurrence"] = occ
            deadlines.append(e)
        for f, qs in b.flags.items():
            for q, start in qs:
                occ = occurrence(b.text, q, start)
                if transcript or occ:
                    e = {"quote": q}
                    if transcript:
                        e["turn"] = ti
                    if occ:
                        e["occurrence"] = occ
                else:
                    e = q
                if e not in fq.setdefault(f, []):
                    fq[f].append(e)
    return amounts, deadlines, fq


def _shift(b) -> None:
    """Strip surrounding whitespace, moving the recorded starts with the text."""
    stripped = b.text.lstrip()
    shift = len(b.text) - len(stripped)
    for a in b.amounts + b.deadlines:
        a["_start"] -= shift
    b.flags = {f: [(q, st - shift) for q, st in v] for f, v in b.flags.items()}
    b.text = stripped.rstrip()


def build_item(rng: random.Random, plan: Plan) -> Out:
    late = "harassment" in plan.flags and rng.random() < 0.3
    ref = dates.random_ref(rng, late=late)
    ctx = Ctx(rng, ref, plan.channel, plan.stage, plan.register)
    out = Out()
    if plan.channel in ("call", "im"):
        ctx.spoken = plan.channel == "call" and rng.random() < 0.65
        if plan.channel in ("im", "call"):
            ctx.money_register = "casual"
        raw_turns = compose_dialog(ctx, plan, call=plan.channel == "call")
        built = []
        turns = []
        for i, (spk, pcs) in enumerate(raw_turns):
            if ctx.spoken:
                pcs = noise.asr(pcs, rng)
                if spk == AGENT and plan.register == "rough":
                    pcs = noise.rough(pcs)
            else:
                pcs = apply_noise(pcs, ctx, plan) if spk == AGENT else pcs
            b = assemble(pcs)
            text = b.text.strip()
            if not text:
                text = "嗯"
                b.text = text
            _shift(b)
            turns.append({"speaker": spk, "text": b.text})
            if spk == CUSTOMER:
                assert not b.flags, "flags in a customer turn"
            built.append((i, b))
        out.turns = turns
        amounts, deadlines, fq = _entries(built, True)
    else:
        if plan.stage == NO_STAGE:
            pcs = compose_none(ctx, plan)
        elif plan.channel == "sms":
            pcs = compose_sms(ctx, plan)
        elif plan.channel == "app":
            pcs = compose_app(ctx, plan)
        elif plan.channel in ("letter", "email"):
            pcs = compose_letter(ctx, plan, email=plan.channel == "email")
        else:
            pcs = compose_sms(ctx, plan)
        pcs = apply_noise(pcs, ctx, plan)
        b = assemble(pcs)
        _shift(b)
        out.text = b.text
        amounts, deadlines, fq = _entries([(None, b)], False)
    flags_present = sorted(fq)
    if set(flags_present) != set(plan.flags):
        raise AssertionError(f"flags {flags_present} != plan {plan.flags}")
    out.gold = {
        "stage": plan.stage,
        "flags": [f for f in plan.flags],
        "flag_quotes": fq,
        "amounts": amounts,
        "deadlines": deadlines,
        "overdue_days": ctx.overdue_days,
    }
    out.ref = dates.iso(ref)
    out.cred = ctx.cred["short"]
    return out
