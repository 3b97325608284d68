"""Hand-written fakes for the call flow's ports: hub API, media engine, clock, journal."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from console.domain.errors import HubUnreachableError, UserFacingError
from console.services.decision import DeliveryStatus, JournalEntry
from console.services.media_port import CallQuality, MediaEvent, MediaState
from protocol import (
    ClaimResult,
    DecisionBody,
    DecisionView,
    HubConfig,
    IceServer,
    OfficerView,
    OperatorView,
    Outcome,
    RequestState,
    RequestView,
    Role,
    SnapshotView,
    WarrantStatus,
)

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
OFFER_SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=fake offer\r\n"
ANSWER_SDP = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=fake answer\r\n"


def make_officer(**changes: object) -> OfficerView:
    officer = OfficerView(
        id=7,
        collar_number="1001CW",
        warrant_number="WC100001",
        rank="PC",
        surname="Walker",
        forenames="Chris",
        force="Metropolitan Police",
        station="Charing Cross",
        warrant_status=WarrantStatus.VALID,
        on_duty=True,
        plain_clothes_authorised=True,
        alerts="",
        photo_taken_on=datetime(2025, 3, 1, tzinfo=UTC),
        photo_url="/api/v1/officers/7/photo",
        verifications_today=2,
    )
    return officer.model_copy(update=changes)


def make_request(request_id: int = 41, **changes: object) -> RequestView:
    request = RequestView(
        id=request_id,
        state=RequestState.QUEUED,
        officer=make_officer(),
        location=None,
        created_at=NOW,
        claimed_at=None,
        connected_at=None,
        decided_at=None,
        ended_at=None,
        holder=None,
        holder_id=None,
        lease_expires_at=None,
        device_left=False,
        decision=None,
        end_reason=None,
    )
    return request.model_copy(update=changes)


class FakeClock:
    """Sleeps until the test advances time; `advance` wakes sleepers in deadline order."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        await future

    @property
    def sleepers(self) -> int:
        return sum(1 for _, _, fut in self._sleepers if not fut.done())

    async def advance(self, seconds: float) -> None:
        target = self.now + seconds
        await settle()  # let freshly spawned tasks reach their first sleep
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self.now = deadline
            if not future.done():
                future.set_result(None)
            await settle()
        self.now = target
        await settle()


async def settle(rounds: int = 30) -> None:
    """Let every ready task run until it blocks again (fakes never do real I/O)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


@dataclass
class FakeCallApi:
    """In-memory stand-in for the hub's call endpoints, with switchable failures."""

    lease_seconds: float = 3.0
    officer_record: OfficerView = field(default_factory=make_officer)
    photo: bytes | None = b"\x89PNG fake photo"
    reachable: bool = True
    claim_error: UserFacingError | None = None
    renew_error: UserFacingError | None = None
    decide_error: UserFacingError | None = None
    answer_error: UserFacingError | None = None
    device_left: bool = False
    operator_id: int = 1
    # When set, GET /officers/{id} waits for it: the record is still loading.
    officer_gate: asyncio.Event | None = None
    # Runs inside POST /answer, before it returns (e.g. media connecting meanwhile).
    on_post_answer: Callable[[], None] | None = None
    calls: list[tuple[str, object]] = field(default_factory=list)
    decisions: dict[str, RequestView] = field(default_factory=dict)
    references: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _call(self, name: str, arg: object = None) -> None:
        self.calls.append((name, arg))
        if not self.reachable:
            raise HubUnreachableError()

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def count(self, name: str) -> int:
        return self.names().count(name)

    async def me(self) -> OperatorView:
        self._call("me")
        return OperatorView(
            id=self.operator_id,
            username="smith",
            display_name="Smith",
            rank="PS",
            role=Role.SERGEANT,
        )

    async def config(self) -> HubConfig:
        self._call("config")
        return HubConfig(
            ice_servers=[],
            lease_seconds=self.lease_seconds,
            expire_after_seconds=60,
            heartbeat_seconds=10,
            server_time=NOW,
        )

    async def claim(self, request_id: int) -> ClaimResult:
        self._call("claim", request_id)
        if self.claim_error is not None:
            raise self.claim_error
        request = make_request(
            request_id,
            state=RequestState.CLAIMED,
            holder="PS Smith",
            holder_id=1,
            officer=self.officer_record,
        )
        return ClaimResult(
            request=request,
            sdp_offer=OFFER_SDP,
            ice_servers=[IceServer(urls=["stun:example.invalid"])],
        )

    async def officer(self, officer_id: int) -> OfficerView:
        self._call("officer", officer_id)
        if self.officer_gate is not None:
            await self.officer_gate.wait()
        return self.officer_record

    async def officer_photo(self, officer_id: int) -> bytes | None:
        self._call("officer_photo", officer_id)
        return self.photo

    async def post_answer(self, request_id: int, sdp_answer: str) -> None:
        self._call("post_answer", sdp_answer)
        if self.on_post_answer is not None:
            self.on_post_answer()
        if self.answer_error is not None:
            raise self.answer_error

    async def mark_connected(self, request_id: int) -> RequestView:
        self._call("mark_connected", request_id)
        return make_request(request_id, state=RequestState.CONNECTED)

    async def renew_lease(self, request_id: int) -> RequestView:
        self._call("renew_lease", request_id)
        if self.renew_error is not None:
            raise self.renew_error
        return make_request(request_id, state=RequestState.CLAIMED)

    async def release(self, request_id: int) -> RequestView:
        self._call("release", request_id)
        return make_request(request_id, state=RequestState.QUEUED)

    async def fail(self, request_id: int, detail: str) -> RequestView:
        self._call("fail", detail)
        return make_request(request_id, state=RequestState.FAILED)

    async def end(self, request_id: int) -> RequestView:
        self._call("end", request_id)
        return make_request(request_id, state=RequestState.ENDED)

    async def decide(
        self, request_id: int, body: DecisionBody, idempotency_key: str
    ) -> RequestView:
        self._call("decide", idempotency_key)
        if self.decide_error is not None:
            raise self.decide_error
        if idempotency_key in self.decisions:  # the hub's idempotency: replay the first result
            return self.decisions[idempotency_key]
        decision = DecisionView(
            outcome=body.outcome,
            reason_code=body.reason_code,
            notes=body.notes,
            checklist=body.checklist,
            override_reason=body.override_reason,
            reference=f"SC-TEST-{next(self.references):02d}",
            decided_at=NOW,
            decided_by="PS Smith",
        )
        state = RequestState.ENDED if self.device_left else RequestState.DECIDED
        view = make_request(request_id, state=state, decision=decision)
        self.decisions[idempotency_key] = view
        return view

    async def post_snapshot(self, request_id: int, image: bytes, content_type: str) -> SnapshotView:
        self._call("post_snapshot", content_type)
        return SnapshotView(
            id=1,
            request_id=request_id,
            taken_at=NOW,
            taken_by="PS Smith",
            url="/api/v1/snapshots/1",
        )


