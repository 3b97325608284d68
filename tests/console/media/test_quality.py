"""Quality badge thresholds and stats sampling from aiortc's report types."""

from __future__ import annotations

import datetime as dt

import pytest
from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCTransportStats,
)

from console.adapters.media.quality import QualitySampler, classify
from console.services.media_port import QualityBadge

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("height", "fps", "loss", "rtt", "badge"),
    [
        (0, 30, 0, None, QualityBadge.UNKNOWN),
        (720, 30, 0.0, 20.0, QualityBadge.GOOD),
        (360, 20, 1.9, 249.0, QualityBadge.GOOD),
        (720, 30, 0.0, None, QualityBadge.GOOD),
        (240, 30, 0.0, 20.0, QualityBadge.FAIR),
        (720, 15, 0.0, 20.0, QualityBadge.FAIR),
        (720, 30, 5.0, 20.0, QualityBadge.FAIR),
        (720, 30, 0.0, 400.0, QualityBadge.FAIR),
        (180, 30, 0.0, 20.0, QualityBadge.POOR),
        (720, 5, 0.0, 20.0, QualityBadge.POOR),
        (720, 30, 8.0, 20.0, QualityBadge.POOR),
        (720, 30, 0.0, 600.0, QualityBadge.POOR),
    ],
)
def test_classify(height, fps, loss, rtt, badge) -> None:
    assert classify(height, fps, loss, rtt) is badge


def report(bytes_received: int, received: int, lost: int, rtt: float) -> dict[str, object]:
    return {
        "t": RTCTransportStats(
            timestamp=NOW,
            type="transport",
            id="t",
            packetsSent=0,
            packetsReceived=received,
            bytesSent=0,
            bytesReceived=bytes_received,
            iceRole="controlled",
            dtlsState="connected",
        ),
        "in": RTCInboundRtpStreamStats(
            timestamp=NOW,
            type="inbound-rtp",
            id="in",
            ssrc=1,
            kind="video",
            transportId="t",
            packetsReceived=received,
            packetsLost=lost,
            jitter=0,
        ),
        "rin": RTCRemoteInboundRtpStreamStats(
            timestamp=NOW,
            type="remote-inbound-rtp",
            id="rin",
            ssrc=2,
            kind="video",
            transportId="t",
            packetsReceived=0,
            packetsLost=0,
            jitter=0,
            roundTripTime=rtt,
            fractionLost=0,
        ),
    }


def test_sampler_turns_counters_into_rates() -> None:
    sampler = QualitySampler()
    first = sampler.sample(
        report(0, 0, 0, 0.02), now=10.0, frames_decoded=0, width=1280, height=720
    )
    assert first.badge is QualityBadge.UNKNOWN  # no interval yet

    second = sampler.sample(
        report(250_000, 990, 10, 0.03), now=12.0, frames_decoded=60, width=1280, height=720
    )
    assert second.fps == 30.0
    assert second.bitrate_kbps == 1000.0  # 250 kB in 2 s
    assert second.packet_loss_pct == 1.0
    assert second.rtt_ms == 30.0
    assert second.badge is QualityBadge.GOOD
