"""Prometheus metrics: requests by route and status, latency, stages and flags returned.

Each app gets its own registry, so several apps (tests) never collide. With
``--workers N`` every worker process keeps its own counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.labels import FLAG_NAMES, STAGE_NAMES

from .inference import Analyzed

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("cuishou_http_requests", "HTTP requests by route, method and status.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("cuishou_http_request_duration_seconds", "Time to answer a request.",
                                 ["route", "method"], buckets=_BUCKETS, registry=self.registry)
        self.texts = Counter("cuishou_texts_analysed", "Texts and transcripts analysed.", registry=self.registry)
        self.stages = Counter("cuishou_stage", "Results by escalation stage.", ["stage"], registry=self.registry)
        self.flags = Counter("cuishou_flag", "Flags raised, by label.", ["flag"], registry=self.registry)
        for name in STAGE_NAMES:
            self.stages.labels(stage=name)
        for name in FLAG_NAMES:
            self.flags.labels(flag=name)

    def observe(self, analyzed: Iterable[Analyzed]) -> None:
        n = 0
        for item in analyzed:
            n += 1
            self.stages.labels(stage=item.stage).inc()
            for flag in item.flags:
                self.flags.labels(flag=flag).inc()
        self.texts.inc(n)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (not its raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(route=path, method=method, status=str(status)).inc()
            self.metrics.latency.labels(route=path, method=method).observe(time.perf_counter() - start)
