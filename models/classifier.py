"""What every stage-and-flag model kind offers the Analyzer.

A classifier reads already-normalised texts (see ``models.analyzer.model_texts``): the whole
item for the stage and the agent's words only for flags. It answers with one ``Prediction``
per item. The fast tier, the neural tier and the cascade all implement this, so the
Analyzer, the CLI and the service do not care which one is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

if TYPE_CHECKING:
    from .artifact import Artifact


@dataclass
class Prediction:
    """One item's answer.

    ``stage`` holds probabilities over ``STAGE_NAMES`` and ``flags`` over ``FLAG_NAMES``
    (columns in those orders). ``raised`` lists the flags at or above the model's own
    thresholds, and ``evidence`` gives, for each raised flag, spans ``(start, end)`` in
    the flag text that was passed in. ``tier`` names the model that answered.
    """

    stage: np.ndarray
    flags: np.ndarray
    raised: list[str] = field(default_factory=list)
    evidence: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    tier: str = ""


class Classifier(Protocol):
    kind: ClassVar[str]
    thresholds: dict[str, float]

    def predict(self, stage_texts: list[str], flag_texts: list[str]) -> list[Prediction]:
        """One prediction per item; both lists have one entry per item."""
        ...

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> Classifier:
        """Rebuild from a loaded model directory."""
        ...
