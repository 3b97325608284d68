"""HistoryApi over httpx.MockTransport: the wire details a real hub test cannot easily provoke
(a stream cut mid-export, a folder that cannot be written)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from console.adapters.history_api import HistoryApi
from console.adapters.hub_http import HubHttp
from console.domain.errors import (
    HubUnreachableError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    UserFacingError,
)
from tests.console.history.fakes import OFFICER_DIRECTORY, OPERATOR_DIRECTORY, make_item

CSV_HEADER = b"id,reference,created_at\n"


def api_for(handler: Callable[[httpx.Request], httpx.Response]) -> HistoryApi:
    client = httpx.AsyncClient(base_url="http://hub.test", transport=httpx.MockTransport(handler))
    hub_http = HubHttp(client)
    hub_http.set_token("op_test")
    return HistoryApi(hub_http)


class CutStream(httpx.AsyncByteStream):
    """Sends some CSV, then the connection drops."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield CSV_HEADER
        yield b"1,SC-0001-AB,2026-11-29T09:00:00Z\n"
        raise httpx.ReadError("connection reset by peer")


async def test_page_sends_filters_limit_cursor_and_the_token():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {"items": [make_item(3).model_dump(mode="json")], "next_cursor": "abc"}
        return httpx.Response(200, json=body)

    page = await api_for(handler).page({"outcome": "refused", "sort": "oldest"}, "xyz", 60)
    assert page.next_cursor == "abc"
    assert page.items[0].id == 3
    params = dict(seen[0].url.params)
    assert params == {"outcome": "refused", "sort": "oldest", "limit": "60", "cursor": "xyz"}
    assert seen[0].url.path == "/api/v1/history"
    assert seen[0].headers["authorization"] == "Bearer op_test"


async def test_export_streams_to_the_file_and_counts_rows(tmp_path: Path):
    rows = b"".join(f"{n},SC-{n:04d}-AB,2026-11-29T09:00:00Z\n".encode() for n in range(1, 2001))

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/history/export.csv"
        return httpx.Response(200, content=CSV_HEADER + rows, headers={"content-type": "text/csv"})

    progress: list[int] = []
    target = tmp_path / "out.csv"
    count = await api_for(handler).export_csv({"sort": "newest"}, target, progress.append)
    assert count == 2000
    assert progress[-1] == 2000
    assert target.read_bytes() == CSV_HEADER + rows
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


async def test_export_cut_midway_leaves_no_file(tmp_path: Path):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=CutStream(), headers={"content-type": "text/csv"})

    with pytest.raises(HubUnreachableError, match="Nothing was saved"):
        await api_for(handler).export_csv({}, tmp_path / "out.csv", lambda _n: None)
    assert list(tmp_path.iterdir()) == []


async def test_export_refused_by_the_hub_is_a_permission_error(tmp_path: Path):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": "forbidden", "detail": "Supervisors only."})

    with pytest.raises(PermissionDeniedError, match="Supervisors only"):
        await api_for(handler).export_csv({}, tmp_path / "out.csv", lambda _n: None)
    assert list(tmp_path.iterdir()) == []


async def test_export_into_a_missing_folder_says_so(tmp_path: Path):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=CSV_HEADER)

    target = tmp_path / "no-such-folder" / "out.csv"
    with pytest.raises(InvalidInputError, match="Choose another folder"):
        await api_for(handler).export_csv({}, target, lambda _n: None)
    assert list(tmp_path.iterdir()) == []


async def test_directory_reads_both_lists_with_the_token():
    seen: list[httpx.Request] = []
    answers = {
        "/api/v1/operators": [o.model_dump(mode="json") for o in OPERATOR_DIRECTORY],
        "/api/v1/officers": [o.model_dump(mode="json") for o in OFFICER_DIRECTORY],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answers[request.url.path])

    api = api_for(handler)
    assert await api.operators() == OPERATOR_DIRECTORY
    assert await api.officers() == OFFICER_DIRECTORY
    assert [(r.method, r.url.path) for r in seen] == [
        ("GET", "/api/v1/operators"),
        ("GET", "/api/v1/officers"),
    ]
    assert all(r.headers["authorization"] == "Bearer op_test" for r in seen)


async def test_a_hub_without_the_directory_answers_not_found():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": "not_found", "detail": "Not Found"})

    with pytest.raises(NotFoundError):
        await api_for(handler).officers()


@pytest.mark.parametrize(
    "body",
    [{"items": []}, [{"id": "x"}], [{"id": 1, "collar_number": "1", "rank": "PC"}]],
)
async def test_a_directory_answer_that_is_not_the_protocol_is_a_clear_error(body):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    with pytest.raises(UserFacingError, match="could not be read") as caught:
        await api_for(handler).officers()
    assert caught.value.code == "bad_response"
