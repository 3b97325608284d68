"""HistoryViewModel against a fake HistoryPort: start, paging, filters, detail, export, errors."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QModelIndex

from console.domain.errors import HubUnreachableError, PermissionDeniedError
from console.domain.history import OutcomeFilter, SortOrder, TimeRange
from console.models.history_model import REQUEST_ID_ROLE
from console.models.history_vm import HistoryViewModel
from console.services.history import HistoryService
from protocol import ConsoleEvent, Role
from tests.console.history.fakes import (
    NOW,
    FakeHistoryPort,
    make_detail,
    make_item,
    varied_items,
    wait_until,
)


class Recorder:
    """Collects a signal's emissions."""

    def __init__(self, signal) -> None:
        self.calls: list[tuple] = []
        signal.connect(lambda *args: self.calls.append(args))


def make_vm(port: FakeHistoryPort, page_size: int = 20) -> HistoryViewModel:
    return HistoryViewModel(HistoryService(port, clock=lambda: NOW, page_size=page_size))


def loaded_ids(vm: HistoryViewModel) -> list[int]:
    model = vm.model
    return [model.data(model.index(row, 0), REQUEST_ID_ROLE) for row in range(model.rowCount())]


async def test_start_learns_role_loads_first_page_and_headline():
    port = FakeHistoryPort(varied_items(50))
    vm = make_vm(port)
    permissions = Recorder(vm.permissions_changed)
    headline = Recorder(vm.headline_changed)
    vm.start()
    await wait_until(lambda: vm.model.rowCount() == 20 and bool(headline.calls))
    assert permissions.calls == [(True, True)]
    assert headline.calls[0][0].calls == 12
    assert port.page_calls[0][1:] == (None, 20)
    assert port.page_calls[0][0]["sort"] == "newest"
    assert loaded_ids(vm) == list(range(1, 21))
    vm.close()


async def test_sergeant_cannot_export_or_pick_sergeants():
    port = FakeHistoryPort(varied_items(10), role=Role.SERGEANT)
    vm = make_vm(port)
    permissions = Recorder(vm.permissions_changed)
    vm.start()
    await wait_until(lambda: bool(permissions.calls))
    assert permissions.calls == [(False, False)]
    vm.close()


async def test_scrolling_pages_through_the_cursor():
    port = FakeHistoryPort(varied_items(45))
    vm = make_vm(port)
    vm.start()
    await wait_until(lambda: vm.model.rowCount() == 20)
    while vm.model.canFetchMore(QModelIndex()):
        vm.model.fetchMore(QModelIndex())
        await wait_until(lambda: not vm.model.is_loading)
    assert loaded_ids(vm) == list(range(1, 46))
    assert [cursor for _params, cursor, _limit in port.page_calls] == [None, "20", "40"]
    vm.close()


async def test_filter_change_discards_the_page_in_flight():
    port = FakeHistoryPort(varied_items(60))
    vm = make_vm(port)
    vm.start()
    await wait_until(lambda: vm.model.rowCount() == 20)
    port.page_gate = asyncio.Event()
    vm.model.fetchMore(QModelIndex())  # page 2 of "all outcomes" is held in flight
    await wait_until(lambda: len(port.page_calls) == 2)
    vm.set_outcome(OutcomeFilter.REFUSED)
    await wait_until(lambda: len(port.page_calls) == 3)
    port.page_gate.set()
    await wait_until(lambda: not vm.model.is_loading and vm.model.rowCount() > 0)
    refused = [item.id for item in port.matching({"outcome": "refused"})][:20]
    assert loaded_ids(vm) == refused
    assert all(row.outcome == "refused" for row in map(vm.model.row_at, range(len(refused))))
    assert port.page_calls[2][0]["outcome"] == "refused"
    vm.close()


async def test_each_filter_reaches_the_hub_and_resyncs():
    port = FakeHistoryPort(varied_items(30))
    vm = make_vm(port)
    queries = Recorder(vm.query_changed)
    vm.start()
    await wait_until(lambda: vm.model.rowCount() == 20)
    vm.set_operator(2)
    vm.set_officer(8)
    vm.set_sort(SortOrder.OLDEST)
    vm.set_time_range(TimeRange.LAST_7_DAYS)
    vm.set_reference("sc-0004-ab")
    await wait_until(lambda: not vm.model.is_loading)
    params = port.page_calls[-1][0]
    assert params["operator_id"] == "2"
    assert params["officer_id"] == "8"
    assert params["sort"] == "oldest"
    assert params["reference"] == "SC-0004-AB"
    assert len(queries.calls) == 6  # start + five changes
    assert loaded_ids(vm) == [4]
    vm.set_reference("sc-0004-ab")  # same search again: no reload
    assert len(queries.calls) == 6
    vm.close()


async def test_custom_range_with_end_before_start_is_refused_with_a_message():
    port = FakeHistoryPort([])
    vm = make_vm(port)
    messages = Recorder(vm.message_posted)
    vm.set_custom_range(NOW, NOW.replace(hour=1))
    assert messages.calls == [("warning", "The end of the range is before its start.")]
    assert vm.query.time_range is TimeRange.TODAY
    vm.close()


