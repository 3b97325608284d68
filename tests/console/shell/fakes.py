"""Hand-written fakes and builders for shell unit tests (no MagicMock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.domain.errors import AuthenticationError
from protocol import (
    ConsoleEvent,
    HubConfig,
    LoginResult,
    OfficerView,
    OperatorView,
    RequestState,
    RequestView,
    Role,
    WarrantStatus,
)

T0 = datetime(2026, 11, 29, 9, 0, 0, tzinfo=UTC)


def officer(collar: str = "1001CW", warrant: WarrantStatus = WarrantStatus.VALID) -> OfficerView:
    return OfficerView(
        id=int(collar[:4]),
        collar_number=collar,
        warrant_number=f"W{collar}",
        rank="PC",
        surname="Walker",
        forenames="Chris",
        force="Met",
        station="Camden",
        warrant_status=warrant,
        on_duty=True,
        plain_clothes_authorised=True,
        alerts="",
        photo_taken_on=None,
        photo_url=None,
    )


def request_view(
    request_id: int,
    state: RequestState = RequestState.QUEUED,
    *,
    age_seconds: float = 0.0,
    holder: str | None = None,
    holder_id: int | None = None,
    collar: str = "1001CW",
    warrant: WarrantStatus = WarrantStatus.VALID,
) -> RequestView:
    return RequestView(
        id=request_id,
        state=state,
        officer=officer(collar, warrant),
        location=None,
        created_at=T0 - timedelta(seconds=age_seconds),
        claimed_at=None,
        connected_at=None,
        decided_at=None,
        ended_at=None,
        holder=holder,
        holder_id=holder_id,
        lease_expires_at=None,
        device_left=False,
        decision=None,
        end_reason=None,
    )


def event(event_id: int, view: RequestView, kind: str = "request.created") -> ConsoleEvent:
    return ConsoleEvent(id=event_id, type=kind, at=T0, request=view)  # type: ignore[arg-type]


class FakeSnapshotPort:
    """`QueueSnapshotPort` returning a settable list; counts calls."""

    def __init__(self, views: list[RequestView] | None = None) -> None:
        self.views = views or []
        self.calls = 0

    async def active_requests(self) -> list[RequestView]:
        self.calls += 1
        return list(self.views)


class RecordingListener:
    """`QueueListener` that records what happened, in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, object]] = []

    def queue_reset(self, entries):
        self.log.append(("reset", [e.request_id for e in entries]))

    def entry_added(self, entry):
        self.log.append(("added", entry.request_id))

    def entry_updated(self, entry):
        self.log.append(("updated", (entry.request_id, entry.taken_by)))

    def entry_removed(self, request_id):
        self.log.append(("removed", request_id))


SMITH = OperatorView(id=1, username="smith", display_name="Smith", rank="PS", role=Role.SERGEANT)


class FakeSessionPort:
    """`SessionPort` with one account; counts logins."""

    def __init__(self, password: str = "right") -> None:
        self.password = password
        self.logins = 0
        self.renewals = 0
        self.logged_out = False
        self.forgotten = False

    async def login(self, username: str, password: str) -> LoginResult:
        self.logins += 1
        if username != "smith" or password != self.password:
            raise AuthenticationError("Wrong username or password.", code="unauthorized")
        return LoginResult(token="op_fake", expires_at=T0 + timedelta(hours=12), operator=SMITH)

    async def renew(self, username: str, password: str) -> LoginResult:
        result = await self.login(username, password)
        self.renewals += 1
        return result

    async def logout(self) -> None:
        self.logged_out = True

    async def forget_token(self) -> None:
        self.forgotten = True

    async def config(self) -> HubConfig:
        return HubConfig(
            ice_servers=[],
            lease_seconds=15,
            expire_after_seconds=120,
            heartbeat_seconds=10,
            server_time=T0,
        )
