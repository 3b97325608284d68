"""Run the hub as a real subprocess through its CLI (`safe-connection-hub serve ...`).

Used where a test must kill the hub mid-flow and start it again on the same SQLite file, and for
the `verify-audit` command. The process's output goes to a file the test can read afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_TIMEOUT_S = 60.0
# The CLI entry point, run with the venv's own interpreter so no PATH lookup is involved.
HUB_CLI = [sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main())"]


def free_port() -> int:
    """A port that was free a moment ago (the hub binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sqlite_url(path: Path) -> str:
    """SQLAlchemy URL for an absolute SQLite file path."""
    return f"sqlite:///{path.resolve()}"


def run_cli(
    *args: str, timeout: float = 120.0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one non-serving CLI command (verify-audit, create-operator, ...) to completion."""
    return subprocess.run(
        [*HUB_CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


class CliHub:
    """`safe-connection-hub serve` in a child process on a fixed port and a given DB file."""

    def __init__(self, db_path: Path, log_path: Path, *extra_args: str) -> None:
        self.db_path = db_path
        self.log_path = log_path
        self.extra_args = extra_args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> CliHub:
        """Start the child and return once `/healthz` answers ok (or fail with its output)."""
        args = [
            *HUB_CLI,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            sqlite_url(self.db_path),
            *self.extra_args,
        ]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ}
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"hub exited with {self.proc.returncode} during start:\n{self.output()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            # Polling a subprocess's readiness with a deadline: there is no event to wait on.
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"hub did not answer /healthz in {START_TIMEOUT_S}s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: the hub gets no chance to flush or clean up (a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM then wait; SIGKILL if it hangs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        """Everything the hub has written to stdout/stderr so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
