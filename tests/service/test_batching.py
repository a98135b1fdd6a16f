"""Micro-batching: concurrent submissions share solve calls; a full queue is refused."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest

from captchalab.service import ServiceSettings, batching, create_app
from captchalab.service.batching import DirectRunner, MicroBatcher
from captchalab.service.errors import Busy, NotReady


class FakeSolver:
    """Answers each image with its first pixel value; records batch sizes."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.release = threading.Event()
        self.release.set()

    def __call__(self, batch: np.ndarray) -> list[float]:
        self.release.wait(5)
        self.batches.append(len(batch))
        return [float(image.flat[0]) for image in batch]


def _images(count: int) -> list[np.ndarray]:
    return [np.full((1, 4, 4), i, dtype=np.float32) for i in range(count)]


def test_concurrent_submissions_share_a_batch() -> None:
    solver = FakeSolver()

    async def scenario() -> list[list[float]]:
        batcher = MicroBatcher(solver, max_batch_size=8)
        await batcher.start()
        try:
            return await asyncio.gather(*(batcher.submit([image]) for image in _images(12)))
        finally:
            await batcher.stop()

    results = asyncio.run(scenario())
    assert results == [[float(i)] for i in range(12)]  # each caller gets its own answer
    assert solver.batches == [8, 4]


def test_a_lone_request_does_not_wait() -> None:
    solver = FakeSolver()

    async def scenario() -> float:
        batcher = MicroBatcher(solver, max_batch_size=8)
        await batcher.start()
        start = time.perf_counter()
        await batcher.submit(_images(1))
        await batcher.stop()
        return time.perf_counter() - start

    assert asyncio.run(scenario()) < 1.0
    assert solver.batches == [1]


