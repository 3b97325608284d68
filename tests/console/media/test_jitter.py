"""The marker-aware video jitter buffer: frames leave when complete, aiortc's rules otherwise."""

from __future__ import annotations

import asyncio

import av
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

from console.adapters.media.engine import AiortcMediaEngine
from console.adapters.media.jitter import MarkerAwareJitterBuffer, release_frames_on_marker
from console.models.video_feed import RemoteVideoFeed, SelfViewFeed
from tests.console.media.conftest import wait_until
from tests.console.media.device_peer import DevicePeer, MovingPatternTrack


def packet(seq: int, timestamp: int, data: bytes, *, marker: bool = False) -> RtpPacket:
    rtp = RtpPacket(sequence_number=seq % 65536, timestamp=timestamp, marker=int(marker))
    rtp._data = data  # type: ignore[attr-defined]  # what the receiver's depayloader sets
    return rtp


def feed(buffer: JitterBuffer, packets: list[RtpPacket]) -> list[JitterFrame | None]:
    """What `add()` returned for each packet, in order."""
    return [buffer.add(p)[1] for p in packets]


def video_buffer() -> MarkerAwareJitterBuffer:
    return MarkerAwareJitterBuffer(capacity=128, is_video=True)


def frames_of(results: list[JitterFrame | None]) -> list[tuple[int, bytes]]:
    return [(f.timestamp, f.data) for f in results if f is not None]


def test_a_frame_leaves_with_its_marker_packet_not_with_the_next_frame() -> None:
    buffer = video_buffer()
    results = feed(
        buffer,
        [
            packet(10, 1000, b"a1"),
            packet(11, 1000, b"a2"),
            packet(12, 1000, b"a3", marker=True),
        ],
    )
    assert results[:2] == [None, None]
    assert results[2] is not None
    assert (results[2].timestamp, results[2].data) == (1000, b"a1a2a3")

    # aiortc's own buffer holds the same frame until the next one starts.
    stock = JitterBuffer(capacity=128, is_video=True)
    assert feed(stock, [packet(10, 1000, b"a1"), packet(11, 1000, b"a2", marker=True)]) == [
        None,
        None,
    ]


def test_single_packet_frames_each_leave_at_once() -> None:
    buffer = video_buffer()
    results = feed(buffer, [packet(seq, 3000 * seq, bytes([seq]), marker=True) for seq in range(5)])
    assert frames_of(results) == [(3000 * seq, bytes([seq])) for seq in range(5)]
    assert all(result is not None for result in results)


def test_a_reordered_frame_leaves_when_its_gap_is_filled() -> None:
    buffer = video_buffer()
    assert feed(buffer, [packet(100, 9000, b"k1")]) == [None]
    assert feed(buffer, [packet(102, 9000, b"k3", marker=True)]) == [None]  # 101 still missing
    late = feed(buffer, [packet(101, 9000, b"k2")])
    assert frames_of(late) == [(9000, b"k1k2k3")]


def test_a_lost_marker_packet_falls_back_to_aiortcs_rule() -> None:
    buffer = video_buffer()
    results = feed(
        buffer,
        [
            packet(1, 500, b"x1"),
            packet(2, 500, b"x2"),  # its marker packet never came ...
            packet(3, 800, b"y1", marker=True),  # ... so the next frame's start releases it
        ],
    )
    assert frames_of(results) == [(500, b"x1x2")]
    # The next frame is complete too; it leaves with the next packet, as in aiortc.
    assert frames_of(feed(buffer, [packet(4, 1100, b"z1", marker=True)])) == [(800, b"y1")]


def test_a_missing_packet_holds_the_frame_as_before() -> None:
    buffer = video_buffer()
    results = feed(
        buffer,
        [packet(1, 500, b"x1"), packet(3, 500, b"x3", marker=True), packet(4, 800, b"y1")],
    )
    assert results == [None, None, None]
    assert frames_of(feed(buffer, [packet(2, 500, b"x2")])) == [(500, b"x1x2x3")]


def test_padding_after_a_released_frame_never_becomes_a_frame_of_its_own() -> None:
    buffer = video_buffer()
    results = feed(
        buffer,
        [
            packet(7, 700, b"f1", marker=True),
            packet(8, 700, b""),  # RTP padding carrying the last frame's timestamp
            packet(9, 1000, b"g1", marker=True),
        ],
    )
    assert frames_of(results) == [(700, b"f1"), (1000, b"g1")]


def test_sequence_numbers_wrap_around() -> None:
    buffer = video_buffer()
    results = feed(
        buffer,
        [
            packet(65534, 42, b"w1"),
            packet(65535, 42, b"w2"),
            packet(65536, 42, b"w3", marker=True),  # wraps to 0
            packet(65537, 84, b"v1", marker=True),
        ],
    )
    assert frames_of(results) == [(42, b"w1w2w3"), (84, b"v1")]


async def _receivers_of_an_answerer() -> tuple[RTCPeerConnection, RTCPeerConnection]:
    offerer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    offerer.addTransceiver("video")
    offerer.addTransceiver("audio")
    await offerer.setLocalDescription(await offerer.createOffer())
    answerer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await answerer.setRemoteDescription(offerer.localDescription)
    return offerer, answerer


async def test_only_video_receivers_get_the_marker_aware_buffer() -> None:
    """Fails if an aiortc upgrade moves the receiver's private jitter buffer."""
    offerer, answerer = await _receivers_of_an_answerer()
    try:
        swapped = {t.kind: release_frames_on_marker(t.receiver) for t in answerer.getTransceivers()}
        assert swapped == {"video": True, "audio": False}
        video = next(t.receiver for t in answerer.getTransceivers() if t.kind == "video")
        assert release_frames_on_marker(video) is True  # twice is harmless
    finally:
        await offerer.close()
        await answerer.close()


class OneFrameTrack(MovingPatternTrack):
    """Sends a single frame, then nothing: no next frame will ever push the first one out."""

    async def recv(self) -> av.VideoFrame:
        if self._index == 0:
            return await super().recv()
        await asyncio.Event().wait()  # until the sender stops (cancels) us
        raise AssertionError("unreachable")


@pytest.mark.slow
async def test_a_frame_is_shown_without_waiting_for_the_next_one(
    engine: AiortcMediaEngine, feeds: tuple[RemoteVideoFeed, SelfViewFeed], device: DevicePeer
) -> None:
    """With aiortc's stock buffer the only frame sent would never be decoded."""
    remote, _ = feeds
    device.video = OneFrameTrack()
    call = engine.new_call(lambda _event: None)
    await device.accept(await call.answer(await device.offer(), []))

    await wait_until(lambda: remote.rendered_count >= 1, timeout=30, what="the one frame shown")
    await call.close()
