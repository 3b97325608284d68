"""Test helpers for driving the field simulator: the CLI as a real subprocess, and waiting.

The CLI runs as `python -m field.cli` under the test's interpreter (same venv, same environment, so
the autouse tmp data dirs apply) through asyncio's subprocess API, which lets a test run the
headless answerer on its own loop while the simulator process is calling.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass
class CliRun:
    """The outcome of one `safe-connection-field` run."""

    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


class FieldProcess:
    """A running `safe-connection-field` subprocess whose output is collected as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._stdout: list[bytes] = []
        self._stderr: list[bytes] = []
        loop = asyncio.get_running_loop()
        self._readers = [
            loop.create_task(self._drain(process.stdout, self._stdout)),
            loop.create_task(self._drain(process.stderr, self._stderr)),
        ]

    @staticmethod
    async def _drain(stream: asyncio.StreamReader | None, sink: list[bytes]) -> None:
        if stream is None:
            return
        while chunk := await stream.read(65536):
            sink.append(chunk)

    @property
    def stdout(self) -> str:
        """Everything printed on stdout so far."""
        return b"".join(self._stdout).decode(errors="replace")

    def _run(self) -> CliRun:
        return CliRun(
            self.process.returncode if self.process.returncode is not None else -9,
            self.stdout,
            b"".join(self._stderr).decode(errors="replace"),
        )

    async def wait(self, timeout_s: float = 120.0) -> CliRun:
        """Wait for the process to exit and collect its output; kill it and fail on timeout."""
        try:
            await asyncio.wait_for(self.process.wait(), timeout_s)
        except TimeoutError:
            raise AssertionError(
                f"safe-connection-field still running after {timeout_s:g} s\n"
                f"{(await self.kill_and_collect()).describe()}"
            ) from None
        await asyncio.gather(*self._readers)
        return self._run()

    async def kill_and_collect(self) -> CliRun:
        """Kill the process now and return whatever it printed (for a failing test's message)."""
        await self.stop()
        return self._run()

    async def stop(self) -> None:
        """Kill the process if it is still running (test teardown) and finish reading."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def start_field_cli(args: Sequence[str]) -> FieldProcess:
    """Start `safe-connection-field ARGS` in the background."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "field.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return FieldProcess(process)


async def run_field_cli(args: Sequence[str], timeout_s: float = 120.0) -> CliRun:
    """Run `safe-connection-field ARGS` to completion."""
    process = await start_field_cli(args)
    try:
        return await process.wait(timeout_s)
    finally:
        await process.stop()


def unused_loopback_port() -> int:
    """A loopback TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until(
    predicate: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.02
) -> None:
    """Poll `predicate` until it holds, failing the test with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        await asyncio.sleep(interval_s)  # polling with a deadline, not a fixed sleep
