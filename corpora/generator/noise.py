"""Surface noise on pieces: register, 繁体, full-width digits, emoji, evasive spellings,
typos, spacing, and ASR-style rewriting of call transcripts.

Every function maps a list of pieces to a new list; labels live on the pieces, so the
quotes follow whatever the noise did to the text.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from . import money
from .dates import cn_num
from .doc import Piece

TEXTUAL = ("lit", "fixed", "amount", "deadline")


def _map(pieces: list[Piece], fn, kinds=("lit",)) -> list[Piece]:
    return [Piece(fn(p.text), p.kind, p.data) if p.kind in kinds and p.text else p for p in pieces]


def rough(pieces: list[Piece]) -> list[Piece]:
    return _map(pieces, lambda s: s.replace("请您", "你").replace("您", "你"))


@lru_cache(maxsize=4)
def _cc(cfg: str):
    import opencc

    return opencc.OpenCC(cfg)


def traditional(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    cc = _cc(rng.choice(["s2t", "s2tw", "s2hk"]))
    return _map(pieces, cc.convert, TEXTUAL)


_FW = str.maketrans("0123456789,.", "０１２３４５６７８９，．")


def fullwidth(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    p_amount = rng.random() < 0.7
    kinds = ("lit", "fixed", "amount", "deadline") if p_amount else ("lit", "fixed")
    return _map(pieces, lambda s: s.translate(_FW), kinds)


EVASIVE = {
    "催收": ["c收", "催-收", "cui收", "摧收", "cs", "催 收"],
    "律师函": ["律shi函", "律-师-函", "lv师函", "律師hán"],
    "法院": ["fa院", "法yuan", "珐院", "法-院"],
    "上门": ["上m", "尚门", "上-门", "shang门"],
    "起诉": ["起su", "起-诉", "qi诉", "起塑"],
    "逾期": ["yu期", "逾-期", "踰期"],
    "还款": ["还k", "huan款", "还-款"],
    "欠款": ["qian款", "欠k", "欠-款"],
    "诉讼": ["su讼", "诉-讼"],
    "拘留": ["ju留", "拘-留"],
    "坐牢": ["zuo牢", "坐-牢"],
    "曝光": ["爆光", "bao光", "曝-光"],
    "通讯录": ["通迅录", "txl", "通讯lu"],
    "征信": ["zheng信", "征-信", "徵信"],
    "微信": ["V信", "vx", "薇信", "wx"],
    "老赖": ["老lai", "老-赖", "老癞"],
    "转账": ["转zhang", "转-账"],
    "贷款": ["带款", "dai款"],
    "借款": ["jie款", "借-款"],
}
_EV_RE = re.compile("|".join(sorted(EVASIVE, key=len, reverse=True)))


def evasive(pieces: list[Piece], rng: random.Random, p: float = 0.6) -> list[Piece]:
    def fn(s: str) -> str:
        return _EV_RE.sub(lambda m: rng.choice(EVASIVE[m.group(0)]) if rng.random() < p else m.group(0), s)

    return _map(pieces, fn)


TYPOS = {
    "账户": "帐户",
    "尽快": "尽块",
    "联系": "连系",
    "已经": "以经",
    "处理": "处里",
    "马上": "马尚",
    "身份": "身分",
    "的话": "得话",
    "再次": "在次",
    "现在": "线在",
    "那么": "哪么",
    "知道": "只道",
    "不要": "不耍",
    "部门": "布门",
    "通知": "通之",
    "及时": "即时",
    "影响": "映响",
    "记录": "纪录",
    "您好": "你好",
    "谢谢": "谢射",
    "办理": "半理",
    "立即": "立既",
    "配合": "陪合",
}
_TY_RE = re.compile("|".join(TYPOS))


def typos(pieces: list[Piece], rng: random.Random, p: float = 0.35) -> list[Piece]:
    def fn(s: str) -> str:
        return _TY_RE.sub(lambda m: TYPOS[m.group(0)] if rng.random() < p else m.group(0), s)

    return _map(pieces, fn)


EMOJI = [
    "😊",
    "🙏",
    "⚠️",
    "‼️",
    "💰",
    "📢",
    "👉",
    "🔥",
    "❗",
    "✅",
    "📞",
    "😡",
    "👍",
    "🎉",
    "💳",
    "⏰",
    "🤝",
    "💡",
]


def emoji(pieces: list[Piece], rng: random.Random, p: float = 0.3) -> list[Piece]:
    def fn(s: str) -> str:
        return re.sub(
            r"([，。！？])", lambda m: m.group(1) + (rng.choice(EMOJI) if rng.random() < p else ""), s
        )

    return _map(pieces, fn)


def ascii_punct(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    table = str.maketrans({"，": ", ", "！": "!", "？": "?", "：": ":", "；": ";"})
    return _map(pieces, lambda s: s.translate(table))


def spaces(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    """Occasional spaces around slot values, as in many real SMS."""
    out: list[Piece] = []
    for p in pieces:
        if p.kind in ("fixed", "amount") and rng.random() < 0.25:
            out.append(Piece(" "))
            out.append(p)
            out.append(Piece(" "))
        else:
            out.append(p)
    return out


# --- ASR -------------------------------------------------------------------------

_PUNCT = re.compile(r"[，。！？、；：“”‘’《》【】（）()!?,;:\"'—…~～]+")
FILLERS = ["嗯", "呃", "那个", "就是", "啊", "这个", "就是说", "然后", "对", "嗯嗯", "哎", "额"]
_DIG1 = "零一二三四五六七八九"


def _digits_spoken(s: str, rng: random.Random) -> str:
    def run(m: re.Match) -> str:
        d = m.group(0)
        if len(d) >= 4 or d.startswith("0"):
            one = "幺" if rng.random() < 0.5 else "一"
            return "".join(one if c == "1" else _DIG1[int(c)] for c in d)
        return cn_num(int(d))

    s = re.sub(
        r"(\d{1,2}):(\d{2})",
        lambda m: (
            cn_num(int(m.group(1))) + "点" + (cn_num(int(m.group(2))) + "分" if int(m.group(2)) else "")
        ),
        s,
    )
    return re.sub(r"\d+", run, s)


def _cn_dec(s: str) -> str:
    import cn2an

    return cn2an.an2cn(s, "low")


def _strip_punct(s: str, rng: random.Random) -> str:
    return _PUNCT.sub(lambda m: rng.choice(["", "", " "]), s)


def asr(pieces: list[Piece], rng: random.Random, filler_p: float = 0.3) -> list[Piece]:
    out: list[Piece] = []
    depth = 0
    for i, p in enumerate(pieces):
        depth += (p.kind == "open") - (p.kind == "close")
        if p.kind == "amount" and p.text:
            out.append(Piece(money.spoken(p.data["cents"], rng), "amount", p.data))
        elif p.kind in ("deadline", "fixed") and p.text:
            t = _digits_spoken(p.text.replace("-", "").replace("/", "月"), rng)
            out.append(Piece(_strip_punct(t, rng), p.kind, p.data))
        elif p.kind == "lit" and p.text:
            t = re.sub(r"(\d+(?:\.\d+)?)%", lambda m: "百分之" + _cn_dec(m.group(1)), p.text)
            t = _digits_spoken(t, rng)
            t = _strip_punct(t, rng)
            if depth == 0 and rng.random() < filler_p:
                t = rng.choice(FILLERS) + t if i == 0 or rng.random() < 0.5 else t + rng.choice(FILLERS)
            out.append(Piece(t))
        else:
            out.append(p)
    return out
