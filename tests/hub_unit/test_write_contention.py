"""Writes run on the hub's event loop, yet never make it wait: a write that finds another writer
(another process on the SQLite file, or another thread of the hub) waits on the writer thread
while the hub goes on answering. And commits never checkpoint: housekeeping does."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import pytest

from hub.accounts import issue_device_token
from hub.server import HubServer
from hub.service import HubService
from hub.storage.database import (
    SQLITE_BUSY_TIMEOUT_MS,
    WriteBusyError,
    _begin_immediate_without_waiting,
)
from protocol.schemas import API_PREFIX, CreateRequestBody
from tests.helpers.hub import auth, device_token, test_settings

FAKE_OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


class _WaitSpy(logging.Handler):
    """Sets `seen` when the writer reports a write waiting on its thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "waits on the writer thread" in record.getMessage():
            self.seen.set()


@pytest.fixture
def wait_spy() -> Iterator[_WaitSpy]:
    logger = logging.getLogger("hub.writer")
    spy = _WaitSpy()
    level = logger.level
    logger.addHandler(spy)
    logger.setLevel(logging.DEBUG)
    yield spy
    logger.removeHandler(spy)
    logger.setLevel(level)


@contextmanager
def _another_process_writing(db_file: Path) -> Iterator[None]:
    """SQLite's write lock held by another connection (as the admin CLI would hold it)."""
    other = sqlite3.connect(db_file, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


Blocker = Callable[[], AbstractContextManager[None]]


def _blockers(server: HubServer, db_file: Path) -> dict[str, Blocker]:
    return {
        "another process": lambda: _another_process_writing(db_file),
        "another hub thread": lambda: server.app.state.hub.service.db.write_locked(),
    }


@pytest.mark.parametrize("blocker", ["another process", "another hub thread"])
def test_a_write_that_must_wait_does_not_stall_the_hub(
    tmp_path: Path, wait_spy: _WaitSpy, blocker: str
) -> None:
    settings = test_settings(tmp_path)
    db_file = tmp_path / "hub-test.db"
    with HubServer(settings) as server:
        device = device_token(server, "1001CW")
        with ThreadPoolExecutor(1) as pool, _blockers(server, db_file)[blocker]():
            pending = pool.submit(
                httpx.post,
                f"{server.url}{API_PREFIX}/requests",
                json={"sdp_offer": FAKE_OFFER},
                headers=auth(device),
                timeout=30,
            )
            assert wait_spy.seen.wait(10), "the write never reached the writer thread"
            # The write is parked on the writer thread; the loop still answers everyone else.
            assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
            me = httpx.get(f"{server.url}{API_PREFIX}/device/me", headers=auth(device), timeout=5)
            assert me.status_code == 200
            assert not pending.done()  # it cannot have committed: the lock is still taken
        response = pending.result(timeout=20)
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "queued"


def _rows_in_main_file(db_file: Path, copy: Path) -> int:
    """Requests stored in the database file itself (a copy without its WAL)."""
    shutil.copyfile(db_file, copy)
    with sqlite3.connect(copy) as connection:
        (count,) = connection.execute("SELECT count(*) FROM requests").fetchone()
    copy.unlink()
    return int(count)


def test_commits_leave_the_wal_to_housekeeping(service: HubService, tmp_path: Path) -> None:
    db_file = tmp_path / "hub-test.db"
    token = issue_device_token(service.db, "1001CW", "test", "test")
    service.db.checkpoint()
    before = _rows_in_main_file(db_file, tmp_path / "copy.db")
    service.create_request(service.authenticate(token), CreateRequestBody(sdp_offer=FAKE_OFFER))
    # Committed, but only in the WAL: no commit copies it into the file (no fsync stall).
    assert _rows_in_main_file(db_file, tmp_path / "copy.db") == before
    service.db.checkpoint()
    assert _rows_in_main_file(db_file, tmp_path / "copy.db") == before + 1


class _RecordingDriver:
    """A DBAPI connection stand-in that records statements and can refuse BEGIN as busy."""

    def __init__(self, busy: bool) -> None:
        self.busy = busy
        self.statements: list[str] = []

    def execute(self, sql: str) -> None:
        self.statements.append(sql)
        if sql == "BEGIN IMMEDIATE" and self.busy:
            error = sqlite3.OperationalError("database is locked")
            error.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise error


@pytest.mark.parametrize("busy", [False, True], ids=["free", "busy"])
def test_a_non_blocking_begin_never_enters_the_busy_wait(busy: bool) -> None:
    """busy_timeout 0 for the BEGIN only (SQLite would otherwise wait up to 10 s, on the loop),
    and the normal timeout back afterwards, for the rest of the transaction and other users."""
    driver = _RecordingDriver(busy)
    if busy:
        with pytest.raises(WriteBusyError):
            _begin_immediate_without_waiting(driver)
    else:
        _begin_immediate_without_waiting(driver)
    assert driver.statements == [
        "PRAGMA busy_timeout=0",
        "BEGIN IMMEDIATE",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    ]
