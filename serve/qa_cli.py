"""``cuishou qa``: score call transcripts (spec §7) from a JSON Lines file.

One JSON scorecard per input line, same order, ``id`` echoed; a line that cannot be read
gets ``{"id"?, "line", "error"}`` and the run goes on. ``--html`` also writes a
self-contained report for the batch. Logs and progress go to stderr.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import click

from serve.batch import validate_record

log = logging.getLogger(__name__)

_CHUNK = 256


def parse_line(raw: str, line_no: int):
    """A ``Call``, or an error dict for a line that cannot be scored."""
    from models.qa import Call

    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {"line": line_no, "error": f"not valid JSON: {exc.msg} (column {exc.colno})"}
    if not isinstance(record, dict):
        return {"line": line_no, "error": f"expected a JSON object, got {type(record).__name__}"}
    return validate_record(Call, record, line_no)


def _score_chunk(analyzer, chunk: list, rubric) -> list:
    from models.qa import Call, score_calls

    calls = [(i, c) for i, (_, c) in enumerate(chunk) if isinstance(c, Call)]
    out = [c for _, c in chunk]
    try:
        cards = score_calls(analyzer, [c for _, c in calls], rubric)
    except (ValueError, TypeError):  # one bad call: score one at a time to find it
        cards = []
        for i, call in calls:
            try:
                cards.append(score_calls(analyzer, [call], rubric)[0])
            except (ValueError, TypeError) as exc:
                err = {"line": chunk[i][0], "error": str(exc)}
                cards.append({"id": call.id, **err} if call.id is not None else err)
    for (i, _), card in zip(calls, cards, strict=True):
        out[i] = card
    return out


@click.command()
@click.argument("input_path", metavar="INPUT.jsonl", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("-o", "--output", "output_path", default="-", type=click.Path(allow_dash=True, dir_okay=False),
              help="Where to write the scorecards, one JSON per line (default: stdout).")
@click.option("--html", "html_path", default=None, type=click.Path(dir_okay=False),
              help="Also write a self-contained HTML report of the batch.")
@click.option("--rubric", "rubric_path", default=None, type=click.Path(dir_okay=False),
              help="Rubric TOML file (default: models/qa/default_rubric.toml).")
@click.option("--model", "model_dir", default=None, type=click.Path(file_okay=False),
              help="Model directory (default: the shipped model).")
def qa(input_path: str, output_path: str, html_path: str | None, rubric_path: str | None,
       model_dir: str | None) -> None:
    """Score call transcripts: one JSON scorecard per input line, same order.

    Input lines: {"id", "turns": [{"speaker": "agent"|"customer", "text", "timestamp"?}],
    "reference_time"?, "call_start"?, "dials_today"?, "reached_is_debtor"?,
    "debtor_consented_to_off_hours"?}.
    """
    from models.analyzer import Analyzer
    from models.artifact import ArtifactError
    from models.qa import RubricError, Scorecard, load_rubric, render_html

    try:
        rubric = load_rubric(rubric_path)
    except RubricError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        source = click.open_file(input_path, "r", encoding="utf-8", errors="replace")
    except OSError as exc:
        raise click.ClickException(f"cannot open input {input_path}: {exc.strerror or exc}") from exc
    try:
        analyzer = Analyzer.load(model_dir)
    except ArtifactError as exc:
        raise click.ClickException(f"cannot load model: {exc}") from exc
    try:
        sink = click.open_file(output_path, "w", encoding="utf-8", atomic=output_path != "-")
    except OSError as exc:
        raise click.ClickException(f"cannot open output {output_path}: {exc.strerror or exc}") from exc

    started, rows, errors = time.perf_counter(), [], 0
    keep = html_path is not None
    with source, sink:
        chunk: list = []

        def flush() -> None:
            nonlocal errors
            for row in _score_chunk(analyzer, chunk, rubric):
                if isinstance(row, Scorecard):
                    data = row.to_json_dict()
                else:
                    data, errors = row, errors + 1
                sink.write(json.dumps(data, ensure_ascii=False) + "\n")
                if keep:
                    rows.append(row)
            chunk.clear()

        line_no = 0
        for line_no, raw in enumerate(source, start=1):
            if not raw.strip():
                chunk.append((line_no, {"line": line_no, "error": "empty line"}))
            else:
                chunk.append((line_no, parse_line(raw, line_no)))
            if len(chunk) >= _CHUNK:
                flush()
                log.info("scored %d calls", line_no)
        flush()
    if html_path is not None:
        title = f"cuishou QA report: {Path(input_path).name if input_path != '-' else 'stdin'}"
        try:
            Path(html_path).write_text(render_html(rows, title=title, rubric_name=rubric.name), encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write report {html_path}: {exc.strerror or exc}") from exc
    seconds = time.perf_counter() - started
    click.echo(f"scored {line_no} calls ({errors} with errors) in {seconds:.2f} s with model "
               f"{analyzer.name} {analyzer.version} and rubric {rubric.name}", err=True)
