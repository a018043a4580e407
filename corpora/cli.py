"""``cuishou corpus``: build, check and describe the corpus.

Results go to stdout; progress and logs go to stderr so that ``stats --json`` can be
piped. The main CLI (serve/cli.py) mounts this group with ``main.add_command(corpus)``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from corpora import build as build_mod
from corpora import loader

log = logging.getLogger("corpora")


class _ClickErrHandler(logging.Handler):
    """Write log records to the *current* stderr (CliRunner swaps it per call)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def _setup_logging(verbose: bool) -> None:
    # Respect a logging setup made by the main CLI; otherwise log to stderr ourselves.
    if logging.getLogger().handlers:
        return
    if not any(isinstance(h, _ClickErrHandler) for h in log.handlers):
        handler = _ClickErrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.DEBUG if verbose else logging.INFO)


_data_dir = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of the built splits (default: corpora/data in the package).",
)


@click.group("corpus")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging on stderr.")
def corpus(verbose: bool) -> None:
    """Build, check and describe the labelled corpus."""
    _setup_logging(verbose)


@corpus.command("build")
@click.option(
    "--hand-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=build_mod.HAND_DIR,
    show_default=True,
    help="Directory of hand-written batches (*.jsonl).",
)
@click.option(
    "--generated",
    type=click.Path(dir_okay=False, path_type=Path),
    default=build_mod.GENERATED_PATH,
    show_default=True,
    help="Generator output (skipped when missing).",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=build_mod.DATA_DIR,
    show_default=True,
    help="Where the splits and build_report.json are written.",
)
@click.option("--seed", default=build_mod.DEFAULT_SEED, show_default=True, help="Seed of the family split.")
def build_cmd(hand_dir: Path, generated: Path, out_dir: Path, seed: str) -> None:
    """Resolve, check, deduplicate and split all raw items."""
    if not hand_dir.is_dir() and not generated.is_file():
        raise click.ClickException(f"no input: {hand_dir} is not a directory and {generated} does not exist")
    result = build_mod.build(hand_dir=hand_dir, generated=generated, out_dir=out_dir, seed=seed)
    counts = result.report["counts"]
    click.echo(f"kept {counts['kept']} of {counts['raw_items']} items; dropped {counts['dropped']}")
    for name, c in counts["per_split"].items():
        click.echo(f"  {name:<5} {c['items']:>6} items  {c['families']:>4} families")
    for step, n in counts["dropped_by_step"].items():
        click.echo(f"  dropped at {step}: {n}")
    for w in result.report["warnings"]:
        click.echo(f"  warning: {w}")
    click.echo(f"corpus hash {result.report['corpus_hash']}")
    click.echo(f"report: {out_dir / build_mod.REPORT_NAME}")


@corpus.command("check")
@_data_dir
@click.option(
    "--raw",
    "raw_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Check raw batches in this directory instead of the built splits.",
)
def check_cmd(data_dir: Path | None, raw_dir: Path | None) -> None:
    """Verify every item; prints one line per problem and fails if there are any."""
    from corpora.check import check_items
    from corpora.resolve import ResolveError, resolve_item

    problems: list[tuple[str, str]] = []
    if raw_dir is not None:
        dropped: list[build_mod.Dropped] = []
        raws = build_mod.read_raw(build_mod.raw_files(raw_dir, None), dropped)
        problems += [(f"{d.file}:{d.line}", d.reason) for d in dropped]
        items = []
        for r in raws:
            try:
                items.append(resolve_item(r.raw))
            except ResolveError as e:
                rid = r.raw.get("id") if isinstance(r.raw, dict) else None
                problems.append((f"{r.file}:{r.line} {rid}", str(e)))
        problems += check_items(items)
        n = len(raws)
    else:
        if not loader.splits_exist(data_dir):
            raise click.ClickException("the splits are not built yet: run `cuishou corpus build` first")
        splits = loader.load_all(data_dir)
        items = [it for name in loader.SPLIT_NAMES for it in splits[name]]
        problems += check_items(items, require_split=True)
        problems += split_consistency(splits)
        n = len(items)
    for item_id, message in problems:
        click.echo(f"{item_id}: {message}")
    if problems:
        raise click.ClickException(f"{len(problems)} problems in {n} items")
    click.echo(f"ok: {n} items, no problems")


def split_consistency(splits: dict[str, list[dict]]) -> list[tuple[str, str]]:
    """Each item sits in the file of its split, and no family spans two splits."""
    out: list[tuple[str, str]] = []
    fam_split: dict[str, str] = {}
    for name, items in splits.items():
        for it in items:
            if it.get("split") != name:
                out.append((it["id"], f"split field {it.get('split')!r} but stored in {name}.jsonl"))
            first = fam_split.setdefault(it["family"], name)
            if first != name:
                out.append((it["id"], f"family {it['family']!r} is in both {first} and {name}"))
    return out


@corpus.command("stats")
@_data_dir
@click.option("--json", "as_json", is_flag=True, help="End the output with one JSON object on one line.")
def stats_cmd(data_dir: Path | None, as_json: bool) -> None:
    """Label counts per split, stage, flag, channel and source; duplication measures."""
    from corpora.stats import compute_stats, format_table

    if not loader.splits_exist(data_dir):
        raise click.ClickException("the splits are not built yet: run `cuishou corpus build` first")
    stats = compute_stats(loader.load_all(data_dir))
    stats["corpus_hash"] = loader.corpus_hash(data_dir)
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False))
    else:
        click.echo(format_table(stats))
        click.echo(f"corpus hash {stats['corpus_hash']}")
