"""Batch files in and out (spec §8): read lines, analyse in chunks, write in order.

A bad line never stops the run: it becomes an output line with its ``id`` (when one
could be read), its 1-based ``line`` number and an ``error`` message.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from pydantic import ValidationError

from models.schema import AnalysisRequest, AnalysisResult

log = logging.getLogger(__name__)

CSV_COLUMNS = ("id", "line", "stage", "stage_score", "flags", "flag_scores", "amounts", "deadlines",
               "overdue_days", "error")


@dataclass
class BatchStats:
    lines: int = 0
    errors: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)


def parse_record(record: object, line_no: int, text_column: str) -> AnalysisRequest | dict:
    """A request, or an error line (dict) saying why the record cannot be analysed."""
    if not isinstance(record, dict):
        return {"line": line_no, "error": f"expected a JSON object, got {type(record).__name__}"}
    data = dict(record)
    if text_column != "text" and "text" not in data and text_column in data:
        data["text"] = data.pop(text_column)
    return validate_record(AnalysisRequest, data, line_no)


def validate_record(model, data: dict, line_no: int):
    """``model`` validated from ``data``, or an error line echoing the record's ``id``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = {"line": line_no, "error": _validation_message(exc)}
        raw_id = data.get("id")
        if isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
            error = {"id": str(raw_id), **error}
        return error


def _jsonl_records(source: TextIO, text_column: str) -> Iterator[tuple[int, AnalysisRequest | dict]]:
    for line_no, line in enumerate(source, start=1):
        stripped = line.strip()
        if not stripped:
            yield line_no, {"line": line_no, "error": "empty line"}
            continue
        try:
            record = json.loads(stripped)
        except json.JSONDecodeError as exc:
            yield line_no, {"line": line_no, "error": f"invalid JSON: {exc.msg} at column {exc.colno}"}
            continue
        yield line_no, parse_record(record, line_no, text_column)


def _csv_records(source: TextIO, text_column: str) -> Iterator[tuple[int, AnalysisRequest | dict]]:
    reader = csv.DictReader(source)
    if reader.fieldnames is None or text_column not in reader.fieldnames:
        # Every data row would fail the same way; say it once per row so nothing is lost.
        columns = ", ".join(reader.fieldnames or [])
        for row_no, _ in enumerate(reader, start=2):
            yield row_no, {"line": row_no, "error": f"no column {text_column!r} (columns: {columns})"}
        return
    for row_no, row in enumerate(reader, start=2):  # line 1 is the header
        record = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
        if None in row:
            yield row_no, {"line": row_no, "error": "row has more fields than the header"}
            continue
        if text_column not in record:
            yield row_no, {"id": record.get("id"), "line": row_no, "error": f"empty {text_column!r}"}
            continue
        yield row_no, parse_record(record, row_no, text_column)


def _csv_row(out: dict) -> dict:
    if "error" in out:
        return {"id": out.get("id", ""), "line": out.get("line", ""), "error": out["error"]}
    return {
        "id": out.get("id", ""),
        "line": out.get("line", ""),
        "stage": out["stage"]["label"],
        "stage_score": out["stage"]["scores"][out["stage"]["label"]],
        "flags": ";".join(f["label"] for f in out["flags"]),
        "flag_scores": ";".join(str(f["score"]) for f in out["flags"]),
        "amounts": json.dumps(out["amounts"], ensure_ascii=False),
        "deadlines": json.dumps(out["deadlines"], ensure_ascii=False),
        "overdue_days": "" if out["overdue_days"] is None else out["overdue_days"],
        "error": "",
    }


def _analyse_chunk(analyzer, chunk: list[tuple[int, AnalysisRequest | dict]]) -> list[dict]:
    requests = [(i, rec) for i, (_, rec) in enumerate(chunk) if isinstance(rec, AnalysisRequest)]
    outputs: list[dict] = [rec if isinstance(rec, dict) else {} for _, rec in chunk]
    try:
        results: list[AnalysisResult | Exception] = analyzer.analyze_batch([r for _, r in requests])
    except Exception:  # one bad item must not sink its neighbours: retry one by one
        log.exception("batch analysis failed; retrying item by item")
        results = []
        for _, req in requests:
            try:
                results.append(analyzer.analyze_batch([req])[0])
            except Exception as exc:
                results.append(exc)
    for (i, req), result in zip(requests, results, strict=True):
        line_no = chunk[i][0]
        if isinstance(result, Exception):
            outputs[i] = {**({"id": req.id} if req.id else {}), "line": line_no,
                          "error": f"analysis failed: {type(result).__name__}: {result}"}
        else:
            outputs[i] = result.to_json_dict()
    return outputs


def analyze_stream(analyzer, source: TextIO, sink: TextIO, *, fmt: str = "jsonl", text_column: str = "text",
                   batch_size: int = 256, progress: bool = True) -> BatchStats:
    from tqdm import tqdm

    records: Iterable = _csv_records(source, text_column) if fmt == "csv" else _jsonl_records(source, text_column)
    writer = csv.DictWriter(sink, fieldnames=CSV_COLUMNS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    stats = BatchStats()
    started = time.perf_counter()
    bar = tqdm(total=None, unit="line", disable=not progress, file=None, dynamic_ncols=True)
    chunk: list = []

    def flush() -> None:
        for out in _analyse_chunk(analyzer, chunk):
            stats.lines += 1
            stats.errors += "error" in out
            if writer:
                writer.writerow(_csv_row(out))
            else:
                sink.write(json.dumps(out, ensure_ascii=False) + "\n")
        bar.update(len(chunk))
        chunk.clear()

    for line_no, record in records:
        chunk.append((line_no, record))
        if len(chunk) >= batch_size:
            flush()
    if chunk:
        flush()
    bar.close()
    stats.seconds = time.perf_counter() - started
    return stats
