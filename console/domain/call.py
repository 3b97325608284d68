"""The phases of the sergeant's side of one call (what the Live panel shows and enables)."""

from __future__ import annotations

from enum import StrEnum


class CallPhase(StrEnum):
    """Where the sergeant's current call stands."""

    IDLE = "idle"  # no call: ready to answer the next one
    CLAIMING = "claiming"  # claim, officer record and media answer in progress
    CONNECTING = "connecting"  # answer sent to the device; waiting for media to flow
    CONNECTED = "connected"  # live video
    MEDIA_FAILED = "media_failed"  # video never connected or dropped: fail, release or decide
    AWAITING_DECISION = "awaiting_decision"  # the video has ended (either side); decide now
    DELIVERING = "delivering"  # decision saved locally; the hub has not acknowledged it yet
    DECIDED = "decided"  # the hub accepted the decision: outcome + reference on screen

    @property
    def holds_claim(self) -> bool:
        """We hold the hub's claim on the request (hang-up is meaningful)."""
        return self in _HOLDING

    @property
    def can_decide(self) -> bool:
        """A decision, release or mark-failed is possible now."""
        return self in _DECIDABLE


_DECIDABLE = frozenset(
    {CallPhase.CONNECTING, CallPhase.CONNECTED, CallPhase.MEDIA_FAILED, CallPhase.AWAITING_DECISION}
)
_HOLDING = _DECIDABLE | {CallPhase.DELIVERING, CallPhase.DECIDED}
