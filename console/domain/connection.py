"""The hub connection's state as the status bar shows it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LinkState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


# After this many failed attempts in a row the indicator says "offline" rather than a hiccup.
OFFLINE_AFTER_FAILURES = 3


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """`retry_in` is the delay until the next attempt, when one is scheduled."""

    state: LinkState
    retry_in: float | None = None
    failures: int = 0
    detail: str = ""
