"""The FastAPI application factory.

Models load once at start-up (lifespan) into ``app.state``: the service's model, also in
the analysis process (``serve/inference.py``) behind ``/v1/analyze``, and the review model
for requests where accuracy comes first (``serve/settings.py`` says which is which). Each
area has its own APIRouter in ``serve/routes/``.
"""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from models.analyzer import Analyzer

from . import masking
from .batching import MicroBatcher
from .inference import InferenceError, InferenceProcess, analyze_outcomes
from .limits import BodySizeLimitMiddleware
from .metrics import Metrics, MetricsMiddleware
from .routes import analyze, health, labels, models, page, qa
from .routes.page import STATIC_DIR
from .settings import Settings

log = logging.getLogger("serve.app")

# Items per call to the analysis process. Small batches keep the two processes busy in turn
# and latency even: at 32 clients the soak p99 was 12.5 ms with 8, 15 ms with 16 and 17 ms
# with 64 (a request that arrives just after a big batch starts waits for two of them).
_BATCH_ITEMS = 8

DESCRIPTION = """
cuishou 催收: reads Chinese debt-collection texts (SMS, app notices, letters, chats, call
transcripts) and returns their escalation stage, flags for forbidden collection conduct
with evidence spans, the amounts and deadlines they state, and the days overdue.
Results follow `shared/spec/labels.md` exactly; every response names the model.
The borrower page is at `/`.
"""


def _readable(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if p != "body"]
        where = ""
        for p in loc:
            where += f"[{p}]" if isinstance(p, int) else (f".{p}" if where else str(p))
        msg = err.get("msg", "invalid")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts) or "invalid request"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logging.getLogger("serve").setLevel(settings.log_level.upper())
        masking.install()
        analyzer = Analyzer.load(settings.model_path())
        # Both models load before the analysis process starts: a bad directory fails start-up
        # with nothing left running.
        review_path = settings.review_model_path()
        same = review_path.resolve() == settings.model_path().resolve()
        review = analyzer if same else Analyzer.load(review_path)
        process = None
        if settings.inference_process:
            process = InferenceProcess(settings.model_path()).start()
            app.state.analyze = process.analyze
        else:
            app.state.analyze = functools.partial(analyze_outcomes, analyzer.analyze_batch)
        app.state.batcher = MicroBatcher(app.state.analyze, max_items=_BATCH_ITEMS).start()
        app.state.analyzer = analyzer
        app.state.review_analyzer = review
        # The model and libraries are ~300k long-lived objects; a full collection walks them
        # all (~160 ms, every client stalls: that was the whole p99 at 32 clients). Freezing
        # moves them out of the collector's sight; garbage made by requests is still collected.
        gc.collect()
        gc.freeze()
        log.info("model %s %s loaded; for review requests %s %s", analyzer.name, analyzer.version,
                 review.name, review.version)
        yield
        app.state.analyzer = None
        app.state.review_analyzer = None
        app.state.batcher.stop()
        if process is not None:
            process.stop()

    app = FastAPI(title="cuishou 催收文本分析", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.analyzer = None
    app.state.review_analyzer = None
    app.state.metrics = Metrics()

    @app.exception_handler(InferenceError)
    async def _unavailable(request: Request, exc: InferenceError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "reason": "分析服务暂时不可用，请稍后重试"}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"detail": jsonable_encoder(exc.errors(), custom_encoder={Exception: str}), "reason": _readable(exc)},
            status_code=422,
        )

    for router in (health.router, labels.router, models.router, analyze.router, qa.router, page.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Outermost first: metrics see every response, including 413s from the size limit.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
