"""Render a sum of money into one of many surface forms; the value is known by construction.

``render(cents, rng)`` returns ``(surface, value_in_yuan)``; ``spoken(cents, rng)`` gives the
form a speech recogniser would write for a call transcript.
"""

from __future__ import annotations

import random

import cn2an

CAPS = "零壹贰叁肆伍陆柒捌玖"
LOWER = "零一二三四五六七八九"


def value_of(cents: int) -> float | int:
    return cents // 100 if cents % 100 == 0 else round(cents / 100, 2)


def _comma(n: int) -> str:
    return f"{n:,}"


def _cn(n: int, caps: bool = False) -> str:
    s = cn2an.an2cn(n, "up" if caps else "low")
    if not caps and s[:2] in ("二万", "二千", "二百") and n >= 200:
        s = "两" + s[1:]
    return s


def _jiao_fen(c: int, caps: bool) -> str:
    digits = CAPS if caps else LOWER
    j, f = divmod(c, 10)
    out = ""
    if j:
        out += digits[j] + "角"
    if f:
        out += ("" if j else digits[0]) + digits[f] + "分" if not j else digits[f] + "分"
    return out


def _wan_qian(y: int) -> tuple[int, int] | None:
    """y = a*10000 + b*1000 with b in 1..9 and a >= 1."""
    if y >= 10000 and y % 1000 == 0 and (y // 1000) % 10:
        return y // 10000, (y // 1000) % 10
    return None


def compatible_forms(cents: int) -> list[str]:
    y, c = divmod(cents, 100)
    forms = ["comma", "plain", "yen", "rmb", "caps"]
    if c == 0:
        forms += ["yen_int", "cn_full", "kuai"]
        if y >= 10000 and y % 100 == 0:
            forms += ["wan_dec", "wan_dec_yuan"]
        if y >= 10000 and y % 1000 == 0:
            forms += ["w"]
        if _wan_qian(y):
            forms += ["wan_qian", "wan_tail", "cn_short"]
        if 1000 <= y < 10000 and y % 100 == 0 and (y // 100) % 10:
            forms += ["cn_short_qian"]
        if 1000 <= y < 100000 and y % 500 == 0:
            forms += ["k"]
        if 1000 <= y < 10000 and y % 1000 == 0:
            forms += ["qian"]
        if y % 10000 == 0 and y >= 10000:
            forms += ["wan_int"]
    else:
        forms += ["yjf", "yjf", "plain2"]
    return forms


def render_form(cents: int, form: str, rng: random.Random) -> str:
    y, c = divmod(cents, 100)
    dec = f".{c:02d}" if c else rng.choice(["", "", ".00"])
    if form == "comma":
        return _comma(y) + dec + ("元" if dec else rng.choice(["元", "元", "元", "块"]))
    if form == "plain":
        return str(y) + dec + "元"
    if form == "plain2":
        return f"{cents / 100:.2f}" + "元"
    if form == "yen":
        return rng.choice(["￥", "¥", "¥"]) + _comma(y) + (f".{c:02d}" if c else rng.choice(["", ".00"]))
    if form == "yen_int":
        return rng.choice(["￥", "¥"]) + str(y)
    if form == "rmb":
        pre = rng.choice(["人民币", "人民币", "人民币", "RMB ", "CNY "])
        return pre + _comma(y) + dec + ("元" if pre == "人民币" else "")
    if form == "caps":
        if c:
            s = _cn(y, True) + "元" + _jiao_fen(c, True)
        else:
            s = _cn(y, True) + "元整"
        return ("人民币" if rng.random() < 0.6 else "") + s
    if form == "cn_full":
        return _cn(y) + rng.choice(["元", "元", "块", "块钱"])
    if form == "kuai":
        return str(y) + rng.choice(["块", "块钱"])
    if form in ("wan_dec", "wan_dec_yuan"):
        s = f"{y / 10000:.4f}".rstrip("0").rstrip(".")
        return s + ("万元" if form == "wan_dec_yuan" else "万")
    if form == "wan_int":
        return str(y // 10000) + rng.choice(["万", "万元", "万块"])
    if form == "w":
        s = f"{y / 10000:.2f}".rstrip("0").rstrip(".")
        return s + rng.choice(["w", "W", "w"])
    if form == "wan_qian":
        a, b = _wan_qian(y)
        return f"{a}万{b}千" + rng.choice(["", "元", "元", "块"])
    if form == "wan_tail":
        a, b = _wan_qian(y)
        return f"{a}万{b}"
    if form == "cn_short":
        a, b = _wan_qian(y)
        return _cn(a) + "万" + LOWER[b] + rng.choice(["", "块", "元"]) if a < 10 else _cn(y) + "元"
    if form == "cn_short_qian":
        return LOWER[y // 1000] + "千" + LOWER[(y // 100) % 10] + rng.choice(["", "块"])
    if form == "k":
        s = f"{y / 1000:.1f}".rstrip("0").rstrip(".")
        return s + rng.choice(["k", "K", "k"])
    if form == "qian":
        return str(y // 1000) + rng.choice(["千", "千元", "千块"])
    if form == "yjf":
        j, f = divmod(c, 10)
        s = _comma(y) + "元"
        if j:
            s += f"{j}角"
        if f:
            s += ("" if j else "零") + f"{f}分"
        return ("人民币" if rng.random() < 0.3 else "") + s
    raise ValueError(form)


FORMAL = ["comma", "comma", "comma", "plain", "rmb", "rmb", "caps", "yen", "yjf", "plain2", "wan_dec_yuan"]
CASUAL = [
    "comma",
    "plain",
    "kuai",
    "yen_int",
    "k",
    "w",
    "wan_dec",
    "wan_qian",
    "wan_tail",
    "cn_short",
    "cn_full",
    "qian",
    "cn_short_qian",
    "wan_int",
]


def render(cents: int, rng: random.Random, register: str = "any") -> tuple[str, float | int]:
    forms = compatible_forms(cents)
    if register == "formal":
        pool = [f for f in forms if f in FORMAL] or forms
    elif register == "casual":
        pool = [f for f in forms if f in CASUAL] or forms
    else:
        pool = forms
    return render_form(cents, rng.choice(pool), rng), value_of(cents)


def spoken(cents: int, rng: random.Random) -> str:
    """How an ASR transcript writes the sum: Chinese numerals, 块/元, 毛."""
    y, c = divmod(cents, 100)
    wq = _wan_qian(y)
    if c == 0 and wq and wq[0] < 100 and rng.random() < 0.4:
        a, b = wq
        return _cn(a) + "万" + LOWER[b] + rng.choice(["", "千块", "千"])
    s = _cn(y) if y else "零"
    unit = rng.choice(["块", "元", "块钱"])
    if c:
        j, f = divmod(c, 10)
        tail = ""
        if j:
            tail += LOWER[j] + rng.choice(["毛", "角"])
        if f:
            tail += ("零" if not j else "") + LOWER[f] + "分"
        return s + unit.replace("钱", "") + tail
    return s + unit


# --- value generation -----------------------------------------------------------


def random_cents(rng: random.Random, lo: int = 500, hi: int = 150000, style: str | None = None) -> int:
    """A sum between lo and hi yuan in a random 'roundness' style."""
    style = style or rng.choice(["cents", "cents", "int", "int", "hundred", "thousand", "wanqian", "k"])
    y = int(10 ** rng.uniform(_log(lo), _log(hi)))
    if style == "cents":
        return y * 100 + rng.randrange(1, 100)
    if style == "int":
        return y * 100
    if style == "hundred":
        return max(100, round(y, -2)) * 100
    if style == "thousand":
        return max(1000, round(y, -3)) * 100
    if style == "wanqian":
        a = max(1, y // 10000)
        return (a * 10000 + rng.randrange(1, 10) * 1000) * 100
    if style == "k":
        return max(1000, round(y / 500) * 500) * 100
    raise ValueError(style)


def _log(x: float) -> float:
    import math

    return math.log10(max(1, x))
