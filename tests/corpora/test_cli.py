"""The `corpus` click group, invoked directly."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from corpora.cli import corpus

from .fixtures import small_corpus, text_item, write_jsonl


def _built(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "hand" / "a.jsonl", small_corpus(n_families=12, per_family=2))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        corpus,
        [
            "build",
            "--hand-dir",
            str(tmp_path / "hand"),
            "--generated",
            str(tmp_path / "none.jsonl"),
            "--out-dir",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "corpus hash" in result.stdout and "kept 24 of 24" in result.stdout
    return out


def test_build_check_stats_json(tmp_path: Path) -> None:
    out = _built(tmp_path)
    runner = CliRunner()
    check = runner.invoke(corpus, ["check", "--data-dir", str(out)])
    assert check.exit_code == 0 and "ok: 24 items" in check.stdout
    stats = runner.invoke(corpus, ["stats", "--json", "--data-dir", str(out)])
    assert stats.exit_code == 0, stats.output
    data = json.loads(stats.stdout.strip().splitlines()[-1])
    for key in (
        "items",
        "transcripts",
        "hand_written",
        "per_stage",
        "per_flag",
        "near_duplicate_rate",
        "top50_sentence_coverage",
    ):
        assert key in data
    assert data["items"] == 24
    table = runner.invoke(corpus, ["stats", "--data-dir", str(out)])
    assert table.exit_code == 0 and "near_duplicate_rate" in table.stdout


def test_check_fails_on_a_corrupted_split(tmp_path: Path) -> None:
    out = _built(tmp_path)
    train = out / "train.jsonl"
    lines = train.read_text(encoding="utf-8").splitlines()
    item = json.loads(lines[0])
    item["amounts"][0]["value"] = 0.5
    train.write_text("\n".join([json.dumps(item, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(corpus, ["check", "--data-dir", str(out)])
    assert result.exit_code == 1
    assert item["id"] in result.stdout and "1 problems" in result.output


def test_check_raw_reports_bad_items(tmp_path: Path) -> None:
    bad = text_item("raw-bad", "f")
    bad["gold"]["amounts"][0]["quote"] = "没有这个"
    write_jsonl(tmp_path / "hand" / "b.jsonl", [text_item("raw-ok", "f"), bad])
    result = CliRunner().invoke(corpus, ["check", "--raw", str(tmp_path / "hand")])
    assert result.exit_code == 1 and "raw-bad" in result.stdout and "raw-ok" not in result.stdout


def test_user_errors_are_click_exceptions(tmp_path: Path) -> None:
    result = CliRunner().invoke(corpus, ["stats", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "not built yet" in result.output
    result = CliRunner().invoke(
        corpus, ["build", "--hand-dir", str(tmp_path / "no"), "--generated", str(tmp_path / "no.jsonl")]
    )
    assert result.exit_code == 1 and "no input" in result.output
