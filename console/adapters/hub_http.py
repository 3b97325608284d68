"""The console's one door to the hub: an httpx.AsyncClient wrapper that maps HTTP to domain errors.

Built once in the composition root and injected into every hub-facing adapter (session, queue,
call, history), so that there is exactly one connection pool, one bearer token and one timeout
policy. Adapters call `request()` and get parsed JSON or a typed `UserFacingError`.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from console.domain.errors import (
    AccountLockedError,
    AuthenticationError,
    ClaimLostError,
    HubUnreachableError,
    IllegalTransitionError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    StreamCursorAheadError,
    UserFacingError,
)
from protocol import API_PREFIX

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class HubHttp:
    """Holds the shared client and the operator's bearer token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self._token: str | None = None

    @property
    def base_url(self) -> str:
        return str(self.client.base_url).rstrip("/")

    def set_token(self, token: str | None) -> None:
        self._token = token

    @property
    def token(self) -> str | None:
        return self._token

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpx's own per-request timeout
    ) -> httpx.Response:
        """Send one request under /api/v1; return the response on 2xx, raise a domain error else.

        A 401 for a token that has been replaced meanwhile (unlock renews it and revokes the old
        one) is retried once with the current token: the session did not end.
        """
        used = self._token
        response = await self._send(method, path, json, params, content, headers, timeout)
        renewed = self._token not in (None, used) and "Authorization" not in (headers or {})
        if response.status_code == 401 and renewed:
            response = await self._send(method, path, json, params, content, headers, timeout)
        if response.is_success:
            return response
        raise error_from_response(response)

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        content: bytes | None,
        headers: dict[str, str] | None,
        timeout: float | None,  # noqa: ASYNC109 - httpx's own per-request timeout
    ) -> httpx.Response:
        merged = {**self.auth_headers(), **(headers or {})}
        try:
            return await self.client.request(
                method,
                API_PREFIX + path,
                json=json,
                params=params,
                content=content,
                headers=merged,
                timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            )
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            log.info("hub unreachable on %s %s: %s", method, path, type(exc).__name__)
            raise HubUnreachableError() from exc

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self.request(method, path, **kwargs)).json()


def error_from_response(response: httpx.Response) -> UserFacingError:
    """Map the hub's `{error, detail}` body (docs/protocol.md) to a typed, user-safe error."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("error", ""))
    detail = str(body.get("detail", "")) or response.reason_phrase
    status = response.status_code
    if status == 401:
        return AuthenticationError(
            detail or "Your session has ended. Sign in again.", code="unauthorized"
        )
    if status == 423 or code == "account_locked":
        return AccountLockedError(detail, code="account_locked")
    if status == 403:
        return PermissionDeniedError(detail, code="forbidden")
    if status == 404:
        return NotFoundError(detail, code="not_found")
    if code == "claim_conflict":
        return ClaimLostError(body.get("holder"))
    if code == "cursor_ahead":
        return StreamCursorAheadError(detail, code=code)
    if status == 409:
        return IllegalTransitionError(detail, code=code or "conflict")
    if status in (413, 422):
        return InvalidInputError(detail, code=code or "invalid_request")
    if status >= 500:
        return HubUnreachableError(f"The hub reported an internal error ({status}). Retrying.")
    return UserFacingError(detail, code=code or "error")
