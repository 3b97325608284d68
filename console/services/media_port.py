"""The port between call services and the media engine (aiortc on its own thread).

Qt-free and aiortc-free on purpose: services depend on this Protocol, the adapter in
`console/adapters/media/` implements it, and unit tests use a hand-written fake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from protocol import IceServer


class MediaState(StrEnum):
    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"  # ICE failed or media stopped arriving
    CLOSED = "closed"


class QualityBadge(StrEnum):
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CallQuality:
    """Connection quality of the remote (officer's) video, refreshed about once a second."""

    width: int = 0
    height: int = 0
    fps: float = 0.0
    bitrate_kbps: float = 0.0
    packet_loss_pct: float = 0.0
    rtt_ms: float | None = None
    badge: QualityBadge = QualityBadge.UNKNOWN


@dataclass(frozen=True, slots=True)
class MediaEvent:
    """A fact about one call's media, delivered on the caller's (GUI) loop."""

    state: MediaState
    detail: str = ""


class CallMedia(Protocol):
    """One two-way call. Created by `MediaEngine.new_call`; all methods are GUI-loop safe."""

    async def answer(self, offer_sdp: str, ice_servers: list[IceServer]) -> str:
        """Apply the device's offer and return the complete answer SDP (candidates gathered)."""
        ...

    def quality(self) -> CallQuality: ...

    def set_microphone_muted(self, muted: bool) -> None: ...

    def set_camera_enabled(self, enabled: bool) -> None: ...

    def snapshot_jpeg(self) -> bytes | None:
        """The newest remote video frame as JPEG, or None before the first frame."""
        ...

    async def close(self) -> None:
        """Hang up: stop tracks, close the peer connection. Safe to call twice."""
        ...


class MediaEngine(Protocol):
    """Owns the media thread, the local camera/microphone and the speaker."""

    def new_call(self, on_event: Callable[[MediaEvent], None]) -> CallMedia: ...

    async def shutdown(self) -> None: ...
