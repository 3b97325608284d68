"""Release each video frame as soon as its last packet is in, not when the next frame starts.

aiortc's `JitterBuffer` (aiortc 1.16, `jitterbuffer.py`) assembles a video frame from the packets
sharing one RTP timestamp, and knows the frame is complete only when a packet with a DIFFERENT
timestamp arrives: every frame waits for the first packet of the next one. That costs one frame
interval on every frame (33 ms at 30 fps) and more on the first frame of a call, because the
sender's first keyframe is slow to encode and the next frame follows late
(docs/performance.md, "Answer → first remote frame painted"). Upstream is reworking the buffer
(aiortc PR #1418, "Rewrite JitterBuffer with reorder buffer + frame assembler"; the current
frame logic dates from aiortc PR #461); until that lands, this subclass adds one rule:

    a contiguous run of packets from the buffer's origin, all with one timestamp, ending in a
    packet with the RTP marker bit set, is a complete frame: release it now.

The marker bit is defined for this: RFC 7741 section 4.1 (VP8) "MUST be set for the very last
packet of each encoded frame"; RFC 6184 (H.264) sets it on the last packet of an access unit.
Anything else (a missing packet, no marker, reordering) falls through to aiortc's own logic
unchanged, so a lost marker packet costs exactly what it cost before.

aiortc has no public seam for the receiver's jitter buffer: `RTCRtpReceiver` builds it in its
constructor as a private attribute. `release_frames_on_marker()` swaps it on our own receivers
only (never process-wide), right after `setRemoteDescription()` created them and before any packet
can arrive, and reports whether it could; `tests/console/media/test_jitter.py` fails if an aiortc
upgrade renames the attribute.
"""

from __future__ import annotations

import logging

from aiortc import RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame

_log = logging.getLogger(__name__)

# Name-mangled `self.__jitter_buffer` of aiortc.rtcrtpreceiver.RTCRtpReceiver.
_RECEIVER_BUFFER_ATTR = "_RTCRtpReceiver__jitter_buffer"


class MarkerAwareJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer, plus: a frame whose marker packet is in is released at once."""

    def __init__(self, capacity: int, prefetch: int = 0, is_video: bool = False) -> None:
        super().__init__(capacity, prefetch=prefetch, is_video=is_video)
        self._released_timestamp: int | None = None

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        complete = self._complete_frame_at_origin()
        if complete is not None:
            return complete
        return super()._remove_frame(sequence_number)

    def _complete_frame_at_origin(self) -> JitterFrame | None:
        if self._origin is None:
            return None
        self._drop_leftovers()
        timestamp: int | None = None
        for count in range(self.capacity):
            packet = self._packets[(self._origin + count) % self.capacity]
            if packet is None:
                return None  # a gap: not complete yet (or lost; aiortc's rules then apply)
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                return None  # the next frame started without a marker: aiortc's rule releases
            if packet.marker:
                packets = [
                    self._packets[(self._origin + index) % self.capacity]
                    for index in range(count + 1)
                ]
                frame = JitterFrame(
                    data=b"".join(p._data for p in packets),  # type: ignore[union-attr]
                    timestamp=timestamp,
                )
                self.remove(count + 1)
                self._released_timestamp = timestamp
                return frame
        return None

    def _drop_leftovers(self) -> None:
        """Skip packets at the origin that belong to the frame already released by its marker.

        aiortc's own rule would have folded them (RTP padding, a late duplicate) into that frame;
        released early, they would otherwise reach the decoder as an empty "frame" of their own.
        """
        assert self._origin is not None
        while self._released_timestamp is not None:
            packet = self._packets[self._origin % self.capacity]
            if packet is None or packet.timestamp != self._released_timestamp:
                return
            self.remove(1)


def release_frames_on_marker(receiver: RTCRtpReceiver) -> bool:
    """Give a VIDEO receiver a `MarkerAwareJitterBuffer`; False (and a warning) if not possible.

    Call before the receiver has seen a packet (right after `setRemoteDescription`).
    """
    current = getattr(receiver, _RECEIVER_BUFFER_ATTR, None)
    if isinstance(current, MarkerAwareJitterBuffer):
        return True
    if type(current) is not JitterBuffer or not current._is_video:
        _log.warning(
            "aiortc's receiver has no video jitter buffer where expected (%s); "
            "frames are released one frame late",
            type(current).__name__,
        )
        return False
    setattr(
        receiver,
        _RECEIVER_BUFFER_ATTR,
        MarkerAwareJitterBuffer(current.capacity, prefetch=current._prefetch, is_video=True),
    )
    return True