async def test_page_error_is_posted_to_the_message_bar_and_retry_recovers():
    port = FakeHistoryPort(varied_items(5))
    port.fail_next_page = HubUnreachableError()
    vm = make_vm(port)
    messages = Recorder(vm.message_posted)
    vm.start()
    await wait_until(lambda: bool(messages.calls))
    level, text = messages.calls[0]
    assert level == "error"
    assert "hub is not reachable" in text
    vm.retry()
    await wait_until(lambda: vm.model.rowCount() == 5)
    vm.close()


async def test_selecting_a_row_loads_its_detail_then_its_snapshots():
    port = FakeHistoryPort(varied_items(5))
    vm = make_vm(port)
    details = Recorder(vm.detail.detail_changed)
    thumbs = Recorder(vm.detail.thumbnail_ready)
    vm.start()
    await wait_until(lambda: vm.model.rowCount() == 5)
    assert port.image_calls == []  # nothing fetched before a row is looked at
    vm.select_row(0)
    await wait_until(lambda: len(thumbs.calls) == 2)
    shown = [args[0] for args in details.calls if args[0] is not None]
    assert [detail.request.id for detail in shown] == [1]
    assert [snapshot_id for snapshot_id, _image in thumbs.calls] == [100, 101]
    assert not thumbs.calls[0][1].isNull()
    vm.select_row(-1)
    assert vm.detail.current is None
    vm.close()


async def test_export_writes_the_file_and_reports_progress(tmp_path):
    port = FakeHistoryPort(varied_items(40))
    vm = make_vm(port)
    progress = Recorder(vm.export_progress)
    finished = Recorder(vm.export_finished)
    vm.export_to(str(tmp_path / "calls"))
    await wait_until(lambda: bool(finished.calls))
    assert finished.calls == [(True, "Exported 40 calls to calls.csv.")]
    assert progress.calls[0] == (0, 40)
    assert progress.calls[-1] == (40, 40)
    assert len((tmp_path / "calls.csv").read_text().splitlines()) == 41
    vm.close()


async def test_cancelled_export_leaves_no_file(tmp_path):
    port = FakeHistoryPort(varied_items(40))
    port.export_gate = asyncio.Event()
    vm = make_vm(port)
    progress = Recorder(vm.export_progress)
    finished = Recorder(vm.export_finished)
    vm.export_to(str(tmp_path / "calls.csv"))
    await wait_until(lambda: (20, 40) in progress.calls)  # half written, held
    assert vm.is_exporting
    vm.export_to(str(tmp_path / "other.csv"))  # a second export is refused while one runs
    vm.cancel_export()
    await wait_until(lambda: bool(finished.calls))
    assert finished.calls == [(False, "Export cancelled; no file was written.")]
    assert list(tmp_path.iterdir()) == []
    vm.close()


async def test_export_forbidden_hides_export(tmp_path):
    port = FakeHistoryPort(varied_items(3))
    port.export_error = PermissionDeniedError("Supervisors only", code="forbidden")
    vm = make_vm(port)
    permissions = Recorder(vm.permissions_changed)
    finished = Recorder(vm.export_finished)
    vm.export_to(str(tmp_path / "calls.csv"))
    await wait_until(lambda: bool(finished.calls))
    assert permissions.calls[-1] == (False, False)
    assert finished.calls[0][0] is False
    vm.close()


async def test_sign_out_forgets_everything_and_sign_in_reloads():
    port = FakeHistoryPort(varied_items(30))
    vm = make_vm(port)
    vm.start()
    await wait_until(lambda: vm.model.rowCount() == 20 and vm.headline is not None)
    vm.set_outcome(OutcomeFilter.REFUSED)
    await wait_until(lambda: not vm.model.is_loading)
    vm.select_row(0)
    await wait_until(lambda: vm.detail.current is not None)
    permissions = Recorder(vm.permissions_changed)
    vm.close()  # sign-out
    assert vm.model.rowCount() == 0
    assert vm.detail.current is None
    assert vm.headline is None
    assert vm.query.outcome is OutcomeFilter.ALL
    assert permissions.calls == [(False, False)]
    assert not vm.model.canFetchMore(QModelIndex())
    port.role = Role.SERGEANT  # someone else signs in
    vm.start()
    await wait_until(lambda: vm.model.rowCount() > 0 and not vm.model.is_loading)
    assert permissions.calls[-1] == (False, False)
    assert {vm.model.row_at(r).item.operator_id for r in range(vm.model.rowCount())} == {1}
    vm.close()


async def test_an_overlong_reference_is_refused_before_asking_the_hub():
    port = FakeHistoryPort(varied_items(3))
    vm = make_vm(port)
    messages = Recorder(vm.message_posted)
    vm.set_reference("x" * 21)
    assert messages.calls == [("warning", "That is not a reference: they look like SC-4K7Q-2M.")]
    assert port.page_calls == []
    vm.close()


