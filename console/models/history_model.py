"""The History table: a lazily paged `QAbstractTableModel` over the hub's keyset pages.

Qt asks `canFetchMore()`/`fetchMore()` when the view scrolls near the end. `fetchMore` is
synchronous, so it starts ONE owned asyncio task for the next page and returns; rows are inserted
when the page lands. Every `reset()` (a filter change) bumps a generation number: a page that
arrives for an older generation is thrown away, so a slow answer to the old filter can never mix
into the new list. Only what the user scrolled to is ever loaded, so a million-row history costs
one page to open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import IntEnum

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from console.domain.errors import UserFacingError
from protocol import REASON_LABELS, HistoryItem, HistoryPage, Outcome, ReasonCode, RequestState

log = logging.getLogger(__name__)

PageLoader = Callable[[str | None], Awaitable[HistoryPage]]
AnyIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    TIME = 0
    REFERENCE = 1
    OFFICER = 2
    SERGEANT = 3
    OUTCOME = 4
    REASON = 5
    WAIT = 6
    TALK = 7


HEADERS: dict[Column, str] = {
    Column.TIME: "Time",
    Column.REFERENCE: "Reference",
    Column.OFFICER: "Officer",
    Column.SERGEANT: "Sergeant",
    Column.OUTCOME: "Outcome",
    Column.REASON: "Reason",
    Column.WAIT: "Wait",
    Column.TALK: "Talk time",
}

#: Custom roles: the request id (for the detail panel) and the outcome key (for styling/tests).
REQUEST_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
OUTCOME_KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 2

_COLUMN_COUNT = len(Column)
_OUTCOME_COLUMN = int(Column.OUTCOME)
_REASON_COLUMN = int(Column.REASON)
_RIGHT_ALIGNED = frozenset({int(Column.WAIT), int(Column.TALK)})
_RIGHT_ALIGNMENT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_ACCESSIBLE_TEXT = int(Qt.ItemDataRole.AccessibleTextRole)

#: Readable on both the dark theme and a light one: mid-tone green/red, neutral grey.
OUTCOME_COLOURS: dict[str, QColor] = {
    "confirmed": QColor("#43a047"),
    "refused": QColor("#e53935"),
    "other": QColor("#9e9e9e"),
}

#: Short reason texts for the table column (the full label is in the tooltip and the detail).
SHORT_REASONS: dict[ReasonCode, str] = {
    ReasonCode.IDENTITY_CONFIRMED: "Identity confirmed",
    ReasonCode.FACE_MISMATCH: "Face mismatch",
    ReasonCode.WARRANT_NOT_VALID: "Warrant not valid",
    ReasonCode.NOT_ON_DUTY: "Not on duty",
    ReasonCode.NOT_AUTHORISED_PLAIN_CLOTHES: "Not authorised (plain clothes)",
    ReasonCode.PURPOSE_NOT_CREDIBLE: "Purpose not credible",
    ReasonCode.POOR_MEDIA: "Poor video/audio",
    ReasonCode.STAGED_CALL: "Staged call",
    ReasonCode.OFFICER_ENDED_CALL: "Officer ended call",
    ReasonCode.OTHER: "Other",
}

_STATE_LABELS: dict[RequestState, str] = {
    RequestState.CANCELLED: "Cancelled",
    RequestState.EXPIRED: "Expired",
    RequestState.FAILED: "Failed",
    RequestState.QUEUED: "Waiting",
    RequestState.CLAIMED: "In progress",
    RequestState.CONNECTED: "In progress",
    RequestState.DECIDED: "In progress",
    RequestState.ENDED: "Ended",
}


def format_duration(seconds: float | None) -> str:
    """'8 s', '1:05', '1:02:03'; an em dash when the step never happened."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_time(moment: datetime, now: datetime | None = None) -> str:
    """Local wall-clock time as the control room reads it: '29 Nov 10:26:02' this year,
    '29 Nov 2025 10:26' before (the year instead of the seconds keeps the column narrow)."""
    local = moment.astimezone()
    this_year = (now or datetime.now().astimezone()).year
    if local.year == this_year:
        return local.strftime("%d %b %H:%M:%S")
    return local.strftime("%d %b %Y %H:%M")


def outcome_key(item: HistoryItem) -> str:
    """'confirmed', 'refused' or the terminal state ('cancelled', 'expired', ...)."""
    return item.outcome.value if item.outcome is not None else item.state.value


def outcome_label(item: HistoryItem) -> str:
    if item.outcome is Outcome.CONFIRMED:
        return "Confirmed"
    if item.outcome is Outcome.REFUSED:
        return "Refused"
    return _STATE_LABELS.get(item.state, item.state.value.title())


class HistoryRow:
    """One row. Its cell texts are formatted on first display and kept: a page of 200 lands
    without formatting anything, and only the rows a user actually scrolls past pay for it."""

    __slots__ = ("_cells", "item", "outcome")

    def __init__(self, item: HistoryItem) -> None:
        self.item = item
        self.outcome = outcome_key(item)
        self._cells: tuple[str, ...] | None = None

    @classmethod
    def from_item(cls, item: HistoryItem) -> HistoryRow:
        return cls(item)

    @property
    def cells(self) -> tuple[str, ...]:
        if self._cells is None:
            item = self.item
            reason = SHORT_REASONS.get(item.reason_code, "") if item.reason_code else ""
            self._cells = (
                format_time(item.created_at),
                item.reference or "—",
                item.officer,
                item.operator or "—",
                outcome_label(item),
                reason,
                format_duration(item.wait_seconds),
                format_duration(item.talk_seconds),
            )
        return self._cells


