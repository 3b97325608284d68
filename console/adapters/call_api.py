"""The call flow's hub endpoints over the shared `HubHttp` (implements services.call.CallApi)."""

from __future__ import annotations

import logging

from console.adapters.hub_http import HubHttp
from console.domain.errors import NotFoundError
from protocol import (
    ClaimResult,
    DecisionBody,
    FailBody,
    HubConfig,
    OfficerView,
    OperatorView,
    RequestView,
    SnapshotView,
)

log = logging.getLogger(__name__)

# The claim + answer path is what the 10-second answer standard is measured on: fail fast.
CALL_TIMEOUT_SECONDS = 8.0


class HubCallApi:
    """Typed wrappers, one per endpoint; errors come from HubHttp as domain errors."""

    def __init__(self, hub_http: HubHttp) -> None:
        self._http = hub_http

    async def me(self) -> OperatorView:
        return OperatorView.model_validate(await self._http.json("GET", "/auth/me"))

    async def config(self) -> HubConfig:
        return HubConfig.model_validate(await self._http.json("GET", "/config"))

    async def claim(self, request_id: int) -> ClaimResult:
        data = await self._http.json(
            "POST", f"/requests/{request_id}/claim", timeout=CALL_TIMEOUT_SECONDS
        )
        return ClaimResult.model_validate(data)

    async def officer(self, officer_id: int) -> OfficerView:
        return OfficerView.model_validate(await self._http.json("GET", f"/officers/{officer_id}"))

    async def officer_photo(self, officer_id: int) -> bytes | None:
        """The photo on file, or None when the officer has none."""
        try:
            response = await self._http.request("GET", f"/officers/{officer_id}/photo")
        except NotFoundError:
            return None
        return response.content or None

    async def post_answer(self, request_id: int, sdp_answer: str) -> None:
        await self._http.request(
            "POST",
            f"/requests/{request_id}/answer",
            json={"sdp_answer": sdp_answer},
            timeout=CALL_TIMEOUT_SECONDS,
        )

    async def mark_connected(self, request_id: int) -> RequestView:
        return await self._request_view("POST", f"/requests/{request_id}/connected")

    async def renew_lease(self, request_id: int) -> RequestView:
        return await self._request_view("POST", f"/requests/{request_id}/lease")

    async def release(self, request_id: int) -> RequestView:
        return await self._request_view("POST", f"/requests/{request_id}/release")

    async def fail(self, request_id: int, detail: str) -> RequestView:
        body = FailBody(detail=detail[:500]).model_dump(mode="json")
        return await self._request_view("POST", f"/requests/{request_id}/fail", json=body)

    async def end(self, request_id: int) -> RequestView:
        return await self._request_view("POST", f"/requests/{request_id}/end")

    async def decide(
        self, request_id: int, body: DecisionBody, idempotency_key: str
    ) -> RequestView:
        return await self._request_view(
            "POST",
            f"/requests/{request_id}/decision",
            json=body.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key},
        )

    async def post_snapshot(self, request_id: int, image: bytes, content_type: str) -> SnapshotView:
        data = await self._http.json(
            "POST",
            f"/requests/{request_id}/snapshots",
            content=image,
            headers={"Content-Type": content_type},
        )
        return SnapshotView.model_validate(data)

    async def get_request(self, request_id: int) -> RequestView:
        data = await self._http.json("GET", f"/requests/{request_id}")
        return RequestView.model_validate(data["request"])

    async def _request_view(self, method: str, path: str, **kwargs: object) -> RequestView:
        return RequestView.model_validate(await self._http.json(method, path, **kwargs))
