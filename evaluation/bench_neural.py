"""The neural tier's encoder settings, measured: batch size, one onnxruntime fusion, and how
much a text's answer depends on the texts batched beside it.

1. Encoder speed (windows per second, onnxruntime alone) on the windows of the split's
   plain texts of at most ``--sms-chars`` characters, length-sorted, in batches of 1, 8
   and 32 windows, each with onnxruntime's SkipLayerNormalization fusion left out (as
   ``models/neural.py`` runs it) and, at the model's own batch size, with it left in.
   Then the classifier's own speed on those texts in calls of ``--batch-size`` texts, with
   the model's windows per run and with 32: windows are sorted within a call only, so
   large batches of them carry padding.
2. Batch effect: the whole split predicted in calls of ``--batch-size`` texts and one text
   at a time; how many items' raised flags or stage differ, the largest probability
   difference, and the metrics each way. The int8 encoder quantises activations with one
   scale per call, so some difference is expected.

Writes ``evaluation/results/bench_neural.json``.

    python evaluation/bench_neural.py [--model models/artifacts/cuishou-neural] [--split test]
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

import numpy as np

from corpora.loader import load_split
from models.analyzer import ARTIFACTS_DIR, Analyzer, model_texts
from models.neural import DISABLED_OPTIMIZERS, ENCODER_FILE, OnnxEncoder, length_batches, pad_batch

RESULTS = Path(__file__).resolve().parent / "results" / "bench_neural.json"

log = logging.getLogger("bench_neural")


def _texts(item: dict) -> tuple[str, str]:
    return model_texts({"text": item["text"]} if "text" in item else {"turns": item["turns"]})


def encoder_speed(model_dir: Path, windows: list[np.ndarray], pad_id: int, sizes: list[int],
                  default_size: int, min_seconds: float) -> list[dict]:
    """Windows per second for each batch size (and the fusion on and off at the default)."""
    rows = []
    plans = [(size, True) for size in sizes] + [(default_size, False)]
    for size, without_fusion in plans:
        encoder = OnnxEncoder(model_dir / ENCODER_FILE)
        if not without_fusion:  # the same session options with onnxruntime's full set of fusions
            import onnxruntime as ort

            options = encoder.session.get_session_options()
            encoder.session = ort.InferenceSession(str(model_dir / ENCODER_FILE), options,
                                                   providers=["CPUExecutionProvider"])
        batches = [pad_batch([windows[i] for i in b], pad_id) for b in length_batches([len(w) for w in windows], size)]
        encoder(*batches[0])  # warm-up
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < min_seconds or not done:
            for ids, mask in batches:
                encoder(ids, mask)
            done += len(windows)
        rate = done / (time.perf_counter() - started)
        rows.append({"windows_per_run": size, "skip_layer_norm_fusion": not without_fusion,
                     "windows_per_second": round(rate, 1)})
        log.info("%s", rows[-1])
        del encoder
    return rows


def classifier_speed(classifier, texts: list[str], texts_per_call: int, sizes: list[int],
                     min_seconds: float) -> list[dict]:
    """Texts per second of ``classifier.predict`` in calls of ``texts_per_call`` texts, for
    each number of windows per onnxruntime call (windows are sorted within a call only)."""
    rows = []
    configured = classifier.windows_per_run
    try:
        for size in sizes:
            classifier.windows_per_run = size
            classifier.predict(texts[:texts_per_call], texts[:texts_per_call])  # warm-up
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < min_seconds or not done:
                for i in range(0, len(texts), texts_per_call):
                    chunk = texts[i : i + texts_per_call]
                    classifier.predict(chunk, chunk)
                done += len(texts)
            rows.append({"windows_per_run": size, "texts_per_call": texts_per_call,
                         "texts_per_second": round(done / (time.perf_counter() - started), 1)})
            log.info("%s", rows[-1])
    finally:
        classifier.windows_per_run = configured
    return rows


def batch_effect(analyzer: Analyzer, model_dir: Path, items: list[dict], batch_size: int) -> dict:
    """Differences between predicting in calls of ``batch_size`` texts and one at a time."""
    from evaluation.metrics import evaluate_items

    pairs = [_texts(i) for i in items]
    stage_texts, flag_texts = [s for s, _ in pairs], [f for _, f in pairs]
    classifier = analyzer.classifier
    batched, alone = [], []
    for start in range(0, len(pairs), batch_size):
        batched += classifier.predict(stage_texts[start : start + batch_size], flag_texts[start : start + batch_size])
    for s, f in zip(stage_texts, flag_texts, strict=True):
        alone += classifier.predict([s], [f])
    flag_diff = np.array([np.abs(a.flags - b.flags).max() for a, b in zip(batched, alone, strict=True)])
    stage_diff = np.array([np.abs(a.stage - b.stage).max() for a, b in zip(batched, alone, strict=True)])
    effect = {
        "items": len(items),
        "batch_size": batch_size,
        "items_with_other_flags": sum(set(a.raised) != set(b.raised) for a, b in zip(batched, alone, strict=True)),
        "items_with_other_stage": int(sum(a.stage.argmax() != b.stage.argmax() for a, b in zip(batched, alone,
                                                                                              strict=True))),
        "flag_probability_difference": {"max": round(float(flag_diff.max()), 4),
                                        "p99": round(float(np.percentile(flag_diff, 99)), 4),
                                        "median": round(float(np.median(flag_diff)), 6)},
        "stage_probability_difference_max": round(float(stage_diff.max()), 4),
    }
    # The metrics each way: does reading texts alone change accuracy, or only single answers?
    previous = os.environ.get("CUISHOU_NEURAL_WINDOWS_PER_RUN")
    batched_metrics = evaluate_items(analyzer, items)
    effect["batched"] = {"stage_macro_f1": batched_metrics["stage"]["macro_f1"],
                         "flags_micro_f1": batched_metrics["flags"]["micro_f1"]}
    os.environ["CUISHOU_NEURAL_WINDOWS_PER_RUN"] = "1"
    try:
        alone_metrics = evaluate_items(Analyzer.load(model_dir), items)
    finally:
        if previous is None:
            os.environ.pop("CUISHOU_NEURAL_WINDOWS_PER_RUN", None)
        else:
            os.environ["CUISHOU_NEURAL_WINDOWS_PER_RUN"] = previous
    effect["windows_alone"] = {"stage_macro_f1": alone_metrics["stage"]["macro_f1"],
                               "flags_micro_f1": alone_metrics["flags"]["micro_f1"]}
    return effect


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ARTIFACTS_DIR / "cuishou-neural")
    parser.add_argument("--split", default="test", choices=["train", "dev", "test"])
    parser.add_argument("--sms-chars", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=64, help="Texts per call in the batch-effect test.")
    parser.add_argument("--min-seconds", type=float, default=3.0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    items = load_split(args.split)
    if not items:
        raise SystemExit(f"the corpus split {args.split!r} is empty; run `cuishou corpus build` first")
    analyzer = Analyzer.load(args.model)
    classifier = analyzer.classifier
    if not hasattr(classifier, "windower"):
        raise SystemExit(f"{args.model} is not a neural model")
    sms = [_texts(i)[0] for i in items if "text" in i and len(i["text"]) <= args.sms_chars]
    windows = [w.ids for w in classifier.windower.windows(sms)]
    default_size = classifier.settings.windows_per_run
    report = {
        "model": {"name": analyzer.name, "version": analyzer.version, "dir": str(args.model)},
        "split": args.split,
        "sms_texts": len(sms),
        "windows": len(windows),
        "disabled_optimizers": list(DISABLED_OPTIMIZERS),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "encoder_speed": encoder_speed(Path(args.model), windows, classifier.settings.pad_id,
                                       sorted({1, default_size, 32}), default_size, args.min_seconds),
        "classifier_speed": classifier_speed(classifier, sms, args.batch_size, sorted({default_size, 32}),
                                             args.min_seconds),
        "batch_effect": batch_effect(analyzer, Path(args.model), items, args.batch_size),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for row in report["encoder_speed"]:
        print(f"windows/run {row['windows_per_run']:>3}  SkipLayerNorm fusion {'on ' if row['skip_layer_norm_fusion'] else 'off'}"
              f"  {row['windows_per_second']:.0f} windows/s", file=sys.stderr)
    for row in report["classifier_speed"]:
        print(f"predict, {row['texts_per_call']} texts per call, {row['windows_per_run']} windows per run: "
              f"{row['texts_per_second']:.0f} texts/s", file=sys.stderr)
    effect = report["batch_effect"]
    print(f"batch effect on {effect['items']} items: other flags {effect['items_with_other_flags']}, other stage "
          f"{effect['items_with_other_stage']}; batched {effect['batched']}, alone {effect['windows_alone']}",
          file=sys.stderr)
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
