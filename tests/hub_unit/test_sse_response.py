"""EventStreamResponse against a hand-written ASGI server: stalls, disconnects, raw send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.types import Message

from hub.sse_response import STREAM_SEND_SCOPE_KEY, EventStreamResponse


async def _endless() -> AsyncIterator[bytes]:
    n = 0
    while True:
        n += 1
        yield f"id: {n}\n\n".encode()
        await asyncio.sleep(0)  # let the other tasks run between chunks


class _Client:
    """The ASGI side: records what was sent; can stop reading or hang up."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.stop_reading_after = 3
        self.hang_up = asyncio.Event()
        self.stuck = asyncio.Event()
        self.flowing = asyncio.Event()  # set once a few chunks have arrived

    async def receive(self) -> Message:
        await self.hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        bodies = [m for m in self.sent if m["type"] == "http.response.body"]
        if len(bodies) >= 2:
            self.flowing.set()
        if len(bodies) >= self.stop_reading_after:
            self.stuck.set()
            await asyncio.Event().wait()  # a full socket buffer that never drains


async def test_a_client_that_stops_reading_is_dropped_after_the_send_timeout() -> None:
    client = _Client()
    response = EventStreamResponse(_endless(), send_timeout=0.2)
    await asyncio.wait_for(response({"type": "http"}, client.receive, client.send), 10)
    assert client.stuck.is_set()
    assert client.sent[0]["type"] == "http.response.start"


async def test_a_hang_up_ends_the_stream_quietly() -> None:
    client = _Client()
    client.stop_reading_after = 10**9
    response = EventStreamResponse(_endless(), send_timeout=30)
    streaming = asyncio.create_task(response({"type": "http"}, client.receive, client.send))
    await asyncio.wait_for(client.flowing.wait(), 5)
    client.hang_up.set()
    await asyncio.wait_for(streaming, 5)  # returns, does not raise CancelledError
    assert len(client.sent) > 1


async def test_body_chunks_go_through_the_servers_own_send() -> None:
    """The start goes through the middleware chain's `send`; the chunks skip it."""
    outer = _Client()
    outer.stop_reading_after = 4
    wrapped: list[Message] = []

    async def middleware_send(message: Message) -> None:
        wrapped.append(message)
        await outer.send(message)

    scope = {"type": "http", STREAM_SEND_SCOPE_KEY: outer.send}
    response = EventStreamResponse(_endless(), send_timeout=0.2)
    await asyncio.wait_for(response(scope, outer.receive, middleware_send), 10)
    assert [m["type"] for m in wrapped] == ["http.response.start"]
    assert sum(m["type"] == "http.response.body" for m in outer.sent) == 4
