"""Exponential backoff with jitter, for reconnecting to the hub without a thundering herd."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Delays of initial, initial*factor, ... capped at `maximum`, each scaled by ±`jitter`.

    Jitter spreads the reconnects of many consoles after a hub restart so they do not all arrive
    in the same millisecond.
    """

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2
    random_unit: Callable[[], float] = field(default=random.random)
    attempts: int = 0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial or self.factor < 1:
            raise ValueError("backoff needs 0 < initial <= maximum and factor >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("backoff jitter must be in [0, 1)")

    def next_delay(self) -> float:
        """The delay before the next attempt; grows with every call until `reset()`."""
        base = min(self.maximum, self.initial * self.factor**self.attempts)
        self.attempts += 1
        spread = base * self.jitter
        return max(0.0, base - spread + 2 * spread * self.random_unit())

    def reset(self) -> None:
        """Call after a success: the next failure starts again from `initial`."""
        self.attempts = 0
