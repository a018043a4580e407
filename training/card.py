"""Model cards: written by training from the manifest and the measured metrics."""

from __future__ import annotations

from models.labels import FLAG_BY_NAME, FLAG_NAMES, STAGE_BY_NAME, STAGE_NAMES

_LIMITATIONS = """\
- Flags are screening aids for people who then read the text, not legal verdicts.
- Trained only on the cuishou corpus, written in this repository (generated and
  hand-written texts). Real messages use wordings the corpus lacks; expect lower
  accuracy on them than on the held-out test split below.
- Amounts and deadlines come from rule-based extractors, not from this model.
"""

# What each model kind gets wrong by its nature, and the config that reproduces it.
_KIND_NOTES = {
    "fast-linear": (
        "- A character n-gram model sees words, not meaning. N-grams inside quotations, reported\n"
        "  speech and the scope of a negation or prohibition (\"我们不会联系您的家人\") are kept\n"
        "  apart as their own features, which handles such texts only in part: a hypothetical\n"
        "  or a quotation the rules do not catch can still raise a flag.\n",
        "training/configs/fast.toml",
    ),
    "neural-e5": (
        "- A small encoder (multilingual-e5-small, cut to a few layers, int8) reads at most one\n"
        "  window of tokens at a time; long texts are read in overlapping windows whose\n"
        "  results are pooled, so a flag needs its evidence inside one window.\n",
        "training/configs/neural.toml",
    ),
    "cascade": (
        "- The cascade answers with the fast tier wherever that tier is sure, so it shares\n"
        "  the fast tier's blind spots on confident mistakes; see each tier's own card.\n",
        "training/configs/cascade.toml",
    ),
}


def _json_block(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, indent=2)


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def write_card(manifest: dict, metrics: dict) -> str:
    parts = [
        f"# {manifest['name']} {manifest['version']}",
        "",
        f"Kind: `{manifest['kind']}`. Format version {manifest['format_version']}. "
        f"Created {manifest['created']}. Corpus hash `{manifest['corpus_hash'][:16]}`.",
        "",
        "Reads a Chinese debt-collection text (SMS, letter, app notice, chat or call transcript) "
        "and returns its escalation stage and flags for forbidden collection conduct, per "
        "`shared/spec/labels.md`.",
        "",
        "## Labels",
        "",
        _table([[s, STAGE_BY_NAME[s].zh] for s in STAGE_NAMES], ["stage", "中文"]),
        "",
        _table(
            [[f, FLAG_BY_NAME[f].zh, str(manifest["thresholds"].get(f, "-"))] for f in FLAG_NAMES],
            ["flag", "中文", "threshold (chosen on dev)"],
        ),
        "",
        "## Training data",
        "",
        f"{metrics.get('train_items', '?')} training items from `corpora/` (train split); thresholds "
        "chosen on the dev split; figures below on the test split, which holds out whole "
        "families (templates and authoring batches) so it measures generalisation.",
        "",
    ]
    for split, m in metrics.get("splits", {}).items():
        parts += [
            f"## Metrics: {split} split ({m['items']} items)",
            "",
            f"- stage accuracy {m['stage']['accuracy']}, macro-F1 {m['stage']['macro_f1']}",
            f"- flags micro-F1 {m['flags']['micro_f1']} (precision {m['flags']['micro_precision']}, "
            f"recall {m['flags']['micro_recall']}), false-flag rate on texts with no flag "
            f"{m['flags']['false_flag_rate']}",
            f"- amounts F1 {m['amounts']['f1']}, deadlines F1 {m['deadlines']['f1']}, "
            f"overdue days accuracy {m['overdue_days_accuracy']}",
            f"- speed: {m['texts_per_second']} texts/s (whole pipeline, batches of 256, this machine)",
            "",
            _table(
                [[k, str(v["precision"]), str(v["recall"]), str(v["f1"]), str(v["support"])]
                 for k, v in {**m["stage"]["per_label"], **m["flags"]["per_label"]}.items()],
                ["label", "precision", "recall", "F1", "support"],
            ),
            "",
        ]
    if "calibration" in metrics:
        parts += ["## Calibration", "", "Expected calibration error (10 bins), lower is better:", "",
                  "```", _json_block(metrics["calibration"]), "```", ""]
    if "routing" in metrics:
        chosen = metrics["routing"]["chosen"]
        parts += [
            "## Routing",
            "",
            f"The fast tier's stage stands when its probability is at least {chosen['stage_confidence']} "
            f"({chosen.get('conversation_stage_confidence', chosen['stage_confidence'])} for a conversation "
            "with customer turns); "
            f"its flags stand when every flag probability is below {chosen['flag_floor']} times its "
            "threshold (no flag raised or near). The neural tier answers the unsure part of the other items "
            f"({chosen['neural_share']:.1%} of dev). Each setting is the one that routes the fewest "
            "items while its dev score stays within the loss budget of the better tier.",
            "",
        ]
    kind_note, config_file = _KIND_NOTES.get(manifest["kind"], ("", "CONFIG"))
    parts += [
        "## Limitations",
        "",
        _LIMITATIONS + kind_note,
        "## Reproduce",
        "",
        "```",
        f"cuishou train {config_file}",
        f"cuishou evaluate {manifest['config'].get('output', 'models/artifacts/' + manifest['name'])} --split test",
        "```",
        "",
        "Library versions: " + ", ".join(f"{k} {v}" for k, v in manifest["library_versions"].items()),
        "",
    ]
    return "\n".join(parts)
