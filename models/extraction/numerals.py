"""Character folding and Chinese / financial / Arabic numeral conversion.

``fold`` maps every character to exactly one character (full-width digits and
punctuation to ASCII, compatibility ideographs to unified ones), so an offset
into the folded text is an offset into the original text.

``to_number`` converts one numeral string as written in money and date
expressions: ``12,345.67``, ``1.2万``, ``3万5千``, ``13万2``, ``一万二``,
``十万零一千``, ``8千8百``, ``壹万贰仟叁佰``, ``2.5w``, ``5k``, ``两三千``.
Pure Chinese numerals go to cn2an (the kept library) where it is right; the
forms where cn2an raises or is wrong are handled by our own parser, and each
such form is named in ``tests/models/test_numerals.py``:

* ``1亿2`` (abbreviated 亿): cn2an raises ``KeyError`` (not even ValueError).
* ``一点二万``, ``三点五万`` (Chinese decimal before a unit): cn2an raises.
* ``1,000`` / ``12,345.67`` (thousands separators), ``2.5w``, ``5k``: cn2an raises.
* ``两三千``, ``七八百`` (approximations): cn2an raises; we return the lower
  bound (2000, 700) and flag the value as approximate.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

CN_DIGITS: dict[str, int] = {
    ch: d
    for d, chars in enumerate(
        ("零〇○洞", "一壹幺弌", "二贰貳两兩俩", "三叁參叄", "四肆", "五伍", "六陆陸", "七柒", "八捌", "九玖")
    )
    for ch in chars
}
CN_UNITS: dict[str, int] = {
    ch: v
    for chars, v in (("十拾", 10), ("百佰", 100), ("千仟", 1000), ("万萬", 10_000), ("亿億", 10**8))
    for ch in chars
}
LATIN_UNITS: dict[str, int] = {"w": 10_000, "W": 10_000, "k": 1000, "K": 1000}
_ZEROS = frozenset("零〇○洞")
_SMALL_UNITS = frozenset((10, 100, 1000))

# characters the regexes of the extractors use for numerals (plain + financial)
CN_DIGIT_CHARS = "零〇一二两兩三四五六七八九壹贰貳叁參叄肆伍陆陸柒捌玖幺"
CN_UNIT_CHARS = "十拾百佰千仟万萬亿億"


_T2S = None


def _t2s(ch: str) -> str:
    """Traditional -> simplified for one character (OpenCC, a project dependency), else unchanged."""
    global _T2S
    if _T2S is None:
        try:
            import opencc

            _T2S = opencc.OpenCC("t2s").convert
        except Exception:  # pragma: no cover - opencc missing: traditional text is read as is
            _T2S = str
    try:
        out = _T2S(ch)
    except Exception:  # pragma: no cover
        return ch
    return out if len(out) == 1 else ch


class _FoldMap(dict):
    """``str.translate`` table, filled on demand: one char in, one char out.

    NFKC where it yields one character (full-width digits and punctuation, compatibility
    ideographs; not circled or superscript digits), then traditional -> simplified for CJK
    ideographs (點 -> 点, 內 -> 内, 後 -> 后, 還 -> 还), so 今天下午4點前 reads like 今天下午4点前.
    """

    def __missing__(self, code: int) -> int:
        ch = chr(code)
        out = code
        if code >= 0x80 and unicodedata.category(ch) != "No":
            try:
                norm = unicodedata.normalize("NFKC", ch)
            except Exception:  # pragma: no cover - defensive (lone surrogates normalise fine)
                norm = ch
            if len(norm) == 1:
                out = ord(norm)
            if 0x3400 <= out <= 0x9FFF:
                out = ord(_t2s(chr(out)))
        if code == 0xFFE5 or code == 0xFFE0:  # full-width yen / cent sign
            out = ord("¥") if code == 0xFFE5 else code
        self[code] = out
        return out


_FOLD = _FoldMap()
_FOLD[0x3000] = 0x20  # ideographic space


def fold(text: str) -> str:
    """Fold full-width and compatibility characters, one char for one char."""
    if text.isascii():
        return text
    return text.translate(_FOLD)


def _tokens(s: str) -> list[tuple[str, float, int]] | None:
    """Split a folded numeral into ('num', value, digits) / ('dig', d, 1) / ('unit', m, 0) / ('zero', 0, 0)."""
    out: list[tuple[str, float, int]] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if "0" <= c <= "9":
            j = i
            while j < n and ("0" <= s[j] <= "9" or s[j] == ","):
                j += 1
            int_part = s[i:j].replace(",", "")
            if j < n - 1 and s[j] == "." and "0" <= s[j + 1] <= "9":
                k = j + 1
                while k < n and "0" <= s[k] <= "9":
                    k += 1
                out.append(("num", float(int_part + s[j:k]), 99))
                i = k
            else:
                out.append(("num", float(int(int_part)), len(int_part)))
                i = j
        elif c in CN_DIGITS:
            # Chinese decimal: 一点二, 三点五
            if i + 2 < n and s[i + 1] == "点" and s[i + 2] in CN_DIGITS:
                k = i + 2
                frac = ""
                while k < n and s[k] in CN_DIGITS:
                    frac += str(CN_DIGITS[s[k]])
                    k += 1
                out.append(("num", float(f"{CN_DIGITS[c]}.{frac}"), 99))
                i = k
                continue
            if c in _ZEROS:
                out.append(("zero", 0, 0))
            else:
                out.append(("dig", CN_DIGITS[c], 1))
            i += 1
        elif c in CN_UNITS:
            out.append(("unit", CN_UNITS[c], 0))
            i += 1
        elif c in LATIN_UNITS:
            out.append(("unit", LATIN_UNITS[c], 0))
            i += 1
        else:
            return None
    return out


def parse_numeral(s: str) -> tuple[float, bool] | None:
    """Our own parser for any numeral string: (value, approximate) or None.

    Rules: units multiply what precedes them (3万5千 = 35000); a single trailing
    digit after a unit is the next lower unit (13万2 = 132000, 一万二 = 12000,
    8千8 = 8800) unless a 零 came in between (一万零二 = 10002); two adjacent
    different digits before a unit are an approximation and give the lower bound
    (两三千 = 2000); a run of digits alone is read digit by digit (二〇二六 = 2026).
    """
    toks = _tokens(s)
    if not toks:
        return None
    # digit-only strings: 2026, 二〇二六, 一二三
    if all(t[0] in ("dig", "zero") for t in toks) and len(toks) > 1:
        return float(int("".join(str(int(t[1])) for t in toks))), False
    if all(t[0] == "num" for t in toks) and len(toks) == 1:
        return toks[0][1], False
    approx = False
    # approximations: two different adjacent digits before a unit -> keep the lower one
    merged: list[tuple[str, float, int]] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if (
            t[0] == "dig"
            and i + 2 < len(toks)
            and toks[i + 1][0] == "dig"
            and toks[i + 2][0] == "unit"
            and toks[i + 1][1] != t[1]
        ):
            merged.append(("dig", min(t[1], toks[i + 1][1]), 1))
            approx = True
            i += 2
            continue
        merged.append(t)
        i += 1
    total = 0.0  # whole 亿 part
    wan = 0.0  # whole 万 part below 亿
    sec = 0.0  # section below 万
    cur: float | None = None
    cur_single = False
    last_unit = 0
    small_floor = 0
    wan_seen = False
    zero_since_unit = False
    for kind, val, digits in merged:
        if kind in ("num", "dig"):
            if cur is not None:
                return None
            cur = val
            cur_single = kind == "dig" or digits == 1
        elif kind == "zero":
            if cur is not None:
                return None
            zero_since_unit = True
        else:  # unit
            u = int(val)
            if u in _SMALL_UNITS:
                if cur is None:
                    if u == 10 and (sec == 0 or zero_since_unit):
                        cur = 1.0
                    else:
                        return None
                if small_floor and u >= small_floor:
                    return None  # units must fall within a section: 一十三千, 五十百
                sec += cur * u
                small_floor = u
            elif u == 10_000:
                if (cur is None and sec == 0) or wan_seen:
                    return None  # 万 alone, or twice below one 亿: 一万一万
                wan += (sec + (cur or 0.0)) * u
                sec = 0.0
                small_floor = 0
                wan_seen = True
            else:  # 亿
                if cur is None and sec == 0 and wan == 0:
                    return None
                total = (total + wan + sec + (cur or 0.0)) * u
                wan = sec = 0.0
                small_floor = 0
                wan_seen = False
            cur = None
            last_unit = u
            zero_since_unit = False
    if cur is not None:
        if last_unit and not zero_since_unit and cur_single and cur < 10:
            cur = cur * (last_unit // 10)
        sec += cur
    value = total + wan + sec
    return round(value, 6), approx


_PURE_CN = frozenset(CN_DIGIT_CHARS + CN_UNIT_CHARS)


@lru_cache(maxsize=4096)
def _via_cn2an(s: str) -> float | None:
    try:
        import cn2an  # kept library; imported lazily (its import is slow)

        return float(cn2an.cn2an(s, "normal"))
    except Exception:  # cn2an raises ValueError, KeyError... on forms it does not know
        return None


@lru_cache(maxsize=8192)
def to_number(s: str) -> tuple[float, bool] | None:
    """Value of a numeral string (folded), and whether it is an approximation.

    Pure Chinese numerals (plain or financial) use cn2an; everything else, and
    every form cn2an rejects, uses ``parse_numeral``. Never raises.
    """
    try:
        if not s:
            return None
        ours = parse_numeral(s)
        if all(c in _PURE_CN for c in s) and not (ours and ours[1]):
            lib = _via_cn2an(s)
            if lib is not None:
                return lib, False
        return ours
    except Exception:
        return None


def small_int(s: str) -> int | None:
    """A small count or calendar number (days, months, hours, years): 3, 十五, 二十四, 二〇二六."""
    try:
        if s.isdigit() and s.isascii():
            return int(s)
        r = parse_numeral(s)
        if r is None or r[1]:
            return None
        v = r[0]
        return int(v) if v == int(v) else None
    except Exception:
        return None
