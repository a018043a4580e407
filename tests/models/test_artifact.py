import json
import shutil
from pathlib import Path

import pytest

from models.analyzer import Analyzer
from models.artifact import FORMAT_VERSION, ArtifactError, load_artifact, read_manifest

FIXTURE_V1 = Path(__file__).resolve().parent.parent / "fixtures" / "artifact_v1"
TEXTS = ["再不还钱小心你家人的安全，老赖", "您的借款已逾期10天，请尽快还款。", "我行已向人民法院提起诉讼"]


def _predictions(analyzer):
    return [r.to_json_dict() for r in analyzer.analyze_batch([{"text": t, "reference_time": "2026-11-22T10:00:00"} for t in TEXTS])]


def test_artifact_layout(tiny_model_dir):
    for name in ("manifest.json", "model.skops", "metrics.json", "README.md"):
        assert (tiny_model_dir / name).is_file()
    manifest = json.loads((tiny_model_dir / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    for key in ("name", "version", "labels", "thresholds", "corpus_hash", "library_versions", "created"):
        assert key in manifest
    assert "scikit-learn" in manifest["library_versions"]
    card = (tiny_model_dir / "README.md").read_text()
    assert "tiny" in card and "Limitations" in card and "test split" in card


def test_save_load_identical_predictions(tiny_model_dir, tmp_path):
    first = Analyzer.load(tiny_model_dir)
    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)
    second = Analyzer.load(copy)
    assert _predictions(first) == _predictions(second)


def test_committed_v1_fixture_still_loads_and_predicts_the_same():
    analyzer = Analyzer.load(FIXTURE_V1)
    expected = json.loads((FIXTURE_V1 / "expected_predictions.json").read_text(encoding="utf-8"))
    got = _predictions(analyzer)
    assert [r["stage"]["label"] for r in got] == [r["stage"]["label"] for r in expected]
    assert [[f["label"] for f in r["flags"]] for r in got] == [[f["label"] for f in r["flags"]] for r in expected]
    for g, e in zip(got, expected, strict=True):
        for label, score in e["stage"]["scores"].items():
            assert g["stage"]["scores"][label] == pytest.approx(score, abs=1e-3)


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ArtifactError, match="not found"):
        read_manifest(tmp_path / "nope")


def test_directory_without_manifest(tmp_path):
    with pytest.raises(ArtifactError, match="no manifest.json"):
        read_manifest(tmp_path)


def test_future_format_version_refused(tiny_model_dir, tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(tiny_model_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = 999
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="not supported"):
        load_artifact(copy)


def test_untrusted_types_refused(tiny_model_dir, tmp_path):
    import skops.io as sio

    copy = tmp_path / "m"
    shutil.copytree(tiny_model_dir, copy)
    # A payload holding a type outside the allow-list (here a collections.OrderedDict subclass
    # of our own would be worse; any foreign type must be refused).
    from collections import Counter

    sio.dump({"vectorizer": Counter(a=1)}, copy / "model.skops")
    with pytest.raises(ArtifactError, match="untrusted"):
        load_artifact(copy)


def test_corrupt_model_file(tiny_model_dir, tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(tiny_model_dir, copy)
    (copy / "model.skops").write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match="cannot read"):
        load_artifact(copy)
