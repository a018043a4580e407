"""Training the fast tier: calibration, word features and scope marks, on tiny models."""

import json
import time

import numpy as np
import pytest

from models.analyzer import Analyzer, model_texts
from models.artifact import load_artifact
from models.fast import (
    FastClassifier,
    FeatureOptions,
    expected_calibration_error,
    fit_platt,
    fit_temperature,
    scope_marks,
)
from models.labels import FLAG_NAMES, STAGE_NAMES
from tests.conftest import TINY_ITEMS, tiny_items
from tests.models.test_artifact import FIXTURE_V1
from training.fast import FastConfig, choose_thresholds, train_fast

TEXTS = [t for t, _, _ in TINY_ITEMS] + ["再不还钱   就上门找你家人", "", "您的欠款已逾期，请尽快还款"]
NORMALISED = [model_texts({"text": t})[0] for t in TEXTS]


def _train(tmp_path, **settings):
    items = tiny_items()
    config = FastConfig(name="tiny", version="0.0.1", min_df=1, max_features=5000, word_min_df=1, **settings)
    return train_fast(config, {"train": items, "dev": items, "test": items}, "tiny-corpus", output=tmp_path / "m")


@pytest.fixture(scope="module")
def calibrated_dir(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("cal"))


def test_tiny_training_is_fast(tmp_path, calibrated_dir):  # the fixture has paid for the imports
    started = time.perf_counter()
    _train(tmp_path, mark_negation=True, mark_quotes=True, frame_feature=True)
    assert time.perf_counter() - started < 5  # well under a second on a quiet machine


def test_calibration_saved_and_loaded(calibrated_dir):
    payload = load_artifact(calibrated_dir).payload
    calibration = payload["calibration"]
    assert isinstance(calibration["stage_temperature"], float) and calibration["stage_temperature"] > 0
    assert set(calibration["flag_a"]) == set(payload["flag_models"])
    assert all(a > 0 for a in calibration["flag_a"].values())
    classifier = Analyzer.load(calibrated_dir).classifier
    assert classifier.stage_temperature == calibration["stage_temperature"] != 1.0
    assert classifier.flag_calibration


def test_metrics_hold_calibration_errors(calibrated_dir):
    metrics = json.loads((calibrated_dir / "metrics.json").read_text())
    cal = metrics["calibration"]
    assert cal["calibrated"] is True
    for split in ("dev", "test"):
        for when in ("before", "after"):
            assert 0 <= cal[split][when]["stage_ece"] <= 1
            assert 0 <= cal[split][when]["flag_ece"] <= 1
            assert set(cal[split][when]["flag_ece_per_flag"]) <= set(FLAG_NAMES)
    # Fitted on these very items, calibration must not make them worse.
    assert cal["dev"]["after"]["stage_ece"] <= cal["dev"]["before"]["stage_ece"] + 1e-9
    assert metrics["fit_seconds"] >= 0


def test_identical_predictions_after_save_and_load(tmp_path):
    items = tiny_items()
    stage_texts = [model_texts({"text": it["text"]})[0] for it in items]
    flag_sets = [{f["label"] for f in it["flags"]} for it in items]
    stages = [it["stage"] for it in items]
    options = FeatureOptions(negation=True, quotes=True, frame=True)
    classifier = FastClassifier.fit(stage_texts, stages, stage_texts, flag_sets, min_df=1, options=options)
    classifier.calibrate(stage_texts, stages, stage_texts, flag_sets)
    classifier.thresholds = choose_thresholds(classifier, stage_texts, flag_sets, "half_best_f1")
    from models.artifact import build_manifest, save_artifact

    manifest = build_manifest(name="t", version="0", kind=classifier.kind, thresholds=classifier.thresholds,
                              corpus_hash="x" * 64)
    save_artifact(tmp_path / "m", manifest, classifier.to_payload(), {}, "card")
    loaded = Analyzer.load(tmp_path / "m").classifier
    assert loaded.options == options
    np.testing.assert_array_equal(loaded.stage_proba(NORMALISED), classifier.stage_proba(NORMALISED))
    np.testing.assert_array_equal(loaded.flag_proba(NORMALISED), classifier.flag_proba(NORMALISED))
    for a, b in zip(loaded.predict(NORMALISED, NORMALISED), classifier.predict(NORMALISED, NORMALISED), strict=True):
        assert a.raised == b.raised and a.evidence == b.evidence


