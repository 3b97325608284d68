"""Owns the console's live link to the hub: the event stream task and where its events go.

On a fresh connect (no position to resume from) it reloads the queue snapshot before reading
events, so nothing that happened while we were away is missed; on a resumed connect the hub
replays what was missed after `Last-Event-ID` and no snapshot is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from console.domain.connection import LinkState, LinkStatus
from console.domain.errors import AuthenticationError
from console.services.queue import QueueService
from protocol import ConsoleEvent

log = logging.getLogger(__name__)


class EventStreamPort(Protocol):
    """`console.adapters.event_stream.HubEventStream`."""

    def forget_position(self) -> None: ...

    async def run(self, handler: ConnectionService) -> None: ...


class ConnectionService:
    """Starts/stops the stream; feeds the queue and any other event listeners (the call flow)."""

    def __init__(
        self,
        stream: EventStreamPort,
        queue: QueueService,
        on_session_lost: Callable[[], Awaitable[None]],
    ) -> None:
        self._stream = stream
        self._queue = queue
        self._on_session_lost = on_session_lost
        self._task: asyncio.Task[None] | None = None
        self.status = LinkStatus(LinkState.OFFLINE, detail="not signed in")
        self._status_listeners: list[Callable[[LinkStatus], None]] = []
        self._event_listeners: list[Callable[[ConsoleEvent], None]] = []

    def add_status_listener(self, listener: Callable[[LinkStatus], None]) -> None:
        self._status_listeners.append(listener)

    def add_event_listener(self, listener: Callable[[ConsoleEvent], None]) -> None:
        """`listener` gets every hub event after the queue has applied it."""
        self._event_listeners.append(listener)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Begin following the hub (after sign-in). Idempotent."""
        if self.running:
            return
        self._stream.forget_position()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="event-stream")

    async def stop(self) -> None:
        """Stop following the hub and wait until the connection is closed."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await task
                except Exception:
                    # Stopping must always finish (sign-out, shutdown). A stream cancelled
                    # mid-connect can die of something else (anyio's connect under qasync
                    # raised "no running event loop" on a loaded machine): report, carry on.
                    log.warning("the event stream failed while stopping", exc_info=True)
        self._queue.clear()
        self.status_changed(LinkStatus(LinkState.OFFLINE, detail="not signed in"))

    async def _run(self) -> None:
        try:
            await self._stream.run(self)
        except AuthenticationError:
            log.info("the hub refused our token on /events; the session is over")
            self._task = None
            self._queue.clear()
            await self._on_session_lost()

    # ----------------------------------------------------------- EventHandler (called by stream)

    async def stream_connected(self, resumed: bool) -> None:
        if not resumed:
            await self._queue.refresh()

    def event_received(self, event: ConsoleEvent) -> None:
        for listener in [self._queue.apply, *self._event_listeners]:
            try:
                listener(event)
            except Exception as exc:
                # A bug in one listener must not kill the stream: report it to the crash funnel.
                asyncio.get_running_loop().call_exception_handler(
                    {"message": f"event listener failed on {event.type}", "exception": exc}
                )

    def status_changed(self, status: LinkStatus) -> None:
        self.status = status
        for listener in list(self._status_listeners):
            listener(status)
