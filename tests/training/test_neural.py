"""Training the neural tier end to end on a tiny BERT and tokenizer built here (no download)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the neural tier trains with torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx")

from transformers import BertConfig, BertModel  # noqa: E402

from models.analyzer import Analyzer  # noqa: E402
from models.artifact import ArtifactError  # noqa: E402
from models.labels import FLAG_NAMES  # noqa: E402
from models.neural import NeuralClassifier, Windower  # noqa: E402
from models.text import normalize  # noqa: E402
from tests.conftest import REPO_ROOT, TINY_ITEMS, tiny_items  # noqa: E402
from tests.neural_fixtures import PAD, tiny_tokenizer  # noqa: E402
from training.config import load_config, trainer  # noqa: E402
from training.fast import train_fast  # noqa: E402
from training.neural import (  # noqa: E402
    NeuralConfig,
    bucketed_batches,
    choose_thresholds,
    encode_examples,
    fit_neural,
    make_example,
    resolve_device,
    save_neural,
    train_neural,
)

REF = "2026-11-22T10:00:00"
TRANSCRIPT = {
    "turns": [
        {"speaker": "customer", "text": "你们又打来干嘛，老赖说谁呢。"},
        {"speaker": "agent", "text": "您好，这里是银行催收中心。"},
        {"speaker": "agent", "text": "再不还钱小心你家人的安全，我们会联系你通讯录里的所有人。"},
    ],
    "stage": "overdue_notice",
}
LONG_TEXT = "".join(text for text, _, _ in TINY_ITEMS[2:9])  # well over max_length (24) tokens


def _items() -> list[dict]:
    """The tiny corpus with evidence on every flag (the whole text), plus a transcript."""
    items = tiny_items()
    for item in items:
        for flag in item["flags"]:
            end = len(item["text"].rstrip("。"))
            flag["evidence"] = [{"start": 0, "end": end, "text": item["text"][:end]}]
    turn = TRANSCRIPT["turns"][2]["text"]
    cut = turn.index("，")
    items.append({
        "id": "tiny-call", "turns": TRANSCRIPT["turns"], "reference_time": REF, "stage": "overdue_notice",
        "flags": [
            {"label": "violent_threat", "evidence": [{"start": 0, "end": cut, "text": turn[:cut], "turn": 2}]},
            {"label": "third_party_contact",
             "evidence": [{"start": cut + 1, "end": len(turn) - 1, "text": turn[cut + 1 : -1], "turn": 2}]},
        ],
        "amounts": [], "deadlines": [], "overdue_days": None,
    })
    return items


def _base(items: list[dict]):
    texts = [it.get("text") or "".join(t["text"] for t in it["turns"]) for it in items] + [LONG_TEXT]
    tokenizer = tiny_tokenizer([normalize(t).text for t in texts])
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=64, max_position_embeddings=64, pad_token_id=PAD)
    return BertModel(config, add_pooling_layer=False), tokenizer


def _config(**kw) -> NeuralConfig:
    defaults = dict(name="tiny-neural", version="0.0.1", layers=2, max_length=24, window_overlap=4, epochs=2,
                    batch_size=8, learning_rate=1e-3, head_learning_rate=3e-3, quantize_int8=False, log_every=0)
    return NeuralConfig(**{**defaults, **kw})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(fitted torch model, artifact directory) from one tiny fp32 training run."""
    items = _items()
    config = _config()
    fitted = fit_neural(config, items, base=_base(items))
    out = save_neural(fitted, config, {"train": items, "dev": items, "test": items}, "tiny-corpus",
                      tmp_path_factory.mktemp("neural"))
    return fitted, out


def _requests() -> list[dict]:
    texts = [text for text, _, _ in TINY_ITEMS[8:12]]
    return [{"text": t, "reference_time": REF} for t in [*texts, LONG_TEXT]] + [
        {"turns": TRANSCRIPT["turns"], "reference_time": REF}]


def _all_flags(analyzer: Analyzer) -> Analyzer:
    """Raise every flag, so that evidence is produced and checked for all of them."""
    analyzer.classifier.thresholds = {name: 0.0 for name in FLAG_NAMES}
    return analyzer


# --------------------------------------------------------------------------- data


