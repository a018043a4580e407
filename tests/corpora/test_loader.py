"""Reading the built splits (corpora.loader)."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpora import loader
from corpora.build import build

from .fixtures import call_item, small_corpus, write_jsonl


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("loader")
    write_jsonl(tmp / "hand" / "a.jsonl", [*small_corpus(n_families=12, per_family=2), call_item()])
    build(hand_dir=tmp / "hand", generated=None, out_dir=tmp / "out")
    return tmp / "out"


def test_load_split_and_hash(built: Path, monkeypatch) -> None:
    monkeypatch.chdir(built.parent)  # paths never depend on the working directory
    items = [it for name in loader.SPLIT_NAMES for it in loader.load_split(name, built)]
    assert len(items) == 25 and all(isinstance(it, dict) for it in items)
    assert len(loader.corpus_hash(built)) == 64
    with pytest.raises(ValueError):
        loader.load_split("validation", built)
    assert loader.DATA_DIR == Path(loader.__file__).resolve().parent / "data"


def test_load_dataset_handles_texts_and_transcripts(built: Path) -> None:
    pytest.importorskip("datasets")
    ds = loader.load_dataset(built)
    assert set(ds) == set(loader.SPLIT_NAMES)
    rows = [r for name in ds for r in ds[name]]
    call = next(r for r in rows if r["turns"])
    assert call["text"] is None and call["flags"][0]["evidence"][0]["turn"] == 2
    assert sum(ds[name].num_rows for name in ds) == 25
