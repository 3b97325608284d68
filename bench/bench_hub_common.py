"""Shared kit for the hub benchmarks (`bench_hub_*.py`); not a benchmark itself.

The hub runs as a subprocess through its CLI so that it has its own interpreter (and GIL) and the
measuring clients do not slow it down. The clients speak raw HTTP/1.1 over asyncio streams: at
50-100 subscribers a full HTTP client library costs more CPU per event than the hub does, and the
benchmark would measure the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API = "/api/v1"
FAKE_OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:96 VP8/90000\r\n"
)
REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------- the hub process


@dataclass
class HubProcess:
    """`safe-connection-hub serve --demo` on a free port with a fresh SQLite file."""

    proc: subprocess.Popen[bytes]
    port: int
    folder: tempfile.TemporaryDirectory[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU the hub process has used so far (to tell hub from client cost)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.folder.cleanup()


def start_hub(
    *extra: str, db_url: str | None = None, demo: bool = True, timeout_s: float = 90
) -> HubProcess:
    """Start the hub as a subprocess and return once `/healthz` answers.

    Without `db_url` it runs on a fresh SQLite file in a temporary folder; the folder (also the
    hub's data dir and log) goes away with `HubProcess.stop()`.
    """
    folder = tempfile.TemporaryDirectory(prefix="sc-bench-")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db_url = db_url or f"sqlite:///{Path(folder.name) / 'hub.db'}"
    log = (Path(folder.name) / "hub.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from hub.cli import main; sys.exit(main())",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            db_url,
            *(("--demo",) if demo else ()),
            *extra,
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SC_DATA_DIR": folder.name},
    )
    hub = HubProcess(proc, port, folder)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"hub exited during start; see {log.name}")
        try:
            with urllib.request.urlopen(f"{hub.url}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return hub
        except OSError:
            time.sleep(0.1)  # a subprocess's readiness has no event to wait on
    hub.stop()
    raise SystemExit(f"hub did not start within {timeout_s:g} s")


# ---------------------------------------------------------------------------- raw HTTP


class RawHttp:
    """One keep-alive HTTP/1.1 connection; `request()` returns (status, parsed JSON or bytes)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> RawHttp:
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", self.port), 10
        )
        return self

    def encode(
        self, method: str, path: str, token: str | None = None, body: Any = None, **headers: str
    ) -> bytes:
        """The request's bytes (so a race can prepare them before the start barrier)."""
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {API}{path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if body is not None:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(payload)}")
        lines.extend(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload

    async def send_raw(self, data: bytes) -> tuple[int, Any]:
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(data)
        return await asyncio.wait_for(self._read_response(), 30)

    async def request(
        self, method: str, path: str, token: str | None = None, body: Any = None, **headers: str
    ) -> tuple[int, Any]:
        return await self.send_raw(self.encode(method, path, token, body, **headers))

    async def _read_response(self) -> tuple[int, Any]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
        }
        if headers.get("transfer-encoding") == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


async def login(port: int, username: str, password: str) -> str:
    conn = await RawHttp(port).connect()
    try:
        status, body = await conn.request(
            "POST", "/auth/login", body={"username": username, "password": password}
        )
        if status != 200:
            raise SystemExit(f"login {username}: {status} {body}")
        return body["token"]
    finally:
        await conn.close()


async def device_tokens(port: int, operator: str, wanted: int) -> list[str]:
    """Device tokens for up to `wanted` demo officers (ids 1, 2, ... through /officers/{id})."""
    conn = await RawHttp(port).connect()
    tokens: list[str] = []
    try:
        for officer_id in range(1, wanted + 1):
            status, officer = await conn.request("GET", f"/officers/{officer_id}", operator)
            if status != 200:
                break
            status, body = await conn.request(
                "POST", "/demo/device-token", body={"collar_number": officer["collar_number"]}
            )
            if status != 200:
                raise SystemExit(f"demo device token: {status} {body}")
            tokens.append(body["device_token"])
    finally:
        await conn.close()
    return tokens


# ---------------------------------------------------------------------------- SSE tap

_ID_TYPE = re.compile(rb"id: (\d+)\r?\nevent: ([a-z_.]+)\r?\ndata: (.*)")


class SseTap:
    """A raw `GET /events` (HTTP/1.0, so the body is plain, not chunked) that reports events.

    `on_event(event_id, event_type, data_bytes, received_at)` is called per event; parsing is
    a regex over the bytes, cheap enough for 100 subscribers.
    """

    def __init__(
        self, port: int, token: str, on_event: Callable[[int, str, bytes, float], None]
    ) -> None:
        self.port = port
        self.token = token
        self.on_event = on_event
        self.task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        self.task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.ready.wait(), 30)

    async def _run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(
            (
                f"GET {API}/events HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit(f"/events refused: {head[:200]!r}")
        self.ready.set()
        buffer = b""
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                now = time.perf_counter()
                buffer += chunk
                *complete, buffer = re.split(rb"\r?\n\r?\n", buffer)
                for block in complete:
                    match = _ID_TYPE.search(block)
                    if match:
                        self.on_event(int(match[1]), match[2].decode(), match[3], now)
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await self.task


class SseCounter(asyncio.Protocol):
    """A raw `GET /events` that only counts one event type and notes when the last one arrived.

    For the many subscribers whose events are only counted: a protocol callback and one
    `bytes.count` per read, no per-event parsing. At 100 subscribers and 600 events/s the parsing
    `SseTap` does costs the bench client most of a core, on a 2-core box that the hub shares.
    """

    def __init__(self, port: int, token: str, event_type: str, on_count: Callable[[], None]):
        self.port = port
        self.token = token
        self.marker = f"\nevent: {event_type}\n".encode()
        self.on_count = on_count
        self.count = 0
        self.last_at = 0.0
        self.ready = asyncio.Event()
        self._head = b""
        self._tail = b""
        self._transport: asyncio.Transport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: self, "127.0.0.1", self.port)
        await asyncio.wait_for(self.ready.wait(), 30)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(
            (
                f"GET {API}/events HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if not self.ready.is_set():
            self._head += data
            if b"\r\n\r\n" not in self._head:
                return
            head, _, data = self._head.partition(b"\r\n\r\n")
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                raise SystemExit(f"/events refused: {head[:200]!r}")
            self.ready.set()
        data = self._tail + data
        end = data.rfind(b"\n\n")  # count complete events only; keep the rest for later
        if end < 0:
            self._tail = data
            return
        self._tail = data[end + 2 :]
        found = data.count(self.marker, 0, end + 1)
        if found:
            self.count += found
            self.last_at = now
            self.on_count()

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()


# ---------------------------------------------------------------------------- reporting


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p90_ms": round(percentile(ms, 90), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
    }


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "loadavg_1m_at_start": round(load[0], 2),
    }


def report(name: str, rows: list[tuple[str, str, str]], data: dict[str, Any]) -> None:
    """Print a table (metric | value | target) and then one JSON line."""
    width = max(len(r[0]) for r in rows)
    print(f"\n{name}")
    print(f"{'metric'.ljust(width)}  {'value':>12}  target")
    for metric, value, target in rows:
        print(f"{metric.ljust(width)}  {value:>12}  {target}")
    print(json.dumps({"bench": name, **data, "machine": machine()}, sort_keys=True))


if __name__ == "__main__":
    print("bench_hub_common.py is the shared kit of the bench_hub_* scripts; nothing to run.")
