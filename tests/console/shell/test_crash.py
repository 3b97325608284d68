"""One crash funnel: thread, loop and main-thread errors are logged and shown in ONE dialog."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading

import pytest

from console.crash import CrashFunnel
from console.logging_setup import RedactTokens
from console.widgets.crash_dialog import CrashDialog
from tests.console.shell.helpers import wait_until


class SecretError(RuntimeError):
    pass


@pytest.fixture
def funnel(qapp):
    funnel = CrashFunnel()
    funnel.install()
    yield funnel
    funnel.uninstall()


async def test_errors_from_every_source_reach_one_dialog(funnel, qapp, caplog):
    reports = []
    dialogs = []

    def show(summary, count):
        reports.append((summary, count))
        if not dialogs:
            dialogs.append(CrashDialog(summary, "/tmp/console.log"))
            dialogs[0].open()
        dialogs[0].set_summary(summary, "/tmp/console.log", count)

    funnel.crash_reported.connect(show)
    caplog.set_level(logging.ERROR, logger="console.crash")

    # 1. a worker thread (hub, media or demo thread)
    thread = threading.Thread(
        target=lambda: (_ for _ in ()).throw(SecretError("token op_x")), name="worker"
    )
    thread.start()
    thread.join()
    # 2. an asyncio task nobody awaited, on a watched loop
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    funnel.watch_loop(loop)
    try:
        loop.call_exception_handler({"message": "task failed", "exception": ValueError("bad")})
    finally:
        loop.set_exception_handler(previous)
    # 3. the main thread's excepthook (where qasync sends slot errors)
    try:
        raise KeyError("k")
    except KeyError:
        sys.excepthook(*sys.exc_info())

    await wait_until(lambda: len(reports) == 3, what="three reports on the GUI thread")
    assert [count for _, count in reports] == [1, 2, 3]
    assert reports[0][0] == "An unexpected SecretError occurred."
    assert len(dialogs) == 1
    assert dialogs[0].isVisible()
    text = dialogs[0].body.text()
    assert "3 errors so far" in text
    assert "/tmp/console.log" in text
    assert "Traceback" not in text
    assert "op_x" not in text
    logged = [r.getMessage() for r in caplog.records if "unexpected error" in r.getMessage()]
    assert len(logged) == 3  # every one in the log, with its traceback where there is one
    assert "Traceback" in logged[0]
    assert "SecretError" in logged[0]
    dialogs[0].done(0)


def test_keyboard_interrupt_is_not_a_crash(funnel):
    funnel.report(KeyboardInterrupt(), "test")
    assert funnel.count == 0


def test_loop_messages_without_exception_are_only_logged(funnel, caplog):
    loop = asyncio.new_event_loop()
    try:
        funnel.watch_loop(loop)
        with caplog.at_level(logging.WARNING, logger="console.crash"):
            loop.call_exception_handler({"message": "socket.send() raised exception."})
    finally:
        loop.close()
    assert funnel.count == 0
    assert "socket.send()" in caplog.text


def test_tokens_are_masked_in_logs():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "auth with %s", ("op_abcdef123456",), None
    )
    RedactTokens().filter(record)
    assert record.getMessage() == "auth with op_***"
