"""``GET /v1/models``: which models this service has loaded and which requests each reads."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ..deps import get_review_analyzer

router = APIRouter(prefix="/v1", tags=["models"])


class LoadedModel(BaseModel):
    name: str
    version: str
    kind: str


class ModelsResponse(BaseModel):
    default: LoadedModel  # /v1/analyze and /v1/analyze/batch without ?model=
    review: LoadedModel  # the borrower page, /v1/transcripts/score, and ?model=<its name>


def _info(analyzer) -> LoadedModel:
    return LoadedModel(name=analyzer.name, version=analyzer.version, kind=analyzer.manifest.get("kind", ""))


@router.get("/models", response_model=ModelsResponse, summary="The loaded models and what each reads",
            responses={503: {"description": "Models not loaded yet"}})
async def models(request: Request) -> ModelsResponse:
    """`default` reads `/v1/analyze` and `/v1/analyze/batch`; `review` reads the borrower page,
    `/v1/transcripts/score` and any `/v1/analyze?model=<its name>` (accuracy first)."""
    review = await get_review_analyzer(request)
    return ModelsResponse(default=_info(request.app.state.analyzer), review=_info(review))
