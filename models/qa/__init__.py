"""Call-centre QA: score collectors' call transcripts against the collection rules (spec §7).

``score_call(analyzer, call, rubric)`` returns a ``Scorecard``: the spec result fields for
the call (flags on agent turns only), the violations with turn, quote and legal basis, the
three checks and a 0-100 score from a TOML rubric (``default_rubric.toml``).
"""

from __future__ import annotations

from .report import render_html
from .rubric import DEFAULT_RUBRIC_PATH, Rubric, RubricError, load_rubric, parse_rubric
from .schema import Call, CallTurn, CheckResult, Checks, Scorecard, Violation
from .scorer import score_call, score_calls

__all__ = [
    "DEFAULT_RUBRIC_PATH", "Call", "CallTurn", "CheckResult", "Checks", "Rubric", "RubricError", "Scorecard",
    "Violation", "load_rubric", "parse_rubric", "render_html", "score_call", "score_calls",
]
