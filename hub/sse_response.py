"""A lean server-sent events response: pre-encoded chunks straight to the ASGI `send`.

Replaces sse-starlette's EventSourceResponse on the hub's hot path. That class re-encodes every
chunk and opens an anyio cancel scope (plus task-group bookkeeping) for every send; with 100
subscribers that per-send overhead dominated the cost of an event. Our chunks are already
`id:/event:/data:` bytes (hub/event_bus.py), so this response only writes them, with a cheap
asyncio timeout per send, and watches for the client hanging up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)


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
        streaming = asyncio.current_task()
        assert streaming is not None
        state = {"finished": False, "disconnected": False}

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

        watcher = asyncio.create_task(watch_for_disconnect(), name="sse-disconnect-watch")
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self.chunks:
                try:
                    async with asyncio.timeout(self.send_timeout):
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                except TimeoutError:
                    log.warning(
                        "event stream closed: the client stopped reading for %.0f s",
                        self.send_timeout,
                    )
                    return
            state["finished"] = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not state["disconnected"]:
                raise  # shutdown or a caller's cancellation: let it propagate
            streaming.uncancel()  # the client hung up: end quietly
        finally:
            state["finished"] = True
            watcher.cancel()
            aclose = getattr(self.chunks, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
