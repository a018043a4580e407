"""Corpus statistics (corpora.stats)."""

from __future__ import annotations

from corpora.resolve import resolve_item
from corpora.stats import compute_stats, length_histogram, near_duplicate_rate, top_sentence_coverage
from models.labels import FLAG_NAMES, STAGE_NAMES

from .fixtures import call_item, small_corpus, text_item


def _splits():
    items = [resolve_item(r) for r in small_corpus(n_families=6, per_family=2)]
    for i, it in enumerate(items):
        it["split"] = ("train", "dev", "test")[i % 3]
    call = resolve_item(call_item())
    call["split"] = "train"
    return {name: [it for it in [*items, call] if it["split"] == name] for name in ("train", "dev", "test")}


def test_stats_keys_and_totals() -> None:
    stats = compute_stats(_splits())
    for key in (
        "items",
        "transcripts",
        "hand_written",
        "per_stage",
        "per_flag",
        "per_channel",
        "per_source",
        "per_split",
        "length_histogram",
        "near_duplicate_rate",
        "top50_sentence_coverage",
    ):
        assert key in stats
    assert stats["items"] == 13 and stats["transcripts"] == 1 and stats["hand_written"] == 13
    assert set(stats["per_stage"]) == set(STAGE_NAMES) and set(stats["per_flag"]) == set(FLAG_NAMES)
    assert sum(stats["per_split"][n]["items"] for n in ("train", "dev", "test")) == 13
    assert sum(stats["length_histogram"].values()) == 13
    assert 0.0 <= stats["top50_sentence_coverage"] <= 1.0


def test_top_sentence_coverage_counts_repeated_sentences() -> None:
    a = {"text": "请尽快还款。您好！甲"}
    b = {"text": "请尽快还款；乙\n丙"}
    # sentences: 请尽快还款 x2, 您好, 甲, 乙, 丙 -> 6; top 1 covers 2
    assert top_sentence_coverage([a, b], top=1) == 2 / 6
    assert top_sentence_coverage([a, b], top=50) == 1.0
    assert top_sentence_coverage([]) == 0.0


def test_near_duplicate_rate_sees_twins_in_train() -> None:
    base = resolve_item(text_item("s-1", "f"))
    twin = {**base, "id": "s-2", "text": base["text"].replace("还款", "还钱", 1)}
    other = resolve_item(text_item("s-3", "g"))
    assert near_duplicate_rate({"train": [base], "dev": [twin], "test": [other]}) == 0.5


def test_length_histogram_bins() -> None:
    hist = length_histogram([{"text": "x" * 10}, {"text": "x" * 120}, {"text": "x" * 5000}])
    assert hist["0-49"] == 1 and hist["100-199"] == 1 and hist["800+"] == 1


def test_datasheet_rewrites_only_the_marked_block(tmp_path) -> None:
    from corpora.datasheet import BEGIN, END, render, rewrite

    readme = tmp_path / "README.md"
    readme.write_text(f"# head\n\n{BEGIN}\nold numbers\n{END}\n\n## tail\n", encoding="utf-8")
    block = render(compute_stats(_splits()), "abc123")
    text = rewrite(readme, block)
    assert text.startswith("# head\n") and text.endswith("## tail\n")
    assert "old numbers" not in text and "`abc123`" in text and "| items | " in text
