"""Tiny raw corpus items made in code, so the pipeline tests need no real data.

Label strings come from models.labels (never spelled out here), and every item
carries a run of random characters so that unrelated fixture items are never
near-duplicates of one another by accident.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from models.labels import AGENT, AMOUNT_ROLE_NAMES, CUSTOMER, DEADLINE_KINDS, FLAG_NAMES, STAGE_NAMES

OVERDUE_AMOUNT = AMOUNT_ROLE_NAMES[0]  # "overdue_amount"
RELATIVE = DEADLINE_KINDS[1]
ABSOLUTE = DEADLINE_KINDS[0]
CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]


def filler(rng: random.Random, n: int = 40) -> str:
    return "".join(rng.choice(CJK) for _ in range(n))


def text_item(
    item_id: str,
    family: str,
    stage: str = STAGE_NAMES[2],
    flags: tuple[str, ...] = (),
    rng: random.Random | None = None,
    source: str = "hand",
) -> dict[str, Any]:
    """An SMS with one amount (¥ with separators), one relative deadline and flag evidence."""
    rng = rng or random.Random(item_id)
    amount = rng.randint(1000, 99999)
    evidence = {f: f"证据{i}{filler(rng, 6)}" for i, f in enumerate(flags)}
    text = f"{filler(rng)}。您已逾期{rng.randint(2, 90)}天，欠款{amount:,}元，请于3日内还款。" + "".join(
        f"{e}。" for e in evidence.values()
    )
    return {
        "id": item_id,
        "text": text,
        "reference_time": "2026-05-14T15:20:00",
        "channel": "sms",
        "family": family,
        "source": source,
        "gold": {
            "stage": stage,
            "flags": list(flags),
            "flag_quotes": {f: [q] for f, q in evidence.items()},
            "amounts": [{"quote": f"{amount:,}元", "value": amount, "role": OVERDUE_AMOUNT}],
            "deadlines": [{"quote": "3日内", "value": "2026-05-17T23:59:59", "kind": RELATIVE}],
            "overdue_days": None,
        },
    }


def call_item(item_id: str = "call-1", family: str = "fam-call") -> dict[str, Any]:
    """A transcript: the flag words are said first by the customer, then by the agent."""
    return {
        "id": item_id,
        "turns": [
            {"speaker": AGENT, "text": "您好，这里是华商银行，您的欠款5,412元已逾期。"},
            {"speaker": CUSTOMER, "text": "上次有人说要联系你家人，是你们吗？我只能先还3000。"},
            {"speaker": AGENT, "text": "对，不还就联系你家人，今天之内还清，联系你家人也没用。"},
        ],
        "reference_time": "2026-10-14T15:45:00",
        "channel": "call",
        "family": family,
        "source": "hand",
        "gold": {
            "stage": STAGE_NAMES[2],
            "flags": [FLAG_NAMES[2]],
            "flag_quotes": {FLAG_NAMES[2]: ["联系你家人"]},
            "amounts": [
                {"quote": "3000", "value": 3000, "role": AMOUNT_ROLE_NAMES[-1]},
                {"quote": "5,412元", "value": 5412, "role": OVERDUE_AMOUNT},
            ],
            "deadlines": [{"quote": "今天之内", "value": "2026-10-14T23:59:59", "kind": RELATIVE}],
            "overdue_days": None,
        },
    }


def write_jsonl(path: Path, items: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for it in items:
            fh.write((it if isinstance(it, str) else json.dumps(it, ensure_ascii=False)) + "\n")
    return path


def small_corpus(n_families: int = 24, per_family: int = 3) -> list[dict[str, Any]]:
    """Families cycling through every stage; each flag appears in at least three families."""
    items = []
    for f in range(n_families):
        stage = STAGE_NAMES[f % len(STAGE_NAMES)]
        flags = (FLAG_NAMES[f % len(FLAG_NAMES)],) if f % 2 == 0 or f >= 14 else ()
        for k in range(per_family):
            items.append(text_item(f"fx-{f:02d}-{k}", f"fam-{f:02d}", stage, flags))
    return items
