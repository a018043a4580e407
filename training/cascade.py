"""Build the cascade from a trained fast tier and a trained neural tier.

Both tiers predict dev once; the routing settings are then simulated on those
predictions. The stage and the flags are routed apart (see models/cascade.py), and each
measure depends only on its own setting, so each is chosen alone: the stage confidence
that sends the fewest items' stages to the neural tier while dev stage macro-F1 stays
within ``max_loss`` of the best any confidence reaches (at least the better tier's), one
such confidence for plain texts and one for conversations, and likewise the flag floor
for flags micro-F1.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.analyzer import Analyzer, classifier_class, model_texts
from models.artifact import build_manifest, load_artifact, save_artifact
from models.cascade import CascadeClassifier, flags_are_sure, merge, stage_is_sure
from models.classifier import Prediction
from models.labels import STAGE_NAMES

from .card import write_card

log = logging.getLogger(__name__)

_STAGE_GRID = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 1.01)
# Flag floors, relative to each flag's threshold; 100 never routes flags (p / threshold < 100).
_FLOOR_GRID = (100.0, 2.0, 1.5, 1.0, 0.7, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.07, 0.05, 0.03, 0.02, 0.01, 0.0)


@dataclass
class CascadeConfig:
    name: str = "cuishou-cascade"
    version: str = "0.1.0"
    seed: int = 0
    fast: str = "models/artifacts/cuishou-fast"
    neural: str = "models/artifacts/cuishou-neural"
    max_loss: float = 0.01
    output: str = "models/artifacts/cuishou-cascade"
    extra: dict = field(default_factory=dict)


def _stage_macro_f1(gold: list[str], pred: list[str]) -> float:
    scores = []
    for label in STAGE_NAMES:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        n_gold, n_pred = gold.count(label), pred.count(label)
        if n_gold:
            scores.append(2 * tp / (n_gold + n_pred))
    return float(np.mean(scores)) if scores else 0.0


def _flag_micro_f1(gold: list[set[str]], pred: list[set[str]]) -> float:
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    n = sum(len(g) for g in gold) + sum(len(p) for p in pred)
    return 2 * tp / n if n else 1.0


def _pick(grid, routed, score, max_loss: float, fast: list[Prediction], neural: list[Prediction]):
    """(setting, rows): of the settings whose score is within ``max_loss`` of the best any
    setting reaches (the grid runs from "never route" to "always route", so the best is at
    least the better tier's), the one routing the fewest items."""
    rows = []
    for setting in grid:
        mask = [routed(p, setting) for p in fast]
        value = score([n if r else f for f, n, r in zip(fast, neural, mask, strict=True)])
        share = float(np.mean(mask)) if mask else 0.0
        rows.append({"setting": setting, "routed_share": round(share, 4), "f1": round(value, 4), "_f1": value})
    target = max(r["_f1"] for r in rows) - max_loss
    best = min((r for r in rows if r["_f1"] >= target), key=lambda r: r["routed_share"])
    for r in rows:
        del r["_f1"]
    return best["setting"], rows


def choose_routing(fast: list[Prediction], neural: list[Prediction], thresholds: dict[str, float],
                   gold_stages: list[str], gold_flags: list[set[str]], max_loss: float,
                   conversation: list[bool] | None = None) -> dict:
    """The stage confidences and flag floor that route the fewest items within ``max_loss``
    of the best score any setting reaches on these items.

    With ``conversation`` (per item: a text with customer turns), conversations get their
    own stage confidence, chosen on them alone; the other stage confidence is chosen on the
    other items.
    """
    conversation = conversation or [False] * len(fast)

    def stage_f1(preds: list[Prediction]) -> float:
        return _stage_macro_f1(gold_stages, [STAGE_NAMES[int(p.stage.argmax())] for p in preds])

    def flag_f1(preds: list[Prediction]) -> float:
        return _flag_micro_f1(gold_flags, [set(p.raised) for p in preds])

    fast_scores, neural_scores = (stage_f1(fast), flag_f1(fast)), (stage_f1(neural), flag_f1(neural))

    def pick_stage(group: bool) -> tuple[float, list[dict]]:
        """The stage confidence for one group, scored on that group's items only."""
        idx = [i for i, c in enumerate(conversation) if c == group]
        if not idx:
            return _STAGE_GRID[0], []
        gold = [gold_stages[i] for i in idx]

        def f1(preds):
            return _stage_macro_f1(gold, [STAGE_NAMES[int(p.stage.argmax())] for p in preds])

        return _pick(_STAGE_GRID, lambda p, c: not stage_is_sure(p, c), f1, max_loss,
                     [fast[i] for i in idx], [neural[i] for i in idx])

    stage_confidence, stage_rows = pick_stage(False)
    conversation_confidence, conversation_rows = pick_stage(True)
    flag_floor, flag_rows = _pick(_FLOOR_GRID, lambda p, m: not flags_are_sure(p, thresholds, m), flag_f1,
                                  max_loss, fast, neural)
    parts = [(stage_is_sure(f, conversation_confidence if c else stage_confidence),
              flags_are_sure(f, thresholds, flag_floor)) for f, c in zip(fast, conversation, strict=True)]
    sure = [s and g for s, g in parts]
    mixed = [merge(f, n, s, g) for f, n, (s, g) in zip(fast, neural, parts, strict=True)]
    chosen = {
        "stage_confidence": stage_confidence, "conversation_stage_confidence": conversation_confidence,
        "flag_floor": flag_floor,
        "neural_share": round(1.0 - float(np.mean(sure)), 4) if sure else 0.0,
        "stage_macro_f1": round(stage_f1(mixed), 4), "flags_micro_f1": round(flag_f1(mixed), 4),
        "max_loss": max_loss,
        "dev_fast": {"stage_macro_f1": round(fast_scores[0], 4), "flags_micro_f1": round(fast_scores[1], 4)},
        "dev_neural": {"stage_macro_f1": round(neural_scores[0], 4), "flags_micro_f1": round(neural_scores[1], 4)},
    }
    log.info("routing: %s", chosen)
    return {"chosen": chosen, "stage_grid": stage_rows, "conversation_stage_grid": conversation_rows,
            "flag_grid": flag_rows}


def _texts(items: list[dict]) -> list[tuple[str, str]]:
    return [model_texts({"text": i["text"]} if "text" in i else {"turns": i["turns"]}) for i in items]


def _conversations(items: list[dict]) -> list[bool]:
    """Which items the cascade treats as conversations: stage text differs from flag text."""
    return [s != f for s, f in _texts(items)]


def _predict(classifier, items: list[dict]) -> list[Prediction]:
    texts = _texts(items)
    out: list[Prediction] = []
    for start in range(0, len(texts), 128):
        chunk = texts[start : start + 128]
        out += classifier.predict([s for s, _ in chunk], [f for _, f in chunk])
    return out


def _load_tier(path: Path):
    artifact = load_artifact(path)
    return artifact, classifier_class(artifact.manifest["kind"]).from_artifact(artifact)


def train_cascade(config: CascadeConfig, splits: dict[str, list[dict]], corpus_hash: str,
                  output: Path | None = None, root: Path | None = None) -> Path:
    """Choose the routing on ``splits['dev']``, evaluate on dev and test, save the cascade."""
    from evaluation.metrics import evaluate_items

    from .config import REPO_ROOT

    root = root or REPO_ROOT
    out = Path(output or config.output)
    out = out if out.is_absolute() else root / out
    fast_dir, neural_dir = (Path(p) if Path(p).is_absolute() else root / p for p in (config.fast, config.neural))
    fast_artifact, fast = _load_tier(fast_dir)
    neural_artifact, neural = _load_tier(neural_dir)
    for artifact in (fast_artifact, neural_artifact):
        if artifact.manifest.get("corpus_hash") != corpus_hash:
            log.warning("%s was trained on another corpus build (%s)", artifact.path, artifact.manifest.get("corpus_hash"))
    dev = splits.get("dev") or []
    if not dev:
        raise ValueError("the cascade needs a dev split to choose its routing")
    gold_stages = [i["stage"] for i in dev]
    gold_flags = [{f["label"] for f in i.get("flags", [])} for i in dev]
    log.info("predicting dev (%d items) with both tiers", len(dev))
    routing = choose_routing(_predict(fast, dev), _predict(neural, dev), fast.thresholds, gold_stages, gold_flags,
                             config.max_loss, _conversations(dev))
    chosen = routing["chosen"]
    cascade = CascadeClassifier(fast, neural, chosen["stage_confidence"], chosen["flag_floor"], dict(fast.thresholds),
                                conversation_stage_confidence=chosen["conversation_stage_confidence"])
    manifest = build_manifest(
        name=config.name, version=config.version, kind=cascade.kind, thresholds=cascade.thresholds,
        corpus_hash=corpus_hash,
        config={
            "fast": os.path.relpath(fast_dir, out), "neural": os.path.relpath(neural_dir, out),
            "fast_model": f"{fast_artifact.name} {fast_artifact.version}",
            "neural_model": f"{neural_artifact.name} {neural_artifact.version}",
            "stage_confidence": chosen["stage_confidence"],
            "conversation_stage_confidence": chosen["conversation_stage_confidence"],
            "flag_floor": chosen["flag_floor"],
            "max_loss": config.max_loss,
        },
        files={"model": None},
    )
    analyzer = Analyzer(cascade, manifest)
    metrics = {"routing": routing, "splits": {}}
    for name in ("dev", "test"):
        items = splits.get(name) or []
        if items:
            metrics["splits"][name] = evaluate_items(analyzer, items)
            sure = [cascade.is_sure(p, c) for p, c in zip(_predict(fast, items), _conversations(items), strict=True)]
            metrics["splits"][name]["neural_share"] = round(1.0 - float(np.mean(sure)), 4)
    save_artifact(out, manifest, {}, metrics, write_card(manifest, metrics))
    return out