def test_make_example_maps_turn_evidence_onto_the_agent_text():
    turns = [
        {"speaker": "customer", "text": "别打了"},
        {"speaker": "agent", "text": "您好\u200b，这里是催 收中心。"},  # zero-width space, split keyword
        {"speaker": "agent", "text": "ＡＢ再不还钱小心你家人的安全！"},  # full-width letters and mark
    ]
    evidence = {"start": 2, "end": 14, "text": turns[2]["text"][2:14], "turn": 2}
    item = {"turns": turns, "stage": "overdue_notice", "flags": [{"label": "violent_threat", "evidence": [evidence]}]}
    example = make_example(item)
    assert example.flag_text == "您好,这里是催收中心。\nab再不还钱小心你家人的安全!"
    assert example.stage_text.startswith("别打了\n")
    j = FLAG_NAMES.index("violent_threat")
    tagged = "".join(c for c, hit in zip(example.flag_text, example.char_tags[:, j], strict=True) if hit)
    assert tagged == "再不还钱小心你家人的安全"
    assert example.tags_known.all() and example.flags[j] == 1


def test_evidence_on_a_customer_turn_does_not_teach_the_tagger():
    item = {"turns": TRANSCRIPT["turns"], "stage": "none",
            "flags": [{"label": "insult", "evidence": [{"start": 9, "end": 11, "text": "老赖", "turn": 0}]}]}
    example = make_example(item)
    j = FLAG_NAMES.index("insult")
    assert not example.char_tags[:, j].any() and not example.tags_known[j]


def test_token_targets_follow_the_character_tags():
    items = _items()
    _, tokenizer = _base(items)
    config = _config()
    windower = Windower(tokenizer, config.settings(tokenizer))
    encoded = encode_examples([make_example(items[-1])], windower)[0]
    assert not encoded.shared and encoded.stage_windows and encoded.flag_windows
    j = FLAG_NAMES.index("violent_threat")
    flag_text = encoded.example.flag_text
    evidence = flag_text.index("再不还钱")
    for w, target in zip(encoded.flag_windows, encoded.tag_targets, strict=True):
        for (s, e), hit in zip(w.offsets.tolist(), target[:, j], strict=True):
            # A token is evidence exactly when it overlaps the 12 tagged characters.
            assert bool(hit) == (e > s and s < evidence + 12 and e > evidence)
    assert any(t[:, j].any() for t in encoded.tag_targets)


def test_bucketed_batches_cover_everything_once():
    import random

    lengths = list(range(100))
    for pool in (1, 2, 50):
        batches = bucketed_batches(lengths, 8, random.Random(0), pool=pool)
        assert sorted(i for b in batches for i in b) == lengths
        assert all(len(b) <= 8 for b in batches)
    # One pool holding everything: each batch is a run of neighbouring lengths.
    assert all(max(b) - min(b) == len(b) - 1 for b in batches)
    assert batches != bucketed_batches(lengths, 8, random.Random(1), pool=50)  # shuffled per seed


def test_choose_thresholds_maximise_dev_f1():
    proba = np.zeros((4, len(FLAG_NAMES)))
    proba[:, 0] = [0.9, 0.7, 0.3, 0.1]
    gold = [{FLAG_NAMES[0]}, {FLAG_NAMES[0]}, set(), set()]
    thresholds = choose_thresholds(proba, gold, [FLAG_NAMES[0], FLAG_NAMES[1]])
    assert 0.3 < thresholds[FLAG_NAMES[0]] <= 0.7
    assert thresholds[FLAG_NAMES[1]] == 0.5  # no dev positives
    assert set(thresholds) == {FLAG_NAMES[0], FLAG_NAMES[1]}


# --------------------------------------------------------------------------- the artifact


def test_artifact_files_manifest_and_card(trained):
    _, out = trained
    for name in ("model.onnx", "tokenizer.json", "manifest.json", "metrics.json", "README.md"):
        assert (out / name).is_file()
    assert not (out / "model.skops").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "neural-e5" and manifest["name"] == "tiny-neural"
    assert manifest["files"] == {"model": None, "metrics": "metrics.json", "card": "README.md",
                                 "encoder": "model.onnx", "tokenizer": "tokenizer.json"}
    config = manifest["config"]
    assert config["max_length"] == 24 and config["prefix"] == "query: "
    assert config["head_ids"] == [0] and config["tail_ids"] == [2] and config["pad_id"] == PAD
    assert set(manifest["thresholds"]) == set(FLAG_NAMES)  # every flag has training positives
    assert "torch" in manifest["library_versions"] and "onnxruntime" in manifest["library_versions"]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["onnx_check_max_abs_diff"]["fp32"]["stage_logits"] < 1e-4
    assert metrics["onnx_check_max_abs_diff"]["fused"]["flag_logits"] < 1e-4
    assert config["attention_fused"] == 2
    assert metrics["speed_sms"]["texts_per_second"] > 0
    assert set(metrics["splits"]) == {"dev", "test"}
    assert len(metrics["training"]) == 2
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "Neural tier" in card and "neural.toml" in card


