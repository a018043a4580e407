"""The fast tier's own inference path must equal scikit-learn's on the same fitted models."""

import numpy as np
import pytest

from models.analyzer import model_texts
from models.fast import FastClassifier
from models.labels import FLAG_NAMES, STAGE_NAMES
from tests.conftest import TINY_ITEMS

UNSEEN = ["再不还钱   就上门找你家人", "", "   ", "ABC abc 123", "感谢您按时还款"]


def _fit(items):
    texts = [model_texts({"text": t})[0] for t, _, _ in items]
    return FastClassifier.fit(
        texts, [s for _, s, _ in items], texts, [set(f) for _, _, f in items], min_df=1, max_features=5000
    )


@pytest.fixture(scope="module")
def classifier():
    return _fit(TINY_ITEMS * 2)


def _sklearn_stage(classifier, texts):
    proba = classifier.stage_model.predict_proba(classifier.vectorizer.transform(texts))
    out = np.zeros((len(texts), len(STAGE_NAMES)))
    for j, label in enumerate(classifier.stage_model.classes_):
        out[:, STAGE_NAMES.index(label)] = proba[:, j]
    return out


def test_stage_proba_equals_sklearn(classifier):
    texts = [t for t, _, _ in TINY_ITEMS] + UNSEEN
    np.testing.assert_allclose(classifier.stage_proba(texts), _sklearn_stage(classifier, texts), atol=1e-5)


def test_flag_proba_equals_sklearn(classifier):
    texts = [t for t, _, _ in TINY_ITEMS] + UNSEEN
    x = classifier.vectorizer.transform(texts)
    ours = classifier.flag_proba(texts)
    for name, model in classifier.flag_models.items():
        np.testing.assert_allclose(ours[:, FLAG_NAMES.index(name)], model.predict_proba(x)[:, 1], atol=1e-5)


def test_binary_stage_model_equals_sklearn():
    two_stages = [(t, s, f) for t, s, f in TINY_ITEMS if s in ("none", "litigation")]
    classifier = _fit(two_stages * 2)
    texts = [t for t, _, _ in two_stages] + UNSEEN
    np.testing.assert_allclose(classifier.stage_proba(texts), _sklearn_stage(classifier, texts), atol=1e-5)


def test_predict_raises_flags_over_threshold_with_evidence(classifier):
    text = model_texts({"text": "你好。再不还钱小心你家人的安全。谢谢。"})[1]
    (prediction,) = classifier.predict([text], [text])
    assert prediction.tier == "fast"
    assert "violent_threat" in prediction.raised
    for name in prediction.raised:
        assert prediction.flags[FLAG_NAMES.index(name)] >= classifier.threshold(name)
    spans = prediction.evidence["violent_threat"]
    assert spans and any("安全" in text[s:e] for s, e in spans)
    assert "你好" not in "".join(text[s:e] for s, e in spans)


def test_predict_on_empty_batch(classifier):
    assert classifier.predict([], []) == []
