"""Evaluation metrics computed by hand on tiny inputs."""

from __future__ import annotations

from evaluation.metrics import evidence_metrics


def test_evidence_metrics_count_only_correct_flags():
    gold = [{"insult": [(None, 0, 10)], "harassment": [(None, 20, 30)]},
            {"violent_threat": [(2, 5, 9)]}]
    pred = [{"insult": [(None, 5, 15)], "scam_risk": [(None, 0, 40)]},  # scam_risk is a flag error: ignored
            {"violent_threat": [(1, 5, 9)]}]  # the right offsets in the wrong turn: no overlap
    m = evidence_metrics(gold, pred)
    assert m["flags"] == 2
    assert m["hit_rate"] == 0.5
    assert m["char_precision"] == round(5 / (10 + 4), 4)  # 5 shared of the 14 predicted characters
    assert m["char_recall"] == round(5 / (10 + 4), 4)


def test_evidence_metrics_without_shared_flags():
    assert evidence_metrics([{}], [{"insult": [(None, 0, 3)]}]) == {
        "flags": 0, "hit_rate": 0.0, "char_precision": 0.0, "char_recall": 0.0}
