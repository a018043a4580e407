"""``POST /v1/transcripts/score``: the QA scorecard for one call transcript (spec §7)."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict

from models.qa import Call, Rubric, Scorecard, load_rubric, score_call

from ..deps import ReviewAnalyzerDep, SettingsDep, require_api_key
from ..schemas import ErrorResponse, ModelInfo

router = APIRouter(prefix="/v1", tags=["qa"], dependencies=[Depends(require_api_key)])

_ERRORS = {
    401: {"model": ErrorResponse, "description": "API key missing or wrong (when one is set)"},
    413: {"model": ErrorResponse, "description": "Transcript over the size limit"},
    422: {"model": ErrorResponse, "description": "Invalid request (reason names the field)"},
    503: {"model": ErrorResponse, "description": "The model is not loaded yet"},
}


class ScoreRequest(Call):
    """One call: turns (`speaker` agent/customer, `text`, optional `timestamp`) and optional
    metadata (`call_start`, `dials_today`, `reached_is_debtor`, `debtor_consented_to_off_hours`)."""

    model_config = ConfigDict(extra="forbid")


class RubricInfo(BaseModel):
    name: str
    version: str


class ScoreResponse(BaseModel):
    model: ModelInfo
    rubric: RubricInfo
    scorecard: Scorecard


@functools.lru_cache(maxsize=1)
def _default_rubric() -> Rubric:
    return load_rubric()


def get_rubric(request: Request) -> Rubric:
    """``app.state.qa_rubric`` when the app sets one, else the default rubric."""
    return getattr(request.app.state, "qa_rubric", None) or _default_rubric()


@router.post("/transcripts/score", response_model=ScoreResponse, responses=_ERRORS,
             summary="Score one collection call against the collection rules")
def score_transcript(call: ScoreRequest, analyzer: ReviewAnalyzerDep, settings: SettingsDep,
                     rubric: Annotated[Rubric, Depends(get_rubric)]) -> ScoreResponse:
    """Flags on the agent's turns, violations with turn, quote and legal basis, the
    `agent_identified` / `debt_stated` / `lawful_payment_offered` checks and a 0-100 score.
    Read by the review model (the cascade by default, as `cuishou qa` does): on calls the
    fast tier is far weaker."""
    chars = sum(len(t.text) for t in call.turns)
    if chars > settings.max_text_chars:
        raise HTTPException(413, f"turns have {chars:,} characters; the limit is {settings.max_text_chars:,} "
                                 f"(文本过长：{chars:,} 字，上限 {settings.max_text_chars:,} 字)")
    card = score_call(analyzer, call, rubric)
    return ScoreResponse(model=ModelInfo(name=analyzer.name, version=analyzer.version),
                         rubric=RubricInfo(name=rubric.name, version=rubric.version), scorecard=card)
