"""Micro-batching: concurrent requests for one model share a single ``solve_arrays`` call.

Requests ``submit`` their images: ``(C, H, W)`` arrays, or raw inputs with a ``prepare``
function that turns one into an array (or returns the error that stopped it). One worker task
per model waits for the first item and takes everything queued, up to ``max_batch_size``; while
it solves, new submissions queue up for the next batch, so a lone request never waits. Each
batch is prepared and solved in one worker thread (one thread hop per batch, not per request;
decoding never runs on the event loop), then each request's future is resolved. A submission may
bring its own solve function (a request's reading hints: ``LoadedModel.solver_for``); a batch
makes one call per solve function among its items, and one that fails fails only its items.
Should the
worker task itself die (a bug, not a failing solver: that fails only its batch), every waiting
request gets a 503 at once and a new worker takes over.
``DirectRunner`` is the same interface without batching (the benchmark baseline).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from captchalab.service.errors import Busy, NotReady

logger = logging.getLogger(__name__)

SolveArrays = Callable[[np.ndarray], Sequence[Any]]  # (B, C, H, W) -> B predictions
BatchObserver = Callable[[int], None]
# One input -> its (C, H, W) array, or an exception that is that input's answer (not raised).
Prepare = Callable[[Any], "np.ndarray | Exception"]


class Runner(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def submit(
        self,
        inputs: Sequence[Any],
        prepare: Prepare | None = None,
        solve: SolveArrays | None = None,
    ) -> list[Any]: ...


@dataclass
class _Item:
    input: Any  # a (C, H, W) array, or what ``prepare`` turns into one
    future: asyncio.Future[Any]
    prepare: Prepare | None
    solve: SolveArrays


class MicroBatcher:
    """A bounded queue of images and one worker coalescing them into batches."""

    def __init__(
        self,
        solve_arrays: SolveArrays,
        max_batch_size: int = 32,
        queue_size: int = 256,
        on_batch: BatchObserver | None = None,
    ) -> None:
        self._solve_arrays = solve_arrays
        self.max_batch_size = max_batch_size
        self.queue_size = queue_size
        self._on_batch = on_batch
        self._pending: deque[_Item] = deque()
        self._taken: list[_Item] = []  # the batch the worker is on
        self._arrived = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self.restarts = 0  # times the worker task died and was replaced

    async def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._supervise(), name="captchalab-batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        _fail([*self._taken, *self._pending], NotReady("the service is shutting down"))
        self._taken = []
        self._pending.clear()

    async def submit(
        self,
        inputs: Sequence[Any],
        prepare: Prepare | None = None,
        solve: SolveArrays | None = None,
    ) -> list[Any]:
        """Queue all ``inputs`` (or none: raises ``Busy`` when they do not fit) and await them.

        Without ``prepare`` the inputs are ``(C, H, W)`` arrays. With it, the worker thread calls
        ``prepare`` on each input first; an exception it returns is that input's answer.
        ``solve`` reads them instead of the batcher's own ``solve_arrays`` (batched with the
        other items that bring the same one).
        """
        if self._worker is None or self._worker.done():
            raise NotReady("the model is not running")
        if len(self._pending) + len(inputs) > self.queue_size:
            raise Busy()
        if not inputs:
            return []
        loop = asyncio.get_running_loop()
        solve = solve or self._solve_arrays
        items = [_Item(value, loop.create_future(), prepare, solve) for value in inputs]
        self._pending.extend(items)
        self._arrived.set()
        if len(items) == 1:
            return [await items[0].future]
        return list(await asyncio.gather(*(item.future for item in items)))

    async def _supervise(self) -> None:
        """Runs the worker loop; if it dies, fails every waiter fast (503) and runs a new one."""
        while True:
            try:
                await self._run()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("the batching worker died; starting a new one")
                self.restarts += 1
                waiting = [*self._taken, *self._pending]
                self._taken = []
                self._pending.clear()
                _fail(waiting, NotReady("the model worker failed; retry the request"))
                await asyncio.sleep(0)  # let the failed callers run before taking new work

    async def _run(self) -> None:
        while True:
            while not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
            count = min(len(self._pending), self.max_batch_size)
            self._taken = [self._pending.popleft() for _ in range(count)]
            await self._solve([item for item in self._taken if not item.future.done()])
            self._taken = []

    async def _solve(self, batch: list[_Item]) -> None:
        if not batch:  # every waiter went away (client disconnects)
            return
        loop = asyncio.get_running_loop()
        try:
            outcomes = await loop.run_in_executor(
                None,
                _prepare_and_solve,
                [item.input for item in batch],
                [item.prepare for item in batch],
                [item.solve for item in batch],
                self._on_batch,
            )
        except asyncio.CancelledError:  # stopped mid-batch: nobody may wait forever
            _fail(batch, NotReady("the service is shutting down"))
            raise
        except Exception as exc:
            logger.exception("batch of %d failed", len(batch))
            _fail(batch, exc)
            return
        _resolve(batch, outcomes)


class _Raised:
    """An exception that ``prepare`` raised (not returned): it fails only its own item."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def _prepare_and_solve(
    inputs: Sequence[Any],
    prepares: Sequence[Prepare | None],
    solves: Sequence[SolveArrays],
    on_batch: BatchObserver | None,
) -> list[Any]:
    """In a worker thread: prepare each input, solve the prepared ones in one call per solve
    function (most batches have one).

    Returns one outcome per input, in order: a prediction, the exception ``prepare`` returned,
    or a ``_Raised``. Raises when the only solve function fails, which fails the whole batch;
    with several, one that fails fails its own items (``_Raised``), not its neighbours.
    """
    outcomes: list[Any] = [None] * len(inputs)
    groups: dict[SolveArrays, tuple[list[int], list[np.ndarray]]] = {}  # indices, arrays
    for index, (value, prepare, solve) in enumerate(zip(inputs, prepares, solves, strict=True)):
        if prepare is None:
            prepared: Any = value
        else:
            try:
                prepared = prepare(value)
            except Exception as exc:  # a bug in prepare: fail this item, not its neighbours
                logger.exception("preparing an input failed")
                prepared = _Raised(exc)
        if isinstance(prepared, np.ndarray):
            indices, arrays = groups.setdefault(solve, ([], []))
            indices.append(index)
            arrays.append(prepared)
        else:
            outcomes[index] = prepared
    for solve, (indices, arrays) in groups.items():
        try:
            predictions = _solve_group(solve, arrays, on_batch)
        except Exception as exc:
            if len(groups) == 1:
                raise
            logger.exception("a group of %d in a batch failed", len(arrays))
            predictions = [_Raised(exc)] * len(arrays)
        for index, prediction in zip(indices, predictions, strict=True):
            outcomes[index] = prediction
    return outcomes


