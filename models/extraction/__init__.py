"""Amounts, deadlines and overdue days in Chinese debt-collection texts (spec §3–5).

Pure Python and regular expressions. Every function takes any string and never
raises; every span indexes the original text (``text[start:end] == match.text``),
because the folding of full-width characters (``numerals.fold``) maps one
character to one character.
"""

from __future__ import annotations

from .amounts import AmountMatch, extract_amounts
from .deadlines import DeadlineMatch, extract_deadlines
from .overdue import extract_overdue_days

__all__ = [
    "AmountMatch",
    "DeadlineMatch",
    "extract_amounts",
    "extract_deadlines",
    "extract_overdue_days",
]