async def test_repeated_refresh_asks_for_the_figures_once_at_a_time():
    port = FakeHistoryPort(varied_items(5))
    vm = make_vm(port)
    vm.start()
    await wait_until(lambda: vm.headline is not None)
    assert len(port.stats_calls) == 1
    gate = asyncio.Event()
    original = port.stats

    entered: list[dict[str, str]] = []

    async def slow_stats(params):
        entered.append(params)
        await gate.wait()
        return await original(params)

    port.stats = slow_stats
    for _ in range(5):
        vm.refresh()
    # The figures follow the list: asked for once, when the (last) first page lands.
    await wait_until(lambda: vm.model.rowCount() == 5 and not vm.model.is_loading and entered)
    assert len(entered) == 1
    # More refreshes while that query is in flight queue up exactly one more, not one each.
    for _ in range(3):
        vm.refresh()
        await wait_until(lambda: not vm.model.is_loading)
    assert len(entered) == 1
    gate.set()
    await wait_until(lambda: len(port.stats_calls) == 3 and len(entered) == 2)
    vm.close()


async def test_figures_asked_for_while_a_query_is_in_flight_are_not_lost():
    """The answer in flight may predate the ask: one more query follows, and its figures win."""
    port = FakeHistoryPort(varied_items(5))
    vm = make_vm(port)
    vm.start()
    await wait_until(lambda: vm.headline is not None)
    gate = asyncio.Event()
    original = port.stats
    entered: list[dict[str, str]] = []

    async def slow_stats(params):
        entered.append(params)
        answer = await original(params)  # the hub counted now ...
        await gate.wait()  # ... and the answer is slow to arrive
        return answer

    port.stats = slow_stats
    headline = Recorder(vm.headline_changed)
    vm.refresh()
    await wait_until(lambda: not vm.model.is_loading and len(entered) == 1)
    stale_calls = port.stats_result.calls
    port.stats_result = port.stats_result.model_copy(update={"calls": stale_calls + 1})
    vm.refresh()  # a call was made meanwhile; the query in flight did not count it
    await wait_until(lambda: not vm.model.is_loading)
    gate.set()
    await wait_until(lambda: len(headline.calls) == 2)
    assert [figures.calls for (figures,) in headline.calls] == [stale_calls, stale_calls + 1]
    assert len(entered) == 2
    assert vm.headline is not None
    assert vm.headline.calls == stale_calls + 1
    vm.close()


async def test_events_that_change_the_figures_refresh_them_soon():
    port = FakeHistoryPort(varied_items(5))
    vm = HistoryViewModel(
        HistoryService(port, clock=lambda: NOW, page_size=20),
        auto_refresh_seconds=3600,
        figures_refresh_seconds=0.05,
    )
    vm.start()
    await wait_until(lambda: vm.headline is not None and not vm.model.is_loading)
    pages, stats = len(port.page_calls), len(port.stats_calls)
    for _ in range(3):  # a burst: one query
        vm.handle_hub_event(hub_event("request.created"))
    await wait_until(lambda: len(port.stats_calls) == stats + 1)
    vm.handle_hub_event(hub_event("request.claimed"))
    await wait_until(lambda: len(port.stats_calls) == stats + 2)
    vm.handle_hub_event(hub_event("request.ended"))
    await wait_until(lambda: len(port.stats_calls) == stats + 3)
    assert len(port.page_calls) == pages  # the list waits for its own (slower) refresh
    vm.close()


def hub_event(kind: str):
    """A ConsoleEvent of type `kind` (the request body does not matter to the history)."""
    return ConsoleEvent(id=1, type=kind, at=NOW, request=make_detail(make_item(1)).request)


async def test_finished_calls_refresh_the_list_and_figures_quietly():
    port = FakeHistoryPort(varied_items(5))
    vm = HistoryViewModel(
        HistoryService(port, clock=lambda: NOW, page_size=20), auto_refresh_seconds=0.05
    )
    vm.start()
    await wait_until(lambda: vm.model.rowCount() == 5 and vm.headline is not None)
    pages, stats = len(port.page_calls), len(port.stats_calls)
    port.items = varied_items(6)  # a call finished meanwhile
    vm.handle_hub_event(hub_event("request.claimed"))  # not a finishing event: nothing
    for _ in range(3):  # a burst: one refresh
        vm.handle_hub_event(hub_event("request.ended"))
    await wait_until(lambda: vm.model.rowCount() == 6 and len(port.stats_calls) == stats + 1)
    assert len(port.page_calls) == pages + 1

    # While the supervisor looks at a call, only the figures refresh: the list stays put.
    vm.select_row(2)
    await wait_until(lambda: vm.detail.current is not None)
    port.items = varied_items(7)
    vm.handle_hub_event(hub_event("request.expired"))
    await wait_until(lambda: len(port.stats_calls) == stats + 2)
    assert vm.model.rowCount() == 6
    assert vm.detail.current.request.id == 3
    vm.close()
