"""Recording a decision: delivery that is never lost and never doubled.

The rules of a complete decision live in `console.domain.decision` (re-exported here).

Delivery follows the journal-first rule: a decision gets a UUID idempotency key, is written to the
local journal (a SQLite file on this workstation) BEFORE the first POST, and is marked delivered
only when the hub has answered. While the hub is unreachable it stays "pending delivery" and is
retried with backoff under the same key, so the hub's idempotency check turns every retry after a
lost response into a harmless replay. Pending entries survive a console restart
(`DecisionDelivery.resume_pending`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from console.domain.decision import (
    DecisionDraft,
    decision_problems,
    override_grounds,
    record_warnings,
)
from console.domain.errors import (
    AuthenticationError,
    HubUnreachableError,
    InvalidInputError,
    UserFacingError,
)
from console.services.lease import Clock
from protocol import DecisionBody, RequestView

# The rules live in the domain; re-exported so services' callers need one import.
__all__ = [
    "DEFAULT_BACKOFF_SECONDS",
    "DecisionApi",
    "DecisionDelivery",
    "DecisionDraft",
    "DecisionJournal",
    "DeliveryStatus",
    "DeliveryUpdate",
    "JournalEntry",
    "Submitted",
    "decision_problems",
    "override_grounds",
    "record_warnings",
]

log = logging.getLogger(__name__)

# Retry delays while the hub is unreachable: quick at first (a blip), then every 30 s at most.
DEFAULT_BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


# ---------------------------------------------------------------------------- journal port


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # written locally, not yet acknowledged by the hub
    DELIVERED = "delivered"
    REJECTED = "rejected"  # the hub refused it for good (e.g. the claim was lost)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One decision as the local journal holds it (plain object, never an ORM row)."""

    key: str
    request_id: int
    body: DecisionBody
    status: DeliveryStatus
    created_at: datetime
    attempts: int = 0
    reference: str | None = None
    last_error: str | None = None
    operator_id: int | None = None  # who decided: only their session may deliver it


class DecisionJournal(Protocol):
    """Durable local record of decisions (implemented by `console/adapters/journal.py`)."""

    def record(
        self, key: str, request_id: int, body: DecisionBody, operator_id: int | None = None
    ) -> JournalEntry: ...

    def note_attempt(self, key: str, error: str | None) -> None: ...

    def mark_delivered(self, key: str, reference: str) -> None: ...

    def mark_rejected(self, key: str, error: str) -> None: ...

    def pending(self) -> list[JournalEntry]: ...

    def get(self, key: str) -> JournalEntry | None: ...


class DecisionApi(Protocol):
    """The one hub call delivery needs."""

    async def decide(
        self, request_id: int, body: DecisionBody, idempotency_key: str
    ) -> RequestView: ...


# ---------------------------------------------------------------------------- delivery


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """A fact about one journalled decision, for listeners (call service, view-models)."""

    entry: JournalEntry
    request: RequestView | None = None  # set when delivered
    error: str | None = None  # set when rejected


@dataclass(frozen=True, slots=True)
class Submitted:
    """Result of `DecisionDelivery.submit`: `request` is None while delivery is pending."""

    key: str
    request: RequestView | None

    @property
    def delivered(self) -> bool:
        return self.request is not None


_RETRYABLE = (HubUnreachableError, AuthenticationError)


