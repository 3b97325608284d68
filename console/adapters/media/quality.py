"""Turn aiortc `getStats()` samples plus our own frame counts into a `CallQuality` badge.

Badge thresholds (the worst single figure decides; a sergeant needs a face he can recognise):

| badge | resolution (height) | frame rate | packet loss | round trip |
|-------|---------------------|------------|-------------|------------|
| GOOD  | >= 360              | >= 20 fps  | < 2 %       | < 250 ms   |
| FAIR  | >= 240              | >= 10 fps  | < 8 %       | < 600 ms   |
| POOR  | anything worse                                               |

UNKNOWN until the first remote frame has been decoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.services.media_port import CallQuality, QualityBadge

GOOD_MIN_HEIGHT = 360
FAIR_MIN_HEIGHT = 240
GOOD_MIN_FPS = 20.0
FAIR_MIN_FPS = 10.0
GOOD_MAX_LOSS_PCT = 2.0
FAIR_MAX_LOSS_PCT = 8.0
GOOD_MAX_RTT_MS = 250.0
FAIR_MAX_RTT_MS = 600.0


def classify(height: int, fps: float, packet_loss_pct: float, rtt_ms: float | None) -> QualityBadge:
    """The badge for one sample (see the module table)."""
    if height <= 0:
        return QualityBadge.UNKNOWN
    rtt = rtt_ms if rtt_ms is not None else 0.0
    if (
        height >= GOOD_MIN_HEIGHT
        and fps >= GOOD_MIN_FPS
        and packet_loss_pct < GOOD_MAX_LOSS_PCT
        and rtt < GOOD_MAX_RTT_MS
    ):
        return QualityBadge.GOOD
    if (
        height >= FAIR_MIN_HEIGHT
        and fps >= FAIR_MIN_FPS
        and packet_loss_pct < FAIR_MAX_LOSS_PCT
        and rtt < FAIR_MAX_RTT_MS
    ):
        return QualityBadge.FAIR
    return QualityBadge.POOR


@dataclass(slots=True)
class _Counters:
    at: float
    frames: int
    bytes_received: int
    packets_received: int
    packets_lost: int


class QualitySampler:
    """Keeps the previous sample so each new one yields rates over the last interval."""

    def __init__(self) -> None:
        self._previous: _Counters | None = None

    def sample(
        self,
        report: Mapping[str, Any],
        now: float,
        frames_decoded: int,
        width: int,
        height: int,
    ) -> CallQuality:
        """Digest one `RTCStatsReport` taken at monotonic time `now`."""
        bytes_received = 0
        packets_received = 0
        packets_lost = 0
        rtts: list[float] = []
        for stats in report.values():
            kind = getattr(stats, "type", "")
            if kind == "transport":
                bytes_received += int(stats.bytesReceived)
            elif kind == "inbound-rtp" and stats.kind == "video":
                packets_received += int(stats.packetsReceived)
                packets_lost += max(0, int(stats.packetsLost))
            elif kind == "remote-inbound-rtp" and stats.roundTripTime is not None:
                rtts.append(float(stats.roundTripTime))
        current = _Counters(now, frames_decoded, bytes_received, packets_received, packets_lost)
        previous, self._previous = self._previous, current
        if previous is None or now <= previous.at:
            return CallQuality(width=width, height=height, badge=QualityBadge.UNKNOWN)
        seconds = now - previous.at
        fps = (current.frames - previous.frames) / seconds
        kbps = max(0, current.bytes_received - previous.bytes_received) * 8 / 1000 / seconds
        got = max(0, current.packets_received - previous.packets_received)
        lost = max(0, current.packets_lost - previous.packets_lost)
        loss_pct = 100.0 * lost / (got + lost) if got + lost else 0.0
        rtt_ms = max(rtts) * 1000 if rtts else None
        return CallQuality(
            width=width,
            height=height,
            fps=round(fps, 1),
            bitrate_kbps=round(kbps, 1),
            packet_loss_pct=round(loss_pct, 2),
            rtt_ms=None if rtt_ms is None else round(rtt_ms, 1),
            badge=classify(height, fps, loss_pct, rtt_ms),
        )
