"""Signing in and out, unlocking after the idle lock, and noticing that the session has ended."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from console.domain.errors import AuthenticationError, UserFacingError
from protocol import HubConfig, LoginResult, OperatorView

log = logging.getLogger(__name__)


class SessionPort(Protocol):
    """The hub's auth endpoints (implemented by `console.adapters.session_api.SessionApi`)."""

    async def login(self, username: str, password: str) -> LoginResult: ...

    async def renew(self, username: str, password: str) -> LoginResult:
        """Sign in again and revoke the token this replaces."""
        ...

    async def logout(self) -> None: ...

    async def forget_token(self) -> None: ...

    async def config(self) -> HubConfig: ...


class SessionService:
    """Owns who is signed in. Listeners hear about sign-in, sign-out and expiry."""

    def __init__(self, port: SessionPort) -> None:
        self._port = port
        self.operator: OperatorView | None = None
        self.expires_at: datetime | None = None
        self.hub_config: HubConfig | None = None
        self._expired_listeners: list[Callable[[], None]] = []

    @property
    def signed_in(self) -> bool:
        return self.operator is not None

    def on_expired(self, listener: Callable[[], None]) -> None:
        """Call `listener` when the hub stops accepting our token."""
        self._expired_listeners.append(listener)

    async def sign_in(self, username: str, password: str) -> OperatorView:
        """Sign in and fetch the hub's config; raises a `UserFacingError` with a clear message."""
        username = username.strip()
        if not username or not password:
            raise AuthenticationError("Enter your username and password.", code="missing")
        result = await self._port.login(username, password)
        try:
            self.hub_config = await self._port.config()
        except UserFacingError:
            # Half signed in is not signed in: drop the new token, report the failure.
            await self._port.logout()
            raise
        self.operator = result.operator
        self.expires_at = result.expires_at
        log.info("signed in as %s (%s)", result.operator.username, result.operator.role)
        return result.operator

    async def unlock(self, password: str) -> None:
        """Check the signed-in operator's password again after the idle lock."""
        if self.operator is None:
            raise AuthenticationError("Nobody is signed in.", code="not_signed_in")
        if not password:
            raise AuthenticationError("Enter your password to unlock.", code="missing")
        # A fresh login is the hub's only password check; it also renews the token (and the
        # one it replaces is revoked rather than left valid until it expires).
        result = await self._port.renew(self.operator.username, password)
        self.expires_at = result.expires_at

    async def sign_out(self) -> None:
        if self.operator is not None:
            log.info("signing out %s", self.operator.username)
        self.operator = None
        self.expires_at = None
        await self._port.logout()

    async def session_expired(self) -> None:
        """The hub refused our token: forget it and tell listeners (they show the sign-in)."""
        if self.operator is None:
            return
        log.info("session of %s has ended", self.operator.username)
        self.operator = None
        self.expires_at = None
        await self._port.forget_token()
        for listener in list(self._expired_listeners):
            listener()
