"""The blind set: valid items, never read by the corpus build."""

from __future__ import annotations

import json

from corpora.build import HAND_DIR, raw_files
from corpora.check import check_items
from evaluation.bench_blind import BLIND_DIR, load_blind


def test_every_blind_line_resolves_and_passes_the_checks():
    lines = [line for path in sorted(BLIND_DIR.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = load_blind()
    assert lines and len(items) == len(lines)  # nothing skipped
    assert check_items(items) == []
    ids = [json.loads(line)["id"] for line in lines]
    assert len(set(ids)) == len(ids) and all(i.startswith("blind-") for i in ids)


def test_the_build_never_reads_the_blind_set():
    files = raw_files()
    assert files and all(BLIND_DIR not in f.parents for f in files)
    assert HAND_DIR != BLIND_DIR
