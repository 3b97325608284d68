"""Typed settings of the hub: one dataclass, defaults from docs/protocol.md and the brief."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from protocol.schemas import IceServer

DEFAULT_PORT = 8470


def data_dir() -> Path:
    """`SC_DATA_DIR` if set, else the platform's per-user data folder for Safe Connection."""
    override = os.environ.get("SC_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("safe-connection"))


def default_db_url() -> str:
    """SQLite file `hub.db` in the data dir (the folder is created when the hub opens it)."""
    return f"sqlite:///{data_dir() / 'hub.db'}"


@dataclass
class HubSettings:
    """Everything the hub needs to run; built by the CLI, by tests and by the embedded hub."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    db_url: str = field(default_factory=default_db_url)
    demo: bool = False
    lease_seconds: float = 15.0
    expire_after_seconds: float = 120.0
    heartbeat_seconds: float = 10.0
    token_ttl_hours: float = 12.0
    ice_servers: list[IceServer] = field(default_factory=list)
    reaper_interval_seconds: float = 0.5
    max_failed_logins: int = 5
    enrolment_code_ttl_minutes: float = 10.0
    # Argon2 cost. The defaults follow argon2-cffi's RFC 9106 "low memory" profile; tests may lower
    # them so that logging in thousands of times stays cheap.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    # How many recent events stay in memory for cheap SSE fan-out; older cursors read the database.
    event_ring_size: int = 20000
    # Number of portraits drawn for demo officers (the named five + generated ones).
    demo_officer_count: int = 30
