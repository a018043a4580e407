"""Score one call (or many) on top of ``Analyzer``: flags on agent turns, QA rules, checks, score."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ..labels import AGENT, CUSTOMER
from ..rules import basis
from ..schema import AnalysisRequest, AnalysisResult, FlagResult, Turn
from ..text import normalize
from . import checks as rules
from .rubric import Rubric, load_rubric
from .schema import Call, CheckResult, Checks, Scorecard, Violation

if TYPE_CHECKING:
    from ..analyzer import Analyzer

QUOTE_CHARS = 120  # a turn quoted whole is cut to this many characters


def _quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def _reference_time(call: Call) -> datetime | None:
    if call.reference_time is not None:
        return call.reference_time
    if call.call_start is not None:
        return call.call_start
    return next((t.timestamp for t in call.turns if t.timestamp is not None), None)


def _request(call: Call) -> AnalysisRequest:
    return AnalysisRequest(id=call.id, turns=[Turn(speaker=t.speaker, text=t.text) for t in call.turns],
                           reference_time=_reference_time(call) or datetime.now().replace(microsecond=0))


def score_call(analyzer: Analyzer, call: Call | dict, rubric: Rubric | None = None) -> Scorecard:
    """Score one call; ``call`` may be a dict in the batch-line shape (validated here)."""
    return score_calls(analyzer, [call], rubric)[0]


def score_calls(analyzer: Analyzer, calls: Sequence[Call | dict], rubric: Rubric | None = None) -> list[Scorecard]:
    """Score many calls with one vectorised model pass."""
    rubric = rubric or load_rubric()
    parsed = [c if isinstance(c, Call) else Call.model_validate(c) for c in calls]
    results = analyzer.analyze_batch([_request(c) for c in parsed])
    return [_scorecard(call, result, rubric) for call, result in zip(parsed, results, strict=True)]


def _agent_flags(call: Call, result: AnalysisResult) -> list[FlagResult]:
    """Flags whose evidence lies on agent turns (the analyzer reads only those already)."""
    kept = []
    for flag in result.flags:
        evidence = [s for s in flag.evidence if s.turn is not None and call.turns[s.turn].speaker == AGENT]
        if evidence or not flag.evidence:
            kept.append(flag.model_copy(update={"evidence": evidence}))
    return kept


def _flag_violations(flags: list[FlagResult]) -> list[Violation]:
    out, seen = [], set()
    for flag in flags:
        if not flag.evidence:
            out.append(Violation(label=flag.label, turn=None, quote="", basis=basis(flag.label)))
            continue
        for span in flag.evidence:
            key = (flag.label, span.turn, span.start, span.end)
            if key not in seen:
                seen.add(key)
                out.append(Violation(label=flag.label, turn=span.turn, quote=span.text, basis=basis(flag.label)))
    return out


def _contact_violations(call: Call, rubric: Rubric) -> list[Violation]:
    out = []
    agent_turns = [i for i, t in enumerate(call.turns) if t.speaker == AGENT]
    window = f"{rubric.quiet_start:%H:%M}–{rubric.quiet_end:%H:%M}"
    if call.debtor_consented_to_off_hours is not True and agent_turns:
        hit = None
        timed = [i for i in agent_turns if call.turns[i].timestamp is not None]
        for i in timed:
            if rubric.in_quiet_hours(call.turns[i].timestamp.time()):
                hit = (i, call.turns[i].timestamp)
                break
        if hit is None and not timed and call.call_start is not None and rubric.in_quiet_hours(call.call_start.time()):
            hit = (agent_turns[0], call.call_start)
        if hit is not None:
            i, moment = hit
            out.append(Violation(
                label="off_hours_contact", turn=i, quote=_quote(call.turns[i].text), basis=basis("off_hours_contact"),
                detail=f"agent spoke at {moment:%H:%M}, inside {window}, without the debtor's consent"))
    if call.dials_today is not None and call.dials_today > rubric.max_dials_per_day:
        out.append(Violation(
            label="excessive_dialing", turn=None, quote="", basis=basis("excessive_dialing"),
            detail=f"{call.dials_today} active dials to this debtor today (at most {rubric.max_dials_per_day})"))
    return out


def _third_party_violations(call: Call, norms: list[str], amounts_by_turn: dict) -> list[Violation]:
    if call.reached_is_debtor is True:
        return []
    if call.reached_is_debtor is False:
        first, why = 0, "the person reached is not the debtor (call metadata)"
    else:
        said = next((i for i, t in enumerate(call.turns) if t.speaker == CUSTOMER and rules.says_not_debtor(norms[i])),
                    None)
        if said is None:
            return []
        first, why = said + 1, f"the person reached said in turn {said} that they are not the debtor"
    for i in range(first, len(call.turns)):
        if call.turns[i].speaker == AGENT and rules.discloses_debt(norms[i], amounts_by_turn.get(i, [])):
            return [Violation(label="third_party_disclosure", turn=i, quote=_quote(call.turns[i].text),
                              basis=basis("third_party_disclosure"), detail=f"debt disclosed after {why}")]
    return []


def _checks(call: Call, norms: list[str], amounts_by_turn: dict, flags: list[FlagResult]) -> Checks:
    agent = [i for i, t in enumerate(call.turns) if t.speaker == AGENT]

    def first(pred) -> CheckResult:
        for i in agent:
            if pred(i):
                return CheckResult(passed=True, turn=i, quote=_quote(call.turns[i].text))
        return CheckResult(passed=False, turn=None)

    identified = first(lambda i: rules.names_organisation(norms[i]))
    stated = first(lambda i: rules.states_debt(norms[i], amounts_by_turn.get(i, [])))
    personal = next((i for i in agent if rules.personal_account(norms[i])), None)
    if personal is not None:
        lawful = CheckResult(passed=False, turn=personal, quote=_quote(call.turns[personal].text))
    elif any(f.label == "scam_risk" for f in flags):
        scam = next(f for f in flags if f.label == "scam_risk")
        turn = scam.evidence[0].turn if scam.evidence else None
        lawful = CheckResult(passed=False, turn=turn, quote=_quote(call.turns[turn].text) if turn is not None else None)
    else:
        lawful = first(lambda i: rules.offers_lawful_payment(norms[i]))
    return Checks(agent_identified=identified, debt_stated=stated, lawful_payment_offered=lawful)


def _scorecard(call: Call, result: AnalysisResult, rubric: Rubric) -> Scorecard:
    norms = [normalize(t.text).text for t in call.turns]
    amounts_by_turn: dict[int, list] = {}
    for a in result.amounts:
        amounts_by_turn.setdefault(a.turn, []).append(a)
    flags = _agent_flags(call, result)
    violations = _flag_violations(flags)
    violations += _contact_violations(call, rubric)
    violations += _third_party_violations(call, norms, amounts_by_turn)
    checks = _checks(call, norms, amounts_by_turn, flags)
    failed = {name for name, check in checks if not check.passed}
    score, critical = rubric.score({v.label for v in violations}, failed)
    return Scorecard(id=call.id, stage=result.stage, flags=flags, amounts=result.amounts,
                     deadlines=result.deadlines, overdue_days=result.overdue_days, violations=violations,
                     checks=checks, score=score, critical=critical, rubric=rubric.name)