class HistoryTableModel(QAbstractTableModel):
    """Rows of the history, fetched page by page through a `PageLoader` set by `reset()`."""

    #: A page request started (True) or finished (False); drives a "loading…" hint.
    loading_changed = Signal(bool)
    #: A page landed: (rows now loaded, whether more pages exist).
    page_loaded = Signal(int, bool)
    #: Loading a page failed with this user-facing error; paging stops until `retry()`.
    fetch_failed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[HistoryRow] = []
        self._loader: PageLoader | None = None
        self._cursor: str | None = None
        self._exhausted = True  # nothing to fetch until the first reset()
        self._failed = False
        self._generation = 0
        self._pending: asyncio.Task[None] | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    # ------------------------------------------------------------------ paging

    def reset(self, loader: PageLoader | None) -> None:
        """Forget every row and start paging `loader` from its first page (None: stay empty)."""
        self._generation += 1
        self._cancel_pending()
        self.beginResetModel()
        self._rows = []
        self._loader = loader
        self._cursor = None
        self._exhausted = loader is None
        self._failed = False
        self.endResetModel()
        if loader is not None:
            self._start_fetch()

    def retry(self) -> None:
        """After a failed page: try the same page again."""
        if self._failed and not self._exhausted:
            self._failed = False
            self._start_fetch()

    @property
    def is_loading(self) -> bool:
        return self._pending is not None and not self._pending.done()

    @property
    def has_more(self) -> bool:
        return not self._exhausted

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008 - Qt default
        if parent.isValid():
            return False
        return not self._exhausted and not self._failed

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008 - Qt default
        if parent.isValid() or not self.canFetchMore():
            return
        self._start_fetch()

    def _start_fetch(self) -> None:
        if self.is_loading or self._loader is None:
            return  # one page at a time: Qt calls fetchMore again on every scroll tick
        loop = _current_loop()
        self._pending = loop.create_task(self._fetch(self._generation, self._loader, self._cursor))
        self.loading_changed.emit(True)

    async def _fetch(self, generation: int, loader: PageLoader, cursor: str | None) -> None:
        try:
            page = await loader(cursor)
        except UserFacingError as exc:
            self._stop_after_failure(generation, exc)
            return
        except Exception:
            # A bug, not a user-facing condition: stop paging, let the crash funnel report it.
            self._stop_after_failure(generation, None)
            raise
        if generation != self._generation:
            log.debug("discarding a stale history page (generation %d)", generation)
            return
        self._pending = None
        self._append(page)
        self.loading_changed.emit(False)
        self.page_loaded.emit(len(self._rows), not self._exhausted)

    def _stop_after_failure(self, generation: int, error: UserFacingError | None) -> None:
        if generation != self._generation:
            return
        self._failed = True
        self._pending = None
        self.loading_changed.emit(False)
        if error is not None:
            self.fetch_failed.emit(error)

    def _append(self, page: HistoryPage) -> None:
        self._cursor = page.next_cursor
        self._exhausted = page.next_cursor is None
        if not page.items:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page.items) - 1)
        self._rows.extend(HistoryRow.from_item(item) for item in page.items)
        self.endInsertRows()

    def _cancel_pending(self) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
        if self._pending is not None:
            self._pending = None
            self.loading_changed.emit(False)

    def close(self) -> None:
        """Cancel the page in flight (owner shutting down)."""
        self._generation += 1
        self._cancel_pending()

    # ------------------------------------------------------------------ access

    def row_at(self, row: int) -> HistoryRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def items(self) -> list[HistoryItem]:
        return [row.item for row in self._rows]

    # ------------------------------------------------------------------ Qt model interface

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt default
        return 0 if parent.isValid() else _COLUMN_COUNT

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        # Called for every visible cell and role on each paint: keep the common path short
        # (no enum arithmetic, no parent() lookups; a table index is valid or not).
        if not index.isValid():
            return None
        row_number, column = index.row(), index.column()
        if not (0 <= row_number < len(self._rows) and 0 <= column < _COLUMN_COUNT):
            return None
        row = self._rows[row_number]
        if role == _DISPLAY:
            return row.cells[column]
        if role == _TOOLTIP:
            if column == _REASON_COLUMN and row.item.reason_code is not None:
                return REASON_LABELS.get(row.item.reason_code, row.cells[column])
            return row.cells[column]
        if column == _OUTCOME_COLUMN:
            if role == _FOREGROUND:
                return OUTCOME_COLOURS.get(row.outcome, OUTCOME_COLOURS["other"])
            if role == _FONT:
                return self._bold
        elif role == _ALIGNMENT and column in _RIGHT_ALIGNED:
            return _RIGHT_ALIGNMENT
        if role == REQUEST_ID_ROLE:
            return row.item.id
        if role == OUTCOME_KEY_ROLE:
            return row.outcome
        if role == _ACCESSIBLE_TEXT:
            return f"{HEADERS[Column(column)]}: {row.cells[column]}"
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            return HEADERS[Column(section)]
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS


def _current_loop() -> asyncio.AbstractEventLoop:
    """The qasync loop: running when called from a slot; set (not yet running) at start-up."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()
