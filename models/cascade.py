"""The cascade: the fast tier answers where it is sure, the neural tier reads the rest.

The two decisions are routed apart. The fast tier's stage stands when its probability is
at least ``stage_confidence``, or ``conversation_stage_confidence`` for a conversation (a
text with customer turns: its stage text, all turns, differs from its flag text, the
agent's turns), where the fast tier is weaker. Its flags stand when the text is clearly
clean: every flag probability below ``flag_floor`` times that flag's threshold. Any flag the fast tier
raises, or comes near raising, sends the flags on: the fast tier's flag errors are mostly
confident ones (a quoted or negated threat), so a margin around the threshold misses them.
An item with either part unsure is read by the neural tier, whose answer replaces only the
unsure part (the flags come with their evidence). Both settings are chosen on dev by
training (``training/cascade.py``). Cascades saved before ``flag_floor`` existed carry a
``flag_margin`` (flags stand when every probability is at least that far from its
threshold) and keep that rule.

A cascade model directory holds no weights of its own: its manifest names the fast and
neural model directories (relative paths), which load as they would alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .artifact import Artifact, ArtifactError, load_artifact
from .classifier import Classifier, Prediction
from .fast import FastClassifier
from .labels import FLAG_NAMES

KIND = "cascade"


@dataclass
class CascadeClassifier:
    fast: Classifier
    neural: Classifier
    stage_confidence: float = 0.9
    flag_floor: float = 0.2
    thresholds: dict[str, float] = field(default_factory=dict)
    flag_margin: float | None = None  # set only for cascades saved with the older margin rule
    conversation_stage_confidence: float | None = None  # None: as for any other text

    kind = KIND

    def predict(self, stage_texts: list[str], flag_texts: list[str]) -> list[Prediction]:
        # The fast tier's evidence is wanted only where its flags stand, and under the floor
        # rule those texts raise no flag at all: skip it, and fill it in where it is needed.
        lazy = isinstance(self.fast, FastClassifier)
        if lazy:
            predictions = self.fast.predict(stage_texts, flag_texts, evidence=False)
        else:
            predictions = self.fast.predict(stage_texts, flag_texts)
        conversation = [s != f for s, f in zip(stage_texts, flag_texts, strict=True)]
        flags_sure = [self.flags_sure(p) for p in predictions]
        unsure = [i for i, p in enumerate(predictions) if not (flags_sure[i] and self.stage_sure(p, conversation[i]))]
        if unsure:
            answers = self.neural.predict([stage_texts[i] for i in unsure], [flag_texts[i] for i in unsure])
            for i, answer in zip(unsure, answers, strict=True):
                fast = predictions[i]
                predictions[i] = merge(fast, answer, self.stage_sure(fast, conversation[i]), flags_sure[i])
        if lazy:
            for i, p in enumerate(predictions):
                if flags_sure[i] and p.raised:
                    p.evidence = {name: self.fast.evidence(flag_texts[i], name) for name in p.raised}
        return predictions

    def stage_sure(self, prediction: Prediction, conversation: bool = False) -> bool:
        confidence = self.stage_confidence
        if conversation and self.conversation_stage_confidence is not None:
            confidence = self.conversation_stage_confidence
        return stage_is_sure(prediction, confidence)

    def flags_sure(self, prediction: Prediction) -> bool:
        if self.flag_margin is not None:
            return flags_clear_of_thresholds(prediction, self.thresholds, self.flag_margin)
        return flags_are_sure(prediction, self.thresholds, self.flag_floor)

    def is_sure(self, prediction: Prediction, conversation: bool = False) -> bool:
        """Whether a fast-tier prediction is confident enough to be the whole answer."""
        return self.stage_sure(prediction, conversation) and self.flags_sure(prediction)

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
        legacy = "flag_floor" not in config and "flag_margin" in config
        conversation = config.get("conversation_stage_confidence")
        return cls(tiers[0], tiers[1], float(config.get("stage_confidence", 0.9)),
                   float(config.get("flag_floor", 0.2)), dict(tiers[0].thresholds),
                   float(config["flag_margin"]) if legacy else None,
                   None if conversation is None else float(conversation))


def stage_is_sure(prediction: Prediction, stage_confidence: float) -> bool:
    return float(prediction.stage.max()) >= stage_confidence


def flags_are_sure(prediction: Prediction, thresholds: dict[str, float], flag_floor: float) -> bool:
    """No flag is raised or near: every probability is below ``flag_floor`` x its threshold."""
    return all(float(prediction.flags[j]) < flag_floor * thresholds[name]
               for j, name in enumerate(FLAG_NAMES) if name in thresholds)


def flags_clear_of_thresholds(prediction: Prediction, thresholds: dict[str, float], flag_margin: float) -> bool:
    """The older rule: every flag probability at least ``flag_margin`` away from its threshold."""
    return all(abs(float(prediction.flags[j]) - thresholds[name]) >= flag_margin
               for j, name in enumerate(FLAG_NAMES) if name in thresholds)


def merge(fast: Prediction, neural: Prediction, stage_sure: bool, flags_sure: bool) -> Prediction:
    """The fast prediction with its unsure parts (stage, flags) taken from the neural one."""
    stage_from = fast if stage_sure else neural
    flags_from = fast if flags_sure else neural
    tier = "+".join(sorted({stage_from.tier, flags_from.tier}))
    return Prediction(stage_from.stage, flags_from.flags, list(flags_from.raised), dict(flags_from.evidence), tier)