class FakeCallMedia:
    """One call's media: answers at once (or fails/hangs), and lets the test push events."""

    def __init__(self, engine: FakeMediaEngine, on_event: Callable[[MediaEvent], None]) -> None:
        self._engine = engine
        self.on_event = on_event
        self.offer: str | None = None
        self.ice_servers: list[IceServer] | None = None
        self.closed = 0
        self.muted = False
        self.camera = True

    async def answer(self, offer_sdp: str, ice_servers: list[IceServer]) -> str:
        self.offer, self.ice_servers = offer_sdp, ice_servers
        if self._engine.answer_error is not None:
            raise self._engine.answer_error
        if self._engine.answer_hangs:
            await asyncio.Event().wait()
        return ANSWER_SDP

    def emit(self, state: MediaState, detail: str = "") -> None:
        self.on_event(MediaEvent(state, detail))

    def quality(self) -> CallQuality:
        return CallQuality(width=640, height=480, fps=30.0)

    def set_microphone_muted(self, muted: bool) -> None:
        self.muted = muted

    def set_camera_enabled(self, enabled: bool) -> None:
        self.camera = enabled

    def snapshot_jpeg(self) -> bytes | None:
        return self._engine.snapshot

    async def close(self) -> None:
        self.closed += 1


class FakeMediaEngine:
    def __init__(self) -> None:
        self.calls: list[FakeCallMedia] = []
        self.answer_error: Exception | None = None
        self.answer_hangs = False
        self.snapshot: bytes | None = b"\xff\xd8fake jpeg"

    def new_call(self, on_event: Callable[[MediaEvent], None]) -> FakeCallMedia:
        call = FakeCallMedia(self, on_event)
        self.calls.append(call)
        return call

    @property
    def last(self) -> FakeCallMedia:
        return self.calls[-1]

    async def shutdown(self) -> None:
        return None


class MemoryJournal:
    """`DecisionJournal` in memory (the SQLite one has its own tests)."""

    def __init__(self) -> None:
        self.rows: dict[str, JournalEntry] = {}

    def record(
        self, key: str, request_id: int, body: DecisionBody, operator_id: int | None = None
    ) -> JournalEntry:
        entry = JournalEntry(
            key, request_id, body, DeliveryStatus.PENDING, NOW, operator_id=operator_id
        )
        self.rows[key] = entry
        return entry

    def note_attempt(self, key: str, error: str | None) -> None:
        entry = self.rows[key]
        self.rows[key] = replace(entry, attempts=entry.attempts + 1, last_error=error)

    def mark_delivered(self, key: str, reference: str) -> None:
        self.rows[key] = replace(
            self.rows[key], status=DeliveryStatus.DELIVERED, reference=reference
        )

    def mark_rejected(self, key: str, error: str) -> None:
        self.rows[key] = replace(self.rows[key], status=DeliveryStatus.REJECTED, last_error=error)

    def pending(self) -> list[JournalEntry]:
        return [e for e in self.rows.values() if e.status == DeliveryStatus.PENDING]

    def get(self, key: str) -> JournalEntry | None:
        return self.rows.get(key)


class RecordingObserver:
    """Collects the call service's state snapshots and notices."""

    def __init__(self) -> None:
        self.states: list[object] = []
        self.notices: list[tuple[str, str]] = []

    def call_state_changed(self, state: object) -> None:
        self.states.append(state)

    def notice_posted(self, level: str, text: str) -> None:
        self.notices.append((level, text))

    def texts(self) -> str:
        return "\n".join(text for _, text in self.notices)


__all__ = ["Outcome"]
