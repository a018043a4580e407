"""The fast tier's own inference path must equal scikit-learn's on the same fitted models."""

import numpy as np
import pytest

from models.analyzer import model_texts
from models.fast import FastClassifier, FeatureOptions
from models.labels import FLAG_NAMES, STAGE_NAMES
from tests.conftest import TINY_ITEMS

UNSEEN = ["再不还钱   就上门找你家人", "", "   ", "ABC abc 123", "感谢您按时还款"]
# Texts that exercise the scope marks: negation, quotation, reported speech, a frame.
SCOPED = [
    "我司不会联系您的家人，请放心。",
    "投诉：催收员说“再不还钱小心你家人的安全”。",
    "他扬言「把你照片发到小区群里曝光”，这合法吗？",
    "请勿相信要求转账到个人账户的短信。we will not call your family",
]
VARIANTS = {
    "chars": FeatureOptions(),
    "marks": FeatureOptions(negation=True, quotes=True, quote_min_chars=2, frame=True),
    "words": FeatureOptions(words=True),
    "words+marks": FeatureOptions(negation=True, quotes=True, quote_min_chars=2, frame=True, words=True),
}


def _fit(items, options=None):
    texts = [model_texts({"text": t})[0] for t, _, _ in items]
    return FastClassifier.fit(
        texts, [s for _, s, _ in items], texts, [set(f) for _, _, f in items], min_df=1, max_features=5000,
        options=options, word_min_df=1,
    )


def _norm(texts):
    return [model_texts({"text": t})[0] for t in texts]


@pytest.fixture(scope="module")
def classifier():
    return _fit(TINY_ITEMS * 2)


@pytest.fixture(scope="module", params=list(VARIANTS))
def variant(request):
    # The scoped texts join training so that marked grams and the frame are in the vocabulary.
    extra = [(t, "none", []) for t in SCOPED]
    return _fit((TINY_ITEMS + extra) * 2, VARIANTS[request.param])


def _sklearn_stage(classifier, texts):
    proba = classifier.stage_model.predict_proba(classifier.transform_reference(texts))
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


def test_feature_rows_equal_sklearn_for_every_variant(variant):
    texts = _norm([t for t, _, _ in TINY_ITEMS] + UNSEEN + SCOPED)
    reference = variant.transform_reference(texts).toarray()
    for k, text in enumerate(texts):
        indices, values = variant._features(text)
        row = np.zeros(reference.shape[1])
        row[indices] = values
        np.testing.assert_allclose(row, reference[k], atol=1e-6, err_msg=text)


def test_probabilities_equal_sklearn_for_every_variant(variant):
    texts = _norm([t for t, _, _ in TINY_ITEMS] + UNSEEN + SCOPED)
    np.testing.assert_allclose(variant.stage_proba(texts), _sklearn_stage(variant, texts), atol=1e-5)
    x = variant.transform_reference(texts)
    ours = variant.flag_proba(texts)
    for name, model in variant.flag_models.items():
        np.testing.assert_allclose(ours[:, FLAG_NAMES.index(name)], model.predict_proba(x)[:, 1], atol=1e-5)


def test_marked_variants_have_marked_features():
    classifier = _fit((TINY_ITEMS + [(t, "none", []) for t in SCOPED]) * 2, VARIANTS["words+marks"])
    grams = set(classifier.vectorizer.vocabulary_)
    words = set(classifier.word_vectorizer.vocabulary_)
    assert {"联系", "\ue001联系"} <= grams  # "会联系你通讯录" and the negated "不会联系您的家人"
    assert {"安全", "\ue002安全"} <= grams  # said, and quoted
    assert "\ue003" in grams  # the frame feature
    assert "\ue001联系" in words


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
