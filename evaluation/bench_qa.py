"""QA scorer benchmark on the corpus's held-out test split (transcripts only).

* Violations: call-level, per spec flag. A call's predicted violations are the spec
  flags among its scorecard's violations (agent turns only); gold is the item's
  ``flags``. Per-label precision/recall/F1, micro and macro F1, and "any violation"
  as a binary call-level F1. (The QA rules need call metadata that the corpus does not
  have, so they are not scored here; tests cover them.)
* Checks: accuracy of ``agent_identified``, ``debt_stated`` and
  ``lawful_payment_offered`` against ``evaluation/data/qa_checks.jsonl``, gold labelled
  by hand from the agent turns of test-split transcripts (read before the rules were run
  on them). ``debt_stated`` is also scored over every test transcript against a gold
  derived from the corpus annotations (an agent-turn amount whose role is a debt role).
* Sanity: violations or passed checks pointing at customer turns (must be 0).

Run: ``.venv/bin/python evaluation/bench_qa.py`` (writes ``evaluation/results/bench_qa.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from corpora.loader import load_split  # noqa: E402
from models.analyzer import Analyzer  # noqa: E402
from models.labels import CUSTOMER, FLAG_NAMES  # noqa: E402
from models.qa import Call, load_rubric, score_calls  # noqa: E402
from models.rules import CHECK_NAMES  # noqa: E402

CHECKS_GOLD = REPO / "evaluation" / "data" / "qa_checks.jsonl"
RESULTS = REPO / "evaluation" / "results" / "bench_qa.json"
_DEBT_ROLES = {"overdue_amount", "total_due", "minimum_payment", "settlement"}


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def violation_metrics(items: list[dict], cards: list) -> dict:
    per_label = {}
    for label in FLAG_NAMES:
        tp = fp = fn = 0
        for item, card in zip(items, cards, strict=True):
            gold = label in {f["label"] for f in item.get("flags") or []}
            pred = label in {v.label for v in card.violations}
            tp, fp, fn = tp + (gold and pred), fp + (pred and not gold), fn + (gold and not pred)
        per_label[label] = _prf(tp, fp, fn)
    micro = _prf(*(sum(m[k] for m in per_label.values()) for k in ("tp", "fp", "fn")))
    supported = [m for m in per_label.values() if m["tp"] + m["fn"] > 0]
    macro = round(sum(m["f1"] for m in supported) / len(supported), 4) if supported else 0.0
    tp = fp = fn = 0
    for item, card in zip(items, cards, strict=True):
        gold = bool(item.get("flags"))
        pred = any(v.label in FLAG_NAMES for v in card.violations)
        tp, fp, fn = tp + (gold and pred), fp + (pred and not gold), fn + (gold and not pred)
    return {"per_label": per_label, "micro": micro, "macro_f1": macro, "any_violation": _prf(tp, fp, fn)}


def _accuracy(pairs: list[tuple[bool, bool]]) -> dict:
    n = len(pairs)
    tp = sum(g and p for g, p in pairs)
    tn = sum(not g and not p for g, p in pairs)
    fp = sum(p and not g for g, p in pairs)
    fn = sum(g and not p for g, p in pairs)
    return {"accuracy": round((tp + tn) / n, 4) if n else 0.0, "n": n, "tp": tp, "tn": tn, "fp": fp, "fn": fn}


def check_metrics(items: list[dict], cards: list, gold_path: Path) -> tuple[dict, list[dict]]:
    by_id = {item["id"]: card for item, card in zip(items, cards, strict=True)}
    gold = [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    missing = [g["id"] for g in gold if g["id"] not in by_id]
    if missing:
        raise SystemExit(f"{gold_path}: ids not among the test-split transcripts: {', '.join(missing)}")
    out, errors = {}, []
    for name in CHECK_NAMES:
        pairs = [(g[name], getattr(by_id[g["id"]].checks, name).passed) for g in gold]
        out[name] = _accuracy(pairs)
        errors += [{"id": g["id"], "check": name, "gold": g[name]} for g, (gv, pv) in zip(gold, pairs, strict=True)
                   if gv != pv]
    return out, errors


def derived_debt_stated(items: list[dict], cards: list) -> dict:
    pairs = []
    for item, card in zip(items, cards, strict=True):
        agent = {i for i, t in enumerate(item["turns"]) if t["speaker"] == "agent"}
        gold = any(a.get("turn") in agent and a.get("role") in _DEBT_ROLES for a in item.get("amounts") or [])
        pairs.append((gold, card.checks.debt_stated.passed))
    return _accuracy(pairs)


def customer_turn_hits(items: list[dict], cards: list) -> int:
    hits = 0
    for item, card in zip(items, cards, strict=True):
        customer = {i for i, t in enumerate(item["turns"]) if t["speaker"] == CUSTOMER}
        hits += sum(v.turn in customer for v in card.violations if v.label in FLAG_NAMES)
        hits += sum(c.passed and c.turn in customer for _, c in card.checks)
    return hits


def run(model_dir: str | None = None, gold_path: Path = CHECKS_GOLD) -> dict:
    analyzer = Analyzer.load(model_dir)
    rubric = load_rubric()
    items = [i for i in load_split("test") if i.get("turns")]
    calls = [Call.model_validate({"id": i["id"], "turns": i["turns"], "reference_time": i.get("reference_time")})
             for i in items]
    start = time.perf_counter()
    cards = score_calls(analyzer, calls, rubric)
    seconds = time.perf_counter() - start
    checks, check_errors = check_metrics(items, cards, gold_path)
    by_source = {}
    for source in sorted({i.get("source", "?") for i in items}):
        idx = [k for k, i in enumerate(items) if i.get("source", "?") == source]
        by_source[source] = violation_metrics([items[k] for k in idx], [cards[k] for k in idx])["micro"]
    return {
        "model": {"name": analyzer.name, "version": analyzer.version},
        "rubric": rubric.name,
        "split": "test",
        "transcripts": len(items),
        "channels": {c: sum(i.get("channel") == c for i in items) for c in sorted({i.get("channel") for i in items})},
        "violations": violation_metrics(items, cards),
        "violations_micro_by_source": by_source,
        "checks_hand_labelled": {"file": str(gold_path.relative_to(REPO)), **checks},
        "check_errors": check_errors,
        "debt_stated_derived_from_corpus_amounts": derived_debt_stated(items, cards),
        "customer_turn_hits": customer_turn_hits(items, cards),
        "mean_score": round(sum(c.score for c in cards) / len(cards), 2),
        "ms_per_call": round(1000 * seconds / len(cards), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--gold", default=str(CHECKS_GOLD), help="hand-labelled checks (JSON Lines)")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    results = run(args.model, Path(args.gold).resolve())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    v = results["violations"]
    print(f"{results['transcripts']} test transcripts; violation micro F1 {v['micro']['f1']:.3f}, "
          f"macro F1 {v['macro_f1']:.3f}, any-violation F1 {v['any_violation']['f1']:.3f}", file=sys.stderr)
    for name in CHECK_NAMES:
        c = results["checks_hand_labelled"][name]
        print(f"  {name}: accuracy {c['accuracy']:.3f} on {c['n']} hand-labelled calls", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
