"""FastAPI dependencies: settings, the loaded analyzer, the API-key check.

They are ``async def`` on purpose: none of them blocks, and FastAPI runs a plain ``def``
dependency in the thread pool, one hop per dependency per request, which under load cost
more than the analysis itself.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from models.analyzer import Analyzer

from .batching import MicroBatcher
from .metrics import Metrics
from .settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_analyzer(request: Request) -> Analyzer:
    analyzer = getattr(request.app.state, "analyzer", None)
    if analyzer is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the model is not loaded yet")
    return analyzer


async def get_review_analyzer(request: Request) -> Analyzer:
    """The model for requests where accuracy comes first (the service's own when none is set)."""
    await get_analyzer(request)
    return getattr(request.app.state, "review_analyzer", None) or request.app.state.analyzer


def loaded_models(request: Request) -> dict[str, Analyzer]:
    """The service's models by name: its own first, then the review model."""
    state = request.app.state
    return {a.name: a for a in (state.analyzer, getattr(state, "review_analyzer", None)) if a is not None}


def choose_model(request: Request, name: str | None) -> Analyzer | None:
    """The loaded model ``name`` names; None for the service's own (no name, or its name).

    An unknown name is the caller's mistake: 422 with the names that would do.
    """
    if name is None or name == request.app.state.analyzer.name:
        return None
    models = loaded_models(request)
    if name not in models:
        raise HTTPException(422, f"unknown model {name!r}; this service has: {', '.join(models)} "
                                 f"(没有这个模型，可选：{'、'.join(models)})")
    return models[name]


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def require_api_key(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> None:
    """With ``CUISHOU_API_KEY`` set: the key must come as ``X-API-Key`` or ``Authorization: Bearer``."""
    if settings.api_key is None:
        return
    expected = settings.api_key.get_secret_value()
    given = request.headers.get("x-api-key")
    if given is None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else None
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong API key (X-API-Key or Authorization: Bearer)",
                            headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class AnalyzeService:
    """What ``POST /v1/analyze`` needs, as one dependency: each dependency FastAPI resolves
    costs a few per cent of that route's time under load."""

    analyzer: Analyzer
    batcher: MicroBatcher
    settings: Settings
    metrics: Metrics


async def get_analyze_service(request: Request) -> AnalyzeService:
    analyzer = await get_analyzer(request)
    state = request.app.state
    return AnalyzeService(analyzer, state.batcher, state.settings, state.metrics)


SettingsDep = Annotated[Settings, Depends(get_settings)]
AnalyzerDep = Annotated[Analyzer, Depends(get_analyzer)]
ReviewAnalyzerDep = Annotated[Analyzer, Depends(get_review_analyzer)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
AnalyzeServiceDep = Annotated[AnalyzeService, Depends(get_analyze_service)]
