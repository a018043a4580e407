"""The build: drops bad items, deduplicates, splits by family (corpora.build)."""

from __future__ import annotations

import random
from pathlib import Path

from corpora import loader
from corpora.build import build, dedup, item_labels
from corpora.resolve import resolve_item
from corpora.stats import near_duplicate_rate

from .fixtures import filler, small_corpus, text_item, write_jsonl


def _twin(item: dict, new_id: str, family: str) -> dict:
    """A near-duplicate: same text with a few characters changed."""
    twin = {**item, "id": new_id, "family": family, "gold": item["gold"]}
    twin["text"] = item["text"][:5] + "改" + item["text"][6:]
    return twin


def _run(tmp_path: Path, raws: list, generated: list | None = None, seed: str = "s"):
    hand = tmp_path / "hand"
    write_jsonl(hand / "a.jsonl", raws)
    gen = write_jsonl(tmp_path / "gen.jsonl", generated) if generated else tmp_path / "missing.jsonl"
    return build(hand_dir=hand, generated=gen, out_dir=tmp_path / "out", seed=seed)


def test_bad_items_are_dropped_with_reasons_not_fatal(tmp_path: Path) -> None:
    good = small_corpus(n_families=10, per_family=2)
    wrong_value = text_item("bad-value", "fam-bad")
    wrong_value["gold"]["amounts"][0]["value"] = 1
    missing_quote = text_item("bad-quote", "fam-bad")
    missing_quote["gold"]["deadlines"][0]["quote"] = "99日内"
    result = _run(tmp_path, [*good, "{not json", wrong_value, missing_quote, good[0]])
    by_id = {d.id: d for d in result.dropped}
    assert by_id["bad-value"].step == "check" and "quote says" in by_id["bad-value"].reason
    assert by_id["bad-quote"].step == "resolve" and "99日内" in by_id["bad-quote"].reason
    assert by_id[None].step == "json" and by_id[None].line == len(good) + 1
    assert by_id[good[0]["id"]].step == "duplicate_id"
    assert result.report["counts"]["kept"] == len(good)
    assert result.report["counts"]["per_file"]["a.jsonl"]["dropped"] == 4


def test_exact_and_near_duplicates_are_removed(tmp_path: Path) -> None:
    items = small_corpus(n_families=10, per_family=2)
    exact = {**items[0], "id": "copy-exact"}
    near = _twin(items[2], "copy-near", items[2]["family"])
    result = _run(tmp_path, [*items, exact, near])
    steps = sorted(d.step for d in result.dropped)
    assert steps == ["exact_duplicate", "near_duplicate"]
    # one of each pair survives (which one depends on the splits of their families)
    kept = {it["id"] for its in result.splits.values() for it in its}
    assert len(kept & {items[0]["id"], "copy-exact"}) == 1
    assert len(kept & {items[2]["id"], "copy-near"}) == 1


def test_near_duplicate_across_splits_drops_the_later_split_copy() -> None:
    rng = random.Random(3)
    base = text_item("orig", "fam-a", rng=rng)
    base["text"] = filler(rng, 80) + base["text"]
    twin = _twin(base, "twin", "fam-b")
    a, b = resolve_item(base), resolve_item(twin)
    a["split"], b["split"] = "test", "train"  # the twin sits in the earlier split
    origin = {i: type("R", (), {"file": "x", "line": 1})() for i in ("orig", "twin")}
    dropped: list = []
    kept = dedup([a, b], origin, dropped)
    assert [it["id"] for it in kept] == ["twin"]
    assert dropped[0].id == "orig" and dropped[0].step == "near_duplicate"


def test_split_by_family_covers_every_label_in_test(tmp_path: Path) -> None:
    items = small_corpus()
    result = _run(tmp_path, items)
    fam_split: dict[str, set[str]] = {}
    for name, split_items in result.splits.items():
        for it in split_items:
            assert it["split"] == name
            fam_split.setdefault(it["family"], set()).add(name)
    assert all(len(s) == 1 for s in fam_split.values())
    labels = {name: set().union(*(item_labels(it) for it in its)) for name, its in result.splits.items()}
    everything = set().union(*labels.values())
    assert labels["test"] == everything  # every stage and flag present appears in test
    assert labels["train"] == everything  # and train keeps them all too
    n_fam = {name: len({it["family"] for it in its}) for name, its in result.splits.items()}
    assert n_fam["test"] >= round(0.15 * len(fam_split)) and n_fam["dev"] >= 1
    assert result.report["warnings"] == []


def test_build_is_deterministic_and_hash_matches_files(tmp_path: Path) -> None:
    items = small_corpus(n_families=12, per_family=2)
    generated = [text_item(f"gen-{i}", f"gen-fam-{i % 4}", source="generated") for i in range(8)]
    r1 = _run(tmp_path / "one", items, generated)
    r2 = _run(tmp_path / "two", list(reversed(items)), generated)
    assert r1.report["corpus_hash"] == r2.report["corpus_hash"]
    assert r1.report["corpus_hash"] == loader.corpus_hash(tmp_path / "one" / "out")
    assert any(it["source"] == "generated" for its in r1.splits.values() for it in its)
    assert near_duplicate_rate(r1.splits) == 0.0
    # a different seed gives a different split of the same families
    r3 = _run(tmp_path / "three", items, generated, seed="other")
    assert r3.report["corpus_hash"] != r1.report["corpus_hash"]
