"""Pieces, fragment templates and assembly into labelled items.

A text is built as a list of ``Piece``s. Plain text is ``lit``; money and deadlines are
their own pieces carrying the value; ``open``/``close`` markers bracket flag evidence.
Noise rewrites pieces, never the labels: quotes and offsets are read off the final
pieces at assembly time, so every quote is an exact substring by construction.

Template syntax (fragments are written in it):
  [a|b|c]       choose one alternative (may nest; ``[x|]`` makes x optional)
  <SLOT>        a slot filled from the item context, e.g. <NAME>, <TAIL>, <AMT:fee>, <DL>
  {...}         flag evidence inside a flag fragment (whole fragment when absent)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_ALT = re.compile(r"\[([^\[\]]*)\]")
_TOK = re.compile(r"(<[A-Z_]+(?::[a-z_]+)?>|\{|\})")
EDGE_PUNCT = " ，。！？、；：,.!?;:…~～\n"


@dataclass
class Piece:
    text: str
    kind: str = "lit"  # lit | fixed | amount | deadline | open | close
    data: Any = None


@dataclass
class Built:
    text: str
    amounts: list[dict] = field(default_factory=list)
    deadlines: list[dict] = field(default_factory=list)
    flags: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def expand(template: str, rng) -> str:
    while True:
        m = _ALT.search(template)
        if not m:
            return template
        opts = m.group(1).split("|")
        template = template[: m.start()] + rng.choice(opts) + template[m.end() :]


def parse(template: str, rng, slot_fn, flags: tuple[str, ...] = ()) -> list[Piece]:
    """Template -> pieces. ``slot_fn(name, arg)`` returns a list of pieces."""
    text = expand(template, rng)
    out: list[Piece] = []
    has_braces = "{" in text
    if flags and not has_braces:
        out.append(Piece("", "open", flags))
    for tok in _TOK.split(text):
        if not tok:
            continue
        if tok == "{":
            if flags:
                out.append(Piece("", "open", flags))
        elif tok == "}":
            if flags:
                out.append(Piece("", "close", flags))
        elif tok.startswith("<") and tok.endswith(">") and len(tok) > 2 and tok[1].isupper():
            name, _, arg = tok[1:-1].partition(":")
            out.extend(slot_fn(name, arg or None))
        else:
            out.append(Piece(tok))
    if flags and not has_braces:
        out.append(Piece("", "close", flags))
    return out


def assemble(pieces: list[Piece]) -> Built:
    text_parts: list[str] = []
    pos = 0
    b = Built("")
    open_stack: list[tuple[tuple[str, ...], int]] = []
    for p in pieces:
        if p.kind == "open":
            open_stack.append((p.data, pos))
            continue
        if p.kind == "close":
            for i in range(len(open_stack) - 1, -1, -1):
                if open_stack[i][0] == p.data:
                    flags, start = open_stack.pop(i)
                    ev = "".join(text_parts)[start:pos]
                    # trim edge punctuation/space so the quote is clean
                    lead = len(ev) - len(ev.lstrip(EDGE_PUNCT))
                    ev2 = ev.strip(EDGE_PUNCT)
                    if ev2:
                        for f in flags:
                            b.flags.setdefault(f, []).append((ev2, start + lead))
                    break
            continue
        if p.kind == "amount":
            if p.text:
                b.amounts.append(
                    {"quote": p.text, "value": p.data["value"], "role": p.data["role"], "_start": pos}
                )
        elif p.kind == "deadline":
            if p.text:
                b.deadlines.append(
                    {"quote": p.text, "value": p.data["value"], "kind": p.data["kind"], "_start": pos}
                )
        text_parts.append(p.text)
        pos += len(p.text)
    b.text = "".join(text_parts)
    return b


def occurrence(text: str, quote: str, start: int) -> int:
    n, i = 0, text.find(quote)
    while i != -1 and i < start:
        n += 1
        i = text.find(quote, i + 1)
    assert i == start, (quote, start, text)
    return n
