"""Captchas rendered ahead of requests, refilled by a background task in a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from captchalab.service.challenges.sources import Captcha, ImageSource
from captchalab.service.errors import Busy

logger = logging.getLogger(__name__)

_RETRY_S = 1.0  # after a failed refill


class ChallengePool:
    """Holds up to ``size`` captchas; ``take`` waits up to ``wait_s`` when it is empty."""

    def __init__(self, source: ImageSource, size: int, wait_s: float) -> None:
        self.source = source
        self.size = size
        self.wait_s = wait_s
        self._items: deque[Captcha] = deque()
        self._changed: asyncio.Condition | None = None
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._items)

    async def start(self) -> None:
        await asyncio.to_thread(self.source.open)
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._refill(), name="challenge-pool-refill")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def take(self) -> Captcha:
        if self._changed is None:
            raise Busy("the challenge pool is not started")
        async with self._changed:
            if not self._items:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._items)), self.wait_s
                    )
            if not self._items:
                raise Busy("no challenge is ready; retry shortly")
            captcha = self._items.popleft()
            self._changed.notify_all()  # wakes the refill task
            return captcha

    async def _refill(self) -> None:
        assert self._changed is not None
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self._items) < self.size)
                missing = self.size - len(self._items)
            count = min(missing, self.source.batch_size)
            try:
                made = await asyncio.to_thread(self.source.produce, count)
            except Exception:
                logger.exception("refilling the challenge pool failed; retrying")
                await asyncio.sleep(_RETRY_S)
                continue
            async with self._changed:
                self._items.extend(made)
                self._changed.notify_all()
