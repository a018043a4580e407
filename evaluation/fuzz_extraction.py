"""Fuzz the extractors: at least 100,000 inputs, zero exceptions, spans that index the input.

Inputs (deterministic, seeded): random unicode strings (every plane, surrogates
included), strings dense in digits / numerals / date words, and realistic texts
from ``corpora/extraction/testset.jsonl`` mutated by insertion, deletion,
duplication, rotation, full-width folding and splicing; reference times from
year 1 to 9999. Each input goes through the public functions (which must never
raise) and through the cores without their safety net (``amounts._extract``,
``deadlines._extract``, ``overdue._extract``), so that an exception the safety net
would hide is still counted.

Run: ``.venv/bin/python evaluation/fuzz_extraction.py [--n 100000]``; writes
``evaluation/results/fuzz_extraction.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from models.extraction import (  # noqa: E402
    amounts,
    deadlines,
    extract_amounts,
    extract_deadlines,
    extract_overdue_days,
    overdue,
)

OUT = REPO / "evaluation" / "results" / "fuzz_extraction.json"
TESTSET = REPO / "corpora" / "extraction" / "testset.jsonl"
DENSE = list(
    "0123456789０１２３４５６７８９,.，。:：-/~～ 年月日号点时分秒前内天周星期万千百亿元块角分毛整¥￥wkWK今明后本下底末起自至到"
    "逾期欠还款一二两三四五六七八九十零〇壹贰叁肆伍陆柒捌玖拾佰仟上午下晚中凌个工作小之以为止截请于在限最迟晚"
    "（）()【】\n\t"
)


def random_unicode(rng: random.Random) -> str:
    n = rng.randint(0, 120)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.5:
            out.append(chr(rng.randint(0x4E00, 0x9FFF)))
        elif r < 0.7:
            out.append(chr(rng.randint(0x20, 0x7E)))
        elif r < 0.8:
            out.append(chr(rng.randint(0xFF00, 0xFFEF)))
        else:
            out.append(chr(rng.randint(0, 0x10FFFF)))
    return "".join(out)


def dense(rng: random.Random) -> str:
    return "".join(rng.choice(DENSE) for _ in range(rng.randint(0, 80)))


def mutate(rng: random.Random, seeds: list[str]) -> str:
    text = rng.choice(seeds)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(7)
        i = rng.randint(0, len(text))
        if op == 0:
            text = text[:i] + dense(rng)[: rng.randint(0, 12)] + text[i:]
        elif op == 1:
            j = min(len(text), i + rng.randint(1, 10))
            text = text[:i] + text[j:]
        elif op == 2:
            j = min(len(text), i + rng.randint(1, 20))
            text = text[:i] + text[i:j] * rng.randint(2, 4) + text[j:]
        elif op == 3:
            text = text[i:] + text[:i]
        elif op == 4:  # fold / unfold digits to full width
            text = "".join(
                chr(ord(c) + 0xFEE0) if "0" <= c <= "9" and rng.random() < 0.5 else c for c in text
            )
        elif op == 5:
            other = rng.choice(seeds)
            k = rng.randint(0, len(other))
            text = text[:i] + other[k : k + rng.randint(1, 40)] + text[i:]
        else:
            text = text[:i] + random_unicode(rng)[: rng.randint(0, 6)] + text[i:]
    return text


def random_ref(rng: random.Random):
    r = rng.random()
    if r < 0.85:
        return datetime(2025, 1, 1) + timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
    if r < 0.95:
        return datetime(1, 1, 1) + timedelta(days=rng.randint(0, 3_652_058), seconds=rng.randint(0, 86399))
    return rng.choice([None, "", "2026-13-45", "not a time", 12345, "2026-11-22T10:00:00"])


def check(text: str, ref) -> list[str]:
    """Problems found for one input (empty when all is well)."""
    problems: list[str] = []
    safe_ref = ref if isinstance(ref, datetime) else datetime(2026, 1, 1)
    calls = [
        ("extract_amounts", lambda: extract_amounts(text)),
        ("extract_deadlines", lambda: extract_deadlines(text, ref)),
        ("extract_overdue_days", lambda: extract_overdue_days(text)),
        ("amounts._extract", lambda: amounts._extract(text) if text else []),
        ("deadlines._extract", lambda: deadlines._extract(text, safe_ref) if text else []),
        ("overdue._extract", lambda: overdue._extract(text) if text else None),
    ]
    for name, fn in calls:
        try:
            result = fn()
        except Exception:
            problems.append(f"{name}: {traceback.format_exc(limit=3)[-600:]}")
            continue
        if isinstance(result, list):
            for m in result:
                if text[m.start : m.end] != m.text or not 0 <= m.start < m.end <= len(text):
                    problems.append(f"{name}: span {m.start}:{m.end} does not index the input")
    return problems


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    seeds = [
        json.loads(line)["text"] for line in TESTSET.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    kinds = {"random_unicode": 0, "dense": 0, "mutated": 0}
    failures: list[dict] = []
    n_fail = 0
    t0 = time.perf_counter()
    for _ in range(args.n):
        r = rng.random()
        if r < 0.3:
            kind, text = "random_unicode", random_unicode(rng)
        elif r < 0.5:
            kind, text = "dense", dense(rng)
        else:
            kind, text = "mutated", mutate(rng, seeds)
        kinds[kind] += 1
        problems = check(text, random_ref(rng))
        if problems:
            n_fail += 1
            if len(failures) < 20:
                failures.append({"text": text, "problems": problems})
    elapsed = time.perf_counter() - t0
    result = {
        "inputs": args.n,
        "seed": args.seed,
        "by_kind": kinds,
        "inputs_with_exceptions_or_bad_spans": n_fail,
        "exceptions": failures,
        "seconds": round(elapsed, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "exceptions"}, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
