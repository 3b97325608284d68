"""ICE without the idle 20 ms pacing interval after the last connectivity check.

aioice (0.13) paces connectivity checks in `Connection.connect()`: start one, sleep 20 ms,
repeat; only a round that finds nothing left to start ends the loop and waits on the check list
itself. So `connect()` always sleeps one full interval after its LAST check went out, however
fast the check list completes meanwhile, and aiortc starts DTLS only when `connect()` returns.
The console is the DTLS client (aiortc answers the device's `actpass` with `active`), so its
ClientHello, and with it the officer's first frame, waited for that timer: measured with the
device's nomination in at ~57 ms after Answer, the console's ICE returned at ~70 ms
(bench/bench_console_answer.py --trace, docs/performance.md).

`PromptPacingConnection` ends the pacing as soon as a round leaves no pair unstarted (and no
more remote candidates are expected); pairs still to start are paced exactly as before, so the
check rate (RFC 8445 Ta) is unchanged. Only the console's own connections get it: it matters for
any phone (the console is the DTLS client), while the simulator keeps stock aioice like any
other aiortc device would.

aiortc has no seam to choose the ICE connection class: its `RTCIceGatherer` builds an
`aioice.Connection` itself. The gatherer is public, its connection private; `prompt_ice_checks`
swaps the class of our own connections only, before any check has started.
"""

from __future__ import annotations

import logging

import aioice
from aioice.ice import CandidatePair
from aiortc import RTCPeerConnection

_log = logging.getLogger(__name__)

_UNSTARTED = (CandidatePair.State.WAITING, CandidatePair.State.FROZEN)


class PromptPacingConnection(aioice.Connection):
    """aioice's ICE connection that stops pacing once every pair has its check."""

    def _check_periodic(self) -> bool:
        if self._check_list_done:
            return False
        if not self._unstarted_pairs():
            return self._remote_candidates_expected()
        started = super()._check_periodic()
        if started and not self._unstarted_pairs() and not self._remote_candidates_expected():
            return False  # the last check is out: wait on the check list, not on a timer
        return started

    def _unstarted_pairs(self) -> bool:
        # A pair whose (triggered) check task exists but has not run yet still reads WAITING.
        return any(pair.task is None and pair.state in _UNSTARTED for pair in self._check_list)


def prompt_ice_checks(pc: RTCPeerConnection) -> bool:
    """Use `PromptPacingConnection` for every transceiver's ICE; False if aiortc moved it."""
    swapped = True
    for transceiver in pc.getTransceivers():
        gatherer = transceiver.sender.transport.transport.iceGatherer
        connection = getattr(gatherer, "_connection", None)
        if type(connection) is aioice.Connection:
            connection.__class__ = PromptPacingConnection
        elif not isinstance(connection, PromptPacingConnection):
            swapped = False
    if not swapped:
        _log.warning("aiortc's ICE connection is not where expected; ICE pacing unchanged")
    return swapped
