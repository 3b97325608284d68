"""Acting on a real hub from a test: devices calling in, another sergeant claiming."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from protocol import API_PREFIX
from tests.helpers.hub import device_token, login

FAKE_OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:96 VP8/90000\r\n"
)


class HubOps:
    """Blocking-free helpers over one AsyncClient (device tokens cached per collar)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.AsyncClient(base_url=url + API_PREFIX, timeout=10)
        self._devices: dict[str, str] = {}
        self.operator_tokens: dict[str, str] = {}

    async def aclose(self) -> None:
        await self.client.aclose()

    def device(self, collar: str) -> str:
        if collar not in self._devices:
            self._devices[collar] = device_token(self.url, collar)
        return self._devices[collar]

    async def call_in(self, collar: str) -> int:
        """A device creates a request; returns its id."""
        response = await self.client.post(
            "/requests",
            json={"sdp_offer": FAKE_OFFER},
            headers={"Authorization": f"Bearer {self.device(collar)}"},
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def hang_up(self, collar: str, request_id: int) -> None:
        response = await self.client.post(
            f"/requests/{request_id}/hangup",
            headers={"Authorization": f"Bearer {self.device(collar)}"},
        )
        assert response.is_success, response.text

    async def claim_as(self, username: str, request_id: int) -> dict[str, Any]:
        token = login(self.url, username, f"{username}-demo")
        self.operator_tokens[username] = token
        response = await self.client.post(
            f"/requests/{request_id}/claim", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.is_success, response.text
        return dict(response.json())

    async def hold_claim(self, username: str, request_id: int, every: float = 0.5) -> None:
        """Renew `username`'s lease until cancelled, as that sergeant's console would."""
        headers = {"Authorization": f"Bearer {self.operator_tokens[username]}"}
        while True:
            await self.client.post(f"/requests/{request_id}/lease", headers=headers)
            await asyncio.sleep(every)