class DecisionDelivery:
    """Journal-first, retry-until-acknowledged delivery of decisions to the hub."""

    def __init__(
        self,
        api: DecisionApi,
        journal: DecisionJournal,
        clock: Clock,
        backoff_seconds: tuple[float, ...] = DEFAULT_BACKOFF_SECONDS,
    ) -> None:
        self._api = api
        self._journal = journal
        self._clock = clock
        self._backoff = backoff_seconds
        self._retries: dict[str, asyncio.Task[None]] = {}
        self._listeners: list[Callable[[DeliveryUpdate], None]] = []

    def add_listener(self, listener: Callable[[DeliveryUpdate], None]) -> None:
        self._listeners.append(listener)

    @property
    def pending_count(self) -> int:
        return len(self._journal.pending())

    async def submit(
        self, request_id: int, body: DecisionBody, operator_id: int | None = None
    ) -> Submitted:
        """Journal the decision, then try to deliver it once now.

        Returns the hub's view when delivered, or a pending result (retrying in the background)
        when the hub is unreachable. Raises the hub's error when it refused the decision for good.
        `operator_id` (the claim holder) keeps another sergeant's session from sending it later.
        """
        key = str(uuid.uuid4())
        # FIRST: once this returns, nothing is lost whatever happens next.
        entry = self._journal.record(key, request_id, body, operator_id)
        log.info("decision for request %s journalled (key %s)", request_id, key)
        try:
            view = await self._attempt(entry)
        except _RETRYABLE:
            self._start_retry(entry)
            return Submitted(key, None)
        return Submitted(key, view)

    def resume_pending(self, operator_id: int | None = None) -> int:
        """Start retrying pending journal entries (at start-up); returns how many.

        With `operator_id`, only that operator's entries (and legacy ones without an operator):
        the hub accepts a decision only from the claim holder, so sending a colleague's pending
        decision under the current session would get it refused for good.
        """
        pending = [
            entry
            for entry in self._journal.pending()
            if operator_id is None or entry.operator_id in (None, operator_id)
        ]
        for entry in pending:
            self._start_retry(entry)
        if pending:
            log.info("resuming delivery of %d pending decision(s)", len(pending))
        return len(pending)

    async def close(self) -> None:
        """Stop retrying (entries stay pending in the journal for the next start)."""
        tasks = list(self._retries.values())
        self._retries.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _attempt(self, entry: JournalEntry) -> RequestView:
        """One POST. Marks the journal; raises retryable errors, reports final ones."""
        try:
            view = await self._api.decide(entry.request_id, entry.body, entry.key)
        except _RETRYABLE as exc:
            self._journal.note_attempt(entry.key, exc.code)
            raise
        except UserFacingError as exc:
            self._journal.note_attempt(entry.key, exc.code)
            self._journal.mark_rejected(entry.key, exc.message)
            log.warning("decision %s rejected by the hub: %s", entry.key, exc.code)
            self._notify(DeliveryUpdate(self._reload(entry), error=exc.message))
            raise
        reference = view.decision.reference if view.decision else ""
        if not reference:
            # A 2xx without a decision would be a hub bug; do not mark delivered on it.
            self._journal.note_attempt(entry.key, "no_reference")
            raise InvalidInputError("The hub accepted the decision but returned no reference.")
        self._journal.note_attempt(entry.key, None)
        self._journal.mark_delivered(entry.key, reference)
        log.info("decision %s delivered: %s", entry.key, reference)
        self._notify(DeliveryUpdate(self._reload(entry), request=view))
        return view

    def _start_retry(self, entry: JournalEntry) -> None:
        if entry.key in self._retries:
            return  # one sender per key: never two POSTs of the same decision in flight
        task = asyncio.get_running_loop().create_task(
            self._retry(entry), name=f"deliver-{entry.key}"
        )
        self._retries[entry.key] = task
        key = entry.key

        def forget(_task: asyncio.Task[None]) -> None:
            self._retries.pop(key, None)

        task.add_done_callback(forget)
        self._notify(DeliveryUpdate(entry))

    async def _retry(self, entry: JournalEntry) -> None:
        attempt = 0
        while True:
            delay = self._backoff[min(attempt, len(self._backoff) - 1)]
            await self._clock.sleep(delay)
            attempt += 1
            try:
                await self._attempt(entry)
                return
            except _RETRYABLE as exc:
                log.info(
                    "decision %s still pending (%s); next try in %.0f s",
                    entry.key,
                    exc.code,
                    self._backoff[min(attempt, len(self._backoff) - 1)],
                )
            except UserFacingError:
                return  # rejected for good; already reported

    def _reload(self, entry: JournalEntry) -> JournalEntry:
        return self._journal.get(entry.key) or entry

    def _notify(self, update: DeliveryUpdate) -> None:
        for listener in list(self._listeners):
            listener(update)
