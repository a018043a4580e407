"""CLI: ``python -m corpora.generator --seed 0 --n 7000 -o corpora/data/generated.jsonl``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .plan import generate
from .stats import report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m corpora.generator", description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=7000)
    ap.add_argument("-o", "--out", type=Path, default=Path("corpora/data/generated.jsonl"))
    ap.add_argument("--stats", action="store_true", help="print counts and top-50 sentence coverage")
    args = ap.parse_args(argv)
    items = generate(args.seed, args.n)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for it in items:
            fh.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} items to {args.out}", file=sys.stderr)
    if args.stats:
        print(report(items))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