def test_calibrated_probabilities_are_monotone_in_raw_scores(calibrated_dir):
    classifier = Analyzer.load(calibrated_dir).classifier
    texts = NORMALISED + [t + "，" + u for t, u in zip(NORMALISED, reversed(NORMALISED), strict=True)]
    x = classifier.transform_reference(texts)
    proba = classifier.flag_proba(texts)
    decision = classifier.flag_decision(texts)
    for name, model in classifier.flag_models.items():
        raw = decision[:, FLAG_NAMES.index(name)]
        np.testing.assert_allclose(raw, model.decision_function(x), atol=1e-4)  # scikit-learn's raw score
        calibrated = proba[:, FLAG_NAMES.index(name)]
        order = np.argsort(raw, kind="stable")
        assert np.all(np.diff(calibrated[order]) >= -1e-12), name
        a, b = classifier.flag_calibration[name]
        np.testing.assert_allclose(calibrated, 1 / (1 + np.exp(-(a * raw + b))), atol=1e-9)
    # Temperature scaling: same argmax, probabilities = softmax(logits / T).
    stage = classifier.stage_proba(texts)
    logits = model_logits = classifier.stage_model.decision_function(x).astype(np.float64)
    if model_logits.ndim == 1:
        logits = np.column_stack([np.zeros_like(model_logits), model_logits])
    z = logits / classifier.stage_temperature
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    columns = [STAGE_NAMES.index(c) for c in classifier.stage_model.classes_]
    np.testing.assert_allclose(stage[:, columns], expected, atol=1e-5)


def test_old_artifact_loads_uncalibrated_and_unchanged():
    classifier = Analyzer.load(FIXTURE_V1).classifier
    assert classifier.stage_temperature == 1.0 and classifier.flag_calibration == {}
    assert classifier.options == FeatureOptions() and classifier.word_vectorizer is None
    # Without calibration the probabilities are scikit-learn's own.
    x = classifier.vectorizer.transform(NORMALISED)
    for name, model in classifier.flag_models.items():
        np.testing.assert_allclose(classifier.flag_proba(NORMALISED)[:, FLAG_NAMES.index(name)],
                                   model.predict_proba(x)[:, 1], atol=1e-6)


def test_uncalibrated_training_keeps_the_old_payload(tmp_path):
    out = _train(tmp_path, calibrate=False)
    payload = load_artifact(out).payload
    assert set(payload) == {"vocabulary", "idf", "ngram_range", "stage_model", "flag_models"}
    calibration = json.loads((out / "metrics.json").read_text())["calibration"]
    assert calibration["calibrated"] is False
    assert calibration["test"]["before"] == calibration["test"]["after"]


