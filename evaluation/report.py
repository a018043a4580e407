"""Human-readable renderings of metrics dicts (from ``evaluation.metrics``)."""

from __future__ import annotations


def metrics_table(metrics: dict) -> str:
    lines = []
    model = metrics.get("model", {})
    if model:
        lines.append(f"model {model.get('name')} {model.get('version')} on split {metrics.get('split', '?')}"
                     f" ({metrics['items']} items)")
    stage, flags = metrics["stage"], metrics["flags"]
    lines += [
        f"stage     accuracy {stage['accuracy']:.4f}  macro-F1 {stage['macro_f1']:.4f}",
        f"flags     micro-F1 {flags['micro_f1']:.4f}  precision {flags['micro_precision']:.4f}  "
        f"recall {flags['micro_recall']:.4f}  false-flag rate {flags['false_flag_rate']:.4f}",
        *([f"evidence  overlaps gold {metrics['evidence']['hit_rate']:.4f}  characters: precision "
           f"{metrics['evidence']['char_precision']:.4f}  recall {metrics['evidence']['char_recall']:.4f}"]
          if "evidence" in metrics else []),
        f"amounts   F1 {metrics['amounts']['f1']:.4f}   deadlines F1 {metrics['deadlines']['f1']:.4f}   "
        f"overdue days accuracy {metrics['overdue_days_accuracy']:.4f}",
        f"speed     {metrics['texts_per_second']} texts/s",
        "",
        f"{'label':<22}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}",
    ]
    for label, m in {**stage["per_label"], **flags["per_label"]}.items():
        lines.append(f"{label:<22}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}{m['support']:>10}")
    return "\n".join(lines)
