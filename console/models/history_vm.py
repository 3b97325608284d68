"""View-model of the History tab: the current search, the lazily paged table, today's figures,
CSV export, the detail panel, and the names the sergeant and officer pickers offer.

Widgets call the plain slots below (thin: each starts at most one owned task that awaits one
service call) and re-render from the signals. Errors a user can act on are posted as
`message_posted(level, text)` for the shell's message bar; nothing here shows a dialog.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, QTimer, Signal

from console.domain.errors import PermissionDeniedError, UserFacingError
from console.domain.history import (
    HeadlineFigures,
    HistoryQuery,
    OutcomeFilter,
    Permissions,
    SortOrder,
    TimeRange,
)
from console.models.history_detail_vm import HistoryDetailViewModel, OwnedTasks
from console.models.history_model import HistoryTableModel, PageLoader
from console.services.history import Choice, HistoryService, merge_choices
from protocol import ConsoleEvent, HistoryPage, OperatorView

log = logging.getLogger(__name__)

#: Today's figures are asked for after the first page lands, but never later than this.
HEADLINE_WAITS_FOR_PAGE_SECONDS = 5.0

#: After calls finish elsewhere, the list and today's figures refresh at most this often: the
#: figures query is the hub's heaviest, and a busy control room finishes a call every minute.
AUTO_REFRESH_SECONDS = 30.0

#: After hub events that change today's figures, the figures alone refresh this soon: a burst of
#: events (a call claimed, decided and ended within seconds) makes one query, and the supervisor
#: never sees figures that disagree with what just happened for longer than this.
FIGURES_REFRESH_SECONDS = 3.0

#: Hub events after which a call's history row exists or changed.
_FINISHING_EVENTS = frozenset(
    {"request.decided", "request.ended", "request.cancelled", "request.expired", "request.failed"}
)

#: Hub events that change today's figures: a new call counts at once, an answer changes the
#: answer times, and every finishing event changes the outcomes.
_FIGURE_EVENTS = _FINISHING_EVENTS | {"request.created", "request.claimed"}

#: The hub refuses longer reference searches (422); references are 10 characters.
MAX_REFERENCE_CHARS = 20


class HistoryViewModel(QObject):
    """Everything the History tab shows, and the intents it accepts."""

    #: (level, text): level is "info", "warning" or "error".
    message_posted = Signal(str, str)
    #: (sees every sergeant's calls, may export): the tab hides what the operator cannot use.
    permissions_changed = Signal(bool, bool)
    #: Today's `HeadlineFigures`.
    headline_changed = Signal(object)
    #: The search changed (a new `HistoryQuery`); filter widgets re-sync from it.
    query_changed = Signal(object)
    #: A page is loading (True) / landed or failed (False).
    loading_changed = Signal(bool)
    #: (rows loaded, more pages exist).
    rows_loaded = Signal(int, bool)
    #: Sergeants / officers the filter pickers offer: list of (id, label) in display order. The
    #: hub's directory (every one of them, read once per sign-in) plus anyone seen in loaded rows;
    #: only those seen in rows when the hub has no directory (older hub) or cannot answer.
    operators_seen = Signal(list)
    officers_seen = Signal(list)
    export_started = Signal(str)
    #: (rows written, total rows or -1 when unknown).
    export_progress = Signal(int, int)
    #: (succeeded, text for the user).
    export_finished = Signal(bool, str)

    def __init__(
        self,
        service: HistoryService,
        parent: QObject | None = None,
        *,
        auto_refresh_seconds: float = AUTO_REFRESH_SECONDS,
        figures_refresh_seconds: float = FIGURES_REFRESH_SECONDS,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._auto_refresh = QTimer(self)
        self._auto_refresh.setSingleShot(True)
        self._auto_refresh.setInterval(round(auto_refresh_seconds * 1000))
        self._auto_refresh.timeout.connect(self._refresh_quietly)
        self._figures_refresh = QTimer(self)
        self._figures_refresh.setSingleShot(True)
        self._figures_refresh.setInterval(round(figures_refresh_seconds * 1000))
        self._figures_refresh.timeout.connect(self._refresh_figures_soon)
        self._tasks = OwnedTasks()
        self._export_task: asyncio.Task[None] | None = None
        self._query = HistoryQuery()
        self._searched = False
        self._operator: OperatorView | None = None
        self._permissions = Permissions(sees_all_calls=False, may_export=False)
        self._headline: HeadlineFigures | None = None
        self._headline_in_flight = False
        # Asked for while a query was in flight: that answer may predate what prompted the ask.
        self._headline_stale = False
        # The list was reset: today's figures are asked for when its first page lands, so they
        # are never older than the rows beside them.
        self._figures_follow_page = False
        # People seen in loaded rows, and the hub's directory (None: not read, or unavailable).
        self._operators: dict[int, str] = {}
        self._officers: dict[int, str] = {}
        self._operator_directory: list[Choice] | None = None
        self._officer_directory: list[Choice] | None = None
        self._directory_task: asyncio.Task[None] | None = None
        # The directory failed for a reason that may pass: the next refresh asks again.
        self._directory_retry = False
        # What the pickers were last sent, so unchanged lists do not refill them.
        self._operator_choices: list[Choice] = []
        self._officer_choices: list[Choice] = []
        self.model = HistoryTableModel(self)
        self.detail = HistoryDetailViewModel(service, self)
        self.model.loading_changed.connect(self.loading_changed)
        self.model.page_loaded.connect(self.rows_loaded)
        self.model.page_loaded.connect(self._on_page_loaded)
        self.model.fetch_failed.connect(self._on_fetch_failed)
        self.model.rowsInserted.connect(self._note_new_rows)
        self.detail.message_posted.connect(self.message_posted)

    # ------------------------------------------------------------------ live updates

    def handle_hub_event(self, event: ConsoleEvent) -> None:
        """The shell forwards every hub event: a finished call schedules a quiet refresh of the
        list, and anything that changes today's figures a (sooner) refresh of the figures."""
        if self._operator is None:
            return
        if event.type in _FINISHING_EVENTS and not self._auto_refresh.isActive():
            self._auto_refresh.start()  # a burst of events makes one refresh
        if event.type in _FIGURE_EVENTS and not self._figures_refresh.isActive():
            self._figures_refresh.start()

    def _refresh_figures_soon(self) -> None:
        if self._operator is not None:
            self._tasks.spawn(self._refresh_headline())

    def _refresh_quietly(self) -> None:
        """Refresh today's figures; refresh the list only if that cannot disturb a review (the
        user is at the top of a newest-first list, nothing selected, no export running)."""
        if self._operator is None:
            return
        undisturbed = (
            self._query.sort is SortOrder.NEWEST
            and self.detail.selected_id is None
            and not self.is_exporting
            and not self.model.is_loading
            and self.model.rowCount() <= self._service.first_page_size
        )
        if undisturbed:
            self._apply(self._query, force=True)  # the figures follow when the page lands
        else:
            self._tasks.spawn(self._refresh_headline())

    # ------------------------------------------------------------------ state

    @property
    def query(self) -> HistoryQuery:
        return self._query

    @property
    def operator(self) -> OperatorView | None:
        return self._operator

    @property
    def permissions(self) -> Permissions:
        return self._permissions

    @property
    def headline(self) -> HeadlineFigures | None:
        return self._headline

    @property
    def is_exporting(self) -> bool:
        return self._export_task is not None and not self._export_task.done()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Called once signed in: load the first page, learn the role, then today's figures."""
        self._tasks.spawn(self._start())

    async def _start(self) -> None:
        # The first page goes out at once (the hub enforces who sees what), in parallel with
        # "who am I"; today's figures wait for the page, so their heavier query never delays
        # the rows.
        self._apply(self._query, force=True)
        try:
            self._operator, self._permissions = await self._service.permissions()
        except UserFacingError as exc:
            self.message_posted.emit("error", f"History is unavailable: {exc.message}")
            return
        self.permissions_changed.emit(
            self._permissions.sees_all_calls, self._permissions.may_export
        )
        self._load_directory()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HEADLINE_WAITS_FOR_PAGE_SECONDS
        while self.model.is_loading and loop.time() < deadline:
            await self._page_settled()
        if self._figures_follow_page:
            # The page landed before we knew who we are (or is slow): ask for the figures now.
            self._figures_follow_page = False
            await self._refresh_headline()

    async def _page_settled(self) -> None:
        """Wait until the page in flight lands or fails (or a short time passes)."""
        settled = asyncio.get_running_loop().create_future()

        def done(loading: bool) -> None:
            if not loading and not settled.done():
                settled.set_result(None)

        self.model.loading_changed.connect(done)
        try:
            await asyncio.wait_for(settled, HEADLINE_WAITS_FOR_PAGE_SECONDS)
        except TimeoutError:
            pass
        finally:
            self.model.loading_changed.disconnect(done)

    def close(self) -> None:
        """Sign-out or shutdown: cancel every task this tab started and forget what it showed,
        so the next operator to sign in never sees the previous one's calls."""
        self._tasks.cancel_all()
        self._auto_refresh.stop()
        self._figures_refresh.stop()
        self._export_task = None
        self._headline_in_flight = False
        self._headline_stale = False
        self._figures_follow_page = False
        self.detail.show_request(None)
        self.detail.close()
        self.model.reset(None)
        self.model.close()
        self._operator = None
        self._permissions = Permissions(sees_all_calls=False, may_export=False)
        self.permissions_changed.emit(False, False)
        self._headline = None
        self.headline_changed.emit(None)
        self._operators.clear()
        self._officers.clear()
        self._operator_directory = None
        self._officer_directory = None
        self._directory_task = None
        self._directory_retry = False
        self._operator_choices = []
        self._officer_choices = []
        self.operators_seen.emit([])
        self.officers_seen.emit([])
        self._searched = False
        self._query = HistoryQuery()
        self.query_changed.emit(self._query)

    # ------------------------------------------------------------------ search intents

    def set_time_range(self, preset: TimeRange) -> None:
        self._apply(self._query.with_changes(time_range=TimeRange(preset)))

    def set_custom_range(self, start: datetime | None, end: datetime | None) -> None:
        if start is not None and end is not None and end < start:
            self.message_posted.emit("warning", "The end of the range is before its start.")
            return
        self._apply(
            self._query.with_changes(time_range=TimeRange.CUSTOM, custom_from=start, custom_to=end)
        )

    def set_outcome(self, outcome: OutcomeFilter) -> None:
        self._apply(self._query.with_changes(outcome=OutcomeFilter(outcome)))

    def set_operator(self, operator_id: int | None) -> None:
        self._apply(self._query.with_changes(operator_id=operator_id))

    def set_officer(self, officer_id: int | None) -> None:
        self._apply(self._query.with_changes(officer_id=officer_id))

    def set_reference(self, text: str) -> None:
        """Search one reference (exact, case-insensitive); empty clears the search."""
        reference = text.strip()
        if len(reference) > MAX_REFERENCE_CHARS:
            self.message_posted.emit(
                "warning", "That is not a reference: they look like SC-4K7Q-2M."
            )
            return
        self._apply(self._query.with_changes(reference=reference))

    def set_sort(self, sort: SortOrder) -> None:
        self._apply(self._query.with_changes(sort=SortOrder(sort)))

    def set_query(self, query: HistoryQuery) -> None:
        self._apply(query)

    def refresh(self) -> None:
        """Reload from the first page (new calls may have ended) and then today's figures; ask
        for the directory again if the hub could not give it last time."""
        self._apply(self._query, force=True)
        if self._directory_retry:
            self._load_directory()

    def retry(self) -> None:
        self.model.retry()

    def _apply(self, query: HistoryQuery, *, force: bool = False) -> None:
        if query == self._query and self._searched and not force:
            return  # e.g. a combo box re-emitting its current value
        self._searched = True
        self._query = query
        self.query_changed.emit(query)
        self.detail.show_request(None)
        self._figures_follow_page = True
        self.model.reset(self._loader_for(query))

    def _on_page_loaded(self, _rows: int, _more: bool) -> None:
        """The first page after a reset landed: refresh today's figures to match the list."""
        if self._figures_follow_page and self._operator is not None:
            self._figures_follow_page = False
            self._tasks.spawn(self._refresh_headline())

    def _loader_for(self, query: HistoryQuery) -> PageLoader:
        service = self._service

        async def load(cursor: str | None) -> HistoryPage:
            return await service.page(query, cursor)

        return load

    def _on_fetch_failed(self, error: UserFacingError) -> None:
        self.message_posted.emit("error", f"History could not be loaded: {error.message}")

    def _note_new_rows(self, _parent: QModelIndex, first: int, last: int) -> None:
        for number in range(first, last + 1):
            row = self.model.row_at(number)
            if row is None:
                continue
            item = row.item
            if item.operator_id is not None and item.operator_id not in self._operators:
                self._operators[item.operator_id] = item.operator or f"#{item.operator_id}"
            if item.officer_id not in self._officers:
                self._officers[item.officer_id] = item.officer
        self._publish_choices()

    # ------------------------------------------------------------------ filter choices

    def _load_directory(self) -> None:
        """Read the hub's directory for the pickers (once per sign-in; again after a failure
        that may pass), unless a read is already on its way."""
        if self._directory_task is not None and not self._directory_task.done():
            return
        self._directory_retry = False
        self._directory_task = self._tasks.spawn(self._read_directory())

    async def _read_directory(self) -> None:
        choices = await self._service.filter_choices(self._permissions)
        self._directory_retry = choices.retry_later
        if choices.operators is not None:
            self._operator_directory = choices.operators
        if choices.officers is not None:
            self._officer_directory = choices.officers
        self._publish_choices()

    def _publish_choices(self) -> None:
        """Send the pickers their entries, where they changed."""
        operators = merge_choices(self._operator_directory, self._operators)
        if operators != self._operator_choices:
            self._operator_choices = operators
            self.operators_seen.emit(operators)
        officers = merge_choices(self._officer_directory, self._officers)
        if officers != self._officer_choices:
            self._officer_choices = officers
            self.officers_seen.emit(officers)

    # ------------------------------------------------------------------ headline

    async def _refresh_headline(self) -> None:
        """Ask the hub for today's figures, one query at a time.

        An ask while a query is in flight (F5 held down, a burst of hub events) does not start
        another query: it marks the answer on its way as stale, and exactly one more query
        follows it, so the figures shown end up at least as new as the latest ask.
        """
        if self._headline_in_flight:
            self._headline_stale = True
            return
        self._headline_in_flight = True
        try:
            while True:
                self._headline_stale = False
                try:
                    headline = await self._service.headline_today()
                except UserFacingError as exc:
                    self.message_posted.emit(
                        "warning", f"Today's figures are unavailable: {exc.message}"
                    )
                    return
                self._headline = headline
                self.headline_changed.emit(headline)
                if not self._headline_stale:
                    return
        finally:
            self._headline_in_flight = False

    # ------------------------------------------------------------------ detail

    def select_row(self, row: int) -> None:
        """Show the detail of table row `row` (-1 clears)."""
        loaded = self.model.row_at(row)
        self.detail.show_request(loaded.item.id if loaded is not None else None)

    # ------------------------------------------------------------------ export

    def export_to(self, path: str) -> None:
        """Export the current search to `path` (chosen by the user); one export at a time."""
        if self.is_exporting:
            self.message_posted.emit("warning", "An export is already running.")
            return
        if not path:
            return
        destination = Path(path)
        if destination.suffix.lower() != ".csv":
            destination = destination.with_name(destination.name + ".csv")
        self.export_started.emit(str(destination))
        self._export_task = self._tasks.spawn(self._export(self._query, destination))

    def cancel_export(self) -> None:
        if self.is_exporting and self._export_task is not None:
            self._export_task.cancel()

    async def _export(self, query: HistoryQuery, destination: Path) -> None:
        def progress(done: int, total: int | None) -> None:
            self.export_progress.emit(done, -1 if total is None else total)

        try:
            rows = await self._service.export_csv(query, destination, progress)
        except asyncio.CancelledError:
            self.export_finished.emit(False, "Export cancelled; no file was written.")
            raise
        except PermissionDeniedError:
            self._permissions = Permissions(self._permissions.sees_all_calls, may_export=False)
            self.permissions_changed.emit(self._permissions.sees_all_calls, False)
            self.export_finished.emit(False, "Only supervisors can export the history.")
            self.message_posted.emit("warning", "Only supervisors can export the history.")
            return
        except UserFacingError as exc:
            self.export_finished.emit(False, f"Export failed: {exc.message}")
            self.message_posted.emit("error", f"Export failed: {exc.message}")
            return
        text = f"Exported {rows} call{'s' if rows != 1 else ''} to {destination.name}."
        self.export_finished.emit(True, text)
        self.message_posted.emit("info", text)
