"""QA input (a call with speaker turns and optional metadata) and output (a scorecard)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..schema import Amount, Deadline, FlagResult, StageResult, Turn


def _naive(v: datetime | None) -> datetime | None:
    # Local time without a zone, as everywhere in the spec: drop any offset given.
    return v.replace(tzinfo=None, microsecond=0) if v is not None else None


class CallTurn(Turn):
    """A transcript turn (``models.schema.Turn``) plus when it was spoken."""

    timestamp: datetime | None = None  # local time the turn was spoken

    _ts = field_validator("timestamp")(lambda cls, v: _naive(v))


class Call(BaseModel):
    """One call to score. Metadata is optional; the rules that need it are skipped without it."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    turns: list[CallTurn] = Field(min_length=1)
    reference_time: datetime | None = None  # resolves deadlines; defaults to call_start, else now
    call_start: datetime | None = None
    dials_today: int | None = Field(default=None, ge=0)  # active dials to this debtor today, this one included
    reached_is_debtor: bool | None = None
    debtor_consented_to_off_hours: bool | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, v: object) -> object:
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    _times = field_validator("reference_time", "call_start")(lambda cls, v: _naive(v))


class Violation(BaseModel):
    label: str  # a spec flag or a QA rule (models.rules.VIOLATION_NAMES)
    turn: int | None  # 0-based turn; null for a call-level rule such as excessive_dialing
    quote: str  # the agent's words (exact characters), or "" for a call-level rule
    basis: str
    detail: str | None = Field(default=None, exclude_if=lambda v: v is None)


class CheckResult(BaseModel):
    passed: bool
    turn: int | None = None
    quote: str | None = Field(default=None, exclude_if=lambda v: v is None)


class Checks(BaseModel):
    agent_identified: CheckResult
    debt_stated: CheckResult
    lawful_payment_offered: CheckResult


class Scorecard(BaseModel):
    """Spec result fields for the call (flags on agent turns only) plus the QA scorecard."""

    id: str | None = Field(default=None, exclude_if=lambda v: v is None)
    stage: StageResult
    flags: list[FlagResult] = Field(default_factory=list)
    amounts: list[Amount] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    overdue_days: int | None = None
    violations: list[Violation] = Field(default_factory=list)
    checks: Checks
    score: float
    critical: list[str] = Field(default_factory=list)  # critical labels that zeroed the score
    rubric: str = "default"

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json")
