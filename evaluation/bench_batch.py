"""Batch CLI benchmark: `cuishou analyze` on a 10,000-line file with 3 malformed lines.

Builds the file from the corpus test split, runs the real CLI in a subprocess, checks that
every input line got exactly one output line (3 of them errors) and writes the figures to
evaluation/results/bench_batch.json.

    python evaluation/bench_batch.py [--lines 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpora.loader import load_split

RESULTS = Path(__file__).resolve().parent / "results" / "bench_batch.json"
MALFORMED = ('{"id": "broken", "text": ', "not json at all", json.dumps({"id": "no-turns", "turns": []}))


def build_input(path: Path, lines: int, seed: int = 0) -> list[int]:
    rng = random.Random(seed)
    items = load_split("test")
    bad_at = sorted(rng.sample(range(lines), len(MALFORMED)))
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            if i in bad_at:
                out.write(MALFORMED[bad_at.index(i)] + "\n")
                continue
            item = rng.choice(items)
            record = {"id": f"b{i}", "reference_time": item["reference_time"]}
            if "turns" in item:
                record["turns"] = [{"speaker": t["speaker"], "text": t["text"]} for t in item["turns"]]
            else:
                record["text"] = item["text"]
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return [i + 1 for i in bad_at]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--model", default=None, help="Model directory (default: the shipped default model).")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    model = ["--model", args.model] if args.model else []
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        bad_lines = build_input(src, args.lines)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "serve", "analyze", str(src), "-o", str(dst), "--no-progress", *model],
            capture_output=True, text=True, check=False,
        )
        wall = time.perf_counter() - started
        rows = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()] if dst.exists() else []
    errors = [r.get("line") for r in rows if "error" in r]
    figures = {
        "input_lines": args.lines,
        "output_lines": len(rows),
        "error_lines": errors,
        "expected_error_lines": bad_lines,
        "exit_code": proc.returncode,
        "wall_seconds_including_start": round(wall, 2),
        "cli_stderr_summary": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "",
        "lines_per_second_including_start": round(args.lines / wall, 1),
        "ok": proc.returncode == 0 and len(rows) == args.lines and errors == bad_lines,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