def test_loaded_model_predicts_like_the_torch_model(trained):
    fitted, out = trained
    analyzer = Analyzer.load(out)
    assert isinstance(analyzer.classifier, NeuralClassifier)
    in_memory = fitted.classifier(analyzer.classifier.thresholds)
    stage_texts = ["您的借款已逾期10天，请尽快还款。", LONG_TEXT, "您好,这里是银行催收中心。\n再不还钱"]
    flag_texts = [stage_texts[0], LONG_TEXT, "再不还钱"]
    got = analyzer.classifier.predict(stage_texts, flag_texts)
    ref = in_memory.predict(stage_texts, flag_texts)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_allclose(a.stage, b.stage, atol=1e-5)
        np.testing.assert_allclose(a.flags, b.flags, atol=1e-5)
        assert a.raised == b.raised and a.evidence == b.evidence
    assert len(analyzer.classifier.windower.windows([LONG_TEXT])) > 1  # the long text is windowed


def test_save_load_gives_identical_results(trained, tmp_path):
    _, out = trained
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    first, second = Analyzer.load(out), Analyzer.load(copy)
    a = [r.to_json_dict() for r in first.analyze_batch(_requests())]
    b = [r.to_json_dict() for r in second.analyze_batch(_requests())]
    assert a == b


def test_evidence_lies_in_the_text_and_in_agent_turns(trained):
    _, out = trained
    analyzer = _all_flags(Analyzer.load(out))
    requests = _requests()
    for request, result in zip(requests, analyzer.analyze_batch(requests), strict=True):
        assert {f.label for f in result.flags} == set(FLAG_NAMES)
        for flag in result.flags:
            assert flag.evidence, flag.label  # every raised flag points somewhere
            for span in flag.evidence:
                if "text" in request:
                    source = request["text"]
                    assert span.turn is None
                else:
                    assert request["turns"][span.turn]["speaker"] == "agent"
                    source = request["turns"][span.turn]["text"]
                assert 0 <= span.start < span.end <= len(source)
                assert source[span.start : span.end] == span.text


def test_long_text_is_windowed_and_analysed(trained):
    _, out = trained
    analyzer = Analyzer.load(out)
    windows = analyzer.classifier.windower.windows([LONG_TEXT * 3])
    assert len(windows) > 3 and max(len(w.ids) for w in windows) <= 24
    result = analyzer.analyze(LONG_TEXT * 3, reference_time=REF)
    assert sum(result.stage.scores.values()) == pytest.approx(1.0, abs=1e-3)


def test_train_neural_end_to_end_with_int8(tmp_path):
    items = _items()
    config = _config(epochs=1, quantize_int8=True, prune_vocab=True, train_limit=20, eval_limit=10)
    out = train_neural(config, {"train": items, "dev": items, "test": items}, "tiny-corpus",
                       output=tmp_path / "m", base=_base(items))
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    diffs = metrics["onnx_check_max_abs_diff"]
    assert diffs["fp32"]["flag_logits"] < 1e-4 and diffs["int8"]["flag_proba"] < 0.1
    assert diffs["fused"]["flag_proba"] < 0.1  # attention fused into the int8 graph too
    assert metrics["train_items"] == 20 and metrics["splits"]["dev"]["items"] == 10
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["config"]["quantized"] is True
    result = Analyzer.load(out).analyze(LONG_TEXT, reference_time=REF)
    assert result.stage.label


def test_best_dev_epoch_is_kept_and_every_epoch_is_scored():
    items = _items()
    config = _config(epochs=3, learning_rate=3e-3, head_learning_rate=1e-2)
    fitted = fit_neural(config, items, base=_base(items), dev_items=items)
    history = fitted.history
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert all(0.0 <= h["dev_stage_macro_f1"] <= 1.0 and 0.0 <= h["dev_flags_micro_f1"] <= 1.0 for h in history)
    totals = [h["dev_stage_macro_f1"] + h["dev_flags_micro_f1"] for h in history]
    assert fitted.stats["kept_epoch"] == 1 + totals.index(max(totals))
    assert fitted.stats["device"] == "cpu"
    assert all(p.device.type == "cpu" and p.dtype == torch.float32 for p in fitted.model.parameters())
    # The kept weights are the ones scored: scoring them again gives that epoch's figures.
    from training.neural import dev_scores
    known = sorted({f["label"] for it in items for f in it["flags"]})
    again = dev_scores(fitted, [make_example(it) for it in items], known)
    kept = history[fitted.stats["kept_epoch"] - 1]
    assert again == {k: kept[k] for k in again}


