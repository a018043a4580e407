"""Descriptive statistics of the built corpus, for the datasheet and for sanity.

Two numbers guard against a corpus that looks big but is not: the near-duplicate
rate across splits (share of dev+test items with a near twin in train: should be 0
after the build) and ``top50_sentence_coverage`` (how much of all text is the same
50 boilerplate sentences: a templated corpus scores high).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from corpora.build import NEAR_DUP_THRESHOLD, NearDupIndex, shingles
from corpora.loader import SPLIT_NAMES
from corpora.resolve import item_text
from models.labels import FLAG_NAMES, STAGE_NAMES

# Upper bounds (characters, exclusive) of the length histogram bins.
LENGTH_BINS: tuple[int, ...] = (50, 100, 200, 400, 800)
SENTENCE_SPLIT = re.compile(r"[。！？!?；\n]")


def _length_bin(n: int) -> str:
    lo = 0
    for hi in LENGTH_BINS:
        if n < hi:
            return f"{lo}-{hi - 1}"
        lo = hi
    return f"{lo}+"


def length_histogram(items: list[dict[str, Any]]) -> dict[str, int]:
    labels = [_length_bin(lo) for lo in (0, *LENGTH_BINS)]
    counts = Counter(_length_bin(len(item_text(it))) for it in items)
    return {lab: counts.get(lab, 0) for lab in labels}


def sentences(item: dict[str, Any]) -> list[str]:
    parts = SENTENCE_SPLIT.split(item_text(item))
    return [p.strip() for p in parts if p.strip()]


def top_sentence_coverage(items: list[dict[str, Any]], top: int = 50) -> float:
    """Share of all sentences that are one of the ``top`` most frequent distinct ones."""
    counts = Counter(s for it in items for s in sentences(it))
    total = sum(counts.values())
    if not total:
        return 0.0
    # ties broken by the sentence itself so the number is deterministic
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return sum(c for _, c in ranked) / total


def near_duplicate_rate(
    splits: dict[str, list[dict[str, Any]]], threshold: float = NEAR_DUP_THRESHOLD
) -> float:
    """Share of dev+test items with a near-duplicate (Jaccard >= threshold) in train."""
    index = NearDupIndex()
    for it in splits.get("train", []):
        index.add(it["id"], shingles(item_text(it)))
    held_out = [it for name in ("dev", "test") for it in splits.get(name, [])]
    if not held_out:
        return 0.0
    hits = sum(1 for it in held_out if index.query(shingles(item_text(it)), threshold))
    return hits / len(held_out)


def _breakdown(items: list[dict[str, Any]]) -> dict[str, Any]:
    stage = Counter(it["stage"] for it in items)
    flag = Counter(f["label"] for it in items for f in it["flags"])
    return {
        "items": len(items),
        "families": len({it["family"] for it in items}),
        "transcripts": sum(1 for it in items if "turns" in it),
        "hand_written": sum(1 for it in items if it.get("source") == "hand"),
        "with_flags": sum(1 for it in items if it["flags"]),
        "amounts": sum(len(it["amounts"]) for it in items),
        "deadlines": sum(len(it["deadlines"]) for it in items),
        "per_stage": {s: stage.get(s, 0) for s in STAGE_NAMES},
        "per_flag": {f: flag.get(f, 0) for f in FLAG_NAMES},
        "per_channel": dict(sorted(Counter(it["channel"] for it in items).items())),
        "per_source": dict(sorted(Counter(it["source"] for it in items).items())),
    }


def compute_stats(splits: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """All statistics; top-level keys are over the whole corpus, ``per_split`` by split."""
    everything = [it for name in SPLIT_NAMES for it in splits.get(name, [])]
    stats = _breakdown(everything)
    stats["per_split"] = {name: _breakdown(splits.get(name, [])) for name in SPLIT_NAMES}
    stats["length_histogram"] = length_histogram(everything)
    stats["near_duplicate_rate"] = round(near_duplicate_rate(splits), 4)
    stats["top50_sentence_coverage"] = round(top_sentence_coverage(everything), 4)
    return stats


def _table(title: str, rows: list[str], stats: dict[str, Any], key: str) -> list[str]:
    header = f"{title:<22}" + "".join(f"{n:>8}" for n in (*SPLIT_NAMES, "all"))
    lines = [header, "-" * len(header)]
    for r in rows:
        vals = [stats["per_split"][n][key].get(r, 0) for n in SPLIT_NAMES] + [stats[key].get(r, 0)]
        lines.append(f"{r:<22}" + "".join(f"{v:>8}" for v in vals))
    return lines + [""]


def format_table(stats: dict[str, Any]) -> str:
    """Human-readable tables: labels by split, then the corpus-level numbers."""
    lines = []
    totals = ("items", "families", "transcripts", "hand_written", "with_flags", "amounts", "deadlines")
    header = f"{'':<22}" + "".join(f"{n:>8}" for n in (*SPLIT_NAMES, "all"))
    lines += [header, "-" * len(header)]
    for k in totals:
        vals = [stats["per_split"][n][k] for n in SPLIT_NAMES] + [stats[k]]
        lines.append(f"{k:<22}" + "".join(f"{v:>8}" for v in vals))
    lines.append("")
    lines += _table("stage", list(STAGE_NAMES), stats, "per_stage")
    lines += _table("flag", list(FLAG_NAMES), stats, "per_flag")
    lines += _table("channel", sorted(stats["per_channel"]), stats, "per_channel")
    lines += _table("source", sorted(stats["per_source"]), stats, "per_source")
    lines.append("length (chars)  " + "  ".join(f"{k}: {v}" for k, v in stats["length_histogram"].items()))
    lines.append(
        f"near_duplicate_rate     {stats['near_duplicate_rate']:.4f}  (dev+test items with a twin in train)"
    )
    lines.append(f"top50_sentence_coverage {stats['top50_sentence_coverage']:.4f}")
    return "\n".join(lines)
