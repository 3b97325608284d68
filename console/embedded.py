"""The embedded default: a hub on loopback with demo data, plus simulated officers calling in.

The only console module allowed to import `hub` and `field` (see the import-linter contracts).
The hub runs uvicorn on its own thread (HubServer); the demo stream runs on another thread with
its own asyncio loop so simulated WebRTC calls never compete with the GUI loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.server import HubServer

log = logging.getLogger(__name__)

DEMO_STOP_TIMEOUT_SECONDS = 10.0


class EmbeddedHubError(RuntimeError):
    """The embedded hub could not start; the message says why and what to try."""


def free_loopback_port() -> int:
    """A port that was free a moment ago, so the hub's URL is known before it starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedHub:
    """Start with `start()` (blocking: call it on a worker thread), stop with `stop()`.

    Constructing it is cheap and imports nothing from the hub, so the window can show first.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 0,
        demo_calls: bool = True,
        demo_stream_options: dict[str, object] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_loopback_port()
        self.demo_calls = demo_calls
        self._demo_options = demo_stream_options or {}
        self._server: HubServer | None = None
        self._demo_thread: threading.Thread | None = None
        self._demo_loop: asyncio.AbstractEventLoop | None = None
        self._demo_stop: asyncio.Event | None = None
        self._demo_ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Start the hub (demo data seeded) and, if asked, the demo stream. Returns the URL."""
        # Imported here, on the caller's worker thread: FastAPI + SQLAlchemy take about a second
        # to import, which must not delay the console's first window.
        from hub.server import HubServer, HubStartError
        from hub.settings import HubSettings

        self.data_dir.mkdir(parents=True, exist_ok=True)
        settings = HubSettings(
            host="127.0.0.1",
            port=self.port,
            db_url=f"sqlite:///{self.data_dir / 'hub.db'}",
            demo=True,
        )
        try:
            self._server = HubServer(settings).start()
        except HubStartError as exc:
            raise EmbeddedHubError(
                f"The built-in demo hub could not start: {exc}. Close other copies of the "
                "console, or start with --hub URL to use a real hub."
            ) from exc
        log.info("embedded hub running at %s (data in %s)", self.url, self.data_dir)
        if self.demo_calls:
            self.start_demo_stream()
        return self.url

    def start_demo_stream(self) -> None:
        """Run `field.simulator.run_demo_stream` on its own thread and loop."""
        if self._demo_thread is not None:
            return
        self._demo_thread = threading.Thread(
            target=self._demo_main, name="demo-stream", daemon=True
        )
        self._demo_thread.start()
        self._demo_ready.wait(5.0)

    def _demo_main(self) -> None:
        from field.simulator import run_demo_stream  # lazy: aiortc's import is slow

        async def main() -> None:
            self._demo_loop = asyncio.get_running_loop()
            self._demo_stop = asyncio.Event()
            self._demo_ready.set()
            try:
                stats = await run_demo_stream(
                    self.url, stop_event=self._demo_stop, **self._demo_options
                )  # type: ignore[arg-type]
                log.info("demo stream finished: %s", stats)
            except Exception:
                # The demo is a convenience: log its failure, never take the console down.
                log.exception("the demo stream stopped with an error")

        try:
            asyncio.run(main())
        finally:
            self._demo_ready.set()

    def stop(self) -> None:
        """Stop the demo stream (its calls hang up), then the hub. Safe to call twice."""
        loop, stop_event, thread = self._demo_loop, self._demo_stop, self._demo_thread
        if thread is not None and loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # its loop may already have finished
                loop.call_soon_threadsafe(stop_event.set)
            thread.join(DEMO_STOP_TIMEOUT_SECONDS)
            if thread.is_alive():
                log.warning("demo stream did not stop within %.0f s", DEMO_STOP_TIMEOUT_SECONDS)
        self._demo_thread = None
        if self._server is not None:
            self._server.stop()
            self._server = None
            log.info("embedded hub stopped")
