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


def _metrics(**extra) -> dict:
    prf = {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    return {
        "items": 2, "stage": {"accuracy": 0.5, "macro_f1": 0.5, "per_label": {"none": prf}},
        "flags": {"micro_f1": 0.6667, "micro_precision": 1.0, "micro_recall": 0.5, "false_flag_rate": 0.0,
                  "per_label": {"insult": prf}},
        "amounts": {"f1": 1.0}, "deadlines": {"f1": 1.0}, "overdue_days_accuracy": 1.0, "texts_per_second": 10.0,
        **extra,
    }


def test_metrics_table_shows_evidence_when_measured():
    from evaluation.report import metrics_table

    table = metrics_table(_metrics(evidence={"flags": 3, "hit_rate": 0.6667, "char_precision": 0.5,
                                             "char_recall": 0.25}))
    assert "evidence  overlaps gold 0.6667  characters: precision 0.5000  recall 0.2500" in table
    assert "evidence" not in metrics_table(_metrics())  # metrics saved before the evidence measure