def test_a_dead_worker_fails_waiters_fast_and_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug that kills the worker task: its waiters and the queue get a 503 at once (not a
    hang), and later requests are served by a new worker."""
    solver = FakeSolver()
    real_resolve = batching._resolve
    crashes = [1]

    def buggy_resolve(batch: Any, outcomes: Any) -> None:
        if crashes:
            crashes.pop()
            raise AttributeError("a bug in the worker loop")
        real_resolve(batch, outcomes)

    monkeypatch.setattr(batching, "_resolve", buggy_resolve)

    async def scenario() -> None:
        batcher = MicroBatcher(solver, max_batch_size=2)
        await batcher.start()
        solver.release.clear()
        first = asyncio.ensure_future(batcher.submit(_images(2)))  # the worker takes these
        await asyncio.sleep(0.05)
        queued = asyncio.ensure_future(batcher.submit(_images(1)))  # waits in the queue
        await asyncio.sleep(0)
        solver.release.set()
        for waiter in (first, queued):
            with pytest.raises(NotReady, match="worker failed") as raised:
                await asyncio.wait_for(waiter, 5)
            assert raised.value.status_code == 503
        assert batcher.restarts == 1
        assert await asyncio.wait_for(batcher.submit(_images(3)), 5) == [0.0, 1.0, 2.0]
        await batcher.stop()

    asyncio.run(scenario())


def test_a_worker_that_cannot_run_fails_fast() -> None:
    async def scenario() -> None:
        batcher = MicroBatcher(FakeSolver())
        await batcher.start()
        assert batcher._worker is not None
        batcher._worker.cancel()  # the task is gone, whatever the cause
        await asyncio.sleep(0)
        with pytest.raises(NotReady):
            await asyncio.wait_for(batcher.submit(_images(1)), 5)
        await batcher.stop()

    asyncio.run(scenario())


def test_multi_image_submission_keeps_order() -> None:
    solver = FakeSolver()

    async def scenario() -> list[float]:
        batcher = MicroBatcher(solver, max_batch_size=4)
        await batcher.start()
        try:
            return await batcher.submit(_images(10))
        finally:
            await batcher.stop()

    assert asyncio.run(scenario()) == [float(i) for i in range(10)]
    assert solver.batches == [4, 4, 2]


def test_full_queue_is_busy_and_nothing_is_queued() -> None:
    solver = FakeSolver()
    solver.release.clear()  # hold the first batch inside the solver

    async def scenario() -> None:
        batcher = MicroBatcher(solver, max_batch_size=2, queue_size=3)
        await batcher.start()
        first = asyncio.ensure_future(batcher.submit(_images(2)))
        await asyncio.sleep(0.05)  # the worker has taken those two and is blocked
        queued = asyncio.ensure_future(batcher.submit(_images(3)))
        await asyncio.sleep(0)
        with pytest.raises(Busy):
            await batcher.submit(_images(1))
        solver.release.set()
        assert await first == [0.0, 1.0]
        assert await queued == [0.0, 1.0, 2.0]
        await batcher.stop()

    asyncio.run(scenario())


def test_solver_errors_reach_every_waiter() -> None:
    def broken(batch: np.ndarray) -> list[float]:
        raise RuntimeError("boom")

    async def scenario() -> None:
        batcher = MicroBatcher(broken, max_batch_size=4)
        await batcher.start()
        results = await asyncio.gather(
            *(batcher.submit([image]) for image in _images(3)), return_exceptions=True
        )
        assert all(isinstance(r, RuntimeError) for r in results)
        assert await batcher.submit([]) == []  # the worker survived
        await batcher.stop()
        with pytest.raises(NotReady):
            await batcher.submit(_images(1))

    asyncio.run(scenario())


def test_submissions_with_their_own_solver_are_batched_apart() -> None:
    """A request's reading hints bring their own solve function: one call per function in a
    batch, each item answered by its own; one that fails fails only its items."""
    plain, hinted = FakeSolver(), FakeSolver()

    def negated(batch: np.ndarray) -> list[float]:
        return [-answer for answer in hinted(batch)]

    def broken(batch: np.ndarray) -> list[float]:
        raise RuntimeError("boom")

    async def scenario() -> list[Any]:
        batcher = MicroBatcher(plain, max_batch_size=8)
        await batcher.start()
        plain.release.clear()  # hold a first batch so that the rest queue up together
        first = asyncio.ensure_future(batcher.submit(_images(1)))
        await asyncio.sleep(0.05)
        images = _images(7)
        waiting = [
            batcher.submit([images[i]], solve=(None, negated, broken)[i % 3]) for i in range(7)
        ]
        gathered = asyncio.gather(*waiting, return_exceptions=True)
        await asyncio.sleep(0)
        plain.release.set()
        try:
            return [await first, *await gathered]
        finally:
            await batcher.stop()

    results = asyncio.run(scenario())
    assert results[0] == [0.0]
    for i, result in enumerate(results[1:]):
        if i % 3 == 2:
            assert isinstance(result, RuntimeError)
        else:
            assert result == [float(i) if i % 3 == 0 else -float(i)]
    assert plain.batches == [1, 3] and hinted.batches == [2]


def test_direct_runner_solves_each_request_alone() -> None:
    solver = FakeSolver()
    sizes: list[int] = []

    async def scenario() -> list[list[float]]:
        runner = DirectRunner(solver, on_batch=sizes.append)
        await runner.start()
        return await asyncio.gather(*(runner.submit([image]) for image in _images(5)))

    assert asyncio.run(scenario()) == [[float(i)] for i in range(5)]
    assert sizes == [1] * 5


@pytest.mark.parametrize("batching", [True, False])
def test_http_requests_are_micro_batched(
    service_settings: Callable[..., ServiceSettings], png: bytes, batching: bool
) -> None:
    app = create_app(service_settings(batching=batching, max_batch_size=32))

    async def scenario() -> list[int]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                responses = await asyncio.gather(
                    *(client.post("/v1/solve", files={"image": png}) for _ in range(16))
                )
        return [r.status_code for r in responses]

    assert asyncio.run(scenario()) == [200] * 16
    registry = app.state.service.metrics.registry
    labels = {"model": "tiny"}
    count = registry.get_sample_value("captchalab_batch_size_count", labels)
    total = registry.get_sample_value("captchalab_batch_size_sum", labels)
    assert total == 16
    if batching:
        assert count < 16  # some solve_arrays call saw more than one image
    else:
        assert count == 16


def test_a_dead_worker_is_a_503_over_http(
    service_settings: Callable[..., ServiceSettings], png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_resolve = batching._resolve
    crashes = [1]

    def buggy_resolve(batch: Any, outcomes: Any) -> None:
        if crashes:
            crashes.pop()
            raise AttributeError("a bug in the worker loop")
        real_resolve(batch, outcomes)

    monkeypatch.setattr(batching, "_resolve", buggy_resolve)
    app = create_app(service_settings())

    async def scenario() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return [
                    await asyncio.wait_for(client.post("/v1/solve", files={"image": png}), 10)
                    for _ in range(2)
                ]

    first, second = asyncio.run(scenario())
    assert first.status_code == 503 and first.json()["error"] == "not_ready"
    assert second.status_code == 200, second.text
