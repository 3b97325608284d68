"""Small aiortc helpers shared by the simulated device and the tests' headless answerer.

Kept in one place so that both peers follow the same rules from shared/design/media.md: always pass
the hub's ICE servers (an empty list on loopback, never aiortc's public-STUN default), prefer VP8
(Chromium has no H.264), and bound every signalling step with a timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)

from protocol.schemas import IceServer

log = logging.getLogger(__name__)

SIGNALLING_TIMEOUT_S = 10.0


def rtc_configuration(ice_servers: Iterable[IceServer]) -> RTCConfiguration:
    """An RTCConfiguration with exactly the hub's ICE servers ([] means host candidates only)."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(
                urls=list(server.urls), username=server.username, credential=server.credential
            )
            for server in ice_servers
        ]
    )


def new_peer_connection(ice_servers: Iterable[IceServer]) -> RTCPeerConnection:
    """A peer connection configured with the hub's ICE servers."""
    return RTCPeerConnection(configuration=rtc_configuration(ice_servers))


def prefer_vp8(transceiver: RTCRtpTransceiver) -> None:
    """Offer VP8 (plus its retransmission codec) only, the codec every peer here can decode."""
    codecs = RTCRtpSender.getCapabilities("video").codecs
    chosen = [c for c in codecs if c.mimeType.lower() in ("video/vp8", "video/rtx")]
    transceiver.setCodecPreferences(chosen)


async def create_offer(pc: RTCPeerConnection, timeout_s: float = SIGNALLING_TIMEOUT_S) -> str:
    """Create the offer and gather every candidate (no trickle); return the complete SDP."""
    async with asyncio.timeout(timeout_s):
        offer = await pc.createOffer()
        await pc.setLocalDescription(offer)
    return pc.localDescription.sdp


async def apply_offer(
    pc: RTCPeerConnection, sdp_offer: str, timeout_s: float = SIGNALLING_TIMEOUT_S
) -> None:
    """Apply a remote offer; add local tracks afterwards with `pc.addTrack` (reuses its m-lines)."""
    async with asyncio.timeout(timeout_s):
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp_offer, type="offer"))


async def create_answer(pc: RTCPeerConnection, timeout_s: float = SIGNALLING_TIMEOUT_S) -> str:
    """Create our answer and gather every candidate (no trickle); return the complete SDP."""
    async with asyncio.timeout(timeout_s):
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)
    return pc.localDescription.sdp


async def apply_answer(
    pc: RTCPeerConnection, sdp_answer: str, timeout_s: float = SIGNALLING_TIMEOUT_S
) -> None:
    """Apply the far end's SDP answer to our offer."""
    async with asyncio.timeout(timeout_s):
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp_answer, type="answer"))
