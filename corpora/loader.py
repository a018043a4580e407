"""Read the built corpus splits; works from any working directory.

``load_split`` returns plain dicts and imports nothing heavy, so the service and the
tests can use it cheaply; ``load_dataset`` imports Hugging Face ``datasets`` only
when called (it is an optional dependency, the ``corpus`` extra).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import datasets

DATA_DIR = Path(__file__).resolve().parent / "data"
SPLIT_NAMES: tuple[str, ...] = ("train", "dev", "test")


def split_path(name: str, data_dir: Path | str | None = None) -> Path:
    if name not in SPLIT_NAMES:
        raise ValueError(f"unknown split {name!r}; expected one of {SPLIT_NAMES}")
    return Path(data_dir or DATA_DIR) / f"{name}.jsonl"


def load_split(name: str, data_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """All items of one split as dicts (FileNotFoundError when not built yet)."""
    with open(split_path(name, data_dir), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_all(data_dir: Path | str | None = None) -> dict[str, list[dict[str, Any]]]:
    return {name: load_split(name, data_dir) for name in SPLIT_NAMES}


def splits_exist(data_dir: Path | str | None = None) -> bool:
    return all(split_path(n, data_dir).is_file() for n in SPLIT_NAMES)


def corpus_hash(data_dir: Path | str | None = None) -> str:
    """sha256 over the three split files' bytes, in train, dev, test order."""
    h = hashlib.sha256()
    for name in SPLIT_NAMES:
        h.update(split_path(name, data_dir).read_bytes())
    return h.hexdigest()


def _features() -> datasets.Features:
    from datasets import Features, Value

    # a plain Python list means "list of structs" in every datasets version

    span = {"start": Value("int32"), "end": Value("int32"), "text": Value("string"), "turn": Value("int32")}
    return Features(
        {
            "id": Value("string"),
            "text": Value("string"),
            "turns": [{"speaker": Value("string"), "text": Value("string")}],
            "reference_time": Value("string"),
            "channel": Value("string"),
            "family": Value("string"),
            "source": Value("string"),
            "split": Value("string"),
            "stage": Value("string"),
            "flags": [{"label": Value("string"), "evidence": [span]}],
            "amounts": [
                {**span, "value": Value("float64"), "currency": Value("string"), "role": Value("string")}
            ],
            "deadlines": [{**span, "value": Value("string"), "kind": Value("string")}],
            "overdue_days": Value("int32"),
            "note": Value("string"),
        }
    )


def _row(item: dict[str, Any]) -> dict[str, Any]:
    """Give every row every column (None where absent): Arrow needs one schema."""

    def spans(xs: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{k: x.get(k) for k in ("start", "end", "text", "turn", *keys)} for x in xs]

    return {
        "id": item["id"],
        "text": item.get("text"),
        "turns": item.get("turns") or [],
        "reference_time": item.get("reference_time"),
        "channel": item.get("channel"),
        "family": item.get("family"),
        "source": item.get("source"),
        "split": item.get("split"),
        "stage": item.get("stage"),
        "flags": [{"label": f["label"], "evidence": spans(f["evidence"], ())} for f in item.get("flags", [])],
        "amounts": spans(item.get("amounts", []), ("value", "currency", "role")),
        "deadlines": spans(item.get("deadlines", []), ("value", "kind")),
        "overdue_days": item.get("overdue_days"),
        "note": item.get("note"),
    }


def load_dataset(data_dir: Path | str | None = None) -> datasets.DatasetDict:
    """The three splits as a ``datasets.DatasetDict`` (text is None for transcripts)."""
    import datasets

    feats = _features()

    def table(name: str) -> datasets.Dataset:
        rows = [_row(it) for it in load_split(name, data_dir)]
        # column-wise so that an empty split still gets the full schema
        return datasets.Dataset.from_dict({k: [r[k] for r in rows] for k in feats}, features=feats)

    return datasets.DatasetDict({name: table(name) for name in SPLIT_NAMES})
