"""``POST /v1/analyze`` (one text or transcript) and ``POST /v1/analyze/batch``."""

from __future__ import annotations

import functools
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from models.analyzer import Analyzer

from ..deps import AnalyzerDep, AnalyzeServiceDep, MetricsDep, SettingsDep, choose_model, require_api_key
from ..inference import Analyzed, analyze_outcomes
from ..schemas import AnalyzeItem, AnalyzeResponse, BatchRequest, BatchResponse, ErrorResponse, ModelInfo
from ..settings import Settings

log = logging.getLogger("serve.analyze")

router = APIRouter(prefix="/v1", tags=["analyze"], dependencies=[Depends(require_api_key)])

_ERRORS = {
    401: {"model": ErrorResponse, "description": "API key missing or wrong (when one is set)"},
    413: {"model": ErrorResponse, "description": "Text, batch or body over its limit"},
    422: {"model": ErrorResponse, "description": "Invalid request (reason names the field and item)"},
}


def _chars(item: AnalyzeItem) -> int:
    if item.text is not None:
        return len(item.text)
    return sum(len(t.text) for t in item.turns or ())


def _check_size(item: AnalyzeItem, settings: Settings, where: str = "") -> None:
    n = _chars(item)
    if n > settings.max_text_chars:
        what = "text" if item.text is not None else "turns"
        raise HTTPException(
            413,
            f"{where}{what} has {n:,} characters; the limit is {settings.max_text_chars:,} "
            f"(文本过长：{n:,} 字，上限 {settings.max_text_chars:,} 字)",
        )


# Which model reads the request: absent, the service's own (the fast tier by default); the
# review model's name (GET /v1/models) where accuracy comes first, as the borrower page does.
ModelQuery = Annotated[str | None, Query(
    max_length=200, description="Name of a model this service has loaded (see `GET /v1/models`); "
                                "absent: the service's own. The borrower page asks for the review model.")]


def _one(outcome: Analyzed | Exception) -> Analyzed:
    if isinstance(outcome, Exception):
        raise outcome  # validated input that still fails is our fault: 500, logged by the server
    return outcome


@functools.lru_cache(maxsize=8)
def _model_info(name: str, version: str) -> bytes:
    return ModelInfo(name=name, version=version).model_dump_json().encode()


def _model_json(analyzer: Analyzer) -> bytes:
    return _model_info(analyzer.name, analyzer.version)


@router.post("/analyze", response_model=AnalyzeResponse, responses=_ERRORS,
             summary="Analyse one text or call transcript")
async def analyze(item: AnalyzeItem, request: Request, service: AnalyzeServiceDep,
                  model: ModelQuery = None) -> Response:
    """Stage, flags with evidence, amounts, deadlines and overdue days for one text (`text`)
    or one call (`turns`), as `shared/spec/labels.md` defines them. `reference_time`
    (ISO 8601 local time) resolves relative deadlines; absent, the time of the request."""
    # async on purpose: the analysis runs in the analysis process (serve/inference.py), fed
    # by the batcher's thread, not here (serve/batching.py says why not the thread pool).
    _check_size(item, service.settings)
    chosen = choose_model(request, model)
    start = time.perf_counter()
    if chosen is not None:  # the review model, in this process: for the few accuracy-first calls
        analyzed = _one((await run_in_threadpool(analyze_outcomes, chosen.analyze_batch, [item]))[0])
    else:  # the body as sent (already read and validated above) travels to the analysis process
        analyzed = await service.batcher.analyze(await request.body())
    service.metrics.observe([analyzed])
    log.debug("analysed id=%s stage=%s flags=%s in %.1f ms", item.id, analyzed.stage,
              ",".join(analyzed.flags), (time.perf_counter() - start) * 1000)
    body = b'{"model":' + _model_json(chosen or service.analyzer) + b',"result":' + analyzed.json + b"}"
    return Response(body, media_type="application/json")


@router.post("/analyze/batch", response_model=BatchResponse, responses=_ERRORS,
             summary="Analyse up to 256 texts or transcripts at once")
def analyze_batch(request: BatchRequest, http_request: Request, analyzer: AnalyzerDep, settings: SettingsDep,
                  metrics: MetricsDep, model: ModelQuery = None) -> Response:
    """One result per item, in order. An invalid item fails the request with 422 and its
    index in `reason` (e.g. `items[3].reference_time: ...`)."""
    if len(request.items) > settings.max_batch:
        raise HTTPException(
            413,
            f"batch has {len(request.items)} items; the limit is {settings.max_batch} "
            f"(批量过大：{len(request.items)} 条，上限 {settings.max_batch} 条)",
        )
    for i, item in enumerate(request.items):
        _check_size(item, settings, where=f"items[{i}]: ")
    start = time.perf_counter()
    chosen = choose_model(http_request, model)
    if chosen is None:
        outcomes = http_request.app.state.analyze(request.items)
    else:
        outcomes, analyzer = analyze_outcomes(chosen.analyze_batch, request.items), chosen
    outcomes = [_one(o) for o in outcomes]
    metrics.observe(outcomes)
    log.debug("analysed batch of %d in %.1f ms", len(outcomes), (time.perf_counter() - start) * 1000)
    body = (b'{"model":' + _model_json(analyzer) + b',"results":['
            + b",".join(o.json for o in outcomes) + b"]}")
    return Response(body, media_type="application/json")
