"""A lean server-sent events response: pre-encoded chunks straight to the ASGI `send`.

Replaces sse-starlette's EventSourceResponse on the hub's hot path. That class re-encodes every
chunk and opens an anyio cancel scope (plus task-group bookkeeping) for every send; with 100
subscribers that per-send overhead dominated the cost of an event. Our chunks are already
`id:/event:/data:` bytes (hub/event_bus.py), so this response only writes them (through the
server's own `send`, see `StreamSendMiddleware`), checks once in a while for a client that stopped
reading, and watches for the client hanging up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)


# Where `StreamSendMiddleware` leaves the server's own `send` in the scope.
STREAM_SEND_SCOPE_KEY = "safe_connection.stream_send"


class StreamSendMiddleware:
    """Outermost app middleware: remembers the server's `send` for event streams.

    Each middleware between the server and a route wraps `send` to watch for the response start.
    An event stream's body is written once per subscriber per wake-up (100 consoles → 100 writes
    for one event), so it writes its body chunks through the server's `send` instead; the
    response start still goes through the whole chain, so every middleware sees it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[STREAM_SEND_SCOPE_KEY] = send
        await self.app(scope, receive, send)


class EventStreamResponse(Response):
    """`text/event-stream` body from an async iterator of ready-made SSE bytes.

    The stream ends when the iterator ends (hub shutdown), when the client disconnects (the
    iterator is closed at once, not at its next write), or when one send stalls for longer than
    `send_timeout` seconds (a client that stopped reading must not hold its stream forever).
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        headers: Mapping[str, str] | None = None,
        send_timeout: float = 30.0,
    ) -> None:
        self.chunks = chunks
        self.send_timeout = send_timeout
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        streaming = asyncio.current_task()
        assert streaming is not None
        state: dict[str, Any] = {
            "finished": False,
            "disconnected": False,
            "stalled": False,
            "sending_since": None,
        }

        async def watch_for_disconnect() -> None:
            while True:
                try:
                    message = await receive()
                except Exception:  # e.g. a body over the limit on a GET: nothing to watch
                    log.debug("event stream: stopped watching for disconnect", exc_info=True)
                    return
                if message["type"] == "http.disconnect":
                    if not state["finished"]:
                        state["disconnected"] = True
                        streaming.cancel()
                    return

        async def watch_for_stall() -> None:
            # One periodic check per stream instead of a timeout around every send: a send
            # only waits when the client's socket buffer is full, and arming + disarming a
            # timer per send cost more than the send itself at 100 subscribers.
            while True:
                await asyncio.sleep(self.send_timeout / 4)
                since = state["sending_since"]
                if since is not None and loop.time() - since >= self.send_timeout:
                    state["stalled"] = True
                    streaming.cancel()
                    return

        watchers = [
            asyncio.create_task(watch_for_disconnect(), name="sse-disconnect-watch"),
            asyncio.create_task(watch_for_stall(), name="sse-stall-watch"),
        ]
        body_send: Send = scope.get(STREAM_SEND_SCOPE_KEY, send)
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self.chunks:
                state["sending_since"] = loop.time()
                await body_send({"type": "http.response.body", "body": chunk, "more_body": True})
                state["sending_since"] = None
            state["finished"] = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if state["stalled"]:
                streaming.uncancel()
                log.warning(
                    "event stream closed: the client stopped reading for %.0f s", self.send_timeout
                )
                return
            if not state["disconnected"]:
                raise  # shutdown or a caller's cancellation: let it propagate
            streaming.uncancel()  # the client hung up: end quietly
        finally:
            state["finished"] = True
            for watcher in watchers:
                watcher.cancel()
            aclose = getattr(self.chunks, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
