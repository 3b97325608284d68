"""The Live call's view-model: forwards intents to `CallService` and re-emits its state for Qt.

Slots are thin: one awaited service call each, errors posted to the shell's message bar through
`message_posted(level, text)`. Async work started from Qt signals (button clicks, shortcuts) runs
in tasks this object owns and cancels in `close()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from console.domain.errors import UserFacingError
from console.models.decision_vm import DecisionViewModel
from console.models.officer_vm import OfficerViewModel
from console.services.call import CallPhase, CallService, CallState
from console.services.decision import DecisionDraft, DeliveryUpdate
from protocol import ConsoleEvent

log = logging.getLogger(__name__)

QUALITY_POLL_MS = 1000

PHASE_TITLES = {
    CallPhase.IDLE: "No call",
    CallPhase.CLAIMING: "Answering…",
    CallPhase.CONNECTING: "Connecting video…",
    CallPhase.CONNECTED: "Live",
    CallPhase.MEDIA_FAILED: "Video failed",
    CallPhase.AWAITING_DECISION: "Record your decision",
    CallPhase.DELIVERING: "Decision pending delivery",
    CallPhase.DECIDED: "Decided",
}


class CallViewModel(QObject):
    """One per console window; wraps the single `CallService`."""

    state_changed = Signal(object)  # CallState
    message_posted = Signal(str, str)  # level ("info" | "warning" | "error"), text
    quality_changed = Signal(object)  # CallQuality
    pending_deliveries_changed = Signal(int)
    busy_changed = Signal(bool)  # an action is in flight (buttons grey out)

    def __init__(self, call_service: CallService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = call_service
        self.officer = OfficerViewModel(self)
        self.decision = DecisionViewModel(self)
        self._state = call_service.state
        self._tasks: set[asyncio.Task[Any]] = set()
        self._busy = False
        self._pending = 0
        self._quality_timer = QTimer(self)
        self._quality_timer.setInterval(QUALITY_POLL_MS)
        self._quality_timer.timeout.connect(self._poll_quality)
        call_service.add_observer(self)
        call_service.delivery.add_listener(self._on_delivery_update)
        self.decision.decision_requested.connect(self._on_decision_requested)
        self._apply(self._state)

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def pending_deliveries(self) -> int:
        return self._pending

    def phase_title(self) -> str:
        return PHASE_TITLES[self._state.phase]

    # CallObserver
    def call_state_changed(self, state: CallState) -> None:
        previous = self._state
        self._state = state
        self._apply(state, previous)
        self.state_changed.emit(state)

    def notice_posted(self, level: str, text: str) -> None:
        self.message_posted.emit(level, text)

    def _apply(self, state: CallState, previous: CallState | None = None) -> None:
        self.officer.set_officer(state.officer, state.photo)
        self.decision.set_officer(state.officer)
        if previous is not None and previous.request_id != state.request_id:
            self.decision.reset()
        self.decision.set_enabled(state.phase.can_decide)
        if state.media_live and not self._quality_timer.isActive():
            self._quality_timer.start()
        elif not state.media_live:
            self._quality_timer.stop()

    def _poll_quality(self) -> None:
        media = self._service.media()
        if media is not None:
            self.quality_changed.emit(media.quality())

    def _on_delivery_update(self, _update: DeliveryUpdate) -> None:
        self._refresh_pending()

    def _refresh_pending(self) -> None:
        pending = self._service.delivery.pending_count
        if pending != self._pending:
            self._pending = pending
            self.pending_deliveries_changed.emit(pending)

    # ------------------------------------------------------------------ async intents

    async def answer(self, request_id: int) -> None:
        """Answer a queued request (connected to the queue's `answer_requested(int)`)."""
        await self._run(lambda: self._service.answer(request_id))

    async def hang_up(self) -> None:
        await self._run(self._service.hang_up)

    async def release(self) -> None:
        await self._run(self._service.release)

    async def mark_failed(self) -> None:
        await self._run(self._service.mark_failed)

    async def take_snapshot(self) -> None:
        await self._run(self._service.take_snapshot)

    async def decide(self, draft: DecisionDraft) -> None:
        self.decision.set_busy(True)
        try:
            await self._run(lambda: self._service.decide(draft))
        finally:
            self.decision.set_busy(False)

    def handle_hub_event(self, event: ConsoleEvent) -> None:
        """Feed one event from the shell's `/events` stream."""
        self._service.handle_hub_event(event)

    def resume_pending_deliveries(self) -> None:
        """After sign-in: deliver decisions a previous run left pending (in the background)."""
        self._spawn(self.resume_pending())

    async def resume_pending(self) -> int:
        """Resume the signed-in sergeant's pending decisions; returns how many."""
        try:
            count = await self._service.resume_pending_deliveries()
        except UserFacingError as exc:
            self.message_posted.emit("warning", f"Pending decisions not resumed: {exc.message}")
            return 0
        self._refresh_pending()
        if count:
            self.message_posted.emit(
                "warning", f"Delivering {count} decision(s) saved before the console closed."
            )
        return count

    async def _run(self, action: Callable[[], Awaitable[object]]) -> None:
        self._set_busy(True)
        try:
            await action()
        except UserFacingError as exc:
            self.message_posted.emit(
                "error" if exc.code != "claim_conflict" else "warning", exc.message
            )
        finally:
            self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    # ------------------------------------------------------------------ Qt slots (sync)

    @Slot(int)
    def request_answer(self, request_id: int) -> None:
        self._spawn(self.answer(request_id))

    @Slot()
    def request_hang_up(self) -> None:
        self._spawn(self.hang_up())

    @Slot()
    def request_release(self) -> None:
        self._spawn(self.release())

    @Slot()
    def request_mark_failed(self) -> None:
        self._spawn(self.mark_failed())

    @Slot()
    def request_snapshot(self) -> None:
        self._spawn(self.take_snapshot())

    @Slot(bool)
    def set_microphone_muted(self, muted: bool) -> None:
        self._service.set_microphone_muted(muted)

    @Slot(bool)
    def set_camera_enabled(self, enabled: bool) -> None:
        self._service.set_camera_enabled(enabled)

    def _on_decision_requested(self, draft: DecisionDraft) -> None:
        self._spawn(self.decide(draft))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("call action failed", exc_info=task.exception())

    async def close(self) -> None:
        """Cancel in-flight intents and shut the call service down (ordered shutdown: first)."""
        self._quality_timer.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._service.close()
