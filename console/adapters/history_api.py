"""`HistoryPort` over the hub's HTTP API (docs/protocol.md: /history, /history/export.csv,
/history/stats, /requests/{id}, /snapshots/{id}, /auth/me, and the directory /operators and
/officers).

Built on the one `HubHttp` door, so errors arrive as typed `UserFacingError`s and the bearer token
and connection pool are shared with the rest of the console.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import httpx
from pydantic import TypeAdapter, ValidationError

from console.adapters.hub_http import HubHttp, error_from_response
from console.domain.errors import HubUnreachableError, InvalidInputError, UserFacingError
from protocol import (
    API_PREFIX,
    HistoryPage,
    HistoryStats,
    OfficerSummary,
    OperatorSummary,
    OperatorView,
    RequestDetail,
)

log = logging.getLogger(__name__)

#: A streamed export may take minutes in total, but no single read may stall longer than this.
EXPORT_READ_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
#: Report progress at most every this many bytes, so a million-row export is not a million signals.
_PROGRESS_EVERY_BYTES = 64 * 1024

_OPERATOR_LIST = TypeAdapter(list[OperatorSummary])
_OFFICER_LIST = TypeAdapter(list[OfficerSummary])


class HistoryApi:
    """The console's history client (implements `console.services.history.HistoryPort`)."""

    def __init__(self, hub_http: HubHttp) -> None:
        self._http = hub_http

    async def whoami(self) -> OperatorView:
        return OperatorView.model_validate(await self._http.json("GET", "/auth/me"))

    async def page(self, params: dict[str, str], cursor: str | None, limit: int) -> HistoryPage:
        query: dict[str, str | int] = {**params, "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        return HistoryPage.model_validate(await self._http.json("GET", "/history", params=query))

    async def count(self, params: dict[str, str]) -> int | None:
        page = HistoryPage.model_validate(
            await self._http.json("GET", "/history", params={**params, "limit": 1, "count": "true"})
        )
        return page.total

    async def stats(self, params: dict[str, str]) -> HistoryStats:
        return HistoryStats.model_validate(
            await self._http.json("GET", "/history/stats", params=params)
        )

    async def detail(self, request_id: int) -> RequestDetail:
        return RequestDetail.model_validate(await self._http.json("GET", f"/requests/{request_id}"))

    async def operators(self) -> list[OperatorSummary]:
        """Every operator who answers calls (GET /operators; supervisors and admins only)."""
        return _parsed(_OPERATOR_LIST, await self._http.json("GET", "/operators"), "operators")

    async def officers(self) -> list[OfficerSummary]:
        """Every officer on record, as summaries (GET /officers)."""
        return _parsed(_OFFICER_LIST, await self._http.json("GET", "/officers"), "officers")

    async def snapshot_image(self, snapshot_id: int) -> bytes:
        return (await self._http.request("GET", f"/snapshots/{snapshot_id}")).content

    async def export_csv(
        self, params: dict[str, str], destination: Path, on_rows: Callable[[int], None]
    ) -> int:
        """Stream the CSV to `destination.part`, then rename: a failed or cancelled export leaves
        no half file that could be mistaken for a complete record."""
        partial = destination.with_name(destination.name + ".part")
        newlines = 0
        since_report = 0
        try:
            with partial.open("wb") as sink:
                async with self._http.client.stream(
                    "GET",
                    API_PREFIX + "/history/export.csv",
                    params=params,
                    headers=self._http.auth_headers(),
                    timeout=EXPORT_READ_TIMEOUT,
                ) as response:
                    if not response.is_success:
                        await response.aread()
                        raise error_from_response(response)
                    async for chunk in response.aiter_bytes():
                        sink.write(chunk)
                        newlines += chunk.count(b"\n")
                        since_report += len(chunk)
                        if since_report >= _PROGRESS_EVERY_BYTES:
                            since_report = 0
                            on_rows(max(newlines - 1, 0))
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(partial, destination)
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            log.info("history export interrupted: %s", type(exc).__name__)
            raise HubUnreachableError(
                "The export was interrupted: the hub stopped answering. Nothing was saved; "
                "try again."
            ) from exc
        except OSError as exc:
            raise InvalidInputError(
                f"Cannot write {destination}: {exc.strerror or exc}. Choose another folder.",
                code="export_write_failed",
            ) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        # Data rows = lines minus the header (a notes field with a line break would count twice;
        # the hub's export has no free-text columns with line breaks).
        rows = max(newlines - 1, 0)
        on_rows(rows)
        return rows


def _parsed[T](adapter: TypeAdapter[T], body: object, what: str) -> T:
    """`body` validated as the directory list; an answer we cannot read is a typed error, so
    the History tab falls back to names in its rows instead of crashing."""
    try:
        return adapter.validate_python(body)
    except ValidationError as exc:
        log.warning(
            "the hub's %s list did not match the protocol: %d problems", what, exc.error_count()
        )
        raise UserFacingError(
            f"The hub's list of {what} could not be read.", code="bad_response"
        ) from exc
