"""Typed inputs and results, serialised exactly as ``shared/spec/labels.md`` shows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .labels import AMOUNT_ROLE_NAMES, CURRENCY_CNY, DEADLINE_KINDS, FLAG_NAMES, SPEAKERS, STAGE_NAMES


def _is_none(value: object) -> bool:
    return value is None


def _check_in(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return value


class Span(BaseModel):
    """Character offsets into the text as sent (end exclusive); ``turn`` for transcripts."""

    start: int
    end: int
    text: str
    turn: int | None = Field(default=None, exclude_if=_is_none)


class FlagResult(BaseModel):
    label: str
    score: float
    evidence: list[Span] = Field(default_factory=list)

    _label = field_validator("label")(lambda cls, v: _check_in(v, FLAG_NAMES, "flag"))


class StageResult(BaseModel):
    label: str
    scores: dict[str, float]

    _label = field_validator("label")(lambda cls, v: _check_in(v, STAGE_NAMES, "stage"))


class Amount(BaseModel):
    text: str
    start: int
    end: int
    value: float
    currency: str = CURRENCY_CNY
    role: str
    turn: int | None = Field(default=None, exclude_if=_is_none)

    _role = field_validator("role")(lambda cls, v: _check_in(v, AMOUNT_ROLE_NAMES, "amount role"))


class Deadline(BaseModel):
    text: str
    start: int
    end: int
    value: str
    kind: str
    turn: int | None = Field(default=None, exclude_if=_is_none)

    _kind = field_validator("kind")(lambda cls, v: _check_in(v, DEADLINE_KINDS, "deadline kind"))


class AnalysisResult(BaseModel):
    """One result (spec §6); transcripts add ``turn`` to every span."""

    id: str | None = Field(default=None, exclude_if=_is_none)
    stage: StageResult
    flags: list[FlagResult] = Field(default_factory=list)
    amounts: list[Amount] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    overdue_days: int | None = None

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json")


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Literal["agent", "customer"]
    text: str

    @field_validator("speaker", mode="before")
    @classmethod
    def _speaker(cls, v: object) -> object:
        if isinstance(v, str) and v not in SPEAKERS:
            raise ValueError(f"speaker must be one of {', '.join(SPEAKERS)}, got {v!r}")
        return v


class AnalysisRequest(BaseModel):
    """One batch line or API request: ``text`` or ``turns``, never both."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    text: str | None = None
    turns: list[Turn] | None = None
    reference_time: datetime | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, v: object) -> object:
        # Numeric ids are common in exported spreadsheets; echo them as strings.
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    @field_validator("reference_time")
    @classmethod
    def _naive_local(cls, v: datetime | None) -> datetime | None:
        # The spec works in local time without a zone: drop any offset given.
        return v.replace(tzinfo=None, microsecond=0) if v is not None else None

    @model_validator(mode="after")
    def _text_or_turns(self) -> AnalysisRequest:
        if (self.text is None) == (self.turns is None):
            raise ValueError("give exactly one of 'text' or 'turns'")
        if self.turns is not None and not self.turns:
            raise ValueError("'turns' must hold at least one turn")
        return self
