"""The one message bar's feed: every view-model posts user-facing messages here."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from console.domain.errors import UserFacingError

log = logging.getLogger(__name__)

LEVELS = ("info", "warning", "error")


class MessageBus(QObject):
    """`message_posted(level, text, hint)`: level is info / warning / error; hint says what next."""

    message_posted = Signal(str, str, str)

    def post(self, level: str, text: str, hint: str = "") -> None:
        if level not in LEVELS:
            log.warning("unknown message level %r; showing as error", level)
            level = "error"
        log.info("message bar [%s]: %s", level, text)
        self.message_posted.emit(level, text, hint)

    def info(self, text: str, hint: str = "") -> None:
        self.post("info", text, hint)

    def warning(self, text: str, hint: str = "") -> None:
        self.post("warning", text, hint)

    def error(self, text: str, hint: str = "") -> None:
        self.post("error", text, hint)

    def post_error(self, error: UserFacingError) -> None:
        """Show a typed error; a claim conflict is a warning (nobody erred, someone was first)."""
        level = "warning" if error.code == "claim_conflict" else "error"
        self.post(level, error.message)

    def connect_source(self, source: QObject) -> None:
        """Relay another view-model's `message_posted(str level, str text)` signal."""
        source.message_posted.connect(self._relay)  # type: ignore[attr-defined]

    def _relay(self, level: str, text: str) -> None:
        self.post(level, text)
