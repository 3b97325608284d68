"""The device's side of the hub protocol (docs/protocol.md) over httpx + httpx-sse.

One `DeviceHubClient` per simulated device: it owns its `httpx.AsyncClient`, carries the device
token, and turns every HTTP failure into a `field.errors` type with a one-line message. The device
event stream reconnects by itself and resumes with `Last-Event-ID`, so callers see each event once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from field.errors import FieldError, HubRequestError, HubUnreachableError, TokenRefusedError
from protocol.schemas import (
    API_PREFIX,
    CreateRequestBody,
    DeviceEvent,
    DeviceRequestView,
    HubConfig,
    Location,
    OfficerView,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Consecutive failed reconnects of the event stream before we give up on the hub.
MAX_STREAM_RECONNECTS = 8


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
        return str(body.get("error", "error")), str(body.get("detail", response.reason_phrase))
    except (ValueError, AttributeError):
        return "error", response.text[:200] or response.reason_phrase


async def request_demo_token(
    hub_url: str, collar_number: str, client: httpx.AsyncClient | None = None
) -> str:
    """Ask a --demo hub on loopback for the device token of a demo officer's enrolled device."""
    own = client is None
    http = client or httpx.AsyncClient(base_url=hub_url, timeout=DEFAULT_TIMEOUT)
    path = f"{API_PREFIX}/demo/device-token"
    try:
        response = await http.post(path, json={"collar_number": collar_number})
    except httpx.TransportError as exc:
        raise HubUnreachableError(hub_url, type(exc).__name__) from exc
    finally:
        if own:
            await http.aclose()
    if response.status_code in (403, 404):
        code, detail = _error_fields(response)
        raise HubRequestError(
            "POST",
            path,
            response.status_code,
            code,
            f"{detail} (the demo endpoint needs a hub started with --demo, "
            "reached on loopback, and a known demo collar number)",
        )
    if not response.is_success:
        code, detail = _error_fields(response)
        raise HubRequestError("POST", path, response.status_code, code, detail)
    token = response.json().get("device_token")
    if not isinstance(token, str) or not token:
        raise FieldError(f"the hub's demo endpoint returned no device token for {collar_number}")
    return token


