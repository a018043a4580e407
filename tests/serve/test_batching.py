"""The micro-batcher: one worker thread, outcomes back to their own callers."""

import asyncio
import threading

import pytest

from models.schema import AnalysisRequest
from serve.batching import MicroBatcher


class _Recorder:
    """Stands in for the analysis: echoes each text; 'boom' is an item that fails alone and
    'down' fails the whole batch (the analysis process is gone)."""

    def __init__(self, gate: threading.Event | None = None):
        self.calls: list[list[str]] = []
        self.gate = gate

    def __call__(self, requests):
        if self.gate is not None:
            self.gate.wait(5)
        texts = [r.text for r in requests]
        self.calls.append(texts)
        if "down" in texts:
            raise RuntimeError("analysis unavailable")
        return [ValueError("bad item") if t == "boom" else f"result:{t}" for t in texts]


def _request(text: str) -> AnalysisRequest:
    return AnalysisRequest(text=text)


def test_results_come_back_to_their_own_callers():
    recorder = _Recorder()
    batcher = MicroBatcher(recorder).start()

    async def run():
        return await asyncio.gather(*(batcher.analyze(_request(f"t{i}")) for i in range(20)))

    try:
        assert asyncio.run(run()) == [f"result:t{i}" for i in range(20)]
    finally:
        batcher.stop()
    assert sum(len(c) for c in recorder.calls) == 20


def test_waiting_requests_are_analysed_together():
    gate = threading.Event()
    recorder = _Recorder(gate)
    batcher = MicroBatcher(recorder, max_items=8).start()

    async def run():
        tasks = [asyncio.create_task(batcher.analyze(_request(f"t{i}"))) for i in range(17)]
        await asyncio.sleep(0.05)  # all queued while the first batch is held at the gate
        gate.set()
        return await asyncio.gather(*tasks)

    try:
        results = asyncio.run(run())
    finally:
        batcher.stop()
    assert results == [f"result:t{i}" for i in range(17)]
    assert max(len(c) for c in recorder.calls) == 8  # capped at max_items
    assert len(recorder.calls) <= 4  # one held request, then batches of up to 8


def test_a_failing_item_fails_alone():
    gate = threading.Event()
    recorder = _Recorder(gate)
    batcher = MicroBatcher(recorder).start()

    async def run():
        tasks = [asyncio.create_task(batcher.analyze(_request(t))) for t in ("a", "boom", "c")]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        a, boom, c = asyncio.run(run())
    finally:
        batcher.stop()
    assert (a, c) == ("result:a", "result:c")
    assert isinstance(boom, ValueError)


def test_a_failed_batch_fails_each_of_its_callers():
    gate = threading.Event()
    batcher = MicroBatcher(_Recorder(gate)).start()

    async def run():
        tasks = [asyncio.create_task(batcher.analyze(_request(t))) for t in ("a", "down")]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        outcomes = asyncio.run(run())
    finally:
        batcher.stop()
    assert all(isinstance(o, RuntimeError) for o in outcomes)


def test_analyze_needs_a_started_batcher():
    batcher = MicroBatcher(_Recorder())
    with pytest.raises(RuntimeError, match="not running"):
        asyncio.run(batcher.analyze(_request("x")))


def test_stop_ends_the_worker_thread():
    batcher = MicroBatcher(_Recorder()).start()
    thread = batcher._thread
    batcher.stop()
    assert thread is not None and not thread.is_alive()
