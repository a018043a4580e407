"""Text normalisation that keeps a map back to the original characters.

Collection texts dodge keyword filters (催-收, 律shi函, fa院), mix full-width and
half-width forms and arrive in traditional characters. Models and rules read the
normalised copy; every span they find is mapped back through ``Normalized.to_original``
so that evidence always quotes the exact characters the sender wrote.

Each normalised character remembers the half-open range ``[start, end)`` of original
characters it came from. A rewrite that changes length (``fa院`` -> ``法院``) gives every
new character the whole range of the rewritten group, so a span over the group maps
back to the whole group.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Characters with no visible width that are used to split keywords.
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e")

# Punctuation and spaces that agencies insert *between* two Chinese characters to
# break up a keyword (催-收, 催 收, 催*收, 催.收). Removed only in that position.
_SPLITTERS = " \t-_*.·•/|~^+=#@"

# Evasive spellings: the Latin part is rewritten only where it stands next to the
# Chinese character that completes the word, so ordinary Latin text is left alone.
# Each rule: (pattern matching only the Latin part, replacement).
_EVASIONS: tuple[tuple[str, str], ...] = (
    (r"(?<![a-z])c(?=收)", "催"),  # c收
    (r"(?<=催)s(?![a-z])", "收"),  # 催s
    (r"(?<![a-z0-9])cs(?![a-z0-9])", "催收"),  # cs
    (r"(?<=律)shi(?=函)", "师"),  # 律shi函
    (r"(?<=律)s(?=函)", "师"),  # 律s函
    (r"(?<![a-z])ls(?=函)", "律师"),  # ls函
    (r"(?<![a-z])fa(?=院|务|律|官)", "法"),  # fa院, fa务
    (r"(?<![a-z])f(?=院)", "法"),  # f院
    (r"(?<![a-z0-9])fy(?![a-z0-9])", "法院"),  # fy
    (r"(?<=起)su(?![a-z])", "诉"),  # 起su
    (r"(?<![a-z])qi(?=诉)", "起"),  # qi诉
    (r"(?<=上)m(?![a-z])", "门"),  # 上m
    (r"(?<=上)men(?![a-z])", "门"),  # 上men
    (r"(?<![a-z])sm(?=[催拜走])", "上门"),  # sm催收
    (r"(?<=报)j(?![a-z])", "警"),  # 报j
    (r"(?<=坐)l(?![a-z])", "牢"),  # 坐l
    (r"(?<=拘)l(?![a-z])", "留"),  # 拘l
    (r"(?<=曝)g(?![a-z])", "光"),  # 曝g
    (r"(?<=征)x(?![a-z])", "信"),  # 征x
    (r"(?<![a-z])zx(?=修复|记录|报告)", "征信"),  # zx修复
    (r"(?<=逾)q(?![a-z])", "期"),  # 逾q
)

# Homophones and look-alikes used in place of filtered words. Same length, so the
# map stays one-to-one.
_HOMOPHONES: tuple[tuple[str, str], ...] = (
    ("崔收", "催收"),
    ("摧收", "催收"),
    ("催手", "催收"),
    ("法阮", "法院"),
    ("法完", "法院"),
    ("律帅", "律师"),
    ("起述", "起诉"),
    ("起素", "起诉"),
    ("上们", "上门"),
    ("爆光", "曝光"),
    ("抱警", "报警"),
    ("征新", "征信"),
    ("预期", "逾期"),  # ASR confuses 预期/逾期; in this domain the latter dominates
)

_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))


def is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


@dataclass(frozen=True)
class Normalized:
    """A normalised copy of ``original`` with, per character, its original range."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of ``text`` to the matching span of ``original``."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span ({start}, {end}) outside text of length {len(self.text)}")
        if start == end:
            pos = self.starts[start] if start < len(self.text) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]

    def original_slice(self, start: int, end: int) -> str:
        s, e = self.to_original(start, end)
        return self.original[s:e]


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=16384)
def _fold_char(ch: str) -> str:
    """Full-width to half-width and compatibility forms, one character in, one out.

    Cached: texts reuse few distinct characters, and this runs once per character.
    """
    if ch == "\u3000":
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    return folded.lower() if len(folded) == 1 else ch.lower()


