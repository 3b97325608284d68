"""HubContext: the objects one running hub owns (database, bus, service), opened by the lifespan."""

from __future__ import annotations

import logging

from hub.claim_gate import ClaimGate
from hub.event_bus import EventBus
from hub.security import Passwords
from hub.service import HubService
from hub.settings import HubSettings
from hub.storage.database import Database
from hub.storage.migrate import upgrade_to_head
from hub.writer import Writer

log = logging.getLogger(__name__)


class HubContext:
    """Everything a request handler needs; `open()` migrates and seeds, `close()` disposes."""

    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        self._service: HubService | None = None
        self._db: Database | None = None
        self.bus = EventBus(settings.event_ring_size)
        self.claim_gate = ClaimGate()
        self.writer = Writer()

    @property
    def service(self) -> HubService:
        """The open hub's service (RuntimeError before `open()`)."""
        if self._service is None:
            raise RuntimeError("the hub is not open")
        return self._service

    def open(self) -> None:
        """Migrate the database, seed demo data if asked, prime the event bus."""
        db = Database(self.settings.db_url)
        try:
            upgrade_to_head(db.engine)
            passwords = Passwords(
                self.settings.argon2_time_cost,
                self.settings.argon2_memory_kib,
                self.settings.argon2_parallelism,
            )
            service = HubService(self.settings, db, self.bus, passwords)
            if self.settings.demo:
                from hub.demo.seed import seed_demo_data

                seed_demo_data(db, passwords, self.settings.demo_officer_count)
            self.bus = EventBus(self.settings.event_ring_size, floor=service.last_event_id())
            service.bus = self.bus
        except Exception:
            db.dispose()
            raise
        self._db = db
        self._service = service
        # A local SQLite file: writes run on the event loop (hub/writer.py).
        self.writer.inline = db.is_local_sqlite

    def begin_shutdown(self) -> None:
        """End the event streams (thread-safe); called before the server stops accepting."""
        self.bus.close_threadsafe()

    def housekeeping(self) -> int:
        """One pass of background upkeep (on a worker thread): expire unanswered requests, take
        back lapsed leases, checkpoint SQLite's WAL. Returns how many requests changed."""
        try:
            return self.service.reap()
        finally:
            # Even when reaping failed: no commit checkpoints, so the WAL grows until this runs.
            self.service.db.checkpoint()

    def close(self) -> None:
        """Stop the writer thread, then dispose of the database connections."""
        self.writer.close()
        if self._db is not None:
            self._db.dispose()
            self._db = None
        self._service = None
