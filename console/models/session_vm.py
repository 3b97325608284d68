"""Sign-in, sign-out and session-expiry as the sign-in dialog and main window see them."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from console.domain.errors import (
    AccountLockedError,
    AuthenticationError,
    HubUnreachableError,
    PermissionDeniedError,
    UserFacingError,
)
from console.services.session import SessionService
from protocol import OperatorView

log = logging.getLogger(__name__)

# Shown on the sign-in dialog when the console runs its embedded demo hub.
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("smith", "smith-demo", "PS John SMITH, sergeant"),
    ("jones", "jones-demo", "PS Amy JONES, sergeant"),
    ("patel", "patel-demo", "Insp Ravi PATEL, supervisor"),
)


def sign_in_message(error: UserFacingError, hub_url: str) -> str:
    """What the sign-in dialog says for each way signing in can fail (and what to do next)."""
    if isinstance(error, AccountLockedError):
        return (
            "This account is locked after too many failed sign-ins. "
            "Ask a supervisor or an administrator to unlock it."
        )
    if isinstance(error, AuthenticationError):
        if error.code == "missing":
            return error.message
        return "Wrong username or password. Check Caps Lock and try again."
    if isinstance(error, HubUnreachableError):
        return (
            f"Cannot reach the hub at {hub_url}. Check the network connection, "
            "then try again; if it persists, call the control-room engineer."
        )
    if isinstance(error, PermissionDeniedError):
        return "This account may not use the console. Ask an administrator."
    return error.message


class SessionViewModel(QObject):
    """Thin: each slot is one awaited service call; outcomes come back as signals."""

    signed_in = Signal(object)  # OperatorView
    sign_in_failed = Signal(str)
    signed_out = Signal()
    session_expired = Signal()
    busy_changed = Signal(bool)

    def __init__(
        self, service: SessionService, *, hub_url: str, demo: bool, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._service = service
        self.hub_url = hub_url
        self.demo_accounts = DEMO_ACCOUNTS if demo else ()
        self._busy = False
        service.on_expired(self.session_expired.emit)

    @property
    def operator(self) -> OperatorView | None:
        return self._service.operator

    @property
    def operator_label(self) -> str:
        op = self._service.operator
        return f"{op.rank} {op.display_name}".strip() if op else "Not signed in"

    @property
    def busy(self) -> bool:
        return self._busy

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy_changed.emit(busy)

    async def sign_in(self, username: str, password: str) -> bool:
        """Try to sign in; emits `signed_in` or `sign_in_failed(message)`."""
        if self._busy:
            return False
        self._set_busy(True)
        try:
            operator = await self._service.sign_in(username, password)
        except UserFacingError as exc:
            log.info("sign-in failed: %s", exc.code)
            self.sign_in_failed.emit(sign_in_message(exc, self.hub_url))
            return False
        finally:
            self._set_busy(False)
        self.signed_in.emit(operator)
        return True

    async def sign_out(self) -> None:
        await self._service.sign_out()
        self.signed_out.emit()
