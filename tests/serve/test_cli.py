import csv
import io
import json

from click.testing import CliRunner

from serve.cli import main


def _run(args, input=None):
    return CliRunner().invoke(main, args, input=input)


def _lines(n_good: int, bad_at: dict[int, str]) -> str:
    rows = []
    for i in range(n_good + len(bad_at)):
        if i in bad_at:
            rows.append(bad_at[i])
        else:
            rows.append(json.dumps({"id": f"m{i}", "text": "你这个老赖真不要脸，今天还5k", "reference_time": "2026-11-22T10:00:00"},
                                   ensure_ascii=False))
    return "\n".join(rows) + "\n"


def test_analyze_goes_past_bad_lines(tiny_model_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(_lines(200, {5: "{not json", 50: json.dumps({"id": "x9", "text": 3}), 120: "[1, 2]"}), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = _run(["analyze", str(src), "-o", str(out), "--model", str(tiny_model_dir), "--batch-size", "32"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 203
    errors = [r for r in rows if "error" in r]
    assert [r["line"] for r in errors] == [6, 51, 121]
    assert errors[1]["id"] == "x9" and "text" in errors[1]["error"]
    assert rows[0]["id"] == "m0" and rows[-1]["id"] == "m202"
    assert "lines/s" in result.stderr


def test_analyze_stdin_to_stdout(tiny_model_dir):
    result = _run(["analyze", "-", "--model", str(tiny_model_dir), "--no-progress"],
                  input='{"text": "我行已向人民法院提起诉讼"}\n')
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 1 and "stage" in rows[0]


def test_transcript_line(tiny_model_dir):
    line = json.dumps({"id": "c1", "turns": [{"speaker": "agent", "text": "你这个老赖"}, {"speaker": "customer", "text": "滚"}]},
                      ensure_ascii=False)
    result = _run(["analyze", "-", "--model", str(tiny_model_dir), "--no-progress"], input=line + "\n")
    row = json.loads(result.stdout)
    assert row["id"] == "c1" and all(ev["turn"] == 0 for f in row["flags"] for ev in f["evidence"])


def test_bad_speaker_is_reported(tiny_model_dir):
    line = json.dumps({"id": "c2", "turns": [{"speaker": "robot", "text": "hi"}]})
    result = _run(["analyze", "-", "--model", str(tiny_model_dir), "--no-progress"], input=line + "\n")
    row = json.loads(result.stdout)
    assert row["id"] == "c2" and "speaker" in row["error"]


def test_csv_in_and_out_with_text_column(tiny_model_dir, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,message\n1,你这个老赖真不要脸\n2,\n3,您的验证码是123456\n", encoding="utf-8")
    result = _run(["analyze", str(src), "--text-column", "message", "--model", str(tiny_model_dir), "--no-progress"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert "insult" in rows[0]["flags"] and rows[1]["error"] and not rows[2]["error"]


def test_missing_input_is_a_clear_error(tiny_model_dir, tmp_path):
    result = _run(["analyze", str(tmp_path / "nope.jsonl"), "--model", str(tiny_model_dir)])
    assert result.exit_code == 1
    assert "cannot open input" in result.output


def test_bad_model_dir_is_a_clear_error(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "x"}\n')
    result = _run(["analyze", str(src), "--model", str(tmp_path)])
    assert result.exit_code == 1
    assert "cannot load model" in result.output and "manifest.json" in result.output


def test_evaluate_unknown_model(tmp_path):
    result = _run(["evaluate", str(tmp_path / "none")])
    assert result.exit_code == 1 and "cannot load model" in result.output


def test_train_bad_config(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("kind = 'fast-linear'\nnot_a_setting = 1\n")
    result = _run(["train", str(cfg)])
    assert result.exit_code == 1 and "not_a_setting" in result.output


def test_train_set_overrides_are_checked(tmp_path):
    cfg = tmp_path / "ok.toml"
    cfg.write_text("kind = 'fast-linear'\n")
    result = _run(["train", str(cfg), "--set", "not_a_setting=1"])
    assert result.exit_code == 1 and "not_a_setting" in result.output
    result = _run(["train", str(cfg), "--set", "seed"])
    assert result.exit_code == 1 and "KEY=VALUE" in result.output
