"""The model the product ships with: real files, loaded as a user would load them."""

import json
import subprocess
import sys

import pytest

from models.analyzer import ARTIFACTS_DIR, Analyzer, default_model_dir
from models.artifact import read_manifest
from models.labels import FLAG_NAMES, STAGE_NAMES


def test_shipped_manifest_names_every_label():
    manifest = read_manifest(default_model_dir())
    assert manifest["labels"] == {"stages": list(STAGE_NAMES), "flags": list(FLAG_NAMES)}
    assert set(manifest["thresholds"]) == set(FLAG_NAMES)
    assert len(manifest["corpus_hash"]) == 64


def test_shipped_model_loads_from_any_working_directory(tmp_path):
    code = "from models import Analyzer; a = Analyzer.load(); print(a.analyze('你这个老赖', '2026-01-01T00:00:00').stage.label)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() in STAGE_NAMES


@pytest.mark.parametrize("name", [None, "cuishou-fast", "cuishou-neural", "cuishou-cascade"])
def test_shipped_model_on_spec_examples(spec_examples, name):
    """The spec's 60 edge cases are never trained on; every shipped model must mostly agree."""
    analyzer = Analyzer.load(None if name is None else ARTIFACTS_DIR / name)
    stage_ok = tp = fp = fn = 0
    for ex in spec_examples:
        if "turns" in ex:
            result = analyzer.analyze_turns(ex["turns"], ex["reference_time"])
        else:
            result = analyzer.analyze(ex["text"], ex["reference_time"])
        stage_ok += result.stage.label == ex["gold"]["stage"]
        pred, gold = {f.label for f in result.flags}, set(ex["gold"]["flags"])
        tp, fp, fn = tp + len(pred & gold), fp + len(pred - gold), fn + len(gold - pred)
    assert stage_ok / len(spec_examples) >= 0.8
    assert 2 * tp / (2 * tp + fp + fn) >= 0.75


def test_samples_command_output(tmp_path):
    """The README's main job: analyse the shipped samples with the shipped model."""
    from click.testing import CliRunner

    from serve.cli import main

    result = CliRunner().invoke(main, ["analyze", "corpora/samples.jsonl", "--no-progress"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 12 and all("error" not in r for r in rows)
    by_id = {r["id"]: r for r in rows}
    assert by_id["sample-08"]["stage"]["label"] == "none"
    assert by_id["sample-04"]["flags"], "the threat to post in the work group must raise a flag"
