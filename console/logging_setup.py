"""Logging for the console process: a rotating file in the data dir, stderr, and Qt's messages.

Qt's own warnings are routed into `logging` (logger `qt.<category>`) so they land in the same
file as ours. A filter masks anything that looks like a bearer token, in case one slips into a
message: tokens must never reach a log file above DEBUG.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"
_TOKEN = re.compile(r"\b(op|dev)_[A-Za-z0-9_\-]{8,}")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}
# Harmless start-up chatter from QtMultimedia probing optional libraries and sound servers.
_QT_NOISE = (
    "Couldn't load",
    "Couldn't resolve",
    "pa_context_connect",
    "This plugin does not support propagateSizeHints",  # offscreen platform only
)


class RedactTokens(logging.Filter):
    """Replace `op_...` / `dev_...` tokens in log messages with a fixed mask."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg = _TOKEN.sub(r"\1_***", message)
            record.args = None
        return True


def setup_logging(log_dir: Path, level: str = "INFO", *, to_stderr: bool = True) -> Path:
    """Configure the root logger; return the log file's path (shown in the crash dialog)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "console.log"
    root = logging.getLogger()
    root.setLevel(level.upper())
    formatter = logging.Formatter(LOG_FORMAT)
    redact = RedactTokens()
    file_handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
    )
    handlers: list[logging.Handler] = [file_handler]
    if to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redact)
        root.addHandler(handler)
    # Third-party chatter at INFO is noise in a control-room log.
    for noisy in ("httpx", "httpcore", "aioice", "aiortc", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_qt_message_handler()
    return log_file


def install_qt_message_handler() -> None:
    """Send Qt's qDebug/qWarning output into Python logging."""
    qInstallMessageHandler(_qt_message)


def _qt_message(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    level = _QT_LEVELS.get(mode, logging.WARNING)
    if level <= logging.WARNING and message.startswith(_QT_NOISE):
        level = logging.DEBUG
    category = context.category or "default"
    logging.getLogger(f"qt.{category}").log(level, "%s", message)
