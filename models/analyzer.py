"""The analysis pipeline: normalise, classify stage and flags, extract money and dates."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import extraction
from .artifact import Artifact, ArtifactError, load_artifact
from .classifier import Classifier, Prediction
from .fast import FastClassifier
from .labels import AGENT, FLAG_NAMES, STAGE_NAMES
from .schema import (
    Amount,
    AnalysisRequest,
    AnalysisResult,
    Deadline,
    FlagResult,
    Span,
    StageResult,
    Turn,
)
from .text import Normalized, normalize

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "cuishou-cascade"
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
_SEPARATOR = "\n"  # joins turns; a clause boundary, so evidence never spans two turns

# Model kinds this package can run, by the ``kind`` in the manifest. Imported when first
# loaded, so that the fast tier alone never imports onnxruntime.
_CLASSIFIERS = {
    FastClassifier.kind: "models.fast:FastClassifier",
    "neural-e5": "models.neural:NeuralClassifier",
    "cascade": "models.cascade:CascadeClassifier",
}


def classifier_class(kind: str) -> type[Classifier]:
    """The classifier class for a manifest's ``kind``."""
    if kind not in _CLASSIFIERS:
        raise ArtifactError(f"model kind {kind!r} is not known to this cuishou; known: {', '.join(_CLASSIFIERS)}")
    module_name, _, class_name = _CLASSIFIERS[kind].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def default_model_dir() -> Path:
    return ARTIFACTS_DIR / DEFAULT_MODEL_NAME


def _as_reference_time(value: datetime | str | None) -> datetime:
    if value is None:
        return datetime.now().replace(microsecond=0)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"reference_time is not an ISO 8601 date-time: {value!r}") from exc
    return value.replace(tzinfo=None, microsecond=0)


@dataclass
class _Segment:
    turn: int | None
    speaker: str
    norm: Normalized


@dataclass
class _Item:
    id: str | None
    reference_time: datetime
    segments: list[_Segment]

    def joined(self, agent_only: bool) -> tuple[str, list[tuple[int, _Segment]]]:
        """Normalised text of the item and where each segment starts in it."""
        parts, starts, pos = [], [], 0
        for seg in self.segments:
            if agent_only and seg.speaker != AGENT:
                continue
            starts.append((pos, seg))
            parts.append(seg.norm.text)
            pos += len(seg.norm.text) + len(_SEPARATOR)
        return _SEPARATOR.join(parts), starts


