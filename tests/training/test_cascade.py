"""The cascade, built here from two tiny fast models standing in for the two tiers (the
cascade only needs each tier's ``predict``; tests/training/test_neural.py covers the
neural tier itself)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.analyzer import Analyzer, model_texts
from models.artifact import ArtifactError
from models.cascade import CascadeClassifier, flags_are_sure, flags_clear_of_thresholds, merge, stage_is_sure
from models.classifier import Prediction
from models.labels import FLAG_NAMES, STAGE_NAMES
from tests.conftest import tiny_items
from training.cascade import CascadeConfig, choose_routing, train_cascade
from training.fast import FastConfig, train_fast


@pytest.fixture(scope="module")
def tiers(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiers")
    items = tiny_items()
    splits = {"train": items, "dev": items, "test": items}
    fast = train_fast(FastConfig(name="tiny-fast", min_df=1, max_features=5000, c_stage=0.05, c_flag=0.05),
                      splits, "tiny-corpus", output=root / "fast")
    strong = train_fast(FastConfig(name="tiny-strong", min_df=1, max_features=5000, c_stage=50, c_flag=50),
                        splits, "tiny-corpus", output=root / "strong")
    return root, fast, strong, splits


def _prediction(stage_top: float, flag: float) -> Prediction:
    stage = np.full(len(STAGE_NAMES), (1 - stage_top) / (len(STAGE_NAMES) - 1))
    stage[0] = stage_top
    flags = np.zeros(len(FLAG_NAMES))
    flags[0] = flag
    return Prediction(stage, flags, [], {}, "fast")


def test_is_sure_needs_a_confident_stage_and_a_clearly_clean_text():
    cascade = CascadeClassifier(None, None, stage_confidence=0.9, flag_floor=0.2, thresholds={FLAG_NAMES[0]: 0.5})
    assert cascade.is_sure(_prediction(0.95, 0.05))
    assert not cascade.is_sure(_prediction(0.85, 0.05))  # unsure stage
    assert not cascade.is_sure(_prediction(0.95, 0.1))  # 0.1 is not below 0.2 x 0.5: near a flag
    assert not cascade.is_sure(_prediction(0.95, 0.95))  # a raised flag is always checked again
    assert flags_are_sure(_prediction(0.95, 0.95), {FLAG_NAMES[0]: 0.5}, 100.0)  # a floor that never routes


def test_cascades_saved_with_a_flag_margin_keep_that_rule():
    legacy = CascadeClassifier(None, None, 0.9, thresholds={FLAG_NAMES[0]: 0.5}, flag_margin=0.2)
    assert legacy.is_sure(_prediction(0.95, 0.75))  # far above the threshold: sure under the old rule
    assert not legacy.is_sure(_prediction(0.95, 0.6))
    assert flags_clear_of_thresholds(_prediction(0.95, 0.05), {FLAG_NAMES[0]: 0.5}, 0.2)


def test_merge_takes_only_the_unsure_part():
    fast = _prediction(0.6, 0.9)  # unsure stage, sure flag
    neural = _prediction(0.99, 0.1)
    neural.tier = "neural"
    merged = merge(fast, neural, stage_sure=False, flags_sure=True)
    np.testing.assert_allclose(merged.stage, neural.stage)
    np.testing.assert_allclose(merged.flags, fast.flags)
    assert merged.tier == "fast+neural"


def test_choose_routing_prefers_fewest_neural_items_within_the_loss():
    gold_stages = ["none", "none"]
    gold_flags = [set(), set()]
    unsure_wrong = _prediction(0.55, 0.0)
    unsure_wrong.stage = np.roll(unsure_wrong.stage, 1)  # the fast tier gets item 1 wrong, unsure;
    fast = [_prediction(0.99, 0.0), unsure_wrong]
    neural = [_prediction(0.99, 0.0), _prediction(0.99, 0.0)]  # the neural tier gets both right
    routing = choose_routing(fast, neural, {FLAG_NAMES[0]: 0.5}, gold_stages, gold_flags, 0.01)
    chosen = routing["chosen"]
    # so the best routing keeps item 0 on the fast tier and sends only item 1 on.
    assert chosen["neural_share"] == 0.5
    assert 0.55 < chosen["stage_confidence"] <= 0.99


def test_cascade_routes_unsure_items_and_round_trips(tiers, tmp_path):
    root, fast_dir, strong_dir, splits = tiers
    out = train_cascade(CascadeConfig(fast=str(fast_dir), neural=str(strong_dir)), splits, "tiny-corpus",
                        output=tmp_path / "cascade")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "cascade" and not (out / "model.skops").exists()
    assert not manifest["config"]["fast"].startswith("/")  # relative: the directories move together
    analyzer = Analyzer.load(out)
    cascade = analyzer.classifier
    assert isinstance(cascade, CascadeClassifier)
    texts = [model_texts({"text": i["text"]}) for i in splits["test"]]
    stage_texts, flag_texts = [s for s, _ in texts], [f for _, f in texts]
    fast_preds = cascade.fast.predict(stage_texts, flag_texts)
    strong_preds = cascade.neural.predict(stage_texts, flag_texts)
    for got, f, s in zip(cascade.predict(stage_texts, flag_texts), fast_preds, strong_preds, strict=True):
        # Each part comes from the fast tier where that part is sure, else from the other.
        stage_from = f if stage_is_sure(f, cascade.stage_confidence) else s
        flags_from = f if flags_are_sure(f, cascade.fast.thresholds, cascade.flag_floor) else s
        np.testing.assert_allclose(got.stage, stage_from.stage)
        assert got.raised == flags_from.raised and got.evidence == flags_from.evidence
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["splits"]["test"]["neural_share"] <= 1.0
    assert "routing" in metrics and (out / "README.md").read_text().startswith("# cuishou-cascade")


def test_cascade_with_a_missing_tier_is_refused(tiers, tmp_path):
    import shutil

    root, fast_dir, strong_dir, splits = tiers
    moved = tmp_path / "strong"
    shutil.copytree(strong_dir, moved)
    out = train_cascade(CascadeConfig(fast=str(fast_dir), neural=str(moved)), splits, "tiny-corpus",
                        output=tmp_path / "cascade")
    shutil.rmtree(moved)
    with pytest.raises(ArtifactError, match="neural model is missing"):
        Analyzer.load(out)


def test_a_cascade_manifest_with_a_flag_margin_loads_with_the_margin_rule(tiers, tmp_path):
    root, fast_dir, strong_dir, splits = tiers
    out = train_cascade(CascadeConfig(fast=str(fast_dir), neural=str(strong_dir)), splits, "tiny-corpus",
                        output=tmp_path / "cascade")
    manifest = json.loads((out / "manifest.json").read_text())
    assert "flag_floor" in manifest["config"] and "flag_margin" not in manifest["config"]
    del manifest["config"]["flag_floor"]
    manifest["config"]["flag_margin"] = 0.25  # as cascades were saved before the floor rule
    (out / "manifest.json").write_text(json.dumps(manifest))
    cascade = Analyzer.load(out).classifier
    assert cascade.flag_margin == 0.25
    texts = [model_texts({"text": i["text"]}) for i in splits["test"]]
    for f in cascade.fast.predict([s for s, _ in texts], [f for _, f in texts]):
        assert cascade.flags_sure(f) == flags_clear_of_thresholds(f, cascade.fast.thresholds, 0.25)


def test_conversations_get_their_own_stage_confidence():
    wrong = _prediction(0.8, 0.0)
    wrong.stage = np.roll(wrong.stage, 1)  # the fast tier is wrong, at 0.8, on the conversations
    fast = [_prediction(0.8, 0.0), _prediction(0.8, 0.0), wrong, wrong]
    neural = [_prediction(0.99, 0.0) for _ in range(4)]
    routing = choose_routing(fast, neural, {FLAG_NAMES[0]: 0.5}, ["none"] * 4, [set()] * 4, 0.01,
                             conversation=[False, False, True, True])
    chosen = routing["chosen"]
    assert chosen["stage_confidence"] <= 0.8 < chosen["conversation_stage_confidence"]
    assert chosen["neural_share"] == 0.5 and chosen["stage_macro_f1"] == 1.0


def test_routing_aims_at_the_best_mix_not_only_the_better_tier():
    right_sure, wrong_unsure = _prediction(0.99, 0.0), _prediction(0.55, 0.0)
    wrong_unsure.stage = np.roll(wrong_unsure.stage, 1)
    fast = [right_sure, wrong_unsure]  # right on item 0, wrong (and unsure) on item 1
    wrong_neural = _prediction(0.99, 0.0)
    wrong_neural.stage = np.roll(wrong_neural.stage, 1)
    neural = [wrong_neural, _prediction(0.99, 0.0)]  # the other way round: each tier alone gets one
    routing = choose_routing(fast, neural, {FLAG_NAMES[0]: 0.5}, ["none", "none"], [set(), set()], 0.01)
    chosen = routing["chosen"]
    # Never routing would be as good as either tier; routing the unsure item gets both right.
    assert 0.55 < chosen["stage_confidence"] <= 0.99 and chosen["stage_macro_f1"] == 1.0


class _Tier:
    def __init__(self, prediction: Prediction, tier: str):
        self.prediction, self.tier, self.calls = prediction, tier, []

    def predict(self, stage_texts, flag_texts):
        self.calls.append(list(stage_texts))
        return [Prediction(self.prediction.stage.copy(), self.prediction.flags.copy(), [], {}, self.tier)
                for _ in stage_texts]


def test_cascade_routes_a_conversation_by_its_own_confidence():
    fast, neural = _Tier(_prediction(0.8, 0.0), "fast"), _Tier(_prediction(0.99, 0.0), "neural")
    cascade = CascadeClassifier(fast, neural, stage_confidence=0.7, flag_floor=0.2,
                                thresholds={FLAG_NAMES[0]: 0.5}, conversation_stage_confidence=0.9)
    # A plain text is its own flag text; a conversation's flag text is its agent turns only.
    out = cascade.predict(["短信", "坐席：还钱\n客户：好"], ["短信", "坐席：还钱"])
    assert neural.calls == [["坐席：还钱\n客户：好"]]
    assert [p.tier for p in out] == ["fast", "fast+neural"]


def test_fast_flags_that_stand_keep_their_evidence(tiers):
    """The cascade skips the fast tier's evidence and fills it in where the fast flags stand."""
    _, fast_dir, strong_dir, splits = tiers
    fast, strong = Analyzer.load(fast_dir).classifier, Analyzer.load(strong_dir).classifier
    # A floor of 100 never routes flags and a confidence of 0 never routes the stage.
    cascade = CascadeClassifier(fast, strong, stage_confidence=0.0, flag_floor=100.0, thresholds=dict(fast.thresholds))
    texts = [model_texts({"text": i["text"]}) for i in splits["test"]]
    stage_texts, flag_texts = [s for s, _ in texts], [f for _, f in texts]
    expected = fast.predict(stage_texts, flag_texts)
    assert sum(bool(p.raised) for p in expected) >= 3
    assert all(p.evidence == {} for p in fast.predict(stage_texts, flag_texts, evidence=False))
    for got, want in zip(cascade.predict(stage_texts, flag_texts), expected, strict=True):
        assert got.tier == "fast" and got.raised == want.raised
        assert got.evidence == want.evidence and all(got.evidence[n] for n in got.raised)
