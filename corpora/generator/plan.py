"""Plan a batch (stage, channel, flags, hard negatives per item) to hit the targets,
build every item, and give each its family. Deterministic for a seed."""

from __future__ import annotations

import random
import zlib
from collections import Counter, defaultdict

from models.labels import FLAG_NAMES, NO_STAGE

from .compose import Plan, build_item

STAGE_SHARE = {
    "none": 0.13, "reminder": 0.09, "overdue_notice": 0.19, "formal_demand": 0.10,
    "lawyer_letter": 0.11, "agency": 0.15, "home_visit": 0.11, "litigation": 0.12,
}
CHANNELS = {
    "reminder": {"sms": 55, "app": 25, "email": 10, "call": 7, "im": 3},
    "overdue_notice": {"sms": 45, "app": 10, "call": 22, "im": 15, "email": 8},
    "formal_demand": {"letter": 40, "email": 20, "sms": 30, "app": 5, "call": 5},
    "lawyer_letter": {"letter": 35, "sms": 30, "email": 10, "call": 15, "im": 10},
    "agency": {"sms": 40, "call": 25, "im": 15, "letter": 12, "email": 8},
    "home_visit": {"sms": 45, "letter": 20, "call": 20, "im": 15},
    "litigation": {"sms": 40, "letter": 25, "email": 10, "call": 15, "im": 10},
}
FLAG_P = {"reminder": 0.12, "overdue_notice": 0.62, "formal_demand": 0.25, "lawyer_letter": 0.42, "agency": 0.58,
          "home_visit": 0.42, "litigation": 0.38}
NONE_KINDS = {
    "marketing": (17, ["sms", "app", "email"]), "code": (9, ["sms"]), "confirm": (11, ["sms", "app"]),
    "loanad": (11, ["sms", "app"]), "notice": (8, ["sms", "app", "email"]), "chat": (5, ["other"]),
    "article": (12, ["web"]), "antiscam": (9, ["sms", "web"]), "complaint": (10, ["web", "other"]),
    "scam_ad": (8, ["sms", "app", "other"]),
}
NEG_KINDS = {"policy": 3, "negated": 3, "reported": 2, "antiscam": 2, "stern": 2}
ROUGH_FLAGS = {"violent_threat", "insult", "harassment", "false_legal_threat"}
SKELETONS = {"sms": 6, "app": 2, "letter": 3, "email": 2, "call": 3, "im": 2}
NOTE = {
    "policy": "hard negative: a policy forbidding misconduct raises no flag",
    "negated": "hard negative: a negated statement raises no flag",
    "reported": "hard negative: reported speech about past misconduct raises no flag",
    "antiscam": "hard negative: an anti-scam warning is not scam_risk",
    "stern": "hard negative: stern but lawful wording is not insult or threat",
    "thirdparty_ok": "hard negative: a third party answers and the debt is not disclosed",
    "article": "hard negative: an article about collection is stage none and raises no flag",
    "antiscam_none": "hard negative: an anti-scam notice is stage none and raises no flag",
    "complaint": "hard negative: a complaint quoting threats is stage none and raises no flag",
}


