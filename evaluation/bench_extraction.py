"""Extraction benchmark: ours vs JioNLP on ``corpora/extraction/testset.jsonl``.

Scores (micro over the whole set):

* amounts: a predicted amount matches a gold one when their spans overlap and the
  values are equal (within 0.005); one-to-one, greedy in text order.
* deadlines: a prediction matches a gold deadline when the resolved values are equal
  (to the second); one-to-one.

Speed: microseconds per text for amount extraction and for deadline extraction,
each measured over the whole set in the process that runs that system.

JioNLP is optional (the ``bench`` extra; it prints a banner and unpacks files into
its package on first import), so it lives in its own virtual environment. When
``jionlp`` cannot be imported here, this script runs itself under
``.venv-bench/bin/python`` (or ``--jionlp-python``) in worker mode for JioNLP's
side; when neither works, it scores ours alone. For JioNLP, ``extract_money``
gives the amounts (value = ``detail.num``; the lower bound of a range) and
``extract_time`` the deadlines (value = the end of the time span it resolves);
JioNLP has no notion of which times are deadlines, so every time it finds counts
as a predicted deadline.

Run: ``.venv/bin/python evaluation/bench_extraction.py`` (writes
``evaluation/results/bench_extraction.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTSET = REPO / "corpora" / "extraction" / "testset.jsonl"
OUT = REPO / "evaluation" / "results" / "bench_extraction.json"
BENCH_PY = REPO / ".venv-bench" / "bin" / "python"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def spans_of(case: dict) -> list[dict]:
    """Gold amounts with their spans (first occurrence unless ``occurrence`` is given)."""
    text, out = case["text"], []
    for a in case["amounts"]:
        pos, k = -1, a.get("occurrence", 0)
        for _ in range(k + 1):
            pos = text.index(a["quote"], pos + 1)
        out.append({**a, "start": pos, "end": pos + len(a["quote"])})
    return out


# ---------------------------------------------------------------- predictions


def predict_ours(cases: list[dict], repeat: int = 5) -> dict:
    sys.path.insert(0, str(REPO))
    from models.extraction import extract_amounts, extract_deadlines, extract_overdue_days

    refs = [datetime.fromisoformat(c["reference_time"]) for c in cases]
    texts = [c["text"] for c in cases]
    amounts = [
        [{"start": a.start, "end": a.end, "value": a.value, "role": a.role} for a in extract_amounts(t)]
        for t in texts
    ]
    deadlines = [[d.value for d in extract_deadlines(t, r)] for t, r in zip(texts, refs, strict=True)]
    overdue = [extract_overdue_days(t) for t in texts]
    t0 = time.perf_counter()
    for _ in range(repeat):
        for t in texts:
            extract_amounts(t)
    us_amt = (time.perf_counter() - t0) / (repeat * len(texts)) * 1e6
    t0 = time.perf_counter()
    for _ in range(repeat):
        for t, r in zip(texts, refs, strict=True):
            extract_deadlines(t, r)
    us_dl = (time.perf_counter() - t0) / (repeat * len(texts)) * 1e6
    return {
        "amounts": amounts,
        "deadlines": deadlines,
        "overdue_days": overdue,
        "us_per_text": {"amounts": round(us_amt, 1), "deadlines": round(us_dl, 1)},
        "exceptions": 0,
    }


def _jio_time_value(entity: dict) -> str | None:
    detail = entity.get("detail") or {}
    tm = detail.get("time")
    if not isinstance(tm, list) or not tm:
        return None
    end = tm[-1]
    if not isinstance(end, str) or "inf" in end:
        return None
    return end.replace(" ", "T")


def _jio_money_value(entity: dict) -> float | None:
    num = (entity.get("detail") or {}).get("num")
    if isinstance(num, list):
        num = num[0] if num else None
    try:
        return float(num)
    except (TypeError, ValueError):
        return None


def predict_jionlp(cases: list[dict]) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):  # banner
        import jionlp

    texts = [c["text"] for c in cases]
    bases = [datetime.fromisoformat(c["reference_time"]).timestamp() for c in cases]
    amounts, deadlines, exc = [], [], {"extract_money": 0, "extract_time": 0}
    examples: list[dict] = []
    t_amt = t_dl = 0.0
    for text, base in zip(texts, bases, strict=True):
        t0 = time.perf_counter()
        try:
            ents = jionlp.ner.extract_money(text, with_parsing=True)
        except Exception as e:  # JioNLP raises on some inputs
            ents = []
            exc["extract_money"] += 1
            if len(examples) < 10:
                examples.append({"fn": "extract_money", "text": text, "error": repr(e)[:200]})
        t_amt += time.perf_counter() - t0
        amounts.append(
            [
                {"start": e["offset"][0], "end": e["offset"][1], "value": v}
                for e in ents
                if (v := _jio_money_value(e)) is not None
            ]
        )
        t0 = time.perf_counter()
        try:
            ents = jionlp.ner.extract_time(text, time_base=base, with_parsing=True)
        except Exception as e:
            ents = []
            exc["extract_time"] += 1
            if len(examples) < 10:
                examples.append({"fn": "extract_time", "text": text, "error": repr(e)[:200]})
        t_dl += time.perf_counter() - t0
        deadlines.append([v for e in ents if (v := _jio_time_value(e)) is not None])
    n = len(texts)
    return {
        "amounts": amounts,
        "deadlines": deadlines,
        "version": getattr(jionlp, "__version__", "?"),
        "us_per_text": {"amounts": round(t_amt / n * 1e6, 1), "deadlines": round(t_dl / n * 1e6, 1)},
        "exceptions": exc,
        "exception_examples": examples,
    }


# ---------------------------------------------------------------- scoring


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def score_amounts(cases: list[dict], preds: list[list[dict]]) -> tuple[dict, list[dict]]:
    tp = fp = fn = 0
    role_ok = role_n = 0
    errors = []
    for case, pred in zip(cases, preds, strict=True):
        gold = spans_of(case)
        used = set()
        for p in pred:
            hit = None
            for j, g in enumerate(gold):
                if j in used:
                    continue
                if p["start"] < g["end"] and g["start"] < p["end"] and abs(p["value"] - g["value"]) < 0.005:
                    hit = j
                    break
            if hit is None:
                fp += 1
                errors.append(
                    {
                        "id": case["id"],
                        "type": "fp",
                        "pred": case["text"][p["start"] : p["end"]],
                        "value": p["value"],
                    }
                )
            else:
                used.add(hit)
                tp += 1
                if "role" in p:
                    role_n += 1
                    role_ok += p["role"] == gold[hit]["role"]
                    if p["role"] != gold[hit]["role"]:
                        errors.append(
                            {
                                "id": case["id"],
                                "type": "role",
                                "quote": gold[hit]["quote"],
                                "pred": p["role"],
                                "gold": gold[hit]["role"],
                            }
                        )
        for j, g in enumerate(gold):
            if j not in used:
                fn += 1
                errors.append({"id": case["id"], "type": "fn", "gold": g["quote"], "value": g["value"]})
    out = _prf(tp, fp, fn)
    if role_n:
        out["role_accuracy"] = round(role_ok / role_n, 4)
    return out, errors


def score_deadlines(cases: list[dict], preds: list[list[str]]) -> tuple[dict, list[dict]]:
    tp = fp = fn = 0
    errors = []
    for case, pred in zip(cases, preds, strict=True):
        gold = [d["value"] for d in case["deadlines"]]
        left = list(gold)
        for v in pred:
            if v in left:
                left.remove(v)
                tp += 1
            else:
                fp += 1
                errors.append({"id": case["id"], "type": "fp", "pred": v})
        fn += len(left)
        for v in left:
            errors.append(
                {
                    "id": case["id"],
                    "type": "fn",
                    "gold": v,
                    "quote": next(d["quote"] for d in case["deadlines"] if d["value"] == v),
                }
            )
    return _prf(tp, fp, fn), errors


def by_part(cases: list[dict], sysout: dict) -> dict:
    """F1 per part of the set (id prefix: ext-hand, ext-handb, ext-comp)."""
    parts: dict[str, list[int]] = {}
    for i, c in enumerate(cases):
        parts.setdefault(c["id"].rsplit("-", 1)[0], []).append(i)
    out = {}
    for name, idx in parts.items():
        sub = [cases[i] for i in idx]
        a, _ = score_amounts(sub, [sysout["amounts"][i] for i in idx])
        d, _ = score_deadlines(sub, [sysout["deadlines"][i] for i in idx])
        out[name] = {"cases": len(idx), "amounts_f1": a["f1"], "deadlines_f1": d["f1"]}
    return out


def load_corpus_hand() -> list[dict]:
    """The project's hand-labelled corpus (``corpora/hand/*.jsonl``, written by other sessions):
    a second, independent check. Transcripts are read turn by turn, as the Analyzer does."""
    items = []
    for path in sorted((REPO / "corpora" / "hand").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                texts = [d["text"]] if "text" in d else [t["text"] for t in d["turns"]]
                items.append(
                    {"id": d["id"], "texts": texts, "reference_time": d["reference_time"], "gold": d["gold"]}
                )
    return items


def score_corpus_hand(items: list[dict], amounts_fn, deadlines_fn) -> dict:
    """Amount match: equal value and one quote inside the other (the gold has no turn index);
    deadline match: equal value. Micro P/R/F1 over all items."""
    tp = fp = fn = dtp = dfp = dfn = 0
    for it in items:
        pa, pd = [], []
        for text in it["texts"]:
            pa += amounts_fn(text)
            pd += deadlines_fn(text, it["reference_time"])
        left = [(a["quote"], float(a["value"])) for a in it["gold"]["amounts"]]
        for quote, value in pa:
            hit = next(
                (g for g in left if abs(g[1] - value) < 0.005 and (g[0] in quote or quote in g[0])), None
            )
            if hit:
                left.remove(hit)
                tp += 1
            else:
                fp += 1
        fn += len(left)
        gd = [d["value"] for d in it["gold"]["deadlines"]]
        for v in pd:
            if v in gd:
                gd.remove(v)
                dtp += 1
            else:
                dfp += 1
        dfn += len(gd)
    return {"items": len(items), "amounts": _prf(tp, fp, fn), "deadlines": _prf(dtp, dfp, dfn)}


def corpus_hand_ours(items: list[dict]) -> dict:
    from models.extraction import extract_amounts, extract_deadlines

    return score_corpus_hand(
        items,
        lambda t: [(a.text, a.value) for a in extract_amounts(t)],
        lambda t, ref: [d.value for d in extract_deadlines(t, datetime.fromisoformat(ref))],
    )


def corpus_hand_jionlp(items: list[dict]) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp

    def amounts(t):
        try:
            ents = jionlp.ner.extract_money(t, with_parsing=True)
        except Exception:
            return []
        return [(e["text"], v) for e in ents if (v := _jio_money_value(e)) is not None]

    def deadlines(t, ref):
        try:
            ents = jionlp.ner.extract_time(
                t, time_base=datetime.fromisoformat(ref).timestamp(), with_parsing=True
            )
        except Exception:
            return []
        return [v for e in ents if (v := _jio_time_value(e)) is not None]

    return score_corpus_hand(items, amounts, deadlines)


def score_overdue(cases: list[dict], preds: list[int | None]) -> dict:
    ok = sum(c["overdue_days"] == p for c, p in zip(cases, preds, strict=True))
    return {
        "accuracy": round(ok / len(cases), 4),
        "errors": [
            {"id": c["id"], "gold": c["overdue_days"], "pred": p}
            for c, p in zip(cases, preds, strict=True)
            if c["overdue_days"] != p
        ][:30],
    }


# ---------------------------------------------------------------- main


def _jionlp_via_worker(testset: Path, python: Path) -> dict | None:
    if not python.exists():
        return None
    out = REPO / "evaluation" / "results" / ".jionlp_worker.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            str(python),
            str(Path(__file__).resolve()),
            "--worker-jionlp",
            "--testset",
            str(testset),
            "--worker-out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if proc.returncode != 0 or not out.exists():
        print("JioNLP worker failed:", proc.stderr[-2000:], file=sys.stderr)
        return None
    data = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return data


def main(argv: list[str] | None = None) -> dict | None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--testset", type=Path, default=TESTSET)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--jionlp-python", type=Path, default=BENCH_PY)
    ap.add_argument("--no-jionlp", action="store_true")
    ap.add_argument("--worker-jionlp", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    cases = load(args.testset)

    if args.worker_jionlp:
        out = predict_jionlp(cases)
        items = load_corpus_hand()
        out["corpus_hand"] = corpus_hand_jionlp(items) if items else None
        args.worker_out.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
        return None

    ours = predict_ours(cases)
    jio = None
    if not args.no_jionlp:
        try:
            jio = predict_jionlp(cases)
            items = load_corpus_hand()
            jio["corpus_hand"] = corpus_hand_jionlp(items) if items else None
        except ImportError:
            jio = _jionlp_via_worker(args.testset, args.jionlp_python)

    n_amt = sum(len(c["amounts"]) for c in cases)
    n_dl = sum(len(c["deadlines"]) for c in cases)
    result: dict = {
        "testset": str(args.testset.relative_to(REPO))
        if args.testset.is_relative_to(REPO)
        else str(args.testset),
        "cases": len(cases),
        "gold_amounts": n_amt,
        "gold_deadlines": n_dl,
        "matching": {"amounts": "span overlap and equal value", "deadlines": "equal resolved value"},
        "systems": {},
    }
    amt, amt_err = score_amounts(cases, ours["amounts"])
    dl, dl_err = score_deadlines(cases, ours["deadlines"])
    result["systems"]["ours"] = {
        "amounts": amt,
        "deadlines": dl,
        "overdue_days": score_overdue(cases, ours["overdue_days"]),
        "us_per_text": ours["us_per_text"],
        "by_part": by_part(cases, ours),
        "errors": {"amounts": amt_err[:60], "deadlines": dl_err[:60]},
    }
    if jio is not None:
        j_amt, j_amt_err = score_amounts(cases, jio["amounts"])
        j_dl, j_dl_err = score_deadlines(cases, jio["deadlines"])
        result["systems"]["jionlp"] = {
            "version": jio["version"],
            "amounts": j_amt,
            "deadlines": j_dl,
            "us_per_text": jio["us_per_text"],
            "exceptions": jio["exceptions"],
            "exception_examples": jio["exception_examples"],
            "by_part": by_part(cases, jio),
            "errors": {"amounts": j_amt_err[:40], "deadlines": j_dl_err[:40]},
        }
        result["comparison"] = {
            "amounts_f1_gain": round(amt["f1"] - j_amt["f1"], 4),
            "deadlines_f1_gain": round(dl["f1"] - j_dl["f1"], 4),
            "deadline_speedup": round(
                jio["us_per_text"]["deadlines"] / max(ours["us_per_text"]["deadlines"], 1e-9), 1
            ),
            "amount_speedup": round(
                jio["us_per_text"]["amounts"] / max(ours["us_per_text"]["amounts"], 1e-9), 1
            ),
        }
    else:
        result["systems"]["jionlp"] = None
        result["note"] = "jionlp not available (install the bench extra in .venv-bench); ours scored alone"
    items = load_corpus_hand()
    if items:
        result["corpus_hand"] = {
            "what": "independent check on corpora/hand/*.jsonl (labelled by other sessions); "
            "amount match = equal value and quote containment, deadline match = equal value",
            "ours": corpus_hand_ours(items),
            "jionlp": jio.get("corpus_hand") if jio else None,
        }
    blind = REPO / "evaluation" / "results" / "bench_extraction_blind_first.json"
    if blind.exists():
        result["blind_batch_first_score"] = json.loads(blind.read_text(encoding="utf-8"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    summary = {
        k: {m: v[m]["f1"] for m in ("amounts", "deadlines")} | {"us_per_text": v["us_per_text"]}
        for k, v in result["systems"].items()
        if v
    }
    corpus = result.get("corpus_hand") or {}
    for name in ("ours", "jionlp"):
        if corpus.get(name):
            summary[f"{name}_on_corpus_hand"] = {m: corpus[name][m]["f1"] for m in ("amounts", "deadlines")}
    print(
        json.dumps({"summary": summary, "comparison": result.get("comparison")}, ensure_ascii=False, indent=2)
    )
    return result


if __name__ == "__main__":
    main()
