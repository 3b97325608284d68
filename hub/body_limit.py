"""Pure ASGI middleware: refuse bodies over the limit by Content-Length AND by counting bytes.

Snapshots may be up to MAX_SNAPSHOT_BYTES; every other body up to MAX_BODY_BYTES. Counting the
streamed bytes matters because chunked uploads carry no Content-Length.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from protocol.schemas import MAX_BODY_BYTES, MAX_SNAPSHOT_BYTES


def limit_for(path: str) -> int:
    """The largest body accepted on `path`."""
    if path.endswith("/snapshots"):
        return MAX_SNAPSHOT_BYTES
    return MAX_BODY_BYTES


class BodyTooLargeError(HTTPException):
    """Raised from `receive` once the streamed body passes the limit (FastAPI re-raises it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The body is larger than the limit of {limit} bytes")


class BodyLimitMiddleware:
    """413 `body_too_large` for any request body over its path's limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""))
        may_have_body = False
        for name, value in scope.get("headers", ()):
            if name == b"transfer-encoding":
                may_have_body = True
            elif name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reply(send, 400, "invalid_request", "Content-Length is not a number")
                    return
                if declared > limit:
                    await _reply(
                        send,
                        413,
                        "body_too_large",
                        f"The body is larger than the limit of {limit} bytes",
                    )
                    return
                may_have_body = may_have_body or declared != 0
        if not may_have_body:
            # HTTP/1.1: no Content-Length and no Transfer-Encoding means no body. Pass the call
            # straight through: wrapping `send` would add a layer to every write of an event
            # stream, which is the hub's hottest path (docs/performance.md).
            await self.app(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError as exc:
            if started:
                raise
            await _reply(send, 413, "body_too_large", str(exc.detail))


async def _reply(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps({"error": code, "detail": detail}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