def test_without_dev_items_the_last_epoch_is_kept():
    items = _items()
    fitted = fit_neural(_config(epochs=1), items, base=_base(items))
    assert fitted.stats["kept_epoch"] == 1 and "dev_stage_macro_f1" not in fitted.history[0]


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no GPU"):
            resolve_device("cuda")


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "model.onnx").unlink(), "encoder file missing"),
    (lambda d: (d / "model.onnx").write_bytes(b"\x08\x07garbage"), "ONNX encoder"),
    (lambda d: (d / "tokenizer.json").write_text("[]", encoding="utf-8"), "tokenizer"),
    (lambda d: (d / "manifest.json").write_text("{", encoding="utf-8"), "unreadable"),
])
def test_bad_or_missing_files_raise_artifact_error(trained, tmp_path, damage, message):
    _, out = trained
    copy = tmp_path / "bad"
    shutil.copytree(out, copy)
    damage(copy)
    with pytest.raises(ArtifactError, match=message):
        Analyzer.load(copy)


# --------------------------------------------------------------------------- configs


def test_shipped_neural_config_loads_and_dispatches():
    config = load_config(REPO_ROOT / "training" / "configs" / "neural.toml")
    assert isinstance(config, NeuralConfig) and config.output == "models/artifacts/cuishou-neural"
    assert trainer(config) is train_neural
    assert trainer(load_config(REPO_ROOT / "training" / "configs" / "fast.toml")) is train_fast


def test_fast_training_config_does_not_import_torch():
    code = ("import sys; from training.config import load_config; "
            "load_config('training/configs/fast.toml'); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)


# --------------------------------------------------------------------------- attention fusion


def _ops(model_dir) -> list[str]:
    import onnx

    return [n.op_type for n in onnx.load(str(model_dir / "model.onnx")).graph.node]


def test_saved_encoder_has_one_attention_node_per_layer(trained):
    _, out = trained
    ops = _ops(out)
    assert ops.count("MultiHeadAttention") == 2
    assert "Softmax" not in ops and "Transpose" not in ops


def test_fusing_a_saved_model_keeps_its_answers(tmp_path):
    from training.onnx_fusion import fuse_model_dir

    items = _items()
    config = _config(epochs=1, fuse_attention=False)
    fitted = fit_neural(config, items, base=_base(items))
    out = save_neural(fitted, config, {"train": items, "dev": items, "test": items[:4]}, "tiny-corpus",
                      tmp_path / "m")
    assert _ops(out).count("Softmax") == 2 and "MultiHeadAttention" not in _ops(out)
    before = [r.to_json_dict() for r in _all_flags(Analyzer.load(out)).analyze_batch(_requests())]

    texts = [LONG_TEXT, *(text for text, _, _ in TINY_ITEMS[:6])]  # different lengths: padding matters
    report = fuse_model_dir(out, texts)
    assert report["layers_fused"] == 2 and report["max_abs_difference"] < 1e-5
    assert _ops(out).count("MultiHeadAttention") == 2 and "Softmax" not in _ops(out)
    assert "Attention fused after training" in (out / "README.md").read_text(encoding="utf-8")
    after = [r.to_json_dict() for r in _all_flags(Analyzer.load(out)).analyze_batch(_requests())]
    for a, b in zip(before, after, strict=True):
        assert a["stage"]["label"] == b["stage"]["label"]
        assert a["stage"]["scores"] == pytest.approx(b["stage"]["scores"], abs=1e-5)
        assert [(f["label"], f["evidence"]) for f in a["flags"]] == [(f["label"], f["evidence"]) for f in b["flags"]]

    again = fuse_model_dir(out, texts)  # nothing left to fuse; the record stays
    assert again["layers_fused"] == 0
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["config"]["attention_fused"] == 2


def test_a_graph_without_the_attention_pattern_is_left_alone():
    import onnx
    from onnx import TensorProto, helper

    from training.onnx_fusion import fuse_attention

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 4])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", 4])
    nodes = [helper.make_node("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
             helper.make_node("Add", ["x", "m"], ["s"]),
             helper.make_node("Softmax", ["s"], ["y"], axis=-1)]
    model = helper.make_model(helper.make_graph(nodes, "g", [x, mask], [y]))
    before = model.SerializeToString()
    fused_model, fused = fuse_attention(model)
    assert fused == 0 and fused_model.SerializeToString() == before
    onnx.checker.check_model(fused_model)
