"""`HubHttp`: a request that fails with 401 because the token was renewed meanwhile (unlock
revokes the old one) is retried with the new token instead of ending the session."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from console.adapters.hub_http import HubHttp
from console.domain.errors import AuthenticationError


class TokenHub:
    """A fake hub that accepts one token at a time; `renew_during` swaps it mid-request."""

    def __init__(self, http: HubHttp, valid: str) -> None:
        self.http = http
        self.valid = valid
        self.seen: list[str] = []
        self.renew_to: str | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.seen.append(token)
        if self.renew_to is not None:  # the console renews while this request is on its way
            self.valid, self.renew_to = self.renew_to, None
            self.http.set_token(self.valid)
        if token != self.valid:
            return httpx.Response(401, json={"error": "unauthorized", "detail": "revoked"})
        return httpx.Response(200, json={"ok": True})


def _client() -> tuple[HubHttp, TokenHub]:
    holder: list[TokenHub] = []
    transport = httpx.MockTransport(lambda request: holder[0].handle(request))
    http = HubHttp(httpx.AsyncClient(transport=transport, base_url="http://hub"))
    hub = TokenHub(http, "op_old")
    holder.append(hub)
    http.set_token("op_old")
    return http, hub


def test_a_401_for_a_token_renewed_in_flight_is_retried_with_the_new_one() -> None:
    http, hub = _client()
    hub.renew_to = "op_new"
    assert asyncio.run(http.json("GET", "/auth/me")) == {"ok": True}
    assert hub.seen == ["op_old", "op_new"]


def test_a_401_for_the_current_token_ends_the_session() -> None:
    http, hub = _client()
    hub.valid = "op_other"  # revoked by someone else: the token we hold is dead
    with pytest.raises(AuthenticationError):
        asyncio.run(http.json("GET", "/auth/me"))
    assert hub.seen == ["op_old"]  # no retry: nothing was renewed


def test_an_explicit_authorization_header_is_never_retried() -> None:
    http, hub = _client()
    hub.renew_to = "op_new"
    with pytest.raises(AuthenticationError):
        asyncio.run(http.json("POST", "/auth/logout", headers={"Authorization": "Bearer op_gone"}))
    assert hub.seen == ["op_gone"]
