"""The idle-lock rule: lock the console after a period without keyboard or mouse input."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class IdleClock:
    """Tracks the last input time (monotonic seconds) against an idle limit."""

    limit_seconds: float
    last_activity: float = 0.0

    def __post_init__(self) -> None:
        if self.limit_seconds <= 0:
            raise ValueError("the idle-lock limit must be positive")

    def record_activity(self, now: float) -> None:
        self.last_activity = now

    def remaining(self, now: float) -> float:
        """Seconds until the console should lock (0 when it is due)."""
        return max(0.0, self.limit_seconds - (now - self.last_activity))

    def is_due(self, now: float) -> bool:
        return self.remaining(now) <= 0