def test_fit_platt_and_temperature_recover_known_parameters():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=8000)
    y = (rng.random(8000) < 1 / (1 + np.exp(-(0.5 * scores - 1.0)))).astype(float)
    a, b = fit_platt(scores, y)
    assert a == pytest.approx(0.5, abs=0.1) and b == pytest.approx(-1.0, abs=0.1)
    assert fit_platt(-scores, y)[0] > 0  # never reverses the order
    logits = rng.normal(scale=3, size=(8000, 4))
    p = np.exp(logits / 2.0)
    p /= p.sum(axis=1, keepdims=True)
    labels = (rng.random((8000, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    assert fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.05)


def test_expected_calibration_error():
    assert expected_calibration_error(np.array([0.9, 0.9]), np.array([1, 1])) == pytest.approx(0.1)
    assert expected_calibration_error(np.array([0.25, 0.75, 0.75, 0.25]), np.array([0, 1, 1, 0])) == pytest.approx(0.25)
    assert expected_calibration_error(np.array([]), np.array([])) == 0.0
    assert expected_calibration_error(np.array([1.0, 0.0]), np.array([1, 0])) == 0.0


def test_word_features_match_sklearn_reference(tmp_path):
    classifier = Analyzer.load(_train(tmp_path, words=True)).classifier
    assert classifier.word_vectorizer is not None
    reference = classifier.transform_reference(NORMALISED).toarray()
    n_chars = len(classifier.vectorizer.vocabulary_)
    assert reference.shape[1] == n_chars + len(classifier.word_vectorizer.vocabulary_)
    assert "逾期" in classifier.word_vectorizer.vocabulary_
    for k, text in enumerate(NORMALISED):
        indices, values = classifier._features(text)
        row = np.zeros(reference.shape[1])
        row[indices] = values
        np.testing.assert_allclose(row, reference[k], atol=1e-6)


@pytest.mark.parametrize(
    ("text", "scoped", "plain"),
    [
        ("我司不会联系您的家人,请放心。", "不会联系您的家人", "请放心"),
        ("严禁泄露客户信息;请按时还款", "严禁泄露客户信息", "请按时还款"),
        ("短信里写着“再不还钱就上门”,我很害怕", "“再不还钱就上门”", "我很害怕"),
        ("投诉:催收员说要把照片发到群里。已报警", "催收员说要把照片发到群里", "已报警"),
        ("不还钱就上门", "", "不还钱就上门"),  # a bare 不 is a condition, not a negation
        ("请点击“我的-还款”", "", "请点击“我的-还款”"),  # a button label, not speech
        ("我们不会放过你,但会联系你家人", "不会放过你", "但会联系你家人"),
    ],
)
def test_scope_marks(text, scoped, plain):
    marks = scope_marks(text, FeatureOptions(negation=True, quotes=True))
    if not scoped:
        assert marks is None
        return
    assert len(marks) == len(text)
    s = text.index(scoped)
    assert set(marks[s : s + len(scoped)]) <= {"n", "q"} and "." not in marks[s : s + len(scoped)]
    p = text.index(plain)
    assert set(marks[p : p + len(plain)]) == {"."}


def test_evidence_of_a_marked_model_maps_back_to_the_original_text(tmp_path):
    analyzer = Analyzer.load(_train(tmp_path, mark_negation=True, mark_quotes=True, frame_feature=True))
    # Full-width punctuation, a traditional character, a zero-width space, a negated clause
    # and a quoted one: normalisation changes offsets, marks must not.
    original = "你好！\u200b我司不會联系您的家人。短信“请您按时还款”，再不还钱小心你家人的安全！"
    result = analyzer.analyze(original, "2026-11-22T10:00:00")
    threat = {f.label: f for f in result.flags}.get("violent_threat")
    assert threat is not None and threat.evidence
    for span in threat.evidence:
        assert original[span.start : span.end] == span.text
    assert any("安全" in span.text for span in threat.evidence)


@pytest.mark.parametrize(
    ("text", "marked"),
    [
        ("朋友圈已发:'此人借钱不还,大家转发帮忙找人'", False),  # the content the sender published
        ("视频标题'欠钱不还的人现在过得有多潇洒'", False),
        ("他在群里发消息说“此人欠钱不还大家注意”", True),  # said: reported speech
        ("条例第六条“催收人员不得威胁债务人”", True),
    ],
)
def test_published_content_is_not_a_quotation(text, marked):
    marks = scope_marks(text, FeatureOptions(quotes=True))
    assert (marks is not None and "q" in marks) == marked


def test_unknown_scope_rules_refused(tmp_path):
    from models.artifact import ArtifactError

    out = _train(tmp_path, mark_quotes=True)
    artifact = load_artifact(out)
    artifact.payload["features"]["scope_rules"] = 99
    with pytest.raises(ArtifactError, match="scope rules"):
        FastClassifier.from_artifact(artifact)
