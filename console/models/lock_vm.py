"""The idle lock: after `idle_seconds` without keyboard or mouse input, ask for the password."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from console.domain.errors import AccountLockedError, HubUnreachableError, UserFacingError
from console.domain.idle import IdleClock
from console.services.session import SessionService

log = logging.getLogger(__name__)

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class LockViewModel(QObject):
    """Install as an application event filter; emits `locked` when idle, `unlocked` on success."""

    locked = Signal()
    unlocked = Signal()
    unlock_failed = Signal(str)

    def __init__(
        self,
        service: SessionService,
        idle_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._clock = clock
        self._idle = IdleClock(idle_seconds, clock())
        self._is_locked = False
        self._enabled = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._check)

    @property
    def is_locked(self) -> bool:
        return self._is_locked

    @property
    def idle_seconds(self) -> float:
        return self._idle.limit_seconds

    def enable(self) -> None:
        """Start watching (after sign-in)."""
        self._enabled = True
        self._idle.record_activity(self._clock())
        self._arm()

    def disable(self) -> None:
        """Stop watching (signed out); a pending lock is dropped."""
        self._enabled = False
        self._is_locked = False
        self._timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._enabled and not self._is_locked and event.type() in _INPUT_EVENTS:
            self._idle.record_activity(self._clock())
        return False

    def lock_now(self) -> None:
        if self._enabled and not self._is_locked:
            log.info("console locked after %.0f s idle", self._idle.limit_seconds)
            self._is_locked = True
            self._timer.stop()
            self.locked.emit()

    async def unlock(self, password: str) -> bool:
        """Check the password with the hub; emits `unlocked` or `unlock_failed(message)`."""
        try:
            await self._service.unlock(password)
        except AccountLockedError:
            self.unlock_failed.emit("This account is now locked. Ask a supervisor to unlock it.")
            return False
        except HubUnreachableError:
            self.unlock_failed.emit("Cannot reach the hub to check the password. Try again.")
            return False
        except UserFacingError as exc:
            self.unlock_failed.emit(
                exc.message if exc.code == "missing" else "Wrong password. Try again."
            )
            return False
        self._is_locked = False
        self._idle.record_activity(self._clock())
        self._arm()
        self.unlocked.emit()
        return True

    def _arm(self) -> None:
        if self._enabled:
            # Capped: QTimer takes an int32 of ms; `_check` re-arms until the lock is due.
            remaining = min(self._idle.remaining(self._clock()), 3600.0)
            self._timer.start(max(50, int(remaining * 1000)))

    def _check(self) -> None:
        if not self._enabled or self._is_locked:
            return
        if self._idle.is_due(self._clock()):
            self.lock_now()
        else:
            self._arm()
