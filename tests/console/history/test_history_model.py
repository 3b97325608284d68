"""The lazily paged history table model: qtmodeltester, one fetch at a time, stale pages dropped,
failures stop paging until retried, outcome colours."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import QModelIndex, Qt

from console.domain.errors import HubUnreachableError
from console.models.history_model import (
    OUTCOME_COLOURS,
    OUTCOME_KEY_ROLE,
    REQUEST_ID_ROLE,
    Column,
    HistoryTableModel,
    format_duration,
)
from protocol import HistoryItem, HistoryPage
from tests.console.history.fakes import make_item, varied_items, wait_until


class ListPager:
    """A PageLoader over a list, `size` rows per page, optionally held by a gate."""

    def __init__(self, items: list[HistoryItem], size: int = 10) -> None:
        self.items = items
        self.size = size
        self.calls: list[str | None] = []
        self.gate: asyncio.Event | None = None
        self.fail_next: Exception | None = None
        self.ignore_cancel = False
        self.answered = 0

    async def __call__(self, cursor: str | None) -> HistoryPage:
        self.calls.append(cursor)
        if self.gate is not None:
            if self.ignore_cancel:
                # Like a response already on the wire when the filter changed: it still lands.
                try:
                    await self.gate.wait()
                except asyncio.CancelledError:
                    await self.gate.wait()
            else:
                await self.gate.wait()
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.answered += 1
        start = int(cursor or 0)
        end = start + self.size
        return HistoryPage(
            items=self.items[start:end],
            next_cursor=str(end) if end < len(self.items) else None,
        )


async def test_model_passes_qtmodeltester_while_pages_land(qtmodeltester):
    model = HistoryTableModel()
    pager = ListPager(varied_items(25), size=10)
    model.reset(pager)
    await wait_until(lambda: model.rowCount() == 10)
    # The Python tester stays connected and checks every insertion as later pages land
    # (it also calls fetchMore itself).
    qtmodeltester.check(model, force_py=True)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        await wait_until(lambda: not model.is_loading)
    assert model.rowCount() == 25
    assert pager.calls == [None, "10", "20"]
    qtmodeltester.check(model)


async def test_fetch_more_while_a_page_is_in_flight_starts_no_second_fetch():
    model = HistoryTableModel()
    pager = ListPager(varied_items(30), size=10)
    model.reset(pager)
    await wait_until(lambda: model.rowCount() == 10)
    pager.gate = asyncio.Event()
    for _ in range(5):
        model.fetchMore(QModelIndex())
    await wait_until(lambda: len(pager.calls) == 2)
    assert model.is_loading
    pager.gate.set()
    await wait_until(lambda: model.rowCount() == 20)
    assert pager.calls == [None, "10"]
    ids = [model.data(model.index(row, 0), REQUEST_ID_ROLE) for row in range(20)]
    assert ids == list(range(1, 21))


@pytest.mark.parametrize("ignore_cancel", [False, True])
async def test_a_page_for_the_old_filter_never_lands_in_the_new_list(ignore_cancel):
    model = HistoryTableModel()
    old = ListPager([make_item(n) for n in range(1, 11)])
    old.gate = asyncio.Event()
    old.ignore_cancel = ignore_cancel
    model.reset(old)
    await wait_until(lambda: len(old.calls) == 1)
    new = ListPager([make_item(n) for n in range(500, 503)])
    model.reset(new)
    await wait_until(lambda: model.rowCount() == 3)
    old.gate.set()  # the old answer arrives late
    if ignore_cancel:
        await wait_until(lambda: old.answered == 1)  # it did land, and must be discarded
    await wait_until(lambda: not model.is_loading)
    ids = [model.data(model.index(row, 0), REQUEST_ID_ROLE) for row in range(model.rowCount())]
    assert ids == [500, 501, 502]


async def test_failed_page_stops_paging_until_retry():
    model = HistoryTableModel()
    pager = ListPager(varied_items(15), size=10)
    failures = []
    model.fetch_failed.connect(failures.append)
    pager.fail_next = HubUnreachableError()
    model.reset(pager)
    await wait_until(lambda: bool(failures))
    assert isinstance(failures[0], HubUnreachableError)
    assert model.rowCount() == 0
    assert not model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert len(pager.calls) == 1  # no hot retry loop
    model.retry()
    await wait_until(lambda: model.rowCount() == 10)
    assert model.canFetchMore(QModelIndex())


async def test_cells_and_outcome_colours():
    model = HistoryTableModel()
    refused = make_item(2, outcome="refused", reason_code="warrant_not_valid")
    expired = make_item(
        3, outcome=None, reason_code=None, state="expired", reference=None, talk_seconds=None
    )
    model.reset(ListPager([make_item(1), refused, expired]))
    await wait_until(lambda: model.rowCount() == 3)

    def cell(row: int, column: Column, role=Qt.ItemDataRole.DisplayRole):
        return model.data(model.index(row, column), role)

    assert cell(0, Column.REFERENCE) == "SC-0001-AB"
    assert cell(0, Column.OUTCOME) == "Confirmed"
    assert cell(0, Column.OFFICER) == "PC Chris WALKER 1001CW"
    assert cell(0, Column.SERGEANT) == "PS SMITH"
    assert cell(0, Column.WAIT) == "4 s"
    assert cell(0, Column.TALK) == "1:15"
    assert cell(1, Column.REASON) == "Warrant not valid"
    assert cell(1, Column.REASON, Qt.ItemDataRole.ToolTipRole).startswith("Warrant not valid (")
    assert cell(2, Column.OUTCOME) == "Expired"
    assert cell(2, Column.REFERENCE) == "—"
    assert cell(2, Column.TALK) == "—"
    colour = Qt.ItemDataRole.ForegroundRole
    assert cell(0, Column.OUTCOME, colour) == OUTCOME_COLOURS["confirmed"]
    assert cell(1, Column.OUTCOME, colour) == OUTCOME_COLOURS["refused"]
    assert cell(2, Column.OUTCOME, colour) == OUTCOME_COLOURS["other"]
    assert cell(2, Column.OUTCOME, OUTCOME_KEY_ROLE) == "expired"
    assert model.headerData(Column.TALK, Qt.Orientation.Horizontal) == "Talk time"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (0.4, "0 s"), (9.6, "10 s"), (65, "1:05"), (3723, "1:02:03")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
