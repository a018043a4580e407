"""The 60 annotated spec examples: gold amounts, deadlines and overdue days, exactly."""

from __future__ import annotations

from datetime import datetime

import pytest

from models.extraction import extract_amounts, extract_deadlines, extract_overdue_days


def _texts(example: dict) -> list[str]:
    return [example["text"]] if "text" in example else [t["text"] for t in example["turns"]]


def _predict(example: dict) -> tuple[list[dict], list[dict], int | None]:
    ref = datetime.fromisoformat(example["reference_time"])
    amounts, deadlines, overdue = [], [], None
    for text in _texts(example):  # a transcript is read turn by turn
        for a in extract_amounts(text):
            assert text[a.start : a.end] == a.text
            amounts.append({"quote": a.text, "value": a.value, "role": a.role})
        for d in extract_deadlines(text, ref):
            assert text[d.start : d.end] == d.text
            deadlines.append({"quote": d.text, "value": d.value, "kind": d.kind})
        if overdue is None:
            overdue = extract_overdue_days(text)
    return amounts, deadlines, overdue


def test_all_spec_examples_agree_exactly(spec_examples: list[dict]) -> None:
    assert len(spec_examples) == 60
    failures = []
    for ex in spec_examples:
        gold = ex["gold"]
        amounts, deadlines, overdue = _predict(ex)
        want_amounts = [
            {"quote": a["quote"], "value": pytest.approx(a["value"]), "role": a["role"]}
            for a in gold["amounts"]
        ]
        want_deadlines = [
            {"quote": d["quote"], "value": d["value"], "kind": d["kind"]} for d in gold["deadlines"]
        ]
        if amounts != want_amounts:
            failures.append((ex["id"], "amounts", amounts, gold["amounts"]))
        if deadlines != want_deadlines:
            failures.append((ex["id"], "deadlines", deadlines, gold["deadlines"]))
        if overdue != gold["overdue_days"]:
            failures.append((ex["id"], "overdue_days", overdue, gold["overdue_days"]))
    assert not failures, "\n".join(map(str, failures))
