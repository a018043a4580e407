"""Every shipped model on the blind set: texts written for evaluation only, never trained on.

``corpora/blind/*.jsonl`` holds raw items (``corpora/FORMAT.md``) written in voices and
situations the training corpus does not have; ``cuishou corpus build`` never reads them.
Each item is resolved like a corpus item, then every model is scored with
``evaluation.metrics.evaluate_items``, overall and per blind file. The report also gives
each blind item's closest training text (character 5-gram Jaccard), so that a reader can
see how far the set lies from what the models were trained on. Writes
``evaluation/results/bench_blind.json``.

    python evaluation/bench_blind.py [--model DIR ...]
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from corpora.build import NearDupIndex, shingles
from corpora.loader import load_split
from corpora.resolve import ResolveError, item_text, resolve_item
from evaluation.metrics import evaluate_items
from models.analyzer import ARTIFACTS_DIR, Analyzer

BLIND_DIR = Path(__file__).resolve().parents[1] / "corpora" / "blind"
RESULTS = Path(__file__).resolve().parent / "results" / "bench_blind.json"
SHIPPED = ("cuishou-fast", "cuishou-neural", "cuishou-cascade")
_CLOSE = 0.5  # Jaccard at which a blind text counts as close to a training text

log = logging.getLogger("bench_blind")


def load_blind(directory: Path = BLIND_DIR) -> list[dict]:
    """Resolved blind items, each with its ``file``; unresolvable lines are logged and skipped."""
    items = []
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = resolve_item(json.loads(line))
            except (json.JSONDecodeError, ResolveError) as exc:
                log.warning("%s:%d skipped: %s", path.name, number, exc)
                continue
            item["file"] = path.name
            items.append(item)
    return items


def closeness(items: list[dict], train: list[dict]) -> list[float]:
    """Per blind item, the highest Jaccard with a training text at or above ``_CLOSE`` (else 0)."""
    index = NearDupIndex()
    for it in train:
        index.add(it["id"], shingles(item_text(it)))
    out = []
    for it in items:
        hits = index.query(shingles(item_text(it)), threshold=_CLOSE)
        out.append(round(hits[0][1], 3) if hits else 0.0)
    return out


def _summary(metrics: dict) -> dict:
    return {"items": metrics["items"], "stage_macro_f1": metrics["stage"]["macro_f1"],
            "stage_accuracy": metrics["stage"]["accuracy"], "flags_micro_f1": metrics["flags"]["micro_f1"],
            "false_flag_rate": metrics["flags"]["false_flag_rate"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, help="Model directory (repeatable).")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    items = load_blind()
    if not items:
        raise SystemExit(f"no blind items under {BLIND_DIR}")
    close = closeness(items, load_split("train"))
    report = {"items": len(items), "files": sorted({it["file"] for it in items}),
              "close_to_training": sum(c > 0 for c in close), "close_threshold": _CLOSE, "models": {}}
    for model_dir in args.model or [ARTIFACTS_DIR / n for n in SHIPPED if (ARTIFACTS_DIR / n).is_dir()]:
        analyzer = Analyzer.load(model_dir)
        row = {"all": evaluate_items(analyzer, items)}
        for name in report["files"]:
            row[name] = _summary(evaluate_items(analyzer, [it for it in items if it["file"] == name]))
        report["models"][analyzer.name] = row
        overall = _summary(row["all"])
        print(f"{analyzer.name:18} stage macro-F1 {overall['stage_macro_f1']:.3f} (acc {overall['stage_accuracy']:.3f})"
              f"  flags micro-F1 {overall['flags_micro_f1']:.3f}  false-flag {overall['false_flag_rate']:.3f}")
        for name in report["files"]:
            s = row[name]
            print(f"    {name:22} n={s['items']:3}  stage acc {s['stage_accuracy']:.3f}  flags F1 {s['flags_micro_f1']:.3f}"
                  f"  false-flag {s['false_flag_rate']:.3f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{report['close_to_training']} of {len(items)} blind texts have a training text at Jaccard >= {_CLOSE}")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
