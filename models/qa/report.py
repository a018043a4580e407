"""A self-contained HTML report for a batch of scorecards (no scripts, no external files).

Every piece of text from the input is escaped. The output depends only on its inputs, so
a report can be compared with a golden file.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..labels import FLAG_BY_NAME
from ..rules import RULE_BY_NAME
from .schema import Scorecard

_CSS = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}
th{background:#f3f3f3}.score{font-weight:bold;text-align:right}.low{color:#b00020}.ok{color:#1b5e20}
.pass{color:#1b5e20}.fail{color:#b00020}.error{background:#fff3f3}ul{margin:0;padding-left:1.2em}
q{quotes:"「" "」"}.muted{color:#777}
""".strip()


def _zh(label: str) -> str:
    rule = RULE_BY_NAME.get(label)
    return rule.zh if rule else FLAG_BY_NAME[label].zh if label in FLAG_BY_NAME else label


def _violations(card: Scorecard) -> str:
    if not card.violations:
        return '<span class="muted">none</span>'
    items = []
    for v in card.violations:
        where = f"turn {v.turn}" if v.turn is not None else "call"
        quote = f" <q>{escape(v.quote)}</q>" if v.quote else ""
        detail = f' <span class="muted">({escape(v.detail)})</span>' if v.detail else ""
        items.append(f'<li title="{escape(v.basis)}"><b>{escape(v.label)}</b> {escape(_zh(v.label))}, '
                     f"{where}:{quote}{detail}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _checks(card: Scorecard) -> str:
    items = []
    for name, check in card.checks:
        cls, mark = ("pass", "✔") if check.passed else ("fail", "✘")
        where = f", turn {check.turn}" if check.turn is not None else ""
        quote = f" <q>{escape(check.quote)}</q>" if check.quote else ""
        items.append(f'<li class="{cls}">{mark} {escape(name)}{where}{quote}</li>')
    return "<ul>" + "".join(items) + "</ul>"


def render_html(rows: Sequence[Scorecard | dict], title: str = "cuishou QA report", rubric_name: str = "") -> str:
    """One table row per call (a dict row is an error line: ``line``, ``id``?, ``error``)."""
    cards = [r for r in rows if isinstance(r, Scorecard)]
    mean = sum(c.score for c in cards) / len(cards) if cards else 0.0
    body = []
    for n, row in enumerate(rows, start=1):
        if isinstance(row, Scorecard):
            cls = "low" if row.score < 60 else "ok"
            critical = f'<br><span class="fail">critical: {escape(", ".join(row.critical))}</span>' if row.critical else ""
            body.append(
                f"<tr><td>{n}</td><td>{escape(row.id or '')}</td><td class=\"score {cls}\">{row.score:g}{critical}</td>"
                f"<td>{escape(row.stage.label)}</td><td>{_violations(row)}</td><td>{_checks(row)}</td></tr>")
        else:
            body.append(
                f'<tr class="error"><td>{n}</td><td>{escape(str(row.get("id") or ""))}</td><td colspan="4">'
                f'line {escape(str(row.get("line", "?")))}: {escape(str(row.get("error", "")))}</td></tr>')
    summary = (f"{len(rows)} calls, {len(cards)} scored, {len(rows) - len(cards)} with errors; "
               f"mean score {mean:.1f}" + (f"; rubric {escape(rubric_name)}" if rubric_name else ""))
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"<h1>{escape(title)}</h1>\n<p>{summary}</p>\n"
        "<table><thead><tr><th>#</th><th>id</th><th>score</th><th>stage</th><th>violations</th><th>checks</th>"
        "</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>\n</body></html>\n"
    )
