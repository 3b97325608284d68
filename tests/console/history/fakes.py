"""Hand-written fakes for the History tab: a `HistoryPort` over an in-memory list of calls."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from console.domain.errors import NotFoundError, PermissionDeniedError, UserFacingError
from protocol import (
    AuditEntryView,
    ChecklistItem,
    DecisionView,
    HistoryItem,
    HistoryPage,
    HistoryStats,
    OfficerSummary,
    OfficerView,
    OperatorSummary,
    OperatorView,
    Outcome,
    ReasonCode,
    RequestDetail,
    RequestState,
    RequestView,
    Role,
    SnapshotView,
    WarrantStatus,
)

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)

OPERATORS = {1: "PS SMITH", 2: "PS JONES"}
OFFICERS = {
    7: "PC Chris WALKER 1001CW",
    8: "DC Dana KHAN 1002CW",
    9: "PC Sam OKAFOR 1006CW",
}


def operator_summary(
    operator_id: int,
    name: str,
    *,
    rank: str = "PS",
    role: Role = Role.SERGEANT,
    active: bool = True,
) -> OperatorSummary:
    return OperatorSummary(
        id=operator_id,
        display_name=name,
        rank=rank,
        role=role,
        call_sign=f"{rank} {name}",
        active=active,
    )


def officer_summary(
    officer_id: int, collar: str, rank: str, forenames: str, surname: str
) -> OfficerSummary:
    return OfficerSummary(
        id=officer_id, collar_number=collar, rank=rank, surname=surname, forenames=forenames
    )


#: The hub's directory as `GET /operators` sorts it: by call sign. PS OGDEN (4) has no calls in
#: `varied_items` and his account is disabled; Insp PATEL (3) never answered one either.
OPERATOR_DIRECTORY = [
    operator_summary(3, "PATEL", rank="Insp", role=Role.SUPERVISOR),
    operator_summary(2, "JONES"),
    operator_summary(4, "OGDEN", active=False),
    operator_summary(1, "SMITH"),
]
#: As `GET /officers` sorts them: by surname. PC Lee ADAMS (10) has no calls in `varied_items`.
OFFICER_DIRECTORY = [
    officer_summary(10, "1010CW", "PC", "Lee", "Adams"),
    officer_summary(8, "1002CW", "DC", "Dana", "Khan"),
    officer_summary(9, "1006CW", "PC", "Sam", "Okafor"),
    officer_summary(7, "1001CW", "PC", "Chris", "Walker"),
]


def make_item(item_id: int, **changes: object) -> HistoryItem:
    """A decided-and-ended call `item_id` minutes before NOW, confirmed by PS SMITH."""
    item = HistoryItem(
        id=item_id,
        reference=f"SC-{item_id:04d}-AB",
        created_at=NOW - timedelta(minutes=item_id),
        state=RequestState.ENDED,
        officer_id=7,
        officer=OFFICERS[7],
        operator_id=1,
        operator=OPERATORS[1],
        outcome=Outcome.CONFIRMED,
        reason_code=ReasonCode.IDENTITY_CONFIRMED,
        wait_seconds=4.0,
        talk_seconds=75.0,
    )
    return HistoryItem.model_validate({**item.model_dump(), **changes})


def varied_items(count: int) -> list[HistoryItem]:
    """Calls with a mix of outcomes, sergeants and officers (newest first)."""
    items = []
    for number in range(1, count + 1):
        kind = number % 5
        operator_id = 1 if number % 2 else 2
        officer_id = (7, 8, 9)[number % 3]
        changes: dict[str, object] = {
            "operator_id": operator_id,
            "operator": OPERATORS[operator_id],
            "officer_id": officer_id,
            "officer": OFFICERS[officer_id],
            "wait_seconds": float(number % 17),
        }
        if kind == 1:
            changes |= {"outcome": Outcome.REFUSED, "reason_code": ReasonCode.WARRANT_NOT_VALID}
        elif kind == 2:
            changes |= {
                "outcome": None,
                "reason_code": None,
                "reference": None,
                "state": RequestState.EXPIRED,
                "operator_id": None,
                "operator": None,
                "wait_seconds": None,
                "talk_seconds": None,
            }
        items.append(make_item(number, **changes))
    return items


def png_bytes(colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def make_detail(item: HistoryItem, snapshots: int = 2) -> RequestDetail:
    officer = OfficerView(
        id=item.officer_id,
        collar_number=item.officer.split()[-1],
        warrant_number="WC100001",
        rank=item.officer.split()[0],
        surname=item.officer.split()[2],
        forenames=item.officer.split()[1],
        force="Metropolitan Police",
        station="Charing Cross",
        warrant_status=WarrantStatus.VALID,
        on_duty=True,
        plain_clothes_authorised=True,
        alerts="",
        photo_taken_on=None,
        photo_url=None,
    )
    decision = None
    if item.outcome is not None and item.reason_code is not None:
        decision = DecisionView(
            outcome=item.outcome,
            reason_code=item.reason_code,
            notes="Officer showed warrant card on camera; woman told the reference.",
            checklist={
                ChecklistItem.FACE_MATCHES_PHOTO: True,
                ChecklistItem.GAVE_NAME_AND_NUMBER: True,
                ChecklistItem.WARRANT_CARD_MATCHES: item.outcome is Outcome.CONFIRMED,
            },
            override_reason=None,
            reference=item.reference or "SC-0000-00",
            decided_at=item.created_at + timedelta(seconds=60),
            decided_by=item.operator or "PS SMITH",
        )
    request = RequestView(
        id=item.id,
        state=item.state,
        officer=officer,
        location=None,
        created_at=item.created_at,
        claimed_at=item.created_at + timedelta(seconds=4),
        connected_at=item.created_at + timedelta(seconds=5),
        decided_at=item.created_at + timedelta(seconds=60),
        ended_at=item.created_at + timedelta(seconds=80),
        holder=item.operator,
        holder_id=item.operator_id,
        lease_expires_at=None,
        device_left=False,
        decision=decision,
        end_reason=None,
    )
    actions = ["request.created", "request.claimed", "request.connected", "request.decided"]
    audit = [
        AuditEntryView(
            id=item.id * 10 + number,
            at=item.created_at + timedelta(seconds=number * 5),
            actor="device" if number == 0 else (item.operator or "hub"),
            action=action,
            request_id=item.id,
            detail={"reference": item.reference} if action == "request.decided" else {},
        )
        for number, action in enumerate(actions)
    ]
    shots = [
        SnapshotView(
            id=item.id * 100 + number,
            request_id=item.id,
            taken_at=item.created_at + timedelta(seconds=30 + number),
            taken_by=item.operator or "PS SMITH",
            url=f"/api/v1/snapshots/{item.id * 100 + number}",
        )
        for number in range(snapshots)
    ]
    return RequestDetail(request=request, audit=audit, snapshots=shots)


class FakeHistoryPort:
    """`HistoryPort` over `items`, with knobs to hold, fail and count calls."""

    def __init__(
        self,
        items: list[HistoryItem],
        role: Role = Role.SUPERVISOR,
        *,
        operators: list[OperatorSummary] | None = None,
        officers: list[OfficerSummary] | None = None,
    ) -> None:
        self.items = items
        self.role = role
        #: The hub's directory; None answers 404, as a hub older than the directory does.
        self.operator_directory = operators
        self.officer_directory = officers
        #: While set, every directory read raises it (a hub that cannot answer now).
        self.fail_next_directory: UserFacingError | None = None
        #: While set, directory reads wait for this event before answering.
        self.directory_gate: asyncio.Event | None = None
        #: "operators" / "officers", one per directory read.
        self.directory_calls: list[str] = []
        self.page_calls: list[tuple[dict[str, str], str | None, int]] = []
        self.detail_calls: list[int] = []
        self.image_calls: list[int] = []
        #: While set, `page()` waits for this event before answering (to hold a page in flight).
        self.page_gate: asyncio.Event | None = None
        #: Raised by the next `page()` call, then cleared.
        self.fail_next_page: UserFacingError | None = None
        self.export_error: UserFacingError | None = None
        self.export_gate: asyncio.Event | None = None
        self.stats_result = HistoryStats(
            calls=12,
            by_outcome={"confirmed": 8, "refused": 2, "expired": 1, "cancelled": 1},
            median_answer_seconds=6.5,
            p90_answer_seconds=11.0,
            share_answered_within_10s=0.83,
        )
        self.stats_calls: list[dict[str, str]] = []

    async def whoami(self) -> OperatorView:
        if self.role is Role.SERGEANT:
            return OperatorView(
                id=1, username="smith", display_name="SMITH", rank="PS", role=Role.SERGEANT
            )
        return OperatorView(
            id=3, username="patel", display_name="PATEL", rank="Insp", role=self.role
        )

    def matching(self, params: dict[str, str]) -> list[HistoryItem]:
        rows = list(self.items)
        if "outcome" in params:
            wanted = params["outcome"]
            rows = [r for r in rows if r.outcome is not None and r.outcome.value == wanted]
        if "state" in params:
            rows = [r for r in rows if r.state.value == params["state"]]
        if "operator_id" in params:
            rows = [r for r in rows if r.operator_id == int(params["operator_id"])]
        if "officer_id" in params:
            rows = [r for r in rows if r.officer_id == int(params["officer_id"])]
        if "reference" in params:
            rows = [r for r in rows if r.reference == params["reference"]]
        if self.role is Role.SERGEANT:
            rows = [r for r in rows if r.operator_id == 1]
        rows.sort(key=lambda r: (r.created_at, r.id), reverse=params.get("sort") != "oldest")
        return rows

    async def page(self, params: dict[str, str], cursor: str | None, limit: int) -> HistoryPage:
        self.page_calls.append((dict(params), cursor, limit))
        if self.page_gate is not None:
            await self.page_gate.wait()
        if self.fail_next_page is not None:
            error, self.fail_next_page = self.fail_next_page, None
            raise error
        rows = self.matching(params)
        start = int(cursor) if cursor else 0
        end = start + limit
        return HistoryPage(items=rows[start:end], next_cursor=str(end) if end < len(rows) else None)

    async def count(self, params: dict[str, str]) -> int | None:
        return len(self.matching(params))

    async def stats(self, params: dict[str, str]) -> HistoryStats:
        self.stats_calls.append(dict(params))
        return self.stats_result

    async def detail(self, request_id: int) -> RequestDetail:
        self.detail_calls.append(request_id)
        item = next(item for item in self.items if item.id == request_id)
        return make_detail(item)

    async def snapshot_image(self, snapshot_id: int) -> bytes:
        self.image_calls.append(snapshot_id)
        return png_bytes()

    async def _directory[T](self, what: str, entries: list[T] | None) -> list[T]:
        self.directory_calls.append(what)
        if self.directory_gate is not None:
            await self.directory_gate.wait()
        if self.fail_next_directory is not None:
            raise self.fail_next_directory
        if entries is None:
            raise NotFoundError("Not Found", code="not_found")
        return list(entries)

    async def operators(self) -> list[OperatorSummary]:
        if self.role is Role.SERGEANT:  # as the hub: supervisors and admins only
            self.directory_calls.append("operators")
            raise PermissionDeniedError("This needs the supervisor or admin role", code="forbidden")
        return await self._directory("operators", self.operator_directory)

    async def officers(self) -> list[OfficerSummary]:
        return await self._directory("officers", self.officer_directory)

    async def export_csv(
        self, params: dict[str, str], destination: Path, on_rows: Callable[[int], None]
    ) -> int:
        if self.export_error is not None:
            raise self.export_error
        rows = self.matching(params)
        partial = destination.with_name(destination.name + ".part")
        try:
            with partial.open("w", encoding="utf-8") as sink:
                sink.write("id,reference\n")
                for number, row in enumerate(rows, start=1):
                    sink.write(f"{row.id},{row.reference or ''}\n")
                    if number == len(rows) // 2:
                        on_rows(number)
                        if self.export_gate is not None:
                            await self.export_gate.wait()
            partial.replace(destination)
        finally:
            partial.unlink(missing_ok=True)
        on_rows(len(rows))
        return len(rows)


async def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `condition` on the running (qasync) loop until true; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)
