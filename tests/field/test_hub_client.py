"""Unit tests for the device's hub client: error mapping and the resuming event stream.

The hub is a hand-written request handler behind `httpx.MockTransport`, so each test controls
exactly what goes over the wire (including a stream that drops mid-way).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest

from field.errors import HubRequestError, HubUnreachableError, TokenRefusedError
from field.hub_client import DeviceHubClient, request_demo_token
from protocol.schemas import DeviceEvent, DeviceRequestView, Location, RequestState

URL = "http://hub.test"


def _view(state: RequestState = RequestState.QUEUED) -> DeviceRequestView:
    return DeviceRequestView(
        id=7,
        state=state,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        queue_position=1,
        answered_by=None,
        sdp_answer=None,
        outcome=None,
        reason_code=None,
        reason_label=None,
        reference=None,
        ice_servers=[],
    )


def _sse(event_id: int, state: RequestState) -> bytes:
    event = DeviceEvent(
        id=event_id,
        type="request.claimed",
        at=datetime(2026, 1, 1, tzinfo=UTC),
        request=_view(state),
    )
    return f"id: {event_id}\nevent: {event.type}\ndata: {event.model_dump_json()}\n\n".encode()


class _DroppingStream(httpx.AsyncByteStream):
    """Sends some SSE bytes, then fails like a dropped TCP connection."""

    def __init__(self, chunks: list[bytes], then_drop: bool) -> None:
        self.chunks = chunks
        self.then_drop = then_drop

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.then_drop:
            raise httpx.ReadError("connection reset by peer")


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> DeviceHubClient:
    http = httpx.AsyncClient(base_url=URL, transport=httpx.MockTransport(handler))
    return DeviceHubClient(URL, "dev_secret", client=http)


async def test_event_stream_resumes_with_last_event_id_after_a_drop() -> None:
    seen_headers: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer dev_secret"
        seen_headers.append(request.headers.get("Last-Event-ID"))
        if len(seen_headers) == 1:
            stream = _DroppingStream([_sse(41, RequestState.QUEUED)], then_drop=True)
        else:
            stream = _DroppingStream([_sse(42, RequestState.CLAIMED)], then_drop=False)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    connects = 0

    async def on_connected() -> None:
        nonlocal connects
        connects += 1

    client = _client(handler)
    events: list[DeviceEvent] = []
    async for event in client.device_events(7, on_connected=on_connected):
        events.append(event)
        if len(events) == 2:
            break
    assert [e.id for e in events] == [41, 42]
    assert events[1].request.state == RequestState.CLAIMED
    assert seen_headers == [None, "41"]
    assert connects == 2


async def test_a_refused_token_on_the_stream_raises_at_once() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "unauthorized", "detail": "unknown token"})

    with pytest.raises(TokenRefusedError, match="unknown token"):
        async for _ in _client(handler).device_events(7):
            pass


async def test_http_errors_become_typed_errors_with_the_hubs_detail() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            409, json={"error": "illegal_transition", "detail": "one active request per device"}
        )

    with pytest.raises(HubRequestError) as caught:
        await _client(handler).create_request("v=0 " * 5, None)
    assert caught.value.status == 409
    assert caught.value.code == "illegal_transition"
    assert "one active request per device" in str(caught.value)


async def test_a_hangup_on_a_finished_request_is_not_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"error": "illegal_transition", "detail": "ended"})

    assert await _client(handler).hangup(7) is None


async def test_a_missing_photo_is_none_not_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": "not_found", "detail": "no photo"})

    assert await _client(handler).photo() is None


async def test_a_dead_hub_is_reported_as_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(HubUnreachableError, match=f"cannot reach the hub at {URL}"):
        await _client(handler).config()


async def test_the_offer_body_carries_sdp_and_location() -> None:
    bodies: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, content=_view().model_dump_json())

    view = await _client(handler).create_request(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n",
        Location(latitude=51.46, longitude=-0.11, description="Brixton Road"),
    )
    assert view.id == 7
    assert bodies[0]["location"] == {
        "latitude": 51.46,
        "longitude": -0.11,
        "description": "Brixton Road",
    }
    assert str(bodies[0]["sdp_offer"]).startswith("v=0")


async def test_demo_token_refusal_explains_what_the_demo_endpoint_needs() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": "forbidden", "detail": "not a demo hub"})

    http = httpx.AsyncClient(base_url=URL, transport=httpx.MockTransport(handler))
    with pytest.raises(HubRequestError, match="--demo"):
        await request_demo_token(URL, "1001CW", client=http)


async def test_a_position_the_hub_no_longer_has_restarts_from_the_first_event() -> None:
    """409 cursor_ahead (the hub's database was restored): drop the position, start over."""
    seen_headers: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_headers.append(request.headers.get("Last-Event-ID"))
        if len(seen_headers) == 1:
            stream = _DroppingStream([_sse(41, RequestState.QUEUED)], then_drop=True)
        elif len(seen_headers) == 2:
            return httpx.Response(
                409, json={"error": "cursor_ahead", "detail": "database was restored"}
            )
        else:
            stream = _DroppingStream([_sse(5, RequestState.CLAIMED)], then_drop=False)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    events: list[DeviceEvent] = []
    async for event in _client(handler).device_events(7):
        events.append(event)
        if len(events) == 2:
            break
    assert [e.id for e in events] == [41, 5]
    assert seen_headers == [None, "41", None]
