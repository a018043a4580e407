"""The ``cuishou`` command group. Data goes to stdout, logs and progress to stderr.

Commands that train, evaluate or build the corpus import those packages only when run,
so ``cuishou analyze`` and the API need nothing but ``models``.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys

import click

from .batch import analyze_stream

log = logging.getLogger("cuishou")

# Sub-groups that live in other packages, imported on first use.
_LAZY = {
    "corpus": "corpora.cli:corpus",
    "serve": "serve.server_cli:serve",
    "qa": "serve.qa_cli:qa",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *(n for n in _LAZY if self.get_command(ctx, n))])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _LAZY:
            module, attr = _LAZY[name].split(":")
            try:
                return getattr(importlib.import_module(module), attr)
            except ModuleNotFoundError as exc:
                # A command whose optional extra is not installed (or not yet written).
                log.debug("command %s unavailable: %s", name, exc)
                return None
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup)
@click.option("--log-level", default="WARNING", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Verbosity of the logs written to stderr.")
@click.version_option(package_name="cuishou")
def main(log_level: str) -> None:
    """cuishou: analyse Chinese debt-collection texts (stage, flags, amounts, deadlines)."""
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _load_analyzer(model: str | None):
    from models.analyzer import Analyzer
    from models.artifact import ArtifactError

    try:
        return Analyzer.load(model)
    except ArtifactError as exc:
        raise click.ClickException(f"cannot load model: {exc}") from exc


@main.command()
@click.argument("input_path", metavar="[INPUT|-]", default="-", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("-o", "--output", "output_path", default="-", type=click.Path(allow_dash=True, dir_okay=False),
              help="Where to write results (default: stdout).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Input and output format (default: from INPUT's extension, else jsonl).")
@click.option("--text-column", default="text", show_default=True,
              help="Column (CSV) or key (JSONL) that holds the text.")
@click.option("--model", "model_dir", default=None, type=click.Path(file_okay=False),
              help="Model directory (default: the shipped model).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def analyze(input_path: str, output_path: str, fmt: str | None, text_column: str, model_dir: str | None,
            batch_size: int, no_progress: bool) -> None:
    """Analyse a batch file (spec §8): one JSON result per input line, same order.

    A line that cannot be read gets an output line with its id (or line number) and
    `error`, and the run goes on.
    """
    if fmt is None:
        fmt = "csv" if input_path.lower().endswith(".csv") else "jsonl"
    try:
        source = click.open_file(input_path, "r", encoding="utf-8", errors="replace")
    except OSError as exc:
        raise click.ClickException(f"cannot open input {input_path}: {exc.strerror or exc}") from exc
    analyzer = _load_analyzer(model_dir)
    try:
        sink = click.open_file(output_path, "w", encoding="utf-8", atomic=output_path != "-")
    except OSError as exc:
        raise click.ClickException(f"cannot open output {output_path}: {exc.strerror or exc}") from exc
    with source, sink:
        stats = analyze_stream(analyzer, source, sink, fmt=fmt, text_column=text_column,
                               batch_size=batch_size, progress=not no_progress)
    click.echo(
        f"analysed {stats.lines} lines ({stats.errors} with errors) in {stats.seconds:.2f} s: "
        f"{stats.per_second:.0f} lines/s with model {analyzer.name} {analyzer.version}",
        err=True,
    )


@main.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option("--output", default=None, type=click.Path(file_okay=False), help="Override the output directory.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a setting of CONFIG, e.g. --set device=cuda --set epochs=2 (repeatable).")
def train(config_path: str, output: str | None, overrides: tuple[str, ...]) -> None:
    """Train a model from the corpus as CONFIG (TOML) describes, and save its artifact."""
    from corpora.loader import corpus_hash, load_split
    from training.config import ConfigError, load_config, parse_override, resolve_output, trainer

    try:
        config = load_config(config_path, dict(parse_override(o) for o in overrides))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    splits = {name: load_split(name) for name in ("train", "dev", "test")}
    if not splits["train"]:
        raise click.ClickException("the corpus has no training items; run `cuishou corpus build` first")
    out = trainer(config)(config, splits, corpus_hash(), output=output or resolve_output(config))
    click.echo(str(out))


@main.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.option("--split", default="test", show_default=True, type=click.Choice(["train", "dev", "test"]))
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
def evaluate(model_dir: str, split: str, as_json: bool) -> None:
    """Print a model's metrics on a corpus split."""
    from corpora.loader import load_split
    from evaluation.metrics import evaluate_items
    from evaluation.report import metrics_table

    analyzer = _load_analyzer(model_dir)
    items = load_split(split)
    if not items:
        raise click.ClickException(f"the corpus split {split!r} is empty; run `cuishou corpus build` first")
    metrics = evaluate_items(analyzer, items)
    metrics["model"] = {"name": analyzer.name, "version": analyzer.version}
    metrics["split"] = split
    click.echo(json.dumps(metrics, ensure_ascii=False) if as_json else metrics_table(metrics))
