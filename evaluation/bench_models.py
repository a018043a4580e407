"""Accuracy and speed of the fast tier, the neural tier and the cascade, side by side.

For each model directory: the metrics of ``evaluation.metrics.evaluate_items`` on a corpus
split (held-out-family test by default), and the classifier's own speed on SMS-length
texts (plain texts of the split up to ``--sms-chars`` characters): texts per second in
calls of ``--batch-size`` texts (64, and 256, the batch CLI's default) and one at a time,
with every CPU thread available. The
cascade also reports the share of items it passed to the neural tier, over the split and
over the SMS-length texts. Writes
``evaluation/results/bench_models.json``.

    python evaluation/bench_models.py [--split test] [--model DIR ...]

Without ``--model`` it measures the shipped models (cuishou-fast, cuishou-neural,
cuishou-cascade) that exist.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

from corpora.loader import load_split
from evaluation.metrics import evaluate_items
from models.analyzer import ARTIFACTS_DIR, Analyzer, model_texts

RESULTS = Path(__file__).resolve().parent / "results" / "bench_models.json"
SHIPPED = ("cuishou-fast", "cuishou-neural", "cuishou-cascade")

log = logging.getLogger("bench_models")


def _speed(analyzer: Analyzer, texts: list[str], batch_sizes: list[int], min_seconds: float) -> dict:
    """Texts per second of the classifier alone (normalised input), batched and one by one."""
    pairs = [model_texts({"text": t}) for t in texts]
    classifier = analyzer.classifier
    classifier.predict([pairs[0][0]], [pairs[0][1]])  # warm-up: lazy caches, onnxruntime arenas

    def run(size: int) -> float:
        done, started = 0, time.perf_counter()
        while True:
            for i in range(0, len(pairs), size):
                chunk = pairs[i : i + size]
                classifier.predict([s for s, _ in chunk], [f for _, f in chunk])
                done += len(chunk)
                if time.perf_counter() - started >= min_seconds and done >= len(pairs):
                    return done / (time.perf_counter() - started)

    by_batch = {str(size): round(run(size), 1) for size in batch_sizes}
    return {"batched_texts_per_second": by_batch[str(batch_sizes[0])], "texts_per_second_by_batch": by_batch,
            "single_texts_per_second": round(run(1), 1)}


def bench(model_dir: Path, items: list[dict], sms: list[str], batch_sizes: list[int], min_seconds: float) -> dict:
    analyzer = Analyzer.load(model_dir)
    log.info("%s: evaluating on %d items", analyzer.name, len(items))
    metrics = evaluate_items(analyzer, items)
    row = {
        "model": {"name": analyzer.name, "version": analyzer.version, "kind": analyzer.manifest["kind"],
                  "dir": str(model_dir)},
        "stage_macro_f1": metrics["stage"]["macro_f1"],
        "stage_accuracy": metrics["stage"]["accuracy"],
        "flags_micro_f1": metrics["flags"]["micro_f1"],
        "flags_macro_f1": metrics["flags"]["macro_f1"],
        "false_flag_rate": metrics["flags"]["false_flag_rate"],
        "evidence": metrics["evidence"],
        "pipeline_texts_per_second": metrics["texts_per_second"],
        "per_label": {**metrics["stage"]["per_label"], **metrics["flags"]["per_label"]},
    }
    log.info("%s: speed on %d SMS-length texts", analyzer.name, len(sms))
    row["sms_speed"] = _speed(analyzer, sms, batch_sizes, min_seconds)
    cascade = analyzer.classifier
    if hasattr(cascade, "is_sure"):
        pairs = [model_texts({"text": i["text"]} if "text" in i else {"turns": i["turns"]}) for i in items]
        preds = cascade.fast.predict([s for s, _ in pairs], [f for _, f in pairs])
        sure = [cascade.is_sure(p, s != f) for p, (s, f) in zip(preds, pairs, strict=True)]
        row["neural_share"] = round(1 - sum(sure) / len(sure), 4)
        # The same on the SMS-length texts the speed is measured on: what the speed depends on.
        sms_texts = [model_texts({"text": t})[0] for t in sms]
        sms_preds = cascade.fast.predict(sms_texts, sms_texts)
        row["sms_neural_share"] = round(1 - sum(cascade.is_sure(p) for p in sms_preds) / max(1, len(sms)), 4)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=["train", "dev", "test"])
    parser.add_argument("--model", action="append", type=Path, help="Model directory (repeatable).")
    parser.add_argument("--sms-chars", type=int, default=160, help="Longest text counted as SMS-length.")
    parser.add_argument("--batch-size", type=int, action="append", dest="batch_sizes",
                        help="Texts per call (repeatable; default 64 and 256, the batch CLI's own size).")
    parser.add_argument("--min-seconds", type=float, default=5.0, help="Least time per speed measurement.")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    dirs = args.model or [ARTIFACTS_DIR / n for n in SHIPPED if (ARTIFACTS_DIR / n / "manifest.json").exists()]
    items = load_split(args.split)
    if not items:
        raise SystemExit(f"the corpus split {args.split!r} is empty; run `cuishou corpus build` first")
    sms = [i["text"] for i in items if "text" in i and len(i["text"]) <= args.sms_chars]
    args.batch_sizes = args.batch_sizes or [64, 256]
    rows = [bench(d, items, sms, args.batch_sizes, args.min_seconds) for d in dirs]
    report = {
        "split": args.split,
        "items": len(items),
        "sms_texts": len(sms),
        "sms_mean_chars": round(sum(map(len, sms)) / len(sms), 1) if sms else None,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "model"},
        "models": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for row in rows:
        speed = row["sms_speed"]
        extra = (f"  neural share {row['neural_share']:.1%} (SMS {row['sms_neural_share']:.1%})"
                 if "neural_share" in row else "")
        print(f"{row['model']['name']:<18} stage macro-F1 {row['stage_macro_f1']:.4f}  flags micro-F1 "
              f"{row['flags_micro_f1']:.4f}  false-flag {row['false_flag_rate']:.4f}  "
              "SMS " + ", ".join(f"{v:.0f}/s in calls of {k}" for k, v in speed["texts_per_second_by_batch"].items())
              + f", {speed['single_texts_per_second']:.0f}/s single"
              f"{extra}", file=sys.stderr)
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
