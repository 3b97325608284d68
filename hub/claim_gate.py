"""Coalesce concurrent claims of one request inside this hub process.

In a 50-way race the racers arrive within a few milliseconds, before the winner has committed, so
a read-only pre-check lets most of them through and they then queue for the writer lock one by one
only to fail the conditional UPDATE. The gate lets exactly one claim per request go to the writer;
the others wait for its outcome and are answered from it (409 naming the winner) without touching
the database. Correctness still rests on the conditional UPDATE in `HubService.claim_checked`:
the gate only saves work inside one process.
"""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from hub.errors import ClaimConflictError
from hub.service import ANSWERING_ROLES, Caller, HubService
from hub.writer import Writer
from protocol.schemas import ClaimResult


class ClaimGate:
    """One claim in flight per request id; waiters learn the winner from it."""

    def __init__(self) -> None:
        # request id → future of the in-flight claim: the winner's call sign, or None if it failed
        self._in_flight: dict[int, asyncio.Future[str | None]] = {}

    async def claim(
        self, service: HubService, writer: Writer, caller: Caller, request_id: int
    ) -> ClaimResult:
        """Claim `request_id` for `caller`, or raise what the claim would raise."""
        caller.require_operator(*ANSWERING_ROLES)  # a 403 comes before any 409
        while (pending := self._in_flight.get(request_id)) is not None:
            winner = await asyncio.shield(pending)
            if winner is not None:
                raise ClaimConflictError(f"{winner} has already answered this call", holder=winner)
            # The claim in flight failed without a winner: try ourselves (the DB decides).
        outcome: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._in_flight[request_id] = outcome
        holder: str | None = None
        try:
            if service.db.is_local_sqlite:
                # Quick indexed read on the loop (see hub/routes/deps.py `run_quick_read`).
                service.check_claimable(caller, request_id)
            else:
                await run_in_threadpool(service.check_claimable, caller, request_id)
            result = await writer.run(service.claim_checked, caller, request_id)
            holder = result.request.holder
            return result
        finally:
            del self._in_flight[request_id]
            outcome.set_result(holder)
