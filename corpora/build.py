"""Build the corpus splits from the raw hand batches and the generator output.

Steps, each reported in ``build_report.json``:

1. read every raw line (``hand/*.jsonl`` then ``data/generated.jsonl``); a line that
   is not JSON is dropped, not fatal -- batches are being written while we build;
2. resolve quotes to spans (``corpora.resolve``) and check (``corpora.check``); an
   item with any problem is dropped with the problems as its reason;
3. assign whole families to train/dev/test by a seeded hash, stratified so every
   stage and every flag occurs in test (the test split measures generalisation to
   unseen templates/authors, so no family may straddle splits);
4. drop exact and near duplicates (character 5-gram Jaccard >= 0.8, MinHash/LSH
   candidates verified exactly), keeping the copy in the earliest split
   (train < dev < test) so no test item has a twin in train;
5. write the splits sorted by id, and a report with the corpus hash.

Everything is deterministic: same inputs and seed, same bytes out.
"""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corpora.check import check_item
from corpora.resolve import ResolveError, item_text, resolve_item
from models.labels import FLAG_NAMES, STAGE_NAMES

log = logging.getLogger(__name__)

CORPORA_DIR = Path(__file__).resolve().parent
HAND_DIR = CORPORA_DIR / "hand"
DATA_DIR = CORPORA_DIR / "data"
GENERATED_PATH = DATA_DIR / "generated.jsonl"
SPLIT_NAMES: tuple[str, ...] = ("train", "dev", "test")
REPORT_NAME = "build_report.json"

DEFAULT_SEED = "cuishou-corpus-v1"
TEST_SHARE = 0.15
DEV_SHARE = 0.10
NEAR_DUP_THRESHOLD = 0.8
SHINGLE = 5

# ------------------------------------------------------------------- near-dups


