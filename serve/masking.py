"""Mask phone, ID-card and bank-card numbers before anything reaches a log.

A logging filter (installed on handlers, so it sees records from every logger) formats
each record once, masks the message and drops the arguments. Masked numbers keep only
their last four digits (a phone keeps its first three as well):
``13812345678`` -> ``138****5678``, ``110101199003077777`` -> ``**************7777``.
"""

from __future__ import annotations

import logging
import re

# Digits may be written with spaces or dashes between groups (card numbers often are).
_SEP = r"[ \-]?"
# Mainland mobile numbers, optionally with +86 / 86.
_PHONE = re.compile(r"(?<![0-9０-９])(?:\+?86[ \-]?)?(1[3-9][0-9])[ \-]?([0-9]{4})[ \-]?([0-9]{4})(?![0-9０-９])")
# 18-digit resident ID (last char may be X) and the old 15-digit form.
_ID = re.compile(r"(?<![0-9])([1-9][0-9]{5}(?:19|20)[0-9]{9}[0-9Xx]|[1-9][0-9]{14})(?![0-9Xx])")
# Any other run of 12 to 19 digits (bank cards, account numbers), with optional separators.
_CARD = re.compile(rf"(?<![0-9])[0-9](?:{_SEP}[0-9]){{11,18}}(?![0-9])")
# Full-width digits are folded first so that "１３８..." is caught too.
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def _keep_last4(match: re.Match) -> str:
    digits = re.sub(r"[^0-9Xx]", "", match.group(0))
    return "*" * (len(digits) - 4) + digits[-4:]


def mask(text: str) -> str:
    """The text with every phone, ID-card and bank-card number masked."""
    if not text:
        return text
    if any(c in text for c in "０１２３４５６７８９"):
        text = text.translate(_FULLWIDTH)
    text = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _ID.sub(_keep_last4, text)
    return _CARD.sub(_keep_last4, text)


class MaskingFilter(logging.Filter):
    """Rewrites every record's message with :func:`mask`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts, masked
            message = f"{record.msg} {record.args}"
        record.msg = mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "cuishou", "serve")


def install(logger_names: tuple[str, ...] = _LOGGERS) -> None:
    """Put one MaskingFilter on every handler of the named loggers (idempotent)."""
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())
