"""Run the hub's uvicorn server on a background thread (tests, the embedded hub, benchmarks)."""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn

from hub.app import create_app
from hub.settings import HubSettings

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 75


class HubStartError(RuntimeError):
    """The hub could not start (port in use, database migration failed, ...)."""


class HubServer:
    """A hub on a thread: `start()` returns once it accepts connections, `stop()` shuts it down.

    With `settings.port == 0` the operating system picks a free port; `url` tells which.
    """

    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. "http://127.0.0.1:41234" (only valid after `start()`)."""
        if self._port is None:
            raise RuntimeError("HubServer.url is only known after start()")
        host = self.settings.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}"

    @property
    def port(self) -> int:
        """The bound port (only valid after `start()`)."""
        if self._port is None:
            raise RuntimeError("HubServer.port is only known after start()")
        return self._port

    def start(self) -> HubServer:
        """Bind, start uvicorn on a thread and wait until it serves; raise HubStartError if not."""
        if self._thread is not None:
            raise RuntimeError("HubServer already started")
        family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.settings.host, self.settings.port))
        except OSError as exc:
            sock.close()
            raise HubStartError(
                f"Cannot listen on {self.settings.host}:{self.settings.port}: {exc.strerror}"
            ) from exc
        sock.listen(2048)
        self._socket = sock
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,  # keep the process's logging set-up
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            ws="none",
            # The hub is reached directly (or through a proxy that is configured separately);
            # trusting X-Forwarded-For would also let a local proxy spoof the loopback check of
            # the demo endpoint. Off, which also saves a middleware layer on every request.
            proxy_headers=False,
            # Longer than clients' own keep-alive expiry (httpx: 5 s), so a client never reuses a
            # connection the server is closing at that very moment ("Server disconnected").
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="hub-uvicorn", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        # uvicorn offers no future to await across threads; poll its `started` flag briefly.
        while not self._server.started:
            if not self._thread.is_alive():
                self._cleanup_socket()
                failure = getattr(self.app.state, "startup_error", None)
                raise HubStartError(f"The hub failed to start: {failure or 'see the log'}")
            if time.monotonic() > deadline:
                self.stop()
                raise HubStartError(f"The hub did not start within {START_TIMEOUT_SECONDS:.0f} s")
            time.sleep(0.01)
        log.info("hub listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit, wait for the thread, close the socket. Safe to call twice."""
        if self._server is not None:
            # Long-lived SSE responses would hold uvicorn's graceful shutdown: end them first.
            self.app.state.hub.begin_shutdown()
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECONDS)
            if self._thread.is_alive():
                assert self._server is not None
                self._server.force_exit = True
                self._thread.join(STOP_TIMEOUT_SECONDS)
            self._thread = None
        self._cleanup_socket()

    def _cleanup_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
