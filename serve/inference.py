"""Analysis in a child process, so that it runs beside the HTTP event loop, not under its GIL.

A request to ``/v1/analyze`` costs the server about as much Python time in HTTP handling
(parsing, validation, routing) as in the analysis itself. In one process the two take turns
on the GIL, so a second core does nothing and, under 32 concurrent clients, each answer
waits for everyone's analysis and HTTP work in turn. With the analysis in its own process
(spawned, loading the same model directory), the two halves run on two cores.

The child answers a batch with one ``Analyzed`` per item: the result already serialised to
JSON (the parent writes those bytes into the response as they are) plus the stage and
flag labels the metrics count. A failed item comes back as its error, alone.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from models.schema import AnalysisRequest, AnalysisResult

log = logging.getLogger("serve.inference")

_START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Analyzed:
    """One analysis result as the service needs it: JSON bytes and the labels it counts."""

    json: bytes
    stage: str
    flags: tuple[str, ...]

    @classmethod
    def of(cls, result: AnalysisResult) -> Analyzed:
        return cls(result.model_dump_json().encode(), result.stage.label, tuple(f.label for f in result.flags))


class InferenceError(RuntimeError):
    """The analysis process is not available (it failed to start or died twice in a row)."""


def analyze_outcomes(analyze_batch, items: Sequence[AnalysisRequest | bytes]) -> list[Analyzed | Exception]:
    """One outcome per item: its result, or the error that item alone raised.

    An item may come as the JSON body of a request that the API has already validated:
    sending those bytes to the analysis process and validating them again there (in
    pydantic's compiled core) costs less than pickling the validated model.
    """
    outcomes: list[Analyzed | Exception | None] = [None] * len(items)
    valid: list[tuple[int, AnalysisRequest]] = []
    for i, item in enumerate(items):
        try:
            valid.append((i, item if isinstance(item, AnalysisRequest) else AnalysisRequest.model_validate_json(item)))
        except ValueError as exc:
            outcomes[i] = exc
    for (i, _), outcome in zip(valid, _analyze_isolated(analyze_batch, [r for _, r in valid]), strict=True):
        outcomes[i] = outcome
    return outcomes


def _analyze_isolated(analyze_batch, requests: list[AnalysisRequest]) -> list[Analyzed | Exception]:
    """The batch at once; if it fails, each item alone, so only the bad one errs."""
    if not requests:
        return []
    try:
        return [Analyzed.of(r) for r in analyze_batch(requests)]
    except Exception:
        log.warning("a batch of %d failed; analysing its items one by one", len(requests), exc_info=True)
    outcomes: list[Analyzed | Exception] = []
    for request in requests:
        try:
            outcomes.append(Analyzed.of(analyze_batch([request])[0]))
        except Exception as exc:
            outcomes.append(exc)
    return outcomes


def _child_main(conn, model_dir: str | None) -> None:
    """The child: load the model, then answer batches until the pipe closes or says stop."""
    from models.analyzer import Analyzer

    try:
        analyzer = Analyzer.load(model_dir)
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    gc.collect()
    gc.freeze()  # see serve/app.py: a full collection over the model stalls every request
    conn.send(("ready", analyzer.name, analyzer.version))
    while True:
        try:
            requests = conn.recv()
        except (EOFError, OSError):
            return
        if requests is None:
            return
        conn.send(analyze_outcomes(analyzer.analyze_batch, requests))


class InferenceProcess:
    """``analyze(requests) -> list[Analyzed | Exception]`` answered by a child process.

    Calls are serialised (one batch at a time); the batcher is the only caller on the
    request path. If the child dies, the batch is retried once on a new child.
    """

    def __init__(self, model_dir: str | Path | None) -> None:
        self._model_dir = str(model_dir) if model_dir is not None else None
        self._context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        self._lock = threading.Lock()
        self._process = None
        self._conn = None

    def start(self) -> InferenceProcess:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_child_main, args=(child, self._model_dir),
                                        name="cuishou-inference", daemon=True)
        process.start()
        child.close()
        if not parent.poll(_START_TIMEOUT_S):
            process.kill()
            raise InferenceError(f"the analysis process did not start in {_START_TIMEOUT_S:.0f} s")
        try:
            message = parent.recv()
        except EOFError as exc:
            raise InferenceError(f"the analysis process exited at start (code {process.exitcode})") from exc
        if message[0] != "ready":
            process.join(5)
            raise InferenceError(f"the analysis process could not load the model: {message[1]}")
        log.info("analysis process %d ready with model %s %s", process.pid, message[1], message[2])
        self._process, self._conn = process, parent
        return self

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            if self._process is None:
                return
            try:
                self._conn.send(None)
            except OSError:
                pass
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.kill()
            self._conn.close()
            self._process = self._conn = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def analyze(self, requests: Sequence[AnalysisRequest | bytes]) -> list[Analyzed | Exception]:
        with self._lock:
            if self._process is None:
                raise InferenceError("the analysis process is not running")
            try:
                return self._exchange(requests)
            except (EOFError, OSError, BrokenPipeError):
                log.error("the analysis process %s died (exit code %s); starting a new one",
                          self._process.pid, self._process.exitcode)
            self._restart()
            try:
                return self._exchange(requests)
            except (EOFError, OSError) as exc:
                raise InferenceError("the analysis process died twice on this batch") from exc

    def _exchange(self, requests: Sequence[AnalysisRequest | bytes]) -> list[Analyzed | Exception]:
        self._conn.send(list(requests))
        return self._conn.recv()

    def _restart(self) -> None:
        try:
            self._conn.close()
        except OSError:
            pass
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5)
        self._process = self._conn = None
        self.start()
