"""Accuracy of an Analyzer on built corpus items (the format of ``corpora/data/*.jsonl``)."""

from __future__ import annotations

import time
from collections import Counter

from models.labels import FLAG_NAMES, STAGE_NAMES


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": tp + fn}


def _request(item: dict) -> dict:
    req = {"id": item.get("id"), "reference_time": item.get("reference_time")}
    if "turns" in item:
        req["turns"] = item["turns"]
    else:
        req["text"] = item["text"]
    return req


def stage_metrics(gold: list[str], pred: list[str]) -> dict:
    per = {}
    for label in STAGE_NAMES:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        per[label] = _prf(tp, fp, fn)
    present = [lab for lab in STAGE_NAMES if per[lab]["support"]]
    macro = sum(per[lab]["f1"] for lab in present) / len(present) if present else 0.0
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold) if gold else 0.0
    return {"accuracy": round(accuracy, 4), "macro_f1": round(macro, 4), "per_label": per}


def flag_metrics(gold: list[set[str]], pred: list[set[str]]) -> dict:
    per, totals = {}, Counter()
    for label in FLAG_NAMES:
        tp = sum(label in g and label in p for g, p in zip(gold, pred, strict=True))
        fp = sum(label not in g and label in p for g, p in zip(gold, pred, strict=True))
        fn = sum(label in g and label not in p for g, p in zip(gold, pred, strict=True))
        per[label] = _prf(tp, fp, fn)
        totals.update(tp=tp, fp=fp, fn=fn)
    clean = [p for g, p in zip(gold, pred, strict=True) if not g]
    false_flag_rate = sum(bool(p) for p in clean) / len(clean) if clean else 0.0
    micro = _prf(totals["tp"], totals["fp"], totals["fn"])
    present = [lab for lab in FLAG_NAMES if per[lab]["support"]]
    macro = sum(per[lab]["f1"] for lab in present) / len(present) if present else 0.0
    return {
        "micro_f1": micro["f1"],
        "micro_precision": micro["precision"],
        "micro_recall": micro["recall"],
        "macro_f1": round(macro, 4),
        "false_flag_rate": round(false_flag_rate, 4),
        "no_flag_items": len(clean),
        "per_label": per,
    }


def _extraction_prf(gold_items: list[list[tuple]], pred_items: list[list[tuple]]) -> dict:
    tp = fp = fn = 0
    for gold, pred in zip(gold_items, pred_items, strict=True):
        remaining = Counter(gold)
        for key in pred:
            if remaining[key] > 0:
                remaining[key] -= 1
                tp += 1
            else:
                fp += 1
        fn += sum(remaining.values())
    return _prf(tp, fp, fn)


def _chars(spans) -> set[tuple]:
    """(turn, offset) of every character the spans cover."""
    return {(turn, i) for turn, start, end in spans for i in range(start, end)}


def evidence_metrics(gold: list[dict[str, list[tuple]]], pred: list[dict[str, list[tuple]]]) -> dict:
    """How well the evidence of correctly raised flags matches the gold evidence.

    Per item, ``{flag: [(turn, start, end), ...]}``. Only flags both raised and gold count
    (a wrong flag is already a flag error). ``hit_rate``: share of those flags with a
    predicted span overlapping a gold span; ``char_precision`` / ``char_recall``: over
    all their characters.
    """
    flags = hits = shared = n_pred = n_gold = 0
    for g, p in zip(gold, pred, strict=True):
        for label in set(g) & set(p):
            gold_chars, pred_chars = _chars(g[label]), _chars(p[label])
            flags += 1
            hits += bool(gold_chars & pred_chars)
            shared += len(gold_chars & pred_chars)
            n_pred, n_gold = n_pred + len(pred_chars), n_gold + len(gold_chars)
    return {
        "flags": flags,
        "hit_rate": round(hits / flags, 4) if flags else 0.0,
        "char_precision": round(shared / n_pred, 4) if n_pred else 0.0,
        "char_recall": round(shared / n_gold, 4) if n_gold else 0.0,
    }


def evaluate_items(analyzer, items: list[dict], batch_size: int = 256) -> dict:
    """Stage, flag and extraction metrics of ``analyzer`` on ``items``, plus throughput."""
    results = []
    started = time.perf_counter()
    for i in range(0, len(items), batch_size):
        results += analyzer.analyze_batch([_request(it) for it in items[i : i + batch_size]])
    seconds = time.perf_counter() - started
    gold_stage = [it["stage"] for it in items]
    pred_stage = [r.stage.label for r in results]
    gold_flags = [{f["label"] for f in it.get("flags", [])} for it in items]
    pred_flags = [{f.label for f in r.flags} for r in results]
    # An amount counts when turn, start and value agree; a deadline when turn and value agree.
    gold_amounts = [[(a.get("turn"), a["start"], round(a["value"], 2)) for a in it.get("amounts", [])] for it in items]
    pred_amounts = [[(a.turn, a.start, round(a.value, 2)) for a in r.amounts] for r in results]
    gold_deadlines = [[(d.get("turn"), d["value"]) for d in it.get("deadlines", [])] for it in items]
    pred_deadlines = [[(d.turn, d.value) for d in r.deadlines] for r in results]
    overdue_ok = sum(it.get("overdue_days") == r.overdue_days for it, r in zip(items, results, strict=True))
    gold_evidence = [{f["label"]: [(e.get("turn"), e["start"], e["end"]) for e in f.get("evidence", [])]
                      for f in it.get("flags", [])} for it in items]
    pred_evidence = [{f.label: [(e.turn, e.start, e.end) for e in f.evidence] for f in r.flags} for r in results]
    return {
        "items": len(items),
        "stage": stage_metrics(gold_stage, pred_stage),
        "flags": flag_metrics(gold_flags, pred_flags),
        "evidence": evidence_metrics(gold_evidence, pred_evidence),
        "amounts": _extraction_prf(gold_amounts, pred_amounts),
        "deadlines": _extraction_prf(gold_deadlines, pred_deadlines),
        "overdue_days_accuracy": round(overdue_ok / len(items), 4) if items else 0.0,
        "texts_per_second": round(len(items) / seconds, 1) if seconds > 0 else None,
    }
