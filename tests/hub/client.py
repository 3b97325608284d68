"""A small black-box client for the hub, written from docs/protocol.md only.

The hub tests drive the hub exclusively through this module: real HTTP on loopback, no imports
from `hub`. Each helper is thin on purpose so a failing assertion shows the hub's real answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "/api/v1"

# Complete-looking SDP; the hub relays it and never needs to parse it.
FAKE_OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:96 VP8/90000\r\n"
)
FAKE_ANSWER = FAKE_OFFER.replace("4611731400430051336", "1111111111111111111")

DEMO_PASSWORDS = {
    "smith": "smith-demo",
    "jones": "jones-demo",
    "patel": "patel-demo",
    "admin": "admin-demo",
}

CONFIRM = {
    "outcome": "confirmed",
    "reason_code": "identity_confirmed",
    "notes": "",
    "checklist": {"face_matches_photo": True, "gave_name_and_number": True},
}
REFUSE = {"outcome": "refused", "reason_code": "face_mismatch", "notes": "not him"}

NETWORK_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def expect(resp: httpx.Response, status: int, error: str | None = None) -> Any:
    """Assert the status (and for errors the `{error, detail}` shape and code); return the JSON."""
    body: Any
    try:
        body = resp.json()
    except ValueError:
        body = resp.text
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.request.url.path}: expected {status}, "
        f"got {resp.status_code}: {body!r}"
    )
    if status >= 400:
        assert_error_body(resp)
        if error is not None:
            assert body["error"] == error, f"expected error {error!r}, got {body!r}"
    return body


def assert_error_body(resp: httpx.Response) -> dict[str, Any]:
    """Every error is JSON `{error, detail}` with non-empty strings (protocol: Transport)."""
    assert resp.headers.get("content-type", "").startswith("application/json"), (
        f"error response is not JSON: {resp.status_code} {resp.text[:200]!r}"
    )
    body = resp.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str), body
    assert body["error"], body
    assert isinstance(body.get("detail"), str), body
    assert body["detail"], body
    return body


def bearer(token: str | None) -> dict[str, str]:
    """Authorization header for a token (none for anonymous)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


