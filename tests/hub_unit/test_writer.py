"""`Writer`: writes run on the calling (event loop) thread unless that would mean waiting; a write
that finds the lock taken gives up before doing anything and runs on the writer thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from hub.storage.database import WriteBusyError
from hub.writer import Writer


@pytest.fixture
def writer() -> Writer:
    return Writer(inline=True)


def test_an_uncontended_write_runs_on_the_loop_thread(writer: Writer) -> None:
    async def main() -> tuple[int, int]:
        return threading.get_ident(), await writer.run(threading.get_ident)

    loop_thread, write_thread = asyncio.run(main())
    writer.close()
    assert write_thread == loop_thread


def test_without_inline_every_write_runs_on_the_writer_thread() -> None:
    writer = Writer(inline=False)

    async def main() -> tuple[int, int]:
        return threading.get_ident(), await writer.run(threading.get_ident)

    loop_thread, write_thread = asyncio.run(main())
    writer.close()
    assert write_thread != loop_thread


def test_a_busy_write_is_run_again_on_the_writer_thread(writer: Writer) -> None:
    attempts: list[int] = []

    def write(value: str) -> str:
        attempts.append(threading.get_ident())
        if len(attempts) == 1:
            raise WriteBusyError("taken")
        return value.upper()

    async def main() -> tuple[int, str]:
        return threading.get_ident(), await writer.run(write, "done")

    loop_thread, result = asyncio.run(main())
    writer.close()
    assert result == "DONE"
    assert attempts[0] == loop_thread
    assert attempts[1] != loop_thread


def test_other_errors_are_not_retried(writer: Writer) -> None:
    attempts: list[int] = []

    def write() -> None:
        attempts.append(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        asyncio.run(writer.run(write))
    writer.close()
    assert attempts == [1]
