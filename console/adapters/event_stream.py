"""Follows the hub's `/events` stream: reconnects with backoff + jitter and resumes without gaps.

- Every (re)connect sends `Last-Event-ID` with the newest id seen, so the hub replays exactly what
  was missed; ids at or below it are dropped, so nothing is delivered twice.
- Heartbeat watchdog: httpx's read timeout is set to 3x the hub's heartbeat period, so a stream
  that stops sending any bytes (not even `: heartbeat`) is treated as dead and reopened.
- A 401 ends the loop with `AuthenticationError` (the session is over); every other failure is
  retried forever until the owner cancels `run()`.
- A 409 `cursor_ahead` means the hub's database was replaced or restored (its ids restarted below
  ours, so every new event would be dropped as a duplicate): the position is forgotten and the
  stream reconnects at once as a fresh connect, which makes the owner reload the queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import httpx
from httpx_sse import aconnect_sse
from pydantic import ValidationError

from console.adapters.hub_http import HubHttp, error_from_response
from console.domain.backoff import Backoff
from console.domain.connection import OFFLINE_AFTER_FAILURES, LinkState, LinkStatus
from console.domain.errors import AuthenticationError, StreamCursorAheadError, UserFacingError
from console.domain.sse import SseParser
from protocol import API_PREFIX, ConsoleEvent

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0


class EventHandler(Protocol):
    """What the stream reports to (see `console.services.connection.ConnectionService`)."""

    async def stream_connected(self, resumed: bool) -> None:
        """Called once per successful connect, before any event of that connection."""
        ...

    def event_received(self, event: ConsoleEvent) -> None: ...

    def status_changed(self, status: LinkStatus) -> None: ...


class HubEventStream:
    """One console's subscription to `GET /events`. Not shared: `run()` owns the connection."""

    def __init__(
        self,
        hub_http: HubHttp,
        *,
        heartbeat_seconds: float = 10.0,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._http = hub_http
        self.heartbeat_seconds = heartbeat_seconds
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self.last_event_id: int | None = None
        self.connections = 0  # successful connects, for tests and diagnostics
        self._connected_this_round = False

    def forget_position(self) -> None:
        """Start the next connection from 'now' (after signing in as someone else)."""
        self.last_event_id = None

    async def run(self, handler: EventHandler) -> None:
        """Follow the stream until cancelled; raises AuthenticationError when the token is dead."""
        failures = 0
        handler.status_changed(LinkStatus(LinkState.CONNECTING))
        while True:
            try:
                await self._follow_once(handler)
                detail = "the hub closed the event stream"
            except StreamCursorAheadError:
                log.warning(
                    "the hub has no event %s: its database was replaced or restored; "
                    "reloading from now",
                    self.last_event_id,
                )
                self.forget_position()
                continue  # not a failure: reconnect at once, fresh
            except AuthenticationError:
                handler.status_changed(LinkStatus(LinkState.OFFLINE, detail="signed out"))
                raise
            except (httpx.TransportError, UserFacingError, ValidationError) as exc:
                detail = _describe(exc)
            if self._connected_this_round:
                failures = 0
                self._backoff.reset()
            failures += 1
            delay = self._backoff.next_delay()
            state = (
                LinkState.OFFLINE if failures >= OFFLINE_AFTER_FAILURES else LinkState.RECONNECTING
            )
            log.info("event stream down (%s); retry %d in %.1f s", detail, failures, delay)
            handler.status_changed(
                LinkStatus(state, retry_in=delay, failures=failures, detail=detail)
            )
            await self._sleep(delay)
            handler.status_changed(LinkStatus(LinkState.CONNECTING, failures=failures))

    async def _follow_once(self, handler: EventHandler) -> None:
        self._connected_this_round = False
        headers = {**self._http.auth_headers()}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        # read= is the heartbeat watchdog: no byte for 3 heartbeats -> ReadTimeout -> reconnect.
        timeout = httpx.Timeout(CONNECT_TIMEOUT_SECONDS, read=3 * self.heartbeat_seconds)
        async with aconnect_sse(
            self._http.client, "GET", API_PREFIX + "/events", headers=headers, timeout=timeout
        ) as source:
            response = source.response
            if not response.is_success:
                await response.aread()
                raise error_from_response(response)
            content_type = response.headers.get("content-type", "")
            if "text/event-stream" not in content_type:
                raise UserFacingError(
                    f"The hub answered /events with {content_type!r}.", code="bad_stream"
                )
            resumed = self.last_event_id is not None
            self._connected_this_round = True
            self.connections += 1
            log.info("event stream connected (resumed=%s, last id %s)", resumed, self.last_event_id)
            handler.status_changed(LinkStatus(LinkState.CONNECTED))
            await handler.stream_connected(resumed)
            parser = SseParser()
            async for chunk in response.aiter_text():
                for message in parser.feed(chunk):
                    self._deliver(message.data, message.id, handler)

    def _deliver(self, data: str, raw_id: str | None, handler: EventHandler) -> None:
        try:
            event = ConsoleEvent.model_validate_json(data)
        except ValidationError:
            # A hub newer than this console may send events we do not know; skip, keep going.
            log.warning("skipping an event the console cannot read (id %s)", raw_id)
            if raw_id is not None and raw_id.isdigit():
                self.last_event_id = max(self.last_event_id or 0, int(raw_id))
            return
        if self.last_event_id is not None and event.id <= self.last_event_id:
            log.debug("dropping duplicate event %d", event.id)
            return
        self.last_event_id = event.id
        handler.event_received(event)


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.ReadTimeout):
        return "no heartbeat from the hub"
    if isinstance(exc, UserFacingError):
        return exc.code
    return type(exc).__name__
