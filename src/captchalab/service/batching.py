"""Micro-batching: concurrent requests for one model share a single ``solve_arrays`` call.

Requests announce their images (``incoming``), preprocess them, then ``submit`` the ``(C, H, W)``
arrays. One worker task per model waits for the first item, then gathers more until
``max_batch_size`` or ``max_wait_ms`` — but only while announced images are still being
preprocessed, so a lone request never waits. It runs the stacked ``(B, C, H, W)`` batch in a
thread and resolves each request's future. ``DirectRunner`` is the same interface without
batching (the benchmark baseline).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from captchalab.service.errors import Busy, NotReady

logger = logging.getLogger(__name__)

SolveArrays = Callable[[np.ndarray], Sequence[Any]]  # (B, C, H, W) -> B predictions
BatchObserver = Callable[[int], None]


class Runner(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def incoming(self, count: int) -> contextlib.AbstractContextManager[None]: ...
    async def submit(self, arrays: Sequence[np.ndarray]) -> list[Any]: ...


@dataclass
class _Item:
    array: np.ndarray
    future: asyncio.Future[Any]


class MicroBatcher:
    """A bounded queue of images and one worker coalescing them into batches."""

    def __init__(
        self,
        solve_arrays: SolveArrays,
        max_batch_size: int = 32,
        max_wait_ms: float = 5.0,
        queue_size: int = 256,
        on_batch: BatchObserver | None = None,
    ) -> None:
        self._solve_arrays = solve_arrays
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000.0
        self.queue_size = queue_size
        self._on_batch = on_batch
        self._pending: deque[_Item] = deque()
        self._preparing = 0  # announced images not yet submitted
        self._arrived = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="captchalab-batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        _fail(list(self._pending), NotReady("the service is shutting down"))
        self._pending.clear()

    @contextlib.contextmanager
    def incoming(self, count: int) -> Iterator[None]:
        """Announce ``count`` images about to be submitted, so the worker waits for them."""
        self._preparing += count
        try:
            yield
        finally:
            self._preparing -= count
            self._arrived.set()

    async def submit(self, arrays: Sequence[np.ndarray]) -> list[Any]:
        """Queue all ``arrays`` (or none: raises ``Busy`` when they do not fit) and await them."""
        if self._worker is None:
            raise NotReady("the model is not running")
        if len(self._pending) + len(arrays) > self.queue_size:
            raise Busy()
        loop = asyncio.get_running_loop()
        items = [_Item(array, loop.create_future()) for array in arrays]
        self._pending.extend(items)
        self._arrived.set()
        return list(await asyncio.gather(*(item.future for item in items)))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
            deadline = loop.time() + self.max_wait_s
            while len(self._pending) < self.max_batch_size and self._preparing > 0:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._arrived.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), remaining)
            count = min(len(self._pending), self.max_batch_size)
            batch = [self._pending.popleft() for _ in range(count)]
            await self._solve([item for item in batch if not item.future.done()])

    async def _solve(self, batch: list[_Item]) -> None:
        if not batch:  # every waiter went away (client disconnects)
            return
        if self._on_batch is not None:
            self._on_batch(len(batch))
        try:
            stacked = np.stack([item.array for item in batch])  # B x (C, H, W) -> (B, C, H, W)
            predictions = await asyncio.to_thread(self._solve_arrays, stacked)
            if len(predictions) != len(batch):
                raise RuntimeError(f"solver returned {len(predictions)} answers for {len(batch)}")
        except asyncio.CancelledError:  # stopped mid-batch: nobody may wait forever
            _fail(batch, NotReady("the service is shutting down"))
            raise
        except Exception as exc:
            logger.exception("batch of %d failed", len(batch))
            _fail(batch, exc)
            return
        for item, prediction in zip(batch, predictions, strict=True):
            if not item.future.done():
                item.future.set_result(prediction)


def _fail(batch: list[_Item], error: Exception) -> None:
    for item in batch:
        if not item.future.done():
            item.future.set_exception(error)


class DirectRunner:
    """No batching: each request solves its own images in a worker thread."""

    def __init__(
        self,
        solve_arrays: SolveArrays,
        queue_size: int = 256,
        on_batch: BatchObserver | None = None,
    ) -> None:
        self._solve_arrays = solve_arrays
        self.queue_size = queue_size
        self._on_batch = on_batch
        self._in_flight = 0
        self._running = False

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False

    def incoming(self, count: int) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    async def submit(self, arrays: Sequence[np.ndarray]) -> list[Any]:
        if not self._running:
            raise NotReady("the model is not running")
        if not arrays:
            return []
        if self._in_flight + len(arrays) > self.queue_size:
            raise Busy()
        if self._on_batch is not None:
            self._on_batch(len(arrays))
        self._in_flight += len(arrays)
        try:
            return list(await asyncio.to_thread(self._solve_arrays, np.stack(list(arrays))))
        finally:
            self._in_flight -= len(arrays)
