"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the models are loaded",
            responses={503: {"description": "Models not loaded yet"}})
async def readyz(request: Request) -> Response:
    analyzer = getattr(request.app.state, "analyzer", None)
    if analyzer is None:
        return JSONResponse({"status": "loading"}, status_code=503)
    review = getattr(request.app.state, "review_analyzer", None) or analyzer
    return JSONResponse({"status": "ready", "model": {"name": analyzer.name, "version": analyzer.version},
                         "review_model": {"name": review.name, "version": review.version}})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    body, content_type = request.app.state.metrics.render()
    return Response(body, media_type=content_type)
