"""Operator sign-in, sign-out and hub configuration over the shared HubHttp."""

from __future__ import annotations

import logging

from console.adapters.hub_http import HubHttp
from console.domain.errors import UserFacingError
from protocol import HubConfig, LoginResult, OperatorView

log = logging.getLogger(__name__)


class SessionApi:
    """Implements `console.services.session.SessionPort` against the hub."""

    def __init__(self, hub_http: HubHttp) -> None:
        self._http = hub_http

    async def login(self, username: str, password: str) -> LoginResult:
        """POST /auth/login; on success the token is used for every later request."""
        body = await self._http.json(
            "POST", "/auth/login", json={"username": username, "password": password}
        )
        result = LoginResult.model_validate(body)
        self._http.set_token(result.token)
        return result

    async def renew(self, username: str, password: str) -> LoginResult:
        """Sign in again (the unlock's password check), then revoke the token it replaces.

        Best effort, like `logout`: if the hub cannot confirm, the old token still expires on its
        own. Requests in flight with the old token are retried with the new one (`HubHttp`).
        """
        previous = self._http.token
        result = await self.login(username, password)
        if previous is not None and previous != result.token:
            try:
                await self._http.request(
                    "POST",
                    "/auth/logout",
                    headers={"Authorization": f"Bearer {previous}"},
                    timeout=3.0,
                )
            except UserFacingError as exc:
                log.info("the replaced token was not revoked: %s", exc.code)
        return result

    async def logout(self) -> None:
        """Revoke the current token (best effort: a dead hub must not block signing out)."""
        if self._http.token is None:
            return
        try:
            await self._http.request("POST", "/auth/logout", timeout=3.0)
        except UserFacingError as exc:
            log.info("logout not confirmed by the hub: %s", exc.code)
        finally:
            self._http.set_token(None)

    async def forget_token(self) -> None:
        """Drop the token locally without telling the hub (it has already expired)."""
        self._http.set_token(None)

    async def me(self) -> OperatorView:
        return OperatorView.model_validate(await self._http.json("GET", "/auth/me"))

    async def config(self) -> HubConfig:
        return HubConfig.model_validate(await self._http.json("GET", "/config"))
