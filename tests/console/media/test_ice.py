"""The console's ICE stops pacing once its last check is out (console/adapters/media/ice.py)."""

from __future__ import annotations

import asyncio
import time

import aioice
from aiortc import RTCConfiguration, RTCPeerConnection

from console.adapters.media.ice import PromptPacingConnection, prompt_ice_checks


class RecordingConnection(PromptPacingConnection):
    """Remembers each pacing round: (its answer, whether it started a check).

    An answer of True means connect() sleeps 20 ms before the next round.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rounds: list[tuple[bool, bool]] = []

    def _started(self) -> int:
        return sum(
            1
            for pair in self._check_list
            if pair.task is not None or pair.state not in (pair.State.WAITING, pair.State.FROZEN)
        )

    def _check_periodic(self) -> bool:
        before = self._started()
        result = super()._check_periodic()
        self.rounds.append((result, self._started() > before))
        return result


async def introduce(local: aioice.Connection, remote: aioice.Connection) -> None:
    """Give `local` everything the SDP would carry about `remote` (all candidates, no trickle)."""
    for candidate in remote.local_candidates:
        await local.add_remote_candidate(candidate)
    await local.add_remote_candidate(None)
    local.remote_username = remote.local_username
    local.remote_password = remote.local_password


async def test_the_round_that_starts_the_last_check_ends_the_pacing() -> None:
    """As in a call: the console checks every pair before the device has our answer."""
    console = RecordingConnection(ice_controlling=False)
    device = aioice.Connection(ice_controlling=True)
    try:
        await asyncio.gather(console.gather_candidates(), device.gather_candidates())
        await introduce(console, device)
        await introduce(device, console)
        connecting = asyncio.ensure_future(console.connect())
        deadline = time.monotonic() + 10
        while not console.rounds or console.rounds[-1][0]:
            assert time.monotonic() < deadline, "the console never stopped pacing"
            await asyncio.sleep(0.005)  # polling with a deadline: aioice has no event for this

        # One check per round, paced as in aioice; the round that started the last one did not
        # sleep out another interval (aioice's own would end with an idle (False, False) round).
        *paced, last = console.rounds
        assert last == (False, True)
        assert all(paced_round == (True, True) for paced_round in paced)

        await asyncio.wait_for(device.connect(), 10)
        await asyncio.wait_for(connecting, 10)
    finally:
        await device.close()
        await console.close()


async def test_the_answering_peer_connection_gets_it() -> None:
    """Fails if an aiortc upgrade moves the gatherer's private ICE connection."""
    offerer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    answerer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        offerer.addTransceiver("video")
        offerer.addTransceiver("audio")
        await offerer.setLocalDescription(await offerer.createOffer())
        await answerer.setRemoteDescription(offerer.localDescription)
        assert prompt_ice_checks(answerer) is True
        connections = [
            t.sender.transport.transport.iceGatherer._connection for t in answerer.getTransceivers()
        ]
        assert connections
        assert all(type(c) is PromptPacingConnection for c in connections)
    finally:
        await offerer.close()
        await answerer.close()
