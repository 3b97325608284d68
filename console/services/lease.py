"""Keeping a claim alive: renew the hub's claim lease every `lease_seconds / 3` while we hold it.

The hub releases a claim whose lease lapses (docs/protocol.md, "Claim lease"), so a console that
froze or lost its network gives the request back to the queue instead of sitting on it. The keeper
is one owned task: started after a successful claim, cancelled when the call ends in any way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from console.domain.errors import HubUnreachableError, UserFacingError

log = logging.getLogger(__name__)


class Clock(Protocol):
    """Time as the call services see it; tests pass a fake that advances on demand."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: `time.monotonic` and `asyncio.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class LeaseKeeper:
    """Renews one claim's lease until stopped, or until the hub says the claim is gone.

    `renew` is one awaited hub call; `on_lost` is called once with the hub's error when the claim
    can no longer be renewed (released by the hub, request ended elsewhere). While the hub is
    unreachable the keeper keeps trying at the same pace: the hub, not the console, decides when
    the lease has lapsed.
    """

    def __init__(
        self,
        renew: Callable[[], Awaitable[object]],
        interval_seconds: float,
        clock: Clock,
        on_lost: Callable[[UserFacingError], None],
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("lease renewal interval must be positive")
        self._renew = renew
        self._interval = interval_seconds
        self._clock = clock
        self._on_lost = on_lost
        self._task: asyncio.Task[None] | None = None
        self.renewals = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="lease-keeper")

    async def stop(self) -> None:
        """Cancel the renewal task and wait for it to finish. Safe to call twice."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            # Re-raise only if *we* are being cancelled, not the task we just stopped.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def _run(self) -> None:
        while True:
            await self._clock.sleep(self._interval)
            try:
                await self._renew()
                self.renewals += 1
            except HubUnreachableError:
                log.warning("lease renewal failed: hub unreachable; retrying")
            except UserFacingError as exc:
                log.info("lease renewal refused (%s); the claim is gone", exc.code)
                self._on_lost(exc)
                return