def normalise_for_dedup(text: str) -> str:
    """NFKC, lower case, no whitespace: trivial edits must not hide a duplicate."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def shingles(text: str, k: int = SHINGLE) -> frozenset[str]:
    s = normalise_for_dedup(text)
    if len(s) <= k:
        return frozenset([s])
    return frozenset(s[i : i + k] for i in range(len(s) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class NearDupIndex:
    """MinHash signatures bucketed by LSH bands; candidates are verified exactly.

    128 permutations in 16 bands of 8 rows put the LSH S-curve's midpoint near
    Jaccard 0.71, so pairs at >= 0.8 are found with probability > 0.99; the exact
    Jaccard check afterwards removes the false positives. A small numpy MinHash
    is used instead of datasketch: it is 30 lines and needs no new dependency.
    """

    PRIME = np.uint64(4294967311)  # smallest prime above 2**32

    def __init__(self, num_perm: int = 128, bands: int = 16, seed: int = 1) -> None:
        assert num_perm % bands == 0
        rng = np.random.RandomState(seed)  # fixed seed: signatures are reproducible
        # a < 2**31 and x < 2**32 keep a*x + b inside uint64
        self.a = rng.randint(1, 2**31 - 1, size=num_perm).astype(np.uint64)
        self.b = rng.randint(0, 2**31 - 1, size=num_perm).astype(np.uint64)
        self.bands, self.rows = bands, num_perm // bands
        self.buckets: dict[tuple[int, bytes], list[str]] = defaultdict(list)
        self.sets: dict[str, frozenset[str]] = {}

    def signature(self, sh: frozenset[str]) -> np.ndarray:
        x = np.fromiter((zlib.crc32(s.encode("utf-8")) for s in sorted(sh)), dtype=np.uint64, count=len(sh))
        return ((np.outer(x, self.a) + self.b) % self.PRIME).min(axis=0)

    def _keys(self, sig: np.ndarray) -> Iterable[tuple[int, bytes]]:
        for band in range(self.bands):
            yield band, sig[band * self.rows : (band + 1) * self.rows].tobytes()

    def add(self, key: str, sh: frozenset[str], sig: np.ndarray | None = None) -> None:
        sig = self.signature(sh) if sig is None else sig
        self.sets[key] = sh
        for bk in self._keys(sig):
            self.buckets[bk].append(key)

    def query(
        self, sh: frozenset[str], threshold: float = NEAR_DUP_THRESHOLD, sig: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """Indexed keys whose exact Jaccard with ``sh`` is >= threshold, best first."""
        sig = self.signature(sh) if sig is None else sig
        candidates = {k for bk in self._keys(sig) for k in self.buckets.get(bk, ())}
        hits = [(k, jaccard(sh, self.sets[k])) for k in candidates]
        return sorted(((k, j) for k, j in hits if j >= threshold), key=lambda kj: (-kj[1], kj[0]))


# ------------------------------------------------------------------- loading


@dataclass
class RawItem:
    raw: Any
    file: str  # path relative to corpora/, for the report
    line: int  # 1-based


@dataclass
class Dropped:
    id: str | None
    file: str
    line: int
    step: str  # json | resolve | check | duplicate_id | exact_duplicate | near_duplicate
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "file": self.file, "line": self.line, "step": self.step, "reason": self.reason}


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(CORPORA_DIR).as_posix()
    except ValueError:
        return path.name


def raw_files(hand_dir: Path = HAND_DIR, generated: Path | None = GENERATED_PATH) -> list[Path]:
    files = sorted(Path(hand_dir).glob("*.jsonl")) if Path(hand_dir).is_dir() else []
    if generated is not None and Path(generated).is_file():
        files.append(Path(generated))
    return files


def read_raw(files: list[Path], dropped: list[Dropped]) -> list[RawItem]:
    """Every parseable line; unreadable lines go to ``dropped``."""
    items = []
    for path in files:
        rel = _rel(path)
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    items.append(RawItem(json.loads(line), rel, n))
                except json.JSONDecodeError as e:
                    dropped.append(Dropped(None, rel, n, "json", f"not valid JSON: {e}"))
    return items


# ------------------------------------------------------------------- splitting


def family_key(family: str, seed: str) -> float:
    """A stable pseudo-random number in [0, 1) for a family name."""
    digest = hashlib.sha256(f"{seed}\x00{family}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def item_labels(item: dict[str, Any]) -> set[str]:
    return {f"stage:{item['stage']}"} | {f"flag:{f['label']}" for f in item["flags"]}


ALL_LABELS: tuple[str, ...] = tuple(f"stage:{s}" for s in STAGE_NAMES) + tuple(
    f"flag:{f}" for f in FLAG_NAMES
)


def assign_splits(items: list[dict[str, Any]], seed: str, warnings: list[str]) -> dict[str, str]:
    """family -> split.

    Test first takes, for every label, one family that has it (rarest labels first),
    then test and dev are filled to their shares in hash order. Throughout, a family
    is only moved out of train if train keeps at least one other family with each of
    its labels -- a label present in the corpus but absent from train would make the
    test split measure nothing a model could have learnt.
    """
    fam_labels: dict[str, set[str]] = defaultdict(set)
    for it in items:
        fam_labels[it["family"]] |= item_labels(it)
    families = sorted(fam_labels, key=lambda f: (family_key(f, seed), f))
    n = len(families)
    target = {"test": round(TEST_SHARE * n), "dev": round(DEV_SHARE * n)}
    label_fams = {lab: [f for f in families if lab in fam_labels[f]] for lab in ALL_LABELS}
    split: dict[str, str] = {}

    def starves_train(fam: str) -> bool:
        # True if taking ``fam`` leaves train without some label it has
        return any(all(g == fam or g in split for g in label_fams[lab]) for lab in fam_labels[fam])

    def size(name: str) -> int:
        return sum(1 for s in split.values() if s == name)

    def cover(name: str, must: bool) -> None:
        covered: set[str] = set()
        for lab in sorted(ALL_LABELS, key=lambda lab: (len(label_fams[lab]), lab)):
            fams = label_fams[lab]
            if lab in covered or not fams or any(split.get(f) == name for f in fams):
                continue
            free = [f for f in fams if f not in split]
            safe = [f for f in free if not starves_train(f)]
            if not safe:
                if not must or not free:
                    continue
                warnings.append(f"{lab} occurs in {len(fams)} families; {name} takes one and train has none")
            best = (safe or free)[0]
            split[best] = name
            covered |= fam_labels[best]

    # test must hold every label; dev gets what it can without starving train
    cover("test", must=True)
    cover("dev", must=False)
    for name in ("test", "dev"):
        for f in families:
            if size(name) >= target[name]:
                break
            if f not in split and not starves_train(f):
                split[f] = name
    for f in families:
        split.setdefault(f, "train")
    for lab in ALL_LABELS:
        if not label_fams[lab]:
            warnings.append(f"{lab} occurs in no item")
    return split


# ------------------------------------------------------------------- dedup


def dedup(
    items: list[dict[str, Any]], origin: dict[str, RawItem], dropped: list[Dropped]
) -> list[dict[str, Any]]:
    """Keep the first of each (near-)duplicate group in (split, hand-first, id) order."""
    order = sorted(items, key=lambda it: (SPLIT_NAMES.index(it["split"]), it["source"] != "hand", it["id"]))
    index = NearDupIndex()
    exact: dict[str, str] = {}
    kept = []
    for it in order:
        text = item_text(it)
        norm = normalise_for_dedup(text)
        src = origin[it["id"]]
        if norm in exact:
            other = exact[norm]
            dropped.append(Dropped(it["id"], src.file, src.line, "exact_duplicate", f"same text as {other}"))
            continue
        sh = shingles(text)
        sig = index.signature(sh)
        hits = index.query(sh, sig=sig)
        if hits:
            other, j = hits[0]
            dropped.append(
                Dropped(it["id"], src.file, src.line, "near_duplicate", f"Jaccard {j:.2f} with {other}")
            )
            continue
        exact[norm] = it["id"]
        index.add(it["id"], sh, sig)
        kept.append(it)
    return kept


# ------------------------------------------------------------------- build


@dataclass
class BuildResult:
    splits: dict[str, list[dict[str, Any]]]
    report: dict[str, Any]
    dropped: list[Dropped] = field(default_factory=list)


def dumps_item(item: dict[str, Any]) -> str:
    return json.dumps(item, ensure_ascii=False)


def corpus_hash_of(contents: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for c in contents:
        h.update(c)
    return h.hexdigest()


def build(
    hand_dir: Path = HAND_DIR,
    generated: Path | None = GENERATED_PATH,
    out_dir: Path | None = DATA_DIR,
    seed: str = DEFAULT_SEED,
) -> BuildResult:
    """Run the whole pipeline; writes the splits and report when ``out_dir`` is given."""
    dropped: list[Dropped] = []
    warnings: list[str] = []
    files = raw_files(hand_dir, generated)
    if not files:
        warnings.append("no raw input files found")
    raws = read_raw(files, dropped)
    log.info("read %d raw items from %d files", len(raws), len(files))

    good: list[dict[str, Any]] = []
    origin: dict[str, RawItem] = {}
    for r in raws:
        rid = r.raw.get("id") if isinstance(r.raw, dict) else None
        try:
            item = resolve_item(r.raw)
        except ResolveError as e:
            dropped.append(Dropped(rid, r.file, r.line, "resolve", str(e)))
            continue
        problems = check_item(item)
        if problems:
            dropped.append(Dropped(rid, r.file, r.line, "check", "; ".join(m for _, m in problems)))
            continue
        if item["id"] in origin:
            first = origin[item["id"]]
            dropped.append(
                Dropped(rid, r.file, r.line, "duplicate_id", f"id already used at {first.file}:{first.line}")
            )
            continue
        origin[item["id"]] = r
        good.append(item)
    log.info("%d items resolved and checked, %d dropped so far", len(good), len(dropped))

    fam_split = assign_splits(good, seed, warnings)
    for it in good:
        it["split"] = fam_split[it["family"]]
    kept = dedup(good, origin, dropped)

    splits: dict[str, list[dict[str, Any]]] = {
        name: sorted((it for it in kept if it["split"] == name), key=lambda it: it["id"])
        for name in SPLIT_NAMES
    }
    test_labels = set().union(*(item_labels(it) for it in splits["test"]))
    present = set().union(*(item_labels(it) for it in kept))
    missing = sorted(present - test_labels)
    if missing:
        warnings.append(f"labels missing from test after dedup: {missing}")

    contents = {
        name: "".join(dumps_item(it) + "\n" for it in items).encode() for name, items in splits.items()
    }
    report = make_report(files, raws, origin, good, kept, splits, dropped, warnings, seed, contents)
    if out_dir is not None:
        write_outputs(Path(out_dir), contents, report)
    for w in warnings:
        log.warning("%s", w)
    log.info(
        "kept %d items (%s), dropped %d; corpus hash %s",
        len(kept),
        ", ".join(f"{n} {len(splits[n])}" for n in SPLIT_NAMES),
        len(dropped),
        report["corpus_hash"][:12],
    )
    return BuildResult(splits, report, dropped)


def make_report(
    files: list[Path],
    raws: list[RawItem],
    origin: dict[str, RawItem],
    good: list[dict[str, Any]],
    kept: list[dict[str, Any]],
    splits: dict[str, list[dict[str, Any]]],
    dropped: list[Dropped],
    warnings: list[str],
    seed: str,
    contents: dict[str, bytes],
) -> dict[str, Any]:
    dropped = sorted(dropped, key=lambda d: (d.file, d.line))
    per_file: dict[str, Counter[str]] = {_rel(f): Counter() for f in files}
    for r in raws:
        per_file[r.file]["items"] += 1
    for d in dropped:
        per_file[d.file]["dropped"] += 1
        per_file[d.file][f"dropped_{d.step}"] += 1
    for it in kept:
        per_file[origin[it["id"]].file]["kept"] += 1
    return {
        "seed": seed,
        "near_duplicate_threshold": NEAR_DUP_THRESHOLD,
        "shingle_size": SHINGLE,
        "counts": {
            "raw_items": len(raws),
            "unreadable_lines": sum(1 for d in dropped if d.step == "json"),
            "valid": len(good),
            "kept": len(kept),
            "dropped": len(dropped),
            "dropped_by_step": dict(sorted(Counter(d.step for d in dropped).items())),
            "per_split": {
                n: {"items": len(splits[n]), "families": len({it["family"] for it in splits[n]})}
                for n in SPLIT_NAMES
            },
            "per_file": {f: dict(sorted(c.items())) for f, c in per_file.items()},
        },
        "warnings": warnings,
        "dropped": [d.as_dict() for d in dropped],
        "corpus_hash": corpus_hash_of(contents[n] for n in SPLIT_NAMES),
    }


def write_outputs(out_dir: Path, contents: dict[str, bytes], report: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        # write-then-rename so a reader never sees half a split
        tmp = out_dir / f".{name}.jsonl.tmp"
        tmp.write_bytes(data)
        tmp.replace(out_dir / f"{name}.jsonl")
    (out_dir / REPORT_NAME).write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
