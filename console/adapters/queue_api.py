"""Reads the hub's list of active requests (the queue snapshot taken on every fresh connect)."""

from __future__ import annotations

from console.adapters.hub_http import HubHttp
from protocol import RequestView


class QueueApi:
    """Implements `console.services.queue.QueueSnapshotPort`."""

    def __init__(self, hub_http: HubHttp) -> None:
        self._http = hub_http

    async def active_requests(self) -> list[RequestView]:
        """GET /requests?active=true: every non-terminal request, oldest first."""
        body = await self._http.json("GET", "/requests", params={"active": "true"})
        return [RequestView.model_validate(item) for item in body]