def _solve_group(
    solve: SolveArrays, arrays: list[np.ndarray], on_batch: BatchObserver | None
) -> Sequence[Any]:
    if on_batch is not None:
        on_batch(len(arrays))
    predictions = solve(np.stack(arrays))  # B x (C, H, W) -> (B, C, H, W)
    if len(predictions) != len(arrays):
        raise RuntimeError(f"solver returned {len(predictions)} answers for {len(arrays)}")
    return predictions


def _resolve(batch: Sequence[_Item], outcomes: Sequence[Any]) -> None:
    for item, outcome in zip(batch, outcomes, strict=True):
        if item.future.done():
            continue
        if isinstance(outcome, _Raised):
            item.future.set_exception(outcome.error)
        else:
            item.future.set_result(outcome)


def _fail(batch: Sequence[_Item], error: Exception) -> None:
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

    async def submit(
        self,
        inputs: Sequence[Any],
        prepare: Prepare | None = None,
        solve: SolveArrays | None = None,
    ) -> list[Any]:
        if not self._running:
            raise NotReady("the model is not running")
        if not inputs:
            return []
        if self._in_flight + len(inputs) > self.queue_size:
            raise Busy()
        count = len(inputs)
        self._in_flight += count
        try:
            outcomes = await asyncio.get_running_loop().run_in_executor(
                None, _prepare_and_solve, inputs, [prepare] * count,
                [solve or self._solve_arrays] * count, self._on_batch,
            )  # fmt: skip
        finally:
            self._in_flight -= count
        for outcome in outcomes:
            if isinstance(outcome, _Raised):
                raise outcome.error
        return outcomes
