"""``cuishou qa``: scorecards in order, error lines, the HTML report, user errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from serve.cli import main

CALL = {"id": "c1", "call_start": "2026-03-14T10:00:00", "turns": [
    {"speaker": "agent", "text": "您好这里是恒信银行信用卡中心 您的账户逾期30天欠款2000元 请通过手机银行还款"},
    {"speaker": "customer", "text": "你们这帮骗子再打我就报警"},
]}


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_scores_in_order_and_goes_on_after_bad_lines(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    late = {**CALL, "id": 42, "call_start": "2026-03-14T23:00:00",
            "turns": [{"speaker": "agent", "text": "<b>你这个老赖</b>欠钱不还"}]}
    src.write_text("\n".join([
        json.dumps(CALL, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "bad-speaker", "turns": [{"speaker": "boss", "text": "x"}]}),
        "[1, 2]",
        json.dumps({"id": "no-turns"}),
        json.dumps(late, ensure_ascii=False),
    ]) + "\n", encoding="utf-8")
    out, html = tmp_path / "out.jsonl", tmp_path / "report.html"
    result = runner.invoke(main, ["qa", str(src), "-o", str(out), "--html", str(html)])
    assert result.exit_code == 0, result.output
    rows = _lines(out.read_text(encoding="utf-8"))
    assert [r.get("id") for r in rows] == ["c1", None, "bad-speaker", None, "no-turns", "42"]
    assert rows[0]["score"] == 100.0 and rows[0]["violations"] == []
    assert rows[1]["line"] == 2 and "not valid JSON" in rows[1]["error"]
    assert rows[2]["line"] == 3 and "speaker" in rows[2]["error"]
    assert rows[3] == {"line": 4, "error": "expected a JSON object, got list"}
    assert rows[4]["line"] == 5 and "turns" in rows[4]["error"]
    assert "off_hours_contact" in {v["label"] for v in rows[5]["violations"]}
    assert set(rows[0]["checks"]) == {"agent_identified", "debt_stated", "lawful_payment_offered"}
    page = html.read_text(encoding="utf-8")
    assert "<b>你这个老赖</b>" not in page and "&lt;b&gt;你这个老赖&lt;/b&gt;" in page
    assert "<script" not in page and "http" not in page  # self-contained
    assert page.count("<tr") == 7
    assert "scored 6 calls (4 with errors)" in result.stderr


def test_stdout_by_default(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(CALL, ensure_ascii=False) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["qa", str(src)])
    assert result.exit_code == 0
    assert _lines(result.stdout)[0]["id"] == "c1"


def test_missing_input_is_a_user_error(runner, tmp_path):
    result = runner.invoke(main, ["qa", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1
    assert "cannot open input" in result.stderr


def test_bad_rubric_is_a_user_error(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(CALL, ensure_ascii=False) + "\n", encoding="utf-8")
    rubric = tmp_path / "r.toml"
    rubric.write_text("[violations]\nshouting = 5\n[checks]\n", encoding="utf-8")
    result = runner.invoke(main, ["qa", str(src), "--rubric", str(rubric)])
    assert result.exit_code == 1
    assert "unknown label(s) in [violations]: shouting" in result.stderr


def test_bad_model_dir_is_a_user_error(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(CALL, ensure_ascii=False) + "\n", encoding="utf-8")
    (tmp_path / "model").mkdir()
    result = runner.invoke(main, ["qa", str(src), "--model", str(tmp_path / "model")])
    assert result.exit_code == 1
    assert "cannot load model" in result.stderr


def test_unwritable_report_is_a_user_error(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(CALL, ensure_ascii=False) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["qa", str(src), "-o", str(tmp_path / "o.jsonl"),
                                  "--html", str(tmp_path / "no" / "such" / "r.html")])
    assert result.exit_code == 1
    assert "cannot write report" in result.stderr
