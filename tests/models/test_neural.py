"""Runtime pieces of the neural tier that need no training: windows, batches, evidence, the
classifier around a stand-in encoder, and loading an ONNX graph built by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.analyzer import Analyzer
from models.artifact import ArtifactError, build_manifest, load_artifact
from models.labels import FLAG_NAMES, STAGE_NAMES
from models.neural import (
    NeuralClassifier,
    NeuralSettings,
    Windower,
    char_scores,
    evidence_spans,
    length_batches,
    pad_batch,
    run_windows,
    special_ids,
    window_starts,
)
from models.text import clause_spans
from tests.neural_fixtures import BOS, EOS, PAD, tiny_tokenizer

TEXTS = [
    "您的借款已逾期10天，请尽快还款。",
    "再不还钱小心你家人的安全，你这个老赖。",
    "警察明天上门拘留你，你要坐牢。我们会联系你的家人，每天给你打一百个电话。",
]


def _settings(**kw) -> NeuralSettings:
    return NeuralSettings(**{"max_length": 16, "window_overlap": 3, "head_ids": (BOS,), "tail_ids": (EOS,),
                             "pad_id": PAD, **kw})


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer(TEXTS + ["客户", "我没钱", "您好这里是银行"])


# --------------------------------------------------------------------------- windows


@pytest.mark.parametrize("n, size, overlap", [(0, 10, 2), (5, 10, 2), (10, 10, 2), (11, 10, 2), (57, 10, 3), (40, 8, 0)])
def test_window_starts_cover_every_token_with_full_windows(n, size, overlap):
    starts = window_starts(n, size, overlap)
    assert starts[0] == 0
    covered = set()
    for s in starts:
        covered |= set(range(s, min(n, s + size)))
    assert covered == set(range(n))
    if n > size:
        assert starts[-1] == n - size  # the last window is full, not a short tail
        steps = np.diff(starts)
        assert (steps <= size - overlap).all() and (steps > 0).all()


def test_special_ids_of_a_template_tokenizer(tokenizer):
    assert special_ids(tokenizer) == ([BOS], [EOS], PAD)


def test_prefix_then_text_equals_tokenising_them_together(tokenizer):
    windower = Windower(tokenizer, _settings(max_length=64))
    for text in TEXTS:
        joint = tokenizer.encode("query: " + text, add_special_tokens=False).ids
        (ids, _), = windower.encode([text])
        assert windower.prefix_ids + ids.tolist() == joint


def test_windows_hold_specials_prefix_and_map_back_to_the_text(tokenizer):
    settings = _settings()
    windower = Windower(tokenizer, settings)
    windows = windower.windows(TEXTS)
    assert {w.unit for w in windows} == {0, 1, 2}
    assert sum(w.unit == 2 for w in windows) > 1  # the long text is cut
    for w in windows:
        assert len(w.ids) <= settings.max_length
        assert w.ids[0] == BOS and w.ids[-1] == EOS
        assert w.ids[1 : w.content_start].tolist() == windower.prefix_ids
        assert len(w.ids) == w.content_start + len(w.offsets) + 1
        text = TEXTS[w.unit]
        assert all(0 <= s <= e <= len(text) for s, e in w.offsets.tolist())
    # Every character of a long text is covered by some window's tokens.
    covered = set()
    for w in (w for w in windows if w.unit == 2):
        for s, e in w.offsets.tolist():
            covered |= set(range(s, e))
    assert covered == set(range(len(TEXTS[2])))


def test_empty_text_gives_one_window_of_specials(tokenizer):
    (w,) = Windower(tokenizer, _settings()).windows([""])
    assert len(w.offsets) == 0 and w.ids[0] == BOS and w.ids[-1] == EOS


def test_too_small_max_length_is_refused(tokenizer):
    with pytest.raises(ValueError, match="leaves"):
        Windower(tokenizer, _settings(max_length=6))


def test_length_batches_and_padding():
    lengths = [5, 1, 9, 3, 7]
    batches = length_batches(lengths, 2)
    assert sorted(i for b in batches for i in b) == list(range(5))
    assert [[lengths[i] for i in b] for b in batches] == [[1, 3], [5, 7], [9]]
    ids, mask = pad_batch([np.array([4, 5, 6]), np.array([7])], pad_id=1)
    assert ids.tolist() == [[4, 5, 6], [7, 1, 1]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert ids.dtype == mask.dtype == np.int64


# --------------------------------------------------------------------------- evidence


def test_clause_spans_trim_and_keep_numbers_whole():
    text = " 请于17:00前还款3.5万, 否则 后果自负。\n你好"
    assert [text[s:e] for s, e in clause_spans(text)] == ["请于17:00前还款3.5万", "否则 后果自负", "你好"]


def test_char_scores_take_the_strongest_overlapping_window():
    scores = char_scores(6, [(np.array([[0, 2], [2, 4]]), np.array([0.2, 0.9])),
                             (np.array([[2, 4], [4, 5]]), np.array([0.5, 0.7]))])
    assert scores.tolist() == [0.2, 0.2, 0.9, 0.9, 0.7, -1.0]


def test_evidence_widens_runs_to_clauses_and_ranks_them():
    text = "你好，再不还钱小心你家人的安全，我们会联系你单位，请尽快还款。"
    clauses = clause_spans(text)
    offsets = np.array([[i, i + 1] for i in range(len(text))])
    probs = np.zeros(len(text))
    probs[text.index("家人")] = 0.9  # one hot token inside the second clause
    probs[text.index("单位")] = 0.6
    spans = evidence_spans(text, [(offsets, probs)], threshold=0.5, max_spans=3)
    assert [text[s:e] for s, e in spans] == ["再不还钱小心你家人的安全", "我们会联系你单位"]
    assert set(spans) <= set(clauses)
    # max_spans keeps the strongest clause only.
    (only,) = evidence_spans(text, [(offsets, probs)], threshold=0.5, max_spans=1)
    assert text[only[0] : only[1]] == "再不还钱小心你家人的安全"


def test_evidence_falls_back_to_the_strongest_token_clause():
    text = "请尽快还款，否则后果自负。"
    offsets = np.array([[i, i + 1] for i in range(len(text))])
    probs = np.full(len(text), 0.01)
    probs[text.index("后果")] = 0.2
    assert evidence_spans(text, [(offsets, probs)], threshold=0.5) == [(6, 12)]
    assert evidence_spans("", [(np.zeros((0, 2), dtype=int), np.zeros(0))], 0.5) == []


def test_evidence_never_spans_a_turn_separator():
    # "▁你" after a newline has offsets covering the newline too.
    text = "您好\n你这个老赖"
    offsets = np.array([[0, 2], [2, 4], [4, 6], [6, 8]])
    probs = np.array([0.0, 0.9, 0.1, 0.8])
    assert evidence_spans(text, [(offsets, probs)], 0.5) == [(3, 8)]


# --------------------------------------------------------------------------- classifier


class FakeEncoder:
    """Deterministic stand-in for the ONNX encoder; records the windows it is given.

    stage logits: column ``id % 8`` of the window's ids summed; flag logits: +4 when the
    window holds the piece "老赖" (flag insult), else -4; tag logits: +4 on that piece.
    """

    def __init__(self, tokenizer):
        self.hot = tokenizer.token_to_id("老赖")
        self.calls: list[np.ndarray] = []

    def __call__(self, ids, mask):
        self.calls.append(ids)
        b, t = ids.shape
        stage = np.zeros((b, len(STAGE_NAMES)), dtype=np.float32)
        for row in range(b):
            for i in ids[row][mask[row] == 1]:
                stage[row, i % len(STAGE_NAMES)] += 0.1
        hot = (ids == self.hot) & (mask == 1)
        flags = np.full((b, len(FLAG_NAMES)), -4.0, dtype=np.float32)
        flags[hot.any(1), FLAG_NAMES.index("insult")] = 4.0
        tags = np.full((b, t, len(FLAG_NAMES)), -4.0, dtype=np.float32)
        tags[hot, FLAG_NAMES.index("insult")] = 4.0
        return stage, flags, tags


def _classifier(tokenizer, **kw):
    thresholds = kw.pop("thresholds", {"insult": 0.5, "violent_threat": 0.5})
    return NeuralClassifier(FakeEncoder(tokenizer), tokenizer, _settings(**kw), thresholds)


def test_plain_texts_are_encoded_once(tokenizer):
    clf = _classifier(tokenizer)
    clf.predict(TEXTS, TEXTS)
    expected = len(clf.windower.windows(TEXTS))
    assert sum(len(c) for c in clf.encoder.calls) == expected


def test_stage_is_softmax_of_mean_window_logits_and_flags_the_max(tokenizer):
    clf = _classifier(tokenizer)
    long_text = TEXTS[2] + "你这个老赖。"
    (pred,) = clf.predict([long_text], [long_text])
    windows = clf.windower.windows([long_text])
    assert len(windows) > 2
    stage, _, _ = clf.encoder(*pad_batch([w.ids for w in windows], PAD))
    mean = stage.mean(0)
    expected = np.exp(mean - mean.max()) / np.exp(mean - mean.max()).sum()
    np.testing.assert_allclose(pred.stage, expected, rtol=1e-6)
    # "老赖" only sits in the last window; the max over windows still raises the flag.
    assert pred.raised == ["insult"] and pred.tier == "neural"
    assert pred.flags[FLAG_NAMES.index("insult")] == pytest.approx(1 / (1 + np.exp(-4)))
    (span,) = pred.evidence["insult"]
    assert long_text[span[0] : span[1]] == "你这个老赖"


def test_flags_without_threshold_are_never_raised(tokenizer):
    clf = _classifier(tokenizer, thresholds={"violent_threat": 0.0})
    (pred,) = clf.predict([TEXTS[1]], [TEXTS[1]])
    assert pred.raised == ["violent_threat"]  # insult scores high but has no threshold
    assert pred.evidence["violent_threat"]  # the fallback still points at a clause


def test_model_columns_follow_the_manifest_labels(tokenizer):
    flipped = NeuralClassifier(FakeEncoder(tokenizer), tokenizer, _settings(), {"insult": 0.5},
                               STAGE_NAMES[::-1], FLAG_NAMES[::-1])
    plain = _classifier(tokenizer)
    (a,), (b,) = flipped.predict([TEXTS[1]], [TEXTS[1]]), plain.predict([TEXTS[1]], [TEXTS[1]])
    np.testing.assert_allclose(a.stage, b.stage[::-1])
    np.testing.assert_allclose(a.flags, b.flags[::-1])
    # Column 4 of the model is "insult" for the plain classifier, FLAG_NAMES[2] for the other.
    assert a.raised == [] and b.raised == ["insult"]


def test_transcript_evidence_lands_in_agent_turns(tokenizer):
    analyzer = Analyzer(_classifier(tokenizer), {"name": "fake", "version": "0"})
    turns = [
        {"speaker": "customer", "text": "你这个老赖"},  # the customer's words never count
        {"speaker": "agent", "text": "您好这里是银行"},
        {"speaker": "agent", "text": "你这个老赖，每天给你打一百个电话。"},
    ]
    result = analyzer.analyze_turns(turns, reference_time="2026-11-22T10:00:00")
    (flag,) = result.flags
    (span,) = flag.evidence
    assert flag.label == "insult" and span.turn == 2
    assert span.text == turns[2]["text"][span.start : span.end] == "你这个老赖"


def test_empty_inputs(tokenizer):
    clf = _classifier(tokenizer)
    assert clf.predict([], []) == []
    (pred,) = clf.predict([""], [""])
    assert pred.raised == [] and pred.stage.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        clf.predict(["a"], [])


def test_run_windows_returns_outputs_in_window_order(tokenizer):
    windower = Windower(tokenizer, _settings())
    windows = windower.windows(TEXTS)
    outputs = run_windows(FakeEncoder(tokenizer), windows, PAD, batch_size=2)
    one_by_one = [run_windows(FakeEncoder(tokenizer), [w], PAD, 1)[0] for w in windows]
    for a, b, w in zip(outputs, one_by_one, windows, strict=True):
        np.testing.assert_allclose(a.stage_logits, b.stage_logits, rtol=1e-6)
        assert a.tag_logits.shape == (len(w.offsets), len(FLAG_NAMES))


# --------------------------------------------------------------------------- ONNX artifact


def _hand_built_onnx(path, input_names=("input_ids", "attention_mask")):
    """A graph with the encoder's interface: logits computed from the ids, nothing learnt."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    f, s = len(FLAG_NAMES), len(STAGE_NAMES)
    rng = np.random.default_rng(0)
    constants = [
        helper.make_tensor("w_stage", TensorProto.FLOAT, [1, s], rng.normal(size=s).tolist()),
        helper.make_tensor("w_tag", TensorProto.FLOAT, [1, f], (0.01 * rng.normal(size=f)).tolist()),
        helper.make_tensor("last_axis", TensorProto.INT64, [1], [2]),
        helper.make_tensor("tokens_axis", TensorProto.INT64, [1], [1]),
    ]
    nodes = [
        helper.make_node("Cast", [input_names[0]], ["x"], to=TensorProto.FLOAT),
        helper.make_node("Cast", [input_names[1]], ["m"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["x", "m"], ["xm"]),
        helper.make_node("Unsqueeze", ["xm", "last_axis"], ["x3"]),  # [batch, tokens, 1]
        helper.make_node("MatMul", ["x3", "w_tag"], ["tag_logits"]),  # [batch, tokens, flags]
        helper.make_node("ReduceMax", ["tag_logits", "tokens_axis"], ["flag_logits"], keepdims=0),
        helper.make_node("MatMul", ["x3", "w_stage"], ["per_token_stage"]),
        helper.make_node("ReduceMean", ["per_token_stage", "tokens_axis"], ["stage_logits"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "fake-encoder",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"]) for n in input_names],
        [helper.make_tensor_value_info("stage_logits", TensorProto.FLOAT, ["batch", s]),
         helper.make_tensor_value_info("flag_logits", TensorProto.FLOAT, ["batch", f]),
         helper.make_tensor_value_info("tag_logits", TensorProto.FLOAT, ["batch", "tokens", f])],
        initializer=constants,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))


@pytest.fixture
def hand_artifact(tmp_path, tokenizer):
    _hand_built_onnx(tmp_path / "model.onnx")
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    manifest = build_manifest(name="hand", version="0", kind="neural-e5", thresholds={"insult": 0.5},
                              corpus_hash="x", config=_settings().to_config(),
                              files={"model": None, "encoder": "model.onnx", "tokenizer": "tokenizer.json"})
    for name, content in (("manifest.json", json.dumps(manifest)), ("metrics.json", "{}"), ("README.md", "")):
        (tmp_path / name).write_text(content, encoding="utf-8")
    return tmp_path


def test_hand_built_artifact_loads_and_predicts(hand_artifact):
    analyzer = Analyzer.load(hand_artifact)
    assert isinstance(analyzer.classifier, NeuralClassifier)
    result = analyzer.analyze(TEXTS[2], reference_time="2026-11-22T10:00:00")
    assert sum(result.stage.scores.values()) == pytest.approx(1.0, abs=1e-3)
    for flag in result.flags:
        assert flag.evidence and all(TEXTS[2][e.start : e.end] == e.text for e in flag.evidence)


def test_threads_setting_reaches_onnxruntime(hand_artifact, monkeypatch):
    monkeypatch.setenv("CUISHOU_NEURAL_THREADS", "1")
    clf = NeuralClassifier.from_artifact(load_artifact(hand_artifact))
    assert clf.encoder.session.get_session_options().intra_op_num_threads == 1
    clf = NeuralClassifier.from_artifact(load_artifact(hand_artifact), threads=2)
    assert clf.encoder.session.get_session_options().intra_op_num_threads == 2


def test_windows_per_run_setting_reaches_the_encoder(tokenizer, monkeypatch):
    texts = [TEXTS[0], TEXTS[1], TEXTS[2] * 4]  # the last is long: several windows
    n_windows = len(_classifier(tokenizer).windower.windows(texts))
    assert n_windows > 3
    batched = _classifier(tokenizer, windows_per_run=2)
    batched.predict(texts, texts)
    assert max(len(c) for c in batched.encoder.calls) == 2
    monkeypatch.setenv("CUISHOU_NEURAL_WINDOWS_PER_RUN", "1")  # every window alone
    alone = _classifier(tokenizer, windows_per_run=2)
    got = alone.predict(texts, texts)
    assert [len(c) for c in alone.encoder.calls] == [1] * n_windows
    for a, b in zip(got, batched.predict(texts, texts), strict=True):
        np.testing.assert_allclose(a.flags, b.flags)
        assert a.raised == b.raised and a.evidence == b.evidence
    monkeypatch.setenv("CUISHOU_NEURAL_WINDOWS_PER_RUN", "many")
    assert _classifier(tokenizer, windows_per_run=2).windows_per_run == 2  # ignored with a warning


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "model.onnx").unlink(), "encoder file missing"),
    (lambda d: (d / "tokenizer.json").unlink(), "tokenizer file missing"),
    (lambda d: (d / "model.onnx").write_bytes(b"not onnx"), "cannot load the ONNX encoder"),
    (lambda d: (d / "tokenizer.json").write_text("{", encoding="utf-8"), "cannot read the tokenizer"),
    (lambda d: _hand_built_onnx(d / "model.onnx", ("ids", "mask")), "not a cuishou encoder"),
])
def test_damaged_artifacts_raise_artifact_error(hand_artifact, damage, message):
    damage(hand_artifact)
    with pytest.raises(ArtifactError, match=message):
        Analyzer.load(hand_artifact)


def test_manifest_without_neural_settings_is_refused(hand_artifact):
    path = hand_artifact / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["config"]["head_ids"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ArtifactError, match="neural settings"):
        Analyzer.load(hand_artifact)


def test_runtime_never_imports_torch(hand_artifact):
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    # Built from its files rather than through load_artifact: importing skops (done there)
    # imports all of scikit-learn, which imports torch when it is installed.
    code = (
        "import json, sys; from models.neural import NeuralClassifier, NeuralSettings; "
        f"d = {str(hand_artifact)!r}; m = json.load(open(d + '/manifest.json')); "
        "c = NeuralClassifier.from_files(d + '/model.onnx', d + '/tokenizer.json', "
        "NeuralSettings.from_config(m['config']), m['thresholds']); c.predict(['你这个老赖'], ['你这个老赖']); "
        "assert not {'torch', 'transformers'} & set(sys.modules), 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)