class Analyzer:
    """Reads one collection text or call transcript and returns a spec result."""

    def __init__(self, classifier: Classifier, manifest: dict):
        self.classifier = classifier
        self.manifest = manifest

    # --- construction -----------------------------------------------------------
    @classmethod
    def load(cls, model_dir: str | Path | None = None) -> Analyzer:
        """Load a model directory; ``None`` loads the model shipped with the package."""
        path = Path(model_dir) if model_dir is not None else default_model_dir()
        artifact = load_artifact(path)
        return cls.from_artifact(artifact)

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> Analyzer:
        try:
            classifier = classifier_class(artifact.manifest["kind"])
        except ArtifactError as exc:
            raise ArtifactError(f"{exc} (in {artifact.path})") from exc
        return cls(classifier.from_artifact(artifact), artifact.manifest)

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def version(self) -> str:
        return self.manifest["version"]

    # --- public API ---------------------------------------------------------------
    def analyze(self, text: str, reference_time: datetime | str | None = None, id: str | None = None) -> AnalysisResult:
        return self.analyze_batch([AnalysisRequest(id=id, text=text, reference_time=_as_reference_time(reference_time))])[0]

    def analyze_turns(
        self,
        turns: Sequence[Turn | dict],
        reference_time: datetime | str | None = None,
        id: str | None = None,
    ) -> AnalysisResult:
        request = AnalysisRequest(id=id, turns=list(turns), reference_time=_as_reference_time(reference_time))
        return self.analyze_batch([request])[0]

    def analyze_batch(self, items: Iterable[AnalysisRequest | dict]) -> list[AnalysisResult]:
        """Analyse many requests at once (vectorised); dicts are validated first."""
        prepared = [self._prepare(r if isinstance(r, AnalysisRequest) else AnalysisRequest.model_validate(r)) for r in items]
        if not prepared:
            return []
        stage_texts = [item.joined(agent_only=False)[0] for item in prepared]
        flag_inputs = [item.joined(agent_only=True) for item in prepared]
        predictions = self.classifier.predict(stage_texts, [text for text, _ in flag_inputs])
        return [self._result(item, predictions[i], flag_inputs[i]) for i, item in enumerate(prepared)]

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Map over a DataFrame partition (columns ``text`` or ``turns``, optional ``id``,
        ``reference_time``); returns one row per input with the result as JSON, or an error.

        Valid rows are analysed together, in one batch; a row that cannot be read gets its
        error and the others go on.
        """
        import pandas as pd

        records = [{k: v for k, v in r.items() if not _is_missing(v)} for r in batch.to_dict(orient="records")]
        rows: list[dict | None] = [None] * len(records)
        valid: list[tuple[int, AnalysisRequest]] = []
        for i, record in enumerate(records):
            try:
                valid.append((i, AnalysisRequest.model_validate(record)))
            except (ValueError, TypeError) as exc:
                rows[i] = _error_row(record.get("id"), exc)
        try:
            results = self.analyze_batch([r for _, r in valid])
        except (ValueError, TypeError):  # something only analysis finds: take the rows one by one
            results = None
        for k, (i, request) in enumerate(valid):
            if results is not None:
                rows[i] = _result_row(results[k])
                continue
            try:
                rows[i] = _result_row(self.analyze_batch([request])[0])
            except (ValueError, TypeError) as exc:
                rows[i] = _error_row(request.id, exc)
        return pd.DataFrame(rows, columns=["id", "stage", "flags", "overdue_days", "result", "error"], index=batch.index)

    # --- internals ----------------------------------------------------------------
    @staticmethod
    def _prepare(request: AnalysisRequest) -> _Item:
        ref = _as_reference_time(request.reference_time)
        if request.turns is not None:
            segments = [_Segment(i, t.speaker, normalize(t.text)) for i, t in enumerate(request.turns)]
        else:
            segments = [_Segment(None, AGENT, normalize(request.text or ""))]
        return _Item(request.id, ref, segments)

    def _result(self, item: _Item, prediction: Prediction, flag_input) -> AnalysisResult:
        scores = {name: round(float(prediction.stage[j]), 4) for j, name in enumerate(STAGE_NAMES)}
        stage = StageResult(label=STAGE_NAMES[int(prediction.stage.argmax())], scores=scores)
        _, seg_starts = flag_input
        flags = []
        for name in FLAG_NAMES:
            if name not in prediction.raised:
                continue
            spans = [self._map_span(s, e, seg_starts) for s, e in prediction.evidence.get(name, [])]
            score = round(float(prediction.flags[FLAG_NAMES.index(name)]), 4)
            flags.append(FlagResult(label=name, score=score, evidence=[s for s in spans if s]))
        amounts, deadlines, overdue = [], [], None
        for seg in item.segments:
            original = seg.norm.original
            for a in extraction.extract_amounts(original):
                amounts.append(Amount(text=a.text, start=a.start, end=a.end, value=a.value,
                                      currency=a.currency, role=a.role, turn=seg.turn))
            for d in extraction.extract_deadlines(original, item.reference_time):
                deadlines.append(Deadline(text=d.text, start=d.start, end=d.end, value=d.value,
                                          kind=d.kind, turn=seg.turn))
            if overdue is None:
                overdue = extraction.extract_overdue_days(original)
        return AnalysisResult(id=item.id, stage=stage, flags=flags, amounts=amounts,
                              deadlines=deadlines, overdue_days=overdue)

    @staticmethod
    def _map_span(start: int, end: int, seg_starts: list[tuple[int, _Segment]]) -> Span | None:
        for offset, seg in reversed(seg_starts):
            if start >= offset:
                local_s, local_e = start - offset, min(end - offset, len(seg.norm.text))
                if local_s >= local_e:
                    return None
                o_s, o_e = seg.norm.to_original(local_s, local_e)
                return Span(start=o_s, end=o_e, text=seg.norm.original[o_s:o_e], turn=seg.turn)
        return None


def model_texts(request: AnalysisRequest | dict) -> tuple[str, str]:
    """The normalised texts the classifiers read: (whole item for stage, agent turns for flags).

    Training calls this too, so that models are fitted on exactly what they see at run time.
    """
    if not isinstance(request, AnalysisRequest):
        request = AnalysisRequest.model_validate(request)
    item = Analyzer._prepare(request)
    return item.joined(agent_only=False)[0], item.joined(agent_only=True)[0]


def _is_missing(value: object) -> bool:
    try:
        import pandas as pd

        return value is None or (not isinstance(value, list | dict | str) and bool(pd.isna(value)))
    except (TypeError, ValueError):
        return False


def _result_row(result: AnalysisResult) -> dict:
    return {"id": result.id, "stage": result.stage.label, "flags": [f.label for f in result.flags],
            "overdue_days": result.overdue_days, "result": json.dumps(result.to_json_dict(), ensure_ascii=False),
            "error": None}


def _error_row(item_id, exc: Exception) -> dict:
    return {"id": item_id, "stage": None, "flags": [], "overdue_days": None, "result": None, "error": str(exc)}