def _to_simplified(chars: list[str]) -> list[str]:
    text = "".join(chars)
    if text.isascii():
        return chars
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return list(converted)
    # A phrase rule changed the length: fall back to one character at a time so that
    # the offset map stays exact.
    return [_t2s().convert(c) if len(_t2s().convert(c)) == 1 else c for c in chars]


def _remove_splitters(chars: list[str], starts: list[int], ends: list[int]) -> None:
    """Drop runs of splitter characters that sit between two Chinese characters."""
    out_c, out_s, out_e = [], [], []
    i, n = 0, len(chars)
    while i < n:
        ch = chars[i]
        if ch in _SPLITTERS and out_c and is_cjk(out_c[-1]):
            j = i
            while j < n and chars[j] in _SPLITTERS and j - i < 3:
                j += 1
            if j < n and is_cjk(chars[j]):
                i = j
                continue
        out_c.append(ch)
        out_s.append(starts[i])
        out_e.append(ends[i])
        i += 1
    chars[:], starts[:], ends[:] = out_c, out_s, out_e


def _rewrite(chars: list[str], starts: list[int], ends: list[int], pattern: str, repl: str) -> None:
    text = "".join(chars)
    matches = list(re.finditer(pattern, text))
    if not matches:
        return
    out_c, out_s, out_e = [], [], []
    pos = 0
    for m in matches:
        a, b = m.span()
        out_c += chars[pos:a]
        out_s += starts[pos:a]
        out_e += ends[pos:a]
        if len(repl) == b - a:
            out_c += list(repl)
            out_s += starts[a:b]
            out_e += ends[a:b]
        else:
            out_c += list(repl)
            out_s += [starts[a]] * len(repl)
            out_e += [ends[b - 1]] * len(repl)
        pos = b
    out_c += chars[pos:]
    out_s += starts[pos:]
    out_e += ends[pos:]
    chars[:], starts[:], ends[:] = out_c, out_s, out_e


_ZERO_WIDTH_RE = re.compile("[" + "".join(sorted(_ZERO_WIDTH)) + "]")
# A cheap test for the case _remove_splitters handles (most texts have none).
_CJK_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES)
_SPLIT_BETWEEN_CJK_RE = re.compile(f"[{_CJK_CLASS}][{re.escape(_SPLITTERS)}]{{1,3}}[{_CJK_CLASS}]")
_HOMOPHONE_RE = re.compile("|".join(re.escape(a) for a, _ in _HOMOPHONES))
_HOMOPHONE_MAP = dict(_HOMOPHONES)


def normalize(text: str) -> Normalized:
    """Normalise ``text`` for matching and modelling; see the module docstring."""
    if _ZERO_WIDTH_RE.search(text):
        kept = [i for i, ch in enumerate(text) if ch not in _ZERO_WIDTH]
        chars = [_fold_char(text[i]) for i in kept]
    else:
        kept = range(len(text))
        chars = list(map(_fold_char, text))
    starts = list(kept)
    ends = [i + 1 for i in kept]
    chars = _to_simplified(chars)
    if _SPLIT_BETWEEN_CJK_RE.search("".join(chars)):
        _remove_splitters(chars, starts, ends)
    joined = "".join(chars)
    if _HOMOPHONE_RE.search(joined):
        chars = list(_HOMOPHONE_RE.sub(lambda m: _HOMOPHONE_MAP[m.group()], joined))
    if any(c.isascii() and c.isalpha() for c in chars):
        for pattern, repl in _EVASIONS:
            _rewrite(chars, starts, ends, pattern, repl)
    return Normalized(text, "".join(chars), tuple(starts), tuple(ends))


def normalize_text(text: str) -> str:
    """Only the normalised string, for feature extraction."""
    return normalize(text).text


# Clauses of normalised text (full-width punctuation is already folded): runs between
# punctuation marks, where ':' and '.' count only outside numbers (17:00, 3.5万). Both
# tiers give evidence as whole clauses, so that a span reads as a phrase.
_CLAUSE_RE = re.compile(r"(?:[^,.。!?;:\n，！？；：]|(?<=\d)[:.](?=\d))+")


def clause_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of normalised ``text``, trimmed of surrounding whitespace."""
    spans = []
    for m in _CLAUSE_RE.finditer(text):
        s, e = m.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            spans.append((s, e))
    return spans
