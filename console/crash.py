"""The one crash funnel: every unexpected exception is logged and shown in ONE dialog.

Sources: `sys.excepthook` (including errors in qasync slots), `threading.excepthook` (hub, media
and simulator threads) and the asyncio loop's exception handler. Reports from any thread are
handed to the GUI thread by a queued Qt signal. The user never sees a traceback: only a summary,
the log file's path, and the choice to keep working or quit.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)


def summarise(exc: BaseException) -> str:
    """A user-safe one-liner: the kind of failure, never the traceback or secrets in args."""
    return f"An unexpected {type(exc).__name__} occurred."


class CrashFunnel(QObject):
    """Install once in the composition root; connect `crash_reported` to the dialog."""

    crash_reported = Signal(str, int)  # (summary, how many so far)
    _report = Signal(str, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.count = 0
        self.last_exception: BaseException | None = None
        self._lock = threading.Lock()
        self._previous_sys_hook: Callable[..., Any] | None = None
        self._previous_thread_hook: Callable[..., Any] | None = None
        # Queued so that a report from any thread is delivered on this object's (GUI) thread.
        self._report.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._previous_sys_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook
        if loop is not None:
            self.watch_loop(loop)

    def uninstall(self) -> None:
        if self._previous_sys_hook is not None:
            sys.excepthook = self._previous_sys_hook
        if self._previous_thread_hook is not None:
            threading.excepthook = self._previous_thread_hook

    def watch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Route `loop`'s unhandled task/callback errors here (any loop: GUI, media, demo)."""
        loop.set_exception_handler(self._loop_handler)

    def report(self, exc: BaseException, where: str) -> None:
        """Log `exc` with its traceback and ask the GUI thread to show the dialog."""
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            return
        with self._lock:
            self.count += 1
            count = self.count
            self.last_exception = exc
        log.error(
            "unexpected error in %s:\n%s", where, "".join(traceback.format_exception(exc)).rstrip()
        )
        self._report.emit(summarise(exc), count)

    def _sys_hook(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        self.report(exc.with_traceback(tb), "the main thread")

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            name = args.thread.name if args.thread is not None else "a thread"
            self.report(args.exc_value, f"thread {name}")

    def _loop_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            self.report(exc, str(context.get("message", "the event loop")))
        else:
            log.warning("event loop: %s", context.get("message", context))

    def _deliver(self, summary: str, count: int) -> None:
        self.crash_reported.emit(summary, count)
