"""Fit the fast tier (char n-gram linear models) from the corpus and save its artifact.

After fitting on train, the stage temperature and the flags' Platt scaling are fitted on
dev (``calibrate``), and the flag thresholds are then chosen on dev's calibrated
probabilities. Expected calibration error before and after goes into the metrics.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.analyzer import Analyzer, model_texts
from models.artifact import build_manifest, save_artifact
from models.fast import FastClassifier, FeatureOptions, expected_calibration_error
from models.labels import FLAG_NAMES, STAGE_NAMES

from .card import write_card

log = logging.getLogger(__name__)

_THRESHOLD_GRID = np.round(np.arange(0.2, 0.91, 0.05), 2)
_FINE_GRID = np.round(np.arange(0.02, 0.981, 0.02), 2)
_MIN_THRESHOLD = 0.15  # a flag that dev barely supports must not be raised on everything


@dataclass
class FastConfig:
    name: str = "cuishou-fast"
    version: str = "0.1.0"
    seed: int = 0
    ngram_min: int = 1
    ngram_max: int = 3
    min_df: int = 3
    max_features: int = 100_000
    c_stage: float = 5.0
    c_flag: float = 5.0
    # Calibration on dev (temperature for stage, Platt per flag); thresholds then on
    # the calibrated probabilities.
    calibrate: bool = True
    # "half_best_f1" (calibrated probabilities) or "best_f1" (the grid peak on dev).
    threshold_rule: str = "half_best_f1"
    # Scope marks: n-grams inside quotes / a negation's scope become separate features,
    # plus one feature for texts that report on collection (complaints, news).
    mark_negation: bool = False
    mark_quotes: bool = False
    quote_min_chars: int = 6
    frame_feature: bool = False
    # jieba word n-grams beside the char n-grams.
    words: bool = False
    word_ngram_max: int = 2
    word_min_df: int = 2
    word_max_features: int = 50_000
    output: str = "models/artifacts/cuishou-fast"
    extra: dict = field(default_factory=dict)

    def feature_options(self) -> FeatureOptions:
        return FeatureOptions(
            negation=self.mark_negation, quotes=self.mark_quotes, quote_min_chars=self.quote_min_chars,
            frame=self.frame_feature, words=self.words, word_ngram_max=self.word_ngram_max,
        )


def _texts_and_labels(items: list[dict]) -> tuple[list[str], list[str], list[str], list[set[str]]]:
    stage_texts, flag_texts, stages, flag_sets = [], [], [], []
    for item in items:
        request = {"text": item["text"]} if "text" in item else {"turns": item["turns"]}
        stage_text, flag_text = model_texts(request)
        stage_texts.append(stage_text)
        flag_texts.append(flag_text)
        stages.append(item["stage"])
        flag_sets.append({f["label"] for f in item.get("flags", [])})
    return stage_texts, stages, flag_texts, flag_sets


def choose_thresholds(
    classifier: FastClassifier, texts: list[str], flag_sets: list[set[str]], rule: str = "best_f1"
) -> dict[str, float]:
    """Per flag, a probability threshold from ``texts`` (dev).

    ``best_f1``: the grid threshold that maximises F1 (ties to the higher threshold).
    ``half_best_f1``: for calibrated probabilities the F1-optimal threshold is half the
    best attainable F1 (Lipton, Elkan & Naryanaswamy 2014). It needs only the height of
    dev's F1 curve, not where its noisy peak lies, so it carries over to new texts better
    (family-held-out halves of dev: micro-F1 0.788 against 0.785 for ``best_f1``).
    """
    if rule not in ("best_f1", "half_best_f1"):
        raise ValueError(f"unknown threshold rule {rule!r}")
    proba = classifier.flag_proba(texts)
    thresholds = {}
    for j, name in enumerate(FLAG_NAMES):
        if name not in classifier.flag_models:
            continue
        y = np.array([name in s for s in flag_sets])
        if not y.any():
            thresholds[name] = 0.5
            continue
        best_t, best_f1 = 0.5, -1.0
        for t in _THRESHOLD_GRID if rule == "best_f1" else _FINE_GRID:
            pred = proba[:, j] >= t
            tp = int((pred & y).sum())
            f1 = 2 * tp / max(1, int(pred.sum()) + int(y.sum()))
            # Ties go to the higher threshold: fewer false flags at equal F1.
            if f1 >= best_f1:
                best_t, best_f1 = float(t), f1
        thresholds[name] = best_t if rule == "best_f1" else round(max(_MIN_THRESHOLD, best_f1 / 2), 4)
    return thresholds


def calibration_errors(classifier: FastClassifier, items: list[dict], texts=None) -> dict:
    """ECE (10 bins) of the stage confidence (top probability vs. correct) and of the flag
    probabilities (every trained flag of every item vs. its gold label), plus per flag."""
    stage_texts, stages, flag_texts, flag_sets = texts or _texts_and_labels(items)
    stage = classifier.stage_proba(stage_texts)
    correct = np.array([STAGE_NAMES[int(j)] == s for j, s in zip(stage.argmax(axis=1), stages, strict=True)])
    flags = classifier.flag_proba(flag_texts)
    columns = [FLAG_NAMES.index(n) for n in FLAG_NAMES if classifier.knows_flag(n)]
    gold = np.array([[FLAG_NAMES[j] in s for j in columns] for s in flag_sets], dtype=float).reshape(len(items), -1)
    return {
        "stage_ece": round(expected_calibration_error(stage.max(axis=1), correct), 4),
        "flag_ece": round(expected_calibration_error(flags[:, columns], gold), 4),
        "flag_ece_per_flag": {
            FLAG_NAMES[j]: round(expected_calibration_error(flags[:, j], gold[:, k]), 4) for k, j in enumerate(columns)
        },
    }


def train_fast(config: FastConfig, splits: dict[str, list[dict]], corpus_hash: str, output: Path | None = None) -> Path:
    """Fit on ``splits['train']``, calibrate and tune thresholds on ``dev``, evaluate on ``test``, save."""
    from evaluation.metrics import evaluate_items

    out = Path(output or config.output)
    train, dev, test = splits["train"], splits.get("dev") or [], splits.get("test") or []
    log.info("training %s on %d items (dev %d, test %d)", config.name, len(train), len(dev), len(test))
    stage_texts, stages, flag_texts, flag_sets = _texts_and_labels(train)
    log.info("normalised the training texts; fitting")
    started = time.perf_counter()
    classifier = FastClassifier.fit(
        stage_texts, stages, flag_texts, flag_sets,
        ngram_range=(config.ngram_min, config.ngram_max),
        min_df=config.min_df,
        max_features=config.max_features,
        c_stage=config.c_stage,
        c_flag=config.c_flag,
        seed=config.seed,
        options=config.feature_options(),
        word_min_df=config.word_min_df,
        word_max_features=config.word_max_features,
    )
    fit_seconds = time.perf_counter() - started
    log.info("fitted in %.1f s; calibrating, choosing thresholds and evaluating", fit_seconds)
    held_out = {name: (items, _texts_and_labels(items)) for name, items in (("dev", dev), ("test", test)) if items}
    calibration: dict = {}
    if dev:
        dev_texts = held_out["dev"][1]
        rule = config.threshold_rule
        if config.calibrate:
            before = {name: calibration_errors(classifier, items, texts) for name, (items, texts) in held_out.items()}
            classifier.calibrate(*dev_texts)
            after = {name: calibration_errors(classifier, items, texts) for name, (items, texts) in held_out.items()}
            calibration = {
                "calibrated": True,
                "stage_temperature": round(classifier.stage_temperature, 6),
                "flag_platt": {k: [round(a, 6), round(b, 6)] for k, (a, b) in classifier.flag_calibration.items()},
                **{name: {"before": before[name], "after": after[name]} for name in held_out},
            }
        elif rule == "half_best_f1":
            rule = "best_f1"  # halving the best F1 is right for calibrated probabilities only
        classifier.thresholds = choose_thresholds(classifier, dev_texts[2], dev_texts[3], rule)
    if not calibration:  # same shape, so that readers need not care: "after" is "before"
        errors = {name: calibration_errors(classifier, items, texts) for name, (items, texts) in held_out.items()}
        calibration = {"calibrated": False, **{name: {"before": e, "after": e} for name, e in errors.items()}}
    manifest = build_manifest(
        name=config.name,
        version=config.version,
        kind=classifier.kind,
        thresholds=classifier.thresholds,
        corpus_hash=corpus_hash,
        config={k: v for k, v in vars(config).items() if k != "extra"},
    )
    analyzer = Analyzer(classifier, manifest)
    metrics = {
        "train_items": len(train),
        "fit_seconds": round(fit_seconds, 2),
        "splits": {name: evaluate_items(analyzer, items) for name, (items, _) in held_out.items()},
        "calibration": calibration,
    }
    save_artifact(out, manifest, classifier.to_payload(), metrics, write_card(manifest, metrics))
    return out
