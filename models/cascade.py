"""The cascade: the fast tier answers where it is sure, the neural tier reads the rest.

The two decisions are routed apart. The fast tier's stage stands when its probability is
at least ``stage_confidence``; its flags stand when every flag probability lies at least
``flag_margin`` away from that flag's threshold (no flag decision is a near call). An item
with either part unsure is read by the neural tier, whose answer replaces only the unsure
part (the flags come with their evidence). Both settings are chosen on dev by training
(``training/cascade.py``).

A cascade model directory holds no weights of its own: its manifest names the fast and
neural model directories (relative paths), which load as they would alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .artifact import Artifact, ArtifactError, load_artifact
from .classifier import Classifier, Prediction
from .labels import FLAG_NAMES

KIND = "cascade"


@dataclass
class CascadeClassifier:
    fast: Classifier
    neural: Classifier
    stage_confidence: float = 0.9
    flag_margin: float = 0.2
    thresholds: dict[str, float] = field(default_factory=dict)

    kind = KIND

    def predict(self, stage_texts: list[str], flag_texts: list[str]) -> list[Prediction]:
        predictions = self.fast.predict(stage_texts, flag_texts)
        unsure = [i for i, p in enumerate(predictions) if not self.is_sure(p)]
        if unsure:
            answers = self.neural.predict([stage_texts[i] for i in unsure], [flag_texts[i] for i in unsure])
            for i, answer in zip(unsure, answers, strict=True):
                predictions[i] = merge(predictions[i], answer, self.fast.thresholds, self.stage_confidence,
                                       self.flag_margin)
        return predictions

    def is_sure(self, prediction: Prediction) -> bool:
        return is_sure(prediction, self.fast.thresholds, self.stage_confidence, self.flag_margin)

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> CascadeClassifier:
        from .analyzer import classifier_class  # the registry lives with the Analyzer

        config = artifact.manifest.get("config", {})
        tiers = []
        for role in ("fast", "neural"):
            if role not in config:
                raise ArtifactError(f"cascade manifest in {artifact.path} names no {role} model")
            path = (artifact.path / config[role]).resolve()
            if not Path(path).is_dir():
                raise ArtifactError(f"the cascade's {role} model is missing: {path}")
            tier = load_artifact(path)
            tiers.append(classifier_class(tier.manifest["kind"]).from_artifact(tier))
        return cls(tiers[0], tiers[1], float(config.get("stage_confidence", 0.9)),
                   float(config.get("flag_margin", 0.2)), dict(tiers[0].thresholds))


def stage_is_sure(prediction: Prediction, stage_confidence: float) -> bool:
    return float(prediction.stage.max()) >= stage_confidence


def flags_are_sure(prediction: Prediction, thresholds: dict[str, float], flag_margin: float) -> bool:
    return all(abs(float(prediction.flags[j]) - thresholds[name]) >= flag_margin
               for j, name in enumerate(FLAG_NAMES) if name in thresholds)


def is_sure(prediction: Prediction, thresholds: dict[str, float], stage_confidence: float,
            flag_margin: float) -> bool:
    """Whether a fast-tier prediction is confident enough to be the whole answer."""
    return stage_is_sure(prediction, stage_confidence) and flags_are_sure(prediction, thresholds, flag_margin)


def merge(fast: Prediction, neural: Prediction, thresholds: dict[str, float], stage_confidence: float,
          flag_margin: float) -> Prediction:
    """The fast prediction with its unsure parts (stage, flags) taken from the neural one."""
    stage_from = fast if stage_is_sure(fast, stage_confidence) else neural
    flags_from = fast if flags_are_sure(fast, thresholds, flag_margin) else neural
    tier = "+".join(sorted({stage_from.tier, flags_from.tier}))
    return Prediction(stage_from.stage, flags_from.flags, list(flags_from.raised), dict(flags_from.evidence), tier)
