"""The neural tier: a small e5 encoder with stage, flag and evidence heads, run by onnxruntime.

The model directory holds ``model.onnx`` (encoder plus heads, trained by
``training/neural.py``) and ``tokenizer.json``. The ONNX graph takes ``input_ids`` and
``attention_mask`` ([batch, tokens], int64) and returns, per window of text:

- ``stage_logits`` [batch, stages]: from the mean- and max-pooled token states,
- ``flag_logits`` [batch, flags]: same pooled states, one logit per flag,
- ``tag_logits`` [batch, tokens, flags]: per token, how much it is evidence for each flag.

A text longer than the model's window is cut into overlapping windows of ``max_length``
tokens; the stage is the softmax of the windows' mean logits and a flag's probability is its
maximum over windows (a threat in one window is a threat in the text). Evidence for a
raised flag is the run of tokens the tagger marks, widened to whole clauses as the fast tier
quotes them, so that the borrower reads a phrase rather than a fragment.

This module needs only numpy, onnxruntime and tokenizers: never torch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .artifact import ArtifactError
from .classifier import Prediction
from .labels import FLAG_NAMES, STAGE_NAMES
from .text import clause_spans

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from .artifact import Artifact

log = logging.getLogger(__name__)

KIND = "neural-e5"
TIER = "neural"
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAMES = ("stage_logits", "flag_logits", "tag_logits")
ENCODER_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
THREADS_ENV = "CUISHOU_NEURAL_THREADS"
# The int8 encoder quantises activations with one scale per onnxruntime call, so a text's
# probabilities move slightly with the windows batched beside it (on the test split, 1.3 %
# of flag decisions differ between batches of 64 texts and one text at a time; accuracy is
# the same). Setting this to 1 reads every window alone: the same text always gets the
# same answer, at about 60 % of the batched speed.
WINDOWS_PER_RUN_ENV = "CUISHOU_NEURAL_WINDOWS_PER_RUN"
# onnxruntime graph rewrites left out: its fused SkipLayerNormalization kernel took a sixth
# of the encoder's time on 2 cores, several times the Add + LayerNormalization it replaces
# (same results; profiled with onnxruntime's profiler on the shipped model).
DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)

# (input_ids, attention_mask) -> (stage_logits, flag_logits, tag_logits), numpy in and out.
# The ONNX session is one; training passes the torch module behind the same signature.
EncoderFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
Span = tuple[int, int]


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class NeuralSettings:
    """How texts become model inputs and outputs become answers (``manifest['config']``).

    ``head_ids`` and ``tail_ids`` are the special tokens the tokenizer puts around a text
    (``<s>`` and ``</s>`` for e5); ``prefix`` is e5's task prefix, tokenised once and put
    before every window so each window looks like what the encoder was trained on.
    """

    max_length: int = 192
    window_overlap: int = 32
    prefix: str = "query: "
    head_ids: tuple[int, ...] = ()
    tail_ids: tuple[int, ...] = ()
    pad_id: int = 0
    tag_threshold: float = 0.5
    max_evidence: int = 3
    windows_per_run: int = 8  # windows per onnxruntime call: length-sorted, so small batches pad little

    @classmethod
    def from_config(cls, config: dict) -> NeuralSettings:
        """Pick the known keys out of a manifest's ``config`` (training stores more there)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in config.items() if k in known}
        for key in ("head_ids", "tail_ids"):
            if key in values:
                values[key] = tuple(int(i) for i in values[key])
        return cls(**values)

    def to_config(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


@dataclass(frozen=True)
class Window:
    """One encoder input cut from a text: token ids and where its text tokens came from.

    ``ids`` = head + prefix + text tokens + tail; the text tokens start at ``content_start``
    and ``offsets[k]`` is the character span of text token ``k`` in the text.
    """

    unit: int
    ids: np.ndarray
    content_start: int
    offsets: np.ndarray  # [tokens, 2]


@dataclass
class WindowOutput:
    stage_logits: np.ndarray
    flag_logits: np.ndarray
    tag_logits: np.ndarray  # [text tokens of the window, flags]


def special_ids(tokenizer: Tokenizer) -> tuple[list[int], list[int], int]:
    """The ids the tokenizer's post-processor puts before and after a text, and its pad id."""
    encoding = tokenizer.encode("a", add_special_tokens=True)
    mask = encoding.special_tokens_mask
    first = next((i for i, m in enumerate(mask) if not m), len(mask))
    last = max((i for i, m in enumerate(mask) if not m), default=first - 1)
    head, tail = list(encoding.ids[:first]), list(encoding.ids[last + 1 :])
    padding = tokenizer.padding
    if padding is not None:
        pad_id = int(padding["pad_id"])
    else:
        pad_id = next((i for t in ("<pad>", "[PAD]") if (i := tokenizer.token_to_id(t)) is not None), 0)
    return head, tail, pad_id


def prepare_tokenizer(tokenizer: Tokenizer) -> Tokenizer:
    """Turn off the tokenizer's own truncation and padding: windows and batches are ours."""
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


# --------------------------------------------------------------------------- windows


def window_starts(n_tokens: int, size: int, overlap: int) -> list[int]:
    """Start positions of windows of ``size`` tokens covering ``n_tokens`` with ``overlap``.

    The last window ends at the last token (rather than holding a short tail), so every
    window is full and every token is seen with as much context as possible.
    """
    if size <= 0:
        raise ValueError(f"window size must be positive, got {size}")
    if n_tokens <= size:
        return [0]
    step = max(1, size - max(0, overlap))
    starts = list(range(0, n_tokens - size, step))
    starts.append(n_tokens - size)
    return starts


class Windower:
    """Cuts tokenised texts into encoder windows (shared by training and inference)."""

    def __init__(self, tokenizer: Tokenizer, settings: NeuralSettings):
        self.tokenizer = prepare_tokenizer(tokenizer)
        self.settings = settings
        # The prefix without its trailing space: the text's own leading "▁" supplies it, so
        # prefix + text tokens equal what tokenising "query: " + text in one go gives.
        prefix = settings.prefix.rstrip()
        self.prefix_ids = tokenizer.encode(prefix, add_special_tokens=False).ids if prefix else []
        self.lead = [*settings.head_ids, *self.prefix_ids]
        self.size = settings.max_length - len(self.lead) - len(settings.tail_ids)
        if self.size < 8:
            raise ValueError(
                f"max_length {settings.max_length} leaves {self.size} tokens for text after "
                f"{len(self.lead) + len(settings.tail_ids)} special and prefix tokens"
            )

    def encode(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text, its token ids and character offsets (no special tokens, no truncation)."""
        out = []
        for encoding in self.tokenizer.encode_batch(list(texts), add_special_tokens=False):
            ids = np.asarray(encoding.ids, dtype=np.int64)
            offsets = np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)
            out.append((ids, offsets))
        return out

    def windows(self, texts: Sequence[str]) -> list[Window]:
        """All windows of all texts, in text order; ``Window.unit`` is the text's index."""
        lead = np.asarray(self.lead, dtype=np.int64)
        tail = np.asarray(self.settings.tail_ids, dtype=np.int64)
        out = []
        for unit, (ids, offsets) in enumerate(self.encode(texts)):
            for start in window_starts(len(ids), self.size, self.settings.window_overlap):
                stop = start + self.size
                out.append(Window(unit, np.concatenate([lead, ids[start:stop], tail]), len(lead),
                                  offsets[start:stop]))
        return out


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (sorted), so padding stays small."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def pad_batch(sequences: Sequence[np.ndarray], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad to the longest sequence: (input_ids, attention_mask), both int64."""
    width = max(len(s) for s in sequences)
    ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return ids, mask


def run_windows(encoder: EncoderFn, windows: Sequence[Window], pad_id: int, batch_size: int) -> list[WindowOutput]:
    """Run the encoder over all windows in length-sorted, dynamically padded batches."""
    outputs: list[WindowOutput | None] = [None] * len(windows)
    for batch in length_batches([len(w.ids) for w in windows], batch_size):
        ids, mask = pad_batch([windows[i].ids for i in batch], pad_id)
        stage, flags, tags = encoder(ids, mask)
        for row, i in enumerate(batch):
            w = windows[i]
            content = tags[row, w.content_start : w.content_start + len(w.offsets)]
            outputs[i] = WindowOutput(stage[row], flags[row], content)
    return outputs  # type: ignore[return-value]


# --------------------------------------------------------------------------- evidence


def char_scores(n_chars: int, token_scores: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Per character, the highest score of any token covering it.

    ``token_scores`` holds, per window, (token offsets [n, 2], token scores [n]); windows
    overlap, and the stronger reading of a token wins. Characters no token covers get -1.
    """
    scores = np.full(n_chars, -1.0)
    for offsets, values in token_scores:
        offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
        starts = np.clip(offsets[:, 0], 0, n_chars)
        lengths = np.clip(offsets[:, 1], 0, n_chars) - starts
        keep = lengths > 0
        if not keep.any():
            continue
        starts, lengths = starts[keep], lengths[keep]
        # Every character of every token, as one index array: token k covers
        # starts[k] .. starts[k] + lengths[k] - 1.
        chars = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        np.maximum.at(scores, chars, np.repeat(np.asarray(values, dtype=np.float64)[keep], lengths))
    return scores


def evidence_spans(
    text: str,
    token_scores: Sequence[tuple[np.ndarray, np.ndarray]],
    threshold: float,
    max_spans: int = 3,
) -> list[Span]:
    """Evidence for one flag: the clauses holding a tagged token, strongest first kept.

    A run of tokens at or above ``threshold`` is widened to the clause(s) it lies in (the
    corpus marks evidence by clause, and a clause reads as a phrase); a clause's strength is
    its strongest token. When no token reaches the threshold, the clause of the strongest
    token is returned, so that every raised flag points somewhere. Spans never include the
    separators between clauses, so a span never crosses from one turn into the next (a
    token such as "▁你" after a newline covers the newline too). Sorted by start.
    """
    scores = char_scores(len(text), token_scores)
    clauses = clause_spans(text)
    if not clauses or scores.max(initial=-1.0) < 0:
        return []
    strength = [float(scores[s:e].max()) for s, e in clauses]
    chosen = [i for i, v in enumerate(strength) if v >= threshold]
    if not chosen:
        chosen = [int(np.argmax(strength))]
    chosen = sorted(chosen, key=lambda i: -strength[i])[: max(1, max_spans)]
    return sorted(clauses[i] for i in chosen)


# --------------------------------------------------------------------------- onnxruntime


def _positive_env(name: str) -> int | None:
    """The environment variable ``name`` as a positive integer; None when unset or not one."""
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return max(1, int(value))
    except ValueError:
        log.warning("ignoring %s=%r: not an integer", name, value)
        return None


def resolve_windows_per_run(configured: int) -> int:
    """``CUISHOU_NEURAL_WINDOWS_PER_RUN`` when set (1: batch-independent answers), else ``configured``."""
    return _positive_env(WINDOWS_PER_RUN_ENV) or max(1, configured)


def default_threads() -> int:
    """``CUISHOU_NEURAL_THREADS`` when set, else every core this process may use."""
    threads = _positive_env(THREADS_ENV)
    if threads:
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class OnnxEncoder:
    """An onnxruntime session over the exported encoder-with-heads."""

    def __init__(self, path: str | Path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                                disabled_optimizers=list(DISABLED_OPTIMIZERS))
        except Exception as exc:  # onnxruntime raises its own types for unreadable graphs
            raise ArtifactError(f"cannot load the ONNX encoder {path}: {exc}") from exc
        inputs = {i.name for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        if inputs != set(INPUT_NAMES) or not set(OUTPUT_NAMES) <= set(outputs):
            raise ArtifactError(
                f"{path} is not a cuishou encoder: inputs {sorted(inputs)}, outputs {outputs} "
                f"(expected {list(INPUT_NAMES)} -> {list(OUTPUT_NAMES)})"
            )

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray):
        stage, flags, tags = self.session.run(
            list(OUTPUT_NAMES), {"input_ids": input_ids, "attention_mask": attention_mask}
        )
        return stage, flags, tags


# --------------------------------------------------------------------------- classifier


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.asarray(x, dtype=np.float64) - np.max(x)
    np.exp(z, out=z)
    return z / z.sum()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _columns(names: Sequence[str], known: Sequence[str], what: str) -> np.ndarray:
    """Where each model output column goes among ``known`` labels."""
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ArtifactError(f"model outputs {what} this cuishou does not know: {unknown}")
    return np.array([known.index(n) for n in names], dtype=np.int64)


@dataclass
class NeuralClassifier:
    """Stage, flags and evidence from the e5 encoder with heads (see the module docstring)."""

    encoder: EncoderFn
    tokenizer: Tokenizer
    settings: NeuralSettings = field(default_factory=NeuralSettings)
    thresholds: dict[str, float] = field(default_factory=dict)
    stage_labels: tuple[str, ...] = STAGE_NAMES
    flag_labels: tuple[str, ...] = FLAG_NAMES

    kind: ClassVar[str] = KIND

    def __post_init__(self):
        self.windower = Windower(self.tokenizer, self.settings)
        self.windows_per_run = resolve_windows_per_run(self.settings.windows_per_run)
        self._stage_columns = _columns(self.stage_labels, STAGE_NAMES, "stages")
        self._flag_columns = _columns(self.flag_labels, FLAG_NAMES, "flags")

    # --- inference -------------------------------------------------------------
    def predict(self, stage_texts: list[str], flag_texts: list[str]) -> list[Prediction]:
        if len(stage_texts) != len(flag_texts):
            raise ValueError(f"{len(stage_texts)} stage texts but {len(flag_texts)} flag texts")
        # Each distinct text is encoded once: a plain text is its own flag text, and a batch
        # may repeat texts.
        units: dict[str, int] = {}
        for text in (*flag_texts, *stage_texts):
            units.setdefault(text, len(units))
        unit_texts = list(units)
        windows = self.windower.windows(unit_texts)
        outputs = run_windows(self.encoder, windows, self.settings.pad_id, self.windows_per_run)
        by_unit: list[list[tuple[Window, WindowOutput]]] = [[] for _ in unit_texts]
        for w, out in zip(windows, outputs, strict=True):
            by_unit[w.unit].append((w, out))
        return [self._prediction(by_unit[units[s]], by_unit[units[f]], f)
                for s, f in zip(stage_texts, flag_texts, strict=True)]

    def stage_flag_proba(self, stage_texts: list[str], flag_texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Stage and flag probabilities as two matrices (columns in STAGE_NAMES / FLAG_NAMES)."""
        predictions = self.predict(stage_texts, flag_texts)
        if not predictions:
            return np.zeros((0, len(STAGE_NAMES))), np.zeros((0, len(FLAG_NAMES)))
        return np.vstack([p.stage for p in predictions]), np.vstack([p.flags for p in predictions])

    def knows_flag(self, flag: str) -> bool:
        """Only flags with a threshold (seen in training) are ever raised."""
        return flag in self.thresholds

    def _prediction(self, stage_windows, flag_windows, flag_text: str) -> Prediction:
        stage = np.zeros(len(STAGE_NAMES))
        stage[self._stage_columns] = _softmax(np.mean([o.stage_logits for _, o in stage_windows], axis=0))
        flags = np.zeros(len(FLAG_NAMES))
        flags[self._flag_columns] = _sigmoid(np.max([o.flag_logits for _, o in flag_windows], axis=0))
        raised = [n for j, n in enumerate(FLAG_NAMES) if n in self.thresholds and flags[j] >= self.thresholds[n]]
        evidence = {}
        for name in raised:
            column = self.flag_labels.index(name)
            token_scores = [(w.offsets, _sigmoid(o.tag_logits[:, column])) for w, o in flag_windows]
            evidence[name] = evidence_spans(flag_text, token_scores, self.settings.tag_threshold,
                                            self.settings.max_evidence)
        return Prediction(stage, flags, raised, evidence, tier=TIER)

    # --- loading ---------------------------------------------------------------
    @classmethod
    def from_files(
        cls,
        encoder_path: str | Path,
        tokenizer_path: str | Path,
        settings: NeuralSettings,
        thresholds: dict[str, float] | None = None,
        *,
        stage_labels: Sequence[str] = STAGE_NAMES,
        flag_labels: Sequence[str] = FLAG_NAMES,
        threads: int | None = None,
    ) -> NeuralClassifier:
        from tokenizers import Tokenizer

        try:
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # tokenizers raises a plain Exception for bad JSON
            raise ArtifactError(f"cannot read the tokenizer {tokenizer_path}: {exc}") from exc
        encoder = OnnxEncoder(encoder_path, threads)
        try:
            return cls(encoder, tokenizer, settings, dict(thresholds or {}),
                       tuple(stage_labels), tuple(flag_labels))
        except ValueError as exc:
            raise ArtifactError(f"bad neural settings for {encoder_path}: {exc}") from exc

    @classmethod
    def from_artifact(cls, artifact: Artifact, threads: int | None = None) -> NeuralClassifier:
        manifest, path = artifact.manifest, Path(artifact.path)
        files = manifest.get("files", {})
        config = manifest.get("config") or {}
        for role in ("encoder", "tokenizer"):
            name = files.get(role)
            if not name:
                raise ArtifactError(f"manifest in {path} names no {role} file")
            if not (path / name).is_file():
                raise ArtifactError(f"{role} file missing: {path / name}")
        if "head_ids" not in config or "tail_ids" not in config:
            raise ArtifactError(f"manifest in {path} lacks the neural settings (config.head_ids/tail_ids)")
        try:
            settings = NeuralSettings.from_config(config)
        except (TypeError, ValueError) as exc:
            raise ArtifactError(f"bad neural settings in {path}: {exc}") from exc
        labels = manifest.get("labels", {})
        return cls.from_files(
            path / files["encoder"],
            path / files["tokenizer"],
            settings,
            manifest.get("thresholds", {}),
            stage_labels=labels.get("stages", STAGE_NAMES),
            flag_labels=labels.get("flags", FLAG_NAMES),
            threads=threads,
        )
