"""Queue value objects: one waiting request as the sergeant sees it, and wait-time colouring."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class WaitLevel(StrEnum):
    """How urgent a waiting request looks: normal, then amber, then red."""

    NORMAL = "normal"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True, slots=True)
class WaitThresholds:
    """Seconds after which a waiting request turns amber and red (UK 999 target: 10 s)."""

    amber_seconds: float = 10.0
    red_seconds: float = 20.0

    def __post_init__(self) -> None:
        if not 0 <= self.amber_seconds <= self.red_seconds:
            raise ValueError(
                f"wait thresholds must satisfy 0 <= amber <= red, got amber="
                f"{self.amber_seconds} red={self.red_seconds}"
            )

    def level(self, waited_seconds: float) -> WaitLevel:
        """The colour for a request that has waited `waited_seconds`."""
        if waited_seconds >= self.red_seconds:
            return WaitLevel.RED
        if waited_seconds >= self.amber_seconds:
            return WaitLevel.AMBER
        return WaitLevel.NORMAL


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One request in the sergeant's queue; `taken_by` is set while it lingers after a claim."""

    request_id: int
    created_at: datetime
    rank: str
    officer_name: str
    collar_number: str
    location: str
    warrant_status: str
    warrant_valid: bool
    taken_by: str | None = None

    @property
    def officer_label(self) -> str:
        """'PC John SMITH' — rank and name, without the collar number."""
        return f"{self.rank} {self.officer_name}".strip()

    @property
    def warrant_label(self) -> str:
        """'VALID', 'SUSPENDED', 'REPORTED LOST'."""
        return self.warrant_status.replace("_", " ").upper()

    def taken(self, holder: str) -> QueueEntry:
        """A copy marked as claimed by `holder` (shown briefly before it leaves)."""
        return replace(self, taken_by=holder)

    def waited_seconds(self, now: datetime) -> float:
        """Seconds since the request was queued; never negative (clock skew with the hub)."""
        return max(0.0, (now - self.created_at).total_seconds())


def format_wait(seconds: float) -> str:
    """'0:07', '2:05', '1:02:03' — compact and readable at a glance."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