def _wchoice(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


def make_plans(rng: random.Random, n: int) -> list[Plan]:
    stages: list[str] = []
    for s, share in STAGE_SHARE.items():
        stages += [s] * round(share * n)
    while len(stages) < n:
        stages.append("overdue_notice")
    stages = stages[:n]
    rng.shuffle(stages)
    target = {f: 0 for f in FLAG_NAMES}
    plans = []
    for stage in stages:
        if stage == NO_STAGE:
            kind = _wchoice(rng, {k: v[0] for k, v in NONE_KINDS.items()})
            ch = rng.choice(NONE_KINDS[kind][1])
            p = Plan(stage, ch, none_kind=kind)
            if kind == "scam_ad":
                p.flags = ("scam_risk",)
                target["scam_risk"] += 1
            elif kind in ("article", "complaint"):
                p.hard_negative = kind
            elif kind == "antiscam":
                p.hard_negative = "antiscam_none"
            p.skeleton = rng.randrange(2)
            plans.append(p)
            continue
        ch = _wchoice(rng, CHANNELS[stage])
        p = Plan(stage, ch, skeleton=rng.randrange(SKELETONS[ch]))
        if rng.random() < FLAG_P[stage]:
            allowed = list(FLAG_NAMES) if stage != "reminder" else ["scam_risk", "harassment", "third_party_contact", "insult"]
            if ch in ("letter", "email"):
                allowed = [f for f in allowed if f != "harassment"] if rng.random() < 0.5 else allowed
            k = rng.choices([1, 2, 3], [0.55, 0.33, 0.12])[0]
            chosen: list[str] = []
            for _ in range(k):
                w = {f: max(1.0, 900 - target[f]) for f in allowed if f not in chosen}
                if not w:
                    break
                chosen.append(_wchoice(rng, w))
            if "public_exposure" in chosen and "third_party_contact" not in chosen and rng.random() < 0.4:
                chosen.append("third_party_contact")
            for f in chosen:
                target[f] += 1
            p.flags = tuple(sorted(chosen))
            rough = bool(set(chosen) & ROUGH_FLAGS)
            p.register = "rough" if rng.random() < (0.85 if rough else 0.4) else "polite"
            if "third_party_contact" in chosen and ch in ("sms", "call", "im") and rng.random() < 0.3:
                p.third_party_addressed = True
        else:
            if rng.random() < 0.42:
                kinds = dict(NEG_KINDS)
                if ch == "call":
                    kinds["thirdparty_ok"] = 3
                p.hard_negative = _wchoice(rng, kinds)
            if ch in ("im", "call") and rng.random() < 0.1:
                p.register = "rough"
        plans.append(p)
    return plans


def family_of(p: Plan) -> str:
    kind = p.none_kind if p.stage == NO_STAGE else p.stage
    if p.flags:
        tag = "flag" + ("-3p" if p.third_party_addressed else "")
    elif p.hard_negative:
        tag = "neg"
    else:
        tag = "plain"
    if p.stage == NO_STAGE:
        tag = "x"
    return f"gen:{p.channel}-{kind}-s{p.skeleton}-{tag}"


def generate(seed: int, n: int) -> list[dict]:
    rng = random.Random(seed)
    plans = make_plans(rng, n)
    items: list[dict] = []
    creds: list[str] = []
    for i, p in enumerate(plans):
        irng = random.Random(f"{seed}-{i}")
        for _attempt in range(20):
            out = build_item(irng, p)
            size = len(out.text) if out.text is not None else sum(len(t["text"]) for t in out.turns)
            if 15 <= size <= 1500:
                break
        item = {"id": f"gen-s{seed}-{i:05d}"}
        if out.text is not None:
            item["text"] = out.text
        else:
            item["turns"] = out.turns
        item.update({"reference_time": out.ref, "channel": p.channel, "family": family_of(p), "source": "generated",
                     "gold": out.gold})
        if p.hard_negative in NOTE and not p.flags:
            item["note"] = NOTE[p.hard_negative]
        items.append(item)
        creds.append(out.cred)
    _split_families(items, creds)
    return items


def _split_families(items: list[dict], creds: list[str], cap: int = 28) -> None:
    """Keep families small: split a big family by creditor (all items of one creditor
    stay together), so held-out families stay meaningful."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        members[it["family"]].append(i)
    small: dict[str, list[int]] = defaultdict(list)
    for fam, idx in members.items():
        if len(idx) < 5:
            small[fam.rsplit("-s", 1)[0] + "-misc"] += idx
    for fam, idx in small.items():
        for i in idx:
            items[i]["family"] = fam
    for fam, idx in members.items():
        if len(idx) <= cap:
            continue
        groups = -(-len(idx) // 20)
        for i in idx:
            g = zlib.crc32(creds[i].encode()) % groups
            items[i]["family"] = f"{fam}-c{g}"


def counts(items: list[dict]) -> Counter:
    return Counter(it["gold"]["stage"] for it in items)
