"""The waiting queue: a live, oldest-first view of queued requests built from snapshot + events.

Requests claimed by someone else linger for `taken_linger_seconds` marked "taken by PS Jones" so
the sergeant sees why a row went away; our own claims and terminal states leave at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from console.domain.queue import QueueEntry
from protocol import ConsoleEvent, RequestState, RequestView

log = logging.getLogger(__name__)


class QueueSnapshotPort(Protocol):
    async def active_requests(self) -> list[RequestView]: ...


class QueueListener(Protocol):
    """Receives queue changes (implemented by the Qt queue model)."""

    def queue_reset(self, entries: list[QueueEntry]) -> None: ...

    def entry_added(self, entry: QueueEntry) -> None:
        """A request joined the queue (new, or released back): worth a chime."""
        ...

    def entry_updated(self, entry: QueueEntry) -> None: ...

    def entry_removed(self, request_id: int) -> None: ...


def entry_from_view(view: RequestView) -> QueueEntry:
    """Flatten a hub `RequestView` into what one queue row shows."""
    officer = view.officer
    location = ""
    if view.location is not None:
        location = view.location.description or (
            f"{view.location.latitude:.4f}, {view.location.longitude:.4f}"
        )
    return QueueEntry(
        request_id=view.id,
        created_at=view.created_at,
        rank=officer.rank,
        officer_name=f"{officer.forenames} {officer.surname.upper()}",
        collar_number=officer.collar_number,
        location=location,
        warrant_status=officer.warrant_status.value,
        warrant_valid=officer.warrant_status.value == "valid",
    )


class QueueService:
    """Keeps the queue in step with the hub; knows who 'we' are to tell our claims from others'."""

    def __init__(
        self, snapshot_port: QueueSnapshotPort, *, taken_linger_seconds: float = 3.0
    ) -> None:
        self._port = snapshot_port
        self.taken_linger_seconds = taken_linger_seconds
        self._entries: dict[int, QueueEntry] = {}
        self._listeners: list[QueueListener] = []
        self._linger: dict[int, asyncio.TimerHandle] = {}
        self.my_operator_id: int | None = None

    def add_listener(self, listener: QueueListener) -> None:
        self._listeners.append(listener)

    @property
    def entries(self) -> list[QueueEntry]:
        """Oldest first."""
        return sorted(self._entries.values(), key=lambda e: (e.created_at, e.request_id))

    async def refresh(self) -> None:
        """Replace the queue with the hub's current list (on a fresh, non-resumed connect)."""
        views = await self._port.active_requests()
        self._cancel_lingers()
        self._entries = {v.id: entry_from_view(v) for v in views if v.state == RequestState.QUEUED}
        entries = self.entries
        for listener in self._listeners:
            listener.queue_reset(entries)

    def apply(self, event: ConsoleEvent) -> None:
        """Fold one hub event into the queue."""
        view = event.request
        known = self._entries.get(view.id)
        if view.state == RequestState.QUEUED:
            self._cancel_linger(view.id)
            entry = entry_from_view(view)
            self._entries[view.id] = entry
            for listener in self._listeners:
                if known is None:
                    listener.entry_added(entry)
                else:
                    listener.entry_updated(entry)
            return
        if known is None:
            return
        if known.taken_by is not None:
            return  # already showing "taken by ..."; its timer removes it
        taken_by_other = (
            view.state in (RequestState.CLAIMED, RequestState.CONNECTED)
            and view.holder is not None
            and view.holder_id != self.my_operator_id
        )
        if taken_by_other and self.taken_linger_seconds > 0:
            entry = known.taken(view.holder or "another sergeant")
            self._entries[view.id] = entry
            for listener in self._listeners:
                listener.entry_updated(entry)
            loop = asyncio.get_running_loop()
            self._linger[view.id] = loop.call_later(
                self.taken_linger_seconds, self._remove, view.id
            )
            return
        self._remove(view.id)

    def _remove(self, request_id: int) -> None:
        self._linger.pop(request_id, None)
        if self._entries.pop(request_id, None) is None:
            return
        for listener in self._listeners:
            listener.entry_removed(request_id)

    def _cancel_linger(self, request_id: int) -> None:
        handle = self._linger.pop(request_id, None)
        if handle is not None:
            handle.cancel()

    def _cancel_lingers(self) -> None:
        for handle in self._linger.values():
            handle.cancel()
        self._linger.clear()

    def clear(self) -> None:
        """Empty the queue (signed out); pending 'taken by' removals are cancelled."""
        self._cancel_lingers()
        self._entries.clear()
        for listener in self._listeners:
            listener.queue_reset([])

    def close(self) -> None:
        self._cancel_lingers()