class HubApi:
    """Thin async wrapper over one `httpx.AsyncClient` aimed at `<hub>/api/v1`."""

    def __init__(self, base_url: str, *, limits: httpx.Limits | None = None) -> None:
        self.base_url = base_url
        self.client = httpx.AsyncClient(
            base_url=base_url + API,
            timeout=NETWORK_TIMEOUT,
            limits=limits or httpx.Limits(max_connections=200, max_keepalive_connections=200),
        )

    async def __aenter__(self) -> HubApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self.client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        json_body: Any = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One request with optional bearer token; returns the raw response."""
        all_headers = {**bearer(token), **(headers or {})}
        if json_body is not None:
            return await self.client.request(
                method, path, json=json_body, headers=all_headers, params=params
            )
        return await self.client.request(
            method, path, content=content, headers=all_headers, params=params
        )

    # ---------------------------------------------------------------- auth

    async def login(self, username: str, password: str | None = None) -> str:
        """Sign in an operator and return the bearer token."""
        pw = password if password is not None else DEMO_PASSWORDS[username]
        body = expect(
            await self.call(
                "POST", "/auth/login", json_body={"username": username, "password": pw}
            ),
            200,
        )
        return body["token"]

    async def device_token(self, collar: str) -> str:
        """Demo mode: a device token acting as the enrolled device of a demo officer."""
        body = expect(
            await self.call("POST", "/demo/device-token", json_body={"collar_number": collar}),
            200,
        )
        return body["device_token"]

    # ---------------------------------------------------------------- lifecycle

    async def create_request(self, device: str, sdp: str = FAKE_OFFER) -> dict[str, Any]:
        """POST /requests as a device; returns the DeviceRequestView."""
        return expect(
            await self.call("POST", "/requests", device, json_body={"sdp_offer": sdp}), 201
        )

    async def claim(self, op: str, rid: int) -> httpx.Response:
        return await self.call("POST", f"/requests/{rid}/claim", op)

    async def answer(self, op: str, rid: int, sdp: str = FAKE_ANSWER) -> httpx.Response:
        return await self.call("POST", f"/requests/{rid}/answer", op, json_body={"sdp_answer": sdp})

    async def connected(self, op: str, rid: int) -> httpx.Response:
        return await self.call("POST", f"/requests/{rid}/connected", op)

    async def release(self, op: str, rid: int) -> httpx.Response:
        return await self.call("POST", f"/requests/{rid}/release", op)

    async def fail(self, op: str, rid: int, detail: str = "test") -> httpx.Response:
        return await self.call("POST", f"/requests/{rid}/fail", op, json_body={"detail": detail})

    async def decide(
        self, op: str, rid: int, body: dict[str, Any] | None = None, key: str = "k-1"
    ) -> httpx.Response:
        return await self.call(
            "POST",
            f"/requests/{rid}/decision",
            op,
            json_body=body if body is not None else CONFIRM,
            headers={"Idempotency-Key": key},
        )

    async def end(self, op: str, rid: int) -> httpx.Response:
        return await self.call("POST", f"/requests/{rid}/end", op)

    async def hangup(self, device: str, rid: int) -> httpx.Response:
        return await self.call("POST", f"/requests/{rid}/hangup", device)

    async def lease(self, op: str, rid: int) -> httpx.Response:
        return await self.call("POST", f"/requests/{rid}/lease", op)

    async def detail(self, op: str, rid: int) -> dict[str, Any]:
        """GET /requests/{id} → RequestDetail."""
        return expect(await self.call("GET", f"/requests/{rid}", op), 200)

    async def state(self, op: str, rid: int) -> str:
        return (await self.detail(op, rid))["request"]["state"]


# -------------------------------------------------------------------- server-sent events


@dataclass
class SseEvent:
    """One parsed SSE message."""

    id: int | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)

    @property
    def request_id(self) -> int | None:
        try:
            return self.json()["request"]["id"]
        except (ValueError, KeyError, TypeError):
            return None


@dataclass
class EventStream:
    """Consume one SSE endpoint in a background task and collect what arrives.

    Use as `async with EventStream(api, "/events", token, last_event_id=0) as stream:`. Waiting is
    always on a condition with a deadline, never on sleep.
    """

    api: HubApi
    path: str
    token: str | None
    last_event_id: int | str | None = None
    use_query: bool = False
    events: list[SseEvent] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    status: int | None = None
    error_body: dict[str, Any] | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _task: asyncio.Task[None] | None = None
    _opened: asyncio.Event = field(default_factory=asyncio.Event)
    _error: BaseException | None = None

    async def __aenter__(self) -> EventStream:
        self._task = asyncio.create_task(self._run(), name=f"sse {self.path}")
        async with asyncio.timeout(10):
            await self._opened.wait()
        if self._error is not None:
            raise self._error
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Disconnect (cancels the reader task and waits for it)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        headers = {**bearer(self.token), "Accept": "text/event-stream"}
        params: dict[str, Any] = {}
        if self.last_event_id is not None:
            if self.use_query:
                params["last_event_id"] = self.last_event_id
            else:
                headers["Last-Event-ID"] = str(self.last_event_id)
        timeout = httpx.Timeout(connect=5.0, read=None, write=5.0, pool=5.0)
        try:
            async with self.api.client.stream(
                "GET", self.path, headers=headers, params=params, timeout=timeout
            ) as resp:
                self.status = resp.status_code
                if resp.status_code != 200:
                    await resp.aread()
                    try:
                        self.error_body = resp.json()
                    except ValueError:
                        self.error_body = None
                    self._opened.set()
                    return
                self._opened.set()
                await self._parse(resp)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surfaced to the test through wait_for / __aenter__
            self._error = exc
            self._opened.set()
            async with self._changed:
                self._changed.notify_all()

    async def _parse(self, resp: httpx.Response) -> None:
        ev_id: int | None = None
        ev_type: str | None = None
        data: list[str] = []
        async for line in resp.aiter_lines():
            if line == "":
                if data or ev_type is not None:
                    async with self._changed:
                        self.events.append(SseEvent(ev_id, ev_type, "\n".join(data)))
                        self._changed.notify_all()
                ev_id, ev_type, data = None, None, []
                continue
            if line.startswith(":"):
                async with self._changed:
                    self.comments.append(line[1:].strip())
                    self._changed.notify_all()
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "id":
                ev_id = int(value) if value.isdigit() else None
            elif name == "event":
                ev_type = value
            elif name == "data":
                data.append(value)

    async def wait_until(
        self, predicate: Callable[[EventStream], bool], timeout: float = 10.0, what: str = ""
    ) -> None:
        """Wait until `predicate(self)` holds, or fail with what has arrived so far."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: predicate(self) or self._error is not None)
        except TimeoutError:
            seen = [(e.id, e.event, e.request_id) for e in self.events[-20:]]
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or predicate}; last events: {seen}"
            ) from None
        if self._error is not None and not predicate(self):
            raise AssertionError(f"event stream failed: {self._error!r}")

    async def wait_for_event(
        self, event_type: str, request_id: int | None = None, timeout: float = 10.0
    ) -> SseEvent:
        """Wait for the first event of a type (optionally about one request) and return it."""

        def match(e: SseEvent) -> bool:
            return e.event == event_type and (request_id is None or e.request_id == request_id)

        await self.wait_until(
            lambda s: any(match(e) for e in s.events),
            timeout,
            what=f"{event_type} for request {request_id}",
        )
        return next(e for e in self.events if match(e))

    def of_request(self, request_id: int) -> list[SseEvent]:
        """Events about one request, in arrival order."""
        return [e for e in self.events if e.request_id == request_id]
