"""Counts and template-ness of a generated batch (top-k sentence coverage)."""

from __future__ import annotations

import re
from collections import Counter

_SPLIT = re.compile(r"[。！？!?\n；]")


def sentences(item: dict) -> list[str]:
    texts = [item["text"]] if "text" in item else [t["text"] for t in item["turns"]]
    out = []
    for t in texts:
        out += [s.strip() for s in _SPLIT.split(t) if s.strip()]
    return out


def top_coverage(items: list[dict], k: int = 50) -> tuple[float, list[tuple[str, int]]]:
    c: Counter = Counter()
    for it in items:
        c.update(sentences(it))
    total = sum(c.values())
    top = c.most_common(k)
    return (sum(n for _, n in top) / total if total else 0.0), top


def report(items: list[dict]) -> str:
    stage = Counter(it["gold"]["stage"] for it in items)
    flags = Counter(f for it in items for f in it["gold"]["flags"])
    chan = Counter(it["channel"] for it in items)
    fams = Counter(it["family"] for it in items)
    multi = sum(1 for it in items if len(it["gold"]["flags"]) > 1)
    hard = sum(1 for it in items if it.get("note", "").startswith("hard negative"))
    lens = [len(it["text"]) if "text" in it else sum(len(t["text"]) for t in it["turns"]) for it in items]
    cov, top = top_coverage(items)
    lines = [
        f"items {len(items)}  families {len(fams)} (size {min(fams.values())}-{max(fams.values())})",
        "stages   " + ", ".join(f"{k} {v}" for k, v in sorted(stage.items())),
        "flags    " + ", ".join(f"{k} {v}" for k, v in sorted(flags.items())) + f"  (multi-flag items {multi})",
        "channels " + ", ".join(f"{k} {v}" for k, v in sorted(chan.items())),
        f"hard negatives {hard}  length {min(lens)}-{max(lens)}",
        f"amounts {sum(len(it['gold']['amounts']) for it in items)}  deadlines {sum(len(it['gold']['deadlines']) for it in items)}"
        f"  overdue_days {sum(1 for it in items if it['gold']['overdue_days'] is not None)}",
        f"top-50 sentence coverage {cov:.2%}",
    ]
    lines += [f"  {n:5d}  {s[:60]}" for s, n in top[:15]]
    return "\n".join(lines)