class DeviceHubClient:
    """Authenticated HTTP calls an enrolled officer's device makes."""

    def __init__(
        self, hub_url: str, device_token: str, client: httpx.AsyncClient | None = None
    ) -> None:
        self.hub_url = hub_url.rstrip("/")
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(base_url=self.hub_url, timeout=DEFAULT_TIMEOUT)
        self._auth = {"Authorization": f"Bearer {device_token}"}

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._own_client:
            await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = API_PREFIX + path
        try:
            response = await self._client.request(method, url, headers=self._auth, **kwargs)
        except httpx.TransportError as exc:
            raise HubUnreachableError(self.hub_url, f"{type(exc).__name__} {exc}".strip()) from exc
        if response.is_success:
            return response
        code, detail = _error_fields(response)
        if response.status_code in (401, 403):
            raise TokenRefusedError(f"{response.status_code} {code}: {detail}")
        raise HubRequestError(method, url, response.status_code, code, detail)

    async def config(self) -> HubConfig:
        """GET /config: ICE servers and timings."""
        return HubConfig.model_validate_json((await self._request("GET", "/config")).content)

    async def me(self) -> OfficerView:
        """GET /device/me: the officer this device is bound to."""
        return OfficerView.model_validate_json((await self._request("GET", "/device/me")).content)

    async def photo(self) -> bytes | None:
        """GET /device/photo: the officer's photo on file, or None when there is none."""
        try:
            return (await self._request("GET", "/device/photo")).content
        except HubRequestError as exc:
            if exc.status == 404:
                return None
            raise

    async def create_request(self, sdp_offer: str, location: Location | None) -> DeviceRequestView:
        """POST /requests: join the queue with a complete SDP offer."""
        body = CreateRequestBody(sdp_offer=sdp_offer, location=location)
        response = await self._request(
            "POST", "/requests", json=body.model_dump(mode="json", exclude_none=True)
        )
        return DeviceRequestView.model_validate_json(response.content)

    async def replace_offer(self, request_id: int, sdp_offer: str) -> DeviceRequestView:
        """POST /requests/{id}/offer: a fresh offer while queued (after a released claim)."""
        response = await self._request(
            "POST", f"/requests/{request_id}/offer", json={"sdp_offer": sdp_offer}
        )
        return DeviceRequestView.model_validate_json(response.content)

    async def get_request(self, request_id: int) -> DeviceRequestView:
        """GET /requests/{id}/device: the current state of our own request."""
        response = await self._request("GET", f"/requests/{request_id}/device")
        return DeviceRequestView.model_validate_json(response.content)

    async def hangup(self, request_id: int) -> DeviceRequestView | None:
        """POST /requests/{id}/hangup; None when the request had already finished (409)."""
        try:
            response = await self._request("POST", f"/requests/{request_id}/hangup")
        except HubRequestError as exc:
            if exc.status == 409:
                log.debug("hangup of request %s: already over (%s)", request_id, exc.code)
                return None
            raise
        try:
            return DeviceRequestView.model_validate_json(response.content)
        except ValueError:
            return None

    async def device_events(
        self,
        request_id: int,
        *,
        read_timeout_s: float = 30.0,
        on_connected: Callable[[], Awaitable[None]] | None = None,
    ) -> AsyncIterator[DeviceEvent]:
        """Follow /requests/{id}/device-events forever, reconnecting with Last-Event-ID.

        `on_connected` is awaited each time the stream is (re)established, before any of its
        events are yielded. The caller stops by breaking out of the loop (or cancelling). A refused
        token or a missing request raises at once; transport failures are retried with backoff.
        A position the hub no longer has (409 `cursor_ahead`: its database was restored) is
        dropped, and the stream starts again from the request's first event.
        """
        last_event_id: str | None = None
        failures = 0
        path = f"{API_PREFIX}/requests/{request_id}/device-events"
        timeout = httpx.Timeout(connect=5.0, read=read_timeout_s, write=5.0, pool=5.0)
        while True:
            headers = dict(self._auth)
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            try:
                async with aconnect_sse(
                    self._client, "GET", path, headers=headers, timeout=timeout
                ) as source:
                    response = source.response
                    if not response.is_success:
                        await response.aread()
                        code, detail = _error_fields(response)
                        if code == "cursor_ahead" and last_event_id is not None:
                            # The hub's database was restored: our position no longer exists.
                            # Start again from the request's first event (docs/protocol.md).
                            log.warning("device event stream for %s: %s", request_id, detail)
                            last_event_id = None
                            continue
                        if response.status_code in (401, 403):
                            raise TokenRefusedError(f"{response.status_code} {code}: {detail}")
                        raise HubRequestError("GET", path, response.status_code, code, detail)
                    failures = 0
                    if on_connected is not None:
                        await on_connected()
                    async for message in source.aiter_sse():
                        if not message.data:
                            continue
                        if message.id:
                            last_event_id = message.id
                        try:
                            event = DeviceEvent.model_validate_json(message.data)
                        except ValueError as exc:
                            log.warning(
                                "ignoring malformed device event %r: %s", message.event, exc
                            )
                            continue
                        yield event
                log.debug("device event stream for %s closed by the hub; reconnecting", request_id)
            except (httpx.TransportError, httpx.StreamError) as exc:
                failures += 1
                if failures > MAX_STREAM_RECONNECTS:
                    raise HubUnreachableError(
                        self.hub_url, f"event stream lost ({type(exc).__name__})"
                    ) from exc
                log.info(
                    "device event stream for %s dropped (%s); retry %d",
                    request_id,
                    type(exc).__name__,
                    failures,
                )
            await asyncio.sleep(min(0.2 * 2**failures, 3.0))  # backoff, not synchronisation
