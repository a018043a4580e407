"""Fit the fast tier (char n-gram linear models) from the corpus and save its artifact."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.analyzer import Analyzer, model_texts
from models.artifact import build_manifest, save_artifact
from models.fast import FastClassifier
from models.labels import FLAG_NAMES

from .card import write_card

log = logging.getLogger(__name__)

_THRESHOLD_GRID = np.round(np.arange(0.2, 0.91, 0.05), 2)


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
    output: str = "models/artifacts/cuishou-fast"
    extra: dict = field(default_factory=dict)


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


def choose_thresholds(classifier: FastClassifier, texts: list[str], flag_sets: list[set[str]]) -> dict[str, float]:
    """Per flag, the probability threshold that maximises F1 on ``texts`` (dev)."""
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
        for t in _THRESHOLD_GRID:
            pred = proba[:, j] >= t
            tp = int((pred & y).sum())
            f1 = 2 * tp / max(1, int(pred.sum()) + int(y.sum()))
            # Ties go to the higher threshold: fewer false flags at equal F1.
            if f1 >= best_f1:
                best_t, best_f1 = float(t), f1
        thresholds[name] = best_t
    return thresholds


def train_fast(config: FastConfig, splits: dict[str, list[dict]], corpus_hash: str, output: Path | None = None) -> Path:
    """Fit on ``splits['train']``, tune thresholds on ``dev``, evaluate on ``test``, save."""
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
    )
    fit_seconds = time.perf_counter() - started
    log.info("fitted in %.1f s; choosing thresholds and evaluating", fit_seconds)
    if dev:
        _, _, dev_flag_texts, dev_flag_sets = _texts_and_labels(dev)
        classifier.thresholds = choose_thresholds(classifier, dev_flag_texts, dev_flag_sets)
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
        "splits": {name: evaluate_items(analyzer, items) for name, items in (("dev", dev), ("test", test)) if items},
    }
    save_artifact(out, manifest, classifier.to_payload(), metrics, write_card(manifest, metrics))
    return out
