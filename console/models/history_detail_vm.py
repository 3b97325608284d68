"""View-model of the History detail panel: one call's full record and its snapshots.

Selecting a row asks for `GET /requests/{id}` (audit timeline, decision, checklist, notes,
snapshot list). Snapshot images are fetched only after the record is shown, one at a time, and
cached, so scrolling through the table costs one small request per row looked at. A newer
selection cancels everything still in flight for the old one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from console.domain.errors import UserFacingError
from console.services.history import HistoryService
from protocol import RequestDetail

log = logging.getLogger(__name__)

#: Snapshot images kept in memory (JPEG/PNG up to 2 MiB each, decoded): a few calls' worth.
_THUMBNAIL_CACHE_SIZE = 32


class OwnedTasks:
    """The asyncio tasks one view-model started; `cancel_all()` on close (no fire-and-forget)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()

    def __len__(self) -> int:
        return len(self._tasks)


class HistoryDetailViewModel(QObject):
    """Loads and holds the selected call's `RequestDetail`."""

    #: The record to show (a `RequestDetail`), or None to clear the panel.
    detail_changed = Signal(object)
    #: A snapshot image arrived: (snapshot id, QImage at full size).
    thumbnail_ready = Signal(int, QImage)
    loading_changed = Signal(bool)
    #: (level, text) for the shell's message bar.
    message_posted = Signal(str, str)

    def __init__(self, service: HistoryService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = OwnedTasks()
        self._current: RequestDetail | None = None
        self._selected_id: int | None = None
        self._images: OrderedDict[int, QImage] = OrderedDict()

    @property
    def current(self) -> RequestDetail | None:
        return self._current

    @property
    def selected_id(self) -> int | None:
        return self._selected_id

    def image(self, snapshot_id: int) -> QImage | None:
        return self._images.get(snapshot_id)

    def show_request(self, request_id: int | None) -> None:
        """Show request `request_id` (None clears). Cancels whatever the old selection started."""
        if request_id == self._selected_id and self._current is not None:
            return
        self._tasks.cancel_all()
        self._selected_id = request_id
        self._current = None
        self.detail_changed.emit(None)
        if request_id is None:
            self.loading_changed.emit(False)
            return
        self.loading_changed.emit(True)
        self._tasks.spawn(self._load(request_id))

    def reload(self) -> None:
        """Fetch the selected record again (e.g. after a call it shows has changed)."""
        selected = self._selected_id
        self._selected_id = None
        self.show_request(selected)

    async def _load(self, request_id: int) -> None:
        try:
            detail = await self._service.detail(request_id)
        except UserFacingError as exc:
            if request_id == self._selected_id:
                self.loading_changed.emit(False)
                self.message_posted.emit("error", f"Cannot show this call: {exc.message}")
            return
        if request_id != self._selected_id:
            return
        self._current = detail
        self.loading_changed.emit(False)
        self.detail_changed.emit(detail)
        for snapshot in detail.snapshots:
            if request_id != self._selected_id:
                return
            await self._load_image(snapshot.id)

    async def _load_image(self, snapshot_id: int) -> None:
        cached = self._images.get(snapshot_id)
        if cached is None:
            try:
                data = await self._service.snapshot_image(snapshot_id)
            except UserFacingError as exc:
                log.info("snapshot %d not shown: %s", snapshot_id, exc.code)
                return
            cached = QImage.fromData(data)
            if cached.isNull():
                log.warning("snapshot %d is not a readable image", snapshot_id)
                return
            self._images[snapshot_id] = cached
            while len(self._images) > _THUMBNAIL_CACHE_SIZE:
                self._images.popitem(last=False)
        else:
            self._images.move_to_end(snapshot_id)
        self.thumbnail_ready.emit(snapshot_id, cached)

    def close(self) -> None:
        self._tasks.cancel_all()
