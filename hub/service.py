"""The hub's use cases: authentication, the request lifecycle, snapshots, events from the database.

Called from FastAPI's sync endpoints (in the thread pool). Every state change goes through
`hub.lifecycle.next_state`, and writes the new state, an event row and an audit entry in ONE
transaction; committed events are then published to the in-memory bus in commit order.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NoReturn

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from hub import audit
from hub.errors import (
    AccountLockedError,
    AlreadyActiveError,
    ClaimConflictError,
    ForbiddenError,
    IdempotencyMismatchError,
    IllegalTransitionError,
    InvalidRequestError,
    NotFoundError,
    NotHolderError,
    UnauthorizedError,
)
from hub.event_bus import BusEvent, EventBus
from hub.lifecycle import Action, IllegalTransition, next_state
from hub.references import new_reference
from hub.security import (
    DEVICE_TOKEN_PREFIX,
    OPERATOR_TOKEN_PREFIX,
    Passwords,
    new_operator_token,
    token_hash,
)
from hub.settings import HubSettings
from hub.storage.database import Database
from hub.storage.models import (
    AuditEntry,
    Decision,
    Device,
    Event,
    Officer,
    Operator,
    OperatorSession,
    Snapshot,
    VerificationRequest,
)
from hub.views import (
    call_sign,
    call_sign_of,
    device_request_view,
    find_decision,
    officer_view,
    operator_view,
    request_view,
    snapshot_view,
)
from protocol.schemas import (
    ACTIVE_STATES,
    REFUSAL_REASONS,
    AuditEntryView,
    ClaimResult,
    CreateRequestBody,
    DecisionBody,
    DeviceRequestView,
    HubConfig,
    LoginResult,
    OfficerView,
    OperatorView,
    Outcome,
    ReasonCode,
    RequestDetail,
    RequestState,
    RequestView,
    Role,
    SnapshotView,
)

log = logging.getLogger(__name__)

HUB_ACTOR = "hub"
MAX_IDEMPOTENCY_KEY_CHARS = 100
REAPER_BATCH = 200
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_ACTIVE_VALUES = [s.value for s in ACTIVE_STATES]


# Statements on the hottest paths, built once: constructing a select and computing its cache key
# costs ~0.25 ms of CPU, several times what SQLite needs to answer it (docs/performance.md).
_OPERATOR_BY_TOKEN = (
    select(
        OperatorSession.expires_at,
        Operator.id,
        Operator.username,
        Operator.role,
        Operator.rank,
        Operator.display_name,
        Operator.active,
        Operator.locked,
    )
    .join(Operator, Operator.id == OperatorSession.operator_id)
    .where(OperatorSession.token_hash == bindparam("digest"))
)
_DEVICE_BY_TOKEN = select(Device.id, Device.revoked, Device.officer_id).where(
    Device.token_hash == bindparam("digest")
)
_INSERT_EVENT = insert(Event)
# `state = a OR state = b ...` rather than IN: an IN list is rendered per call, which would take
# the statement off the compiled-once path (hub/storage/statements.py).
_ACTIVE_OF_DEVICE = (
    select(VerificationRequest.id)
    .where(
        VerificationRequest.device_id == bindparam("device_id"),
        or_(*(VerificationRequest.state == value for value in _ACTIVE_VALUES)),
    )
    .limit(1)
)
_REQUEST = select(VerificationRequest).where(VerificationRequest.id == bindparam("request_id"))
_REQUEST_FOR_UPDATE = _REQUEST.with_for_update()
_REQUESTS = VerificationRequest.__table__
# A request as a Core row for the views (every column but the offer, which no view shows).
_REQUEST_ROW = (
    select(*(column for column in _REQUESTS.c if column.key != "sdp_offer"))
    .where(_REQUESTS.c.id == bindparam("request_id"))
    .with_for_update()
)
_OFFER_OF = select(VerificationRequest.sdp_offer).where(
    VerificationRequest.id == bindparam("request_id")
)
_INSERT_REQUEST = insert(VerificationRequest)
# SET columns are the keys of the parameters given, as in SQLAlchemy's own executemany style.
_UPDATE_REQUEST = update(VerificationRequest).where(
    VerificationRequest.id == bindparam("request_id")
)
_CLAIM_IF_QUEUED = update(VerificationRequest).where(
    VerificationRequest.id == bindparam("request_id"),
    VerificationRequest.state == bindparam("queued"),
)
_CLAIM_STATE = (
    select(VerificationRequest.state, Operator.rank, Operator.display_name)
    .outerjoin(Operator, Operator.id == VerificationRequest.holder_id)
    .where(VerificationRequest.id == bindparam("request_id"))
)


def utcnow() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)


def iso_z(moment: datetime) -> str:
    """ISO 8601 with a `Z`, like pydantic renders datetimes."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def encode_sse(event_id: int, event_type: str, data: dict[str, Any]) -> bytes:
    """One server-sent event, ready for the socket."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event_id}\nevent: {event_type}\ndata: {body}\n\n".encode()


def bus_event(
    event_id: int,
    event_type: str,
    request_id: int | None,
    created_at: datetime,
    console_payload: dict[str, Any],
    device_payload: dict[str, Any],
) -> BusEvent:
    """An event's SSE messages for consoles and for the device, encoded once for every reader."""
    at = iso_z(created_at)
    console = {"id": event_id, "type": event_type, "at": at, "request": console_payload}
    device = {"id": event_id, "type": event_type, "at": at, "request": device_payload}
    return BusEvent(
        id=event_id,
        type=event_type,
        request_id=request_id,
        console_sse=encode_sse(event_id, event_type, console),
        device_sse=encode_sse(event_id, event_type, device),
    )


def bus_event_from_row(event: Event) -> BusEvent:
    """Rebuild an event's SSE messages from its stored payload (for cursors older than the ring)."""
    return bus_event(
        event.id,
        event.type,
        event.request_id,
        event.created_at,
        event.payload["request"],
        event.payload["device"],
    )


@dataclass(frozen=True)
class Caller:
    """Who is calling: an operator (with role) or a device (bound to one officer)."""

    kind: Literal["operator", "device"]
    id: int
    actor: str
    token_hash: str
    role: Role | None = None
    call_sign: str | None = None
    officer_id: int | None = None

    def require_operator(self, *roles: Role) -> None:
        """403 unless an operator (with one of `roles`, if given)."""
        if self.kind != "operator":
            raise ForbiddenError("This needs an operator account, not a device")
        if roles and self.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise ForbiddenError(f"This needs the {allowed} role")

    def require_device(self) -> None:
        """403 unless an enrolled device."""
        if self.kind != "device":
            raise ForbiddenError("This is for an officer's enrolled device only")


ANSWERING_ROLES = (Role.SERGEANT, Role.SUPERVISOR)
READING_ROLES = (Role.SUPERVISOR, Role.ADMIN)


class _Unit:
    """One write transaction: its connection, prebuilt statements (`sql`), an ORM session made on
    first use and joined to the same transaction, and the events to publish after commit.

    The hottest use cases (a device calling in and hanging up) never make the session: the ORM's
    unit of work cost more CPU than everything else in them (docs/performance.md, Hub).
    """

    def __init__(self, db: Database, connection: Connection) -> None:
        self.connection = connection
        self.bus_events: list[BusEvent] = []
        self._session: Session | None = None
        self.sql = db.statements(connection, before=self.flush)

    @property
    def session(self) -> Session:
        """The ORM session of this transaction (pending changes are flushed before any `sql`)."""
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False)
        return self._session

    def flush(self) -> None:
        """Write the session's pending changes (a no-op when there are none)."""
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        """Release the session (the transaction itself is the connection's)."""
        if self._session is not None:
            self._session.close()


class HubService:
    """All use cases over one database and one event bus."""

    def __init__(
        self, settings: HubSettings, db: Database, bus: EventBus, passwords: Passwords
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.passwords = passwords

    # ------------------------------------------------------------------ units of work

    @contextmanager
    def write(self) -> Iterator[_Unit]:
        """A write transaction; its events are published once it has committed."""
        with self.db.write_locked():
            with self.db.engine.connect() as connection:
                unit = _Unit(self.db, connection)
                try:
                    with connection.begin():
                        yield unit
                        unit.flush()
                finally:
                    unit.close()
            # Still under the writer lock: the bus receives events in commit (= id) order.
            self.bus.publish_threadsafe(unit.bus_events)

    def emit(
        self,
        unit: _Unit,
        request: Any,
        event_type: str,
        actor: str,
        action: str,
        detail: dict[str, Any] | None = None,
    ) -> tuple[RequestView, DeviceRequestView]:
        """Record an event + audit entry for `request`'s new state, in the unit's transaction.

        `request` is an ORM object or a Core row (`_REQUEST_ROW`) holding the new state. Returns
        the views it built, so callers need not build them again.
        """
        sql = unit.sql
        now = utcnow()
        audit.append(sql, at=now, actor=actor, action=action, request_id=request.id, detail=detail)
        decision = find_decision(sql, request)
        console_view = request_view(sql, request, decision)
        device_view = device_request_view(sql, request, self.settings.ice_servers, decision)
        console_payload = console_view.model_dump(mode="json")
        device_payload = device_view.model_dump(mode="json")
        # The id comes back with the insert, and the SSE bytes are built from the payload in
        # hand instead of a re-read row.
        event_id = sql.insert(
            _INSERT_EVENT,
            {
                "type": event_type,
                "request_id": request.id,
                "payload": {"request": console_payload, "device": device_payload},
                "created_at": now,
            },
        )
        unit.bus_events.append(
            bus_event(event_id, event_type, request.id, now, console_payload, device_payload)
        )
        log.info("request %d %s (state %s) by %s", request.id, event_type, request.state, actor)
        return console_view, device_view

    # ------------------------------------------------------------------ authentication

    def login(self, username: str, password: str) -> LoginResult:
        """Check the password; lock the account after `max_failed_logins` failures."""
        failure: Exception | None = None
        result: LoginResult | None = None
        # Argon2 costs ~0.1 s by design: run it before taking the writer lock, under which one
        # sign-in would stall every claim and create for as long. The row is re-read under the
        # lock; if its hash changed in between, the password is checked again there.
        with self.db.read() as session:
            seen = session.execute(
                select(Operator.password_hash, Operator.active, Operator.locked).where(
                    Operator.username == username
                )
            ).first()
        seen_hash = seen.password_hash if seen is not None else None
        password_ok = False
        if seen is None or (not seen.locked and not seen.active):
            self.passwords.verify(None, password)  # same cost as a wrong password
        elif not seen.locked:
            password_ok = self.passwords.verify(seen_hash, password)
        with self.write() as unit:
            session = unit.session
            operator = session.scalar(select(Operator).where(Operator.username == username))
            now = utcnow()
            if operator is not None and operator.locked:
                failure = AccountLockedError(
                    "This account is locked after too many failed sign-ins. Ask an administrator."
                )
            elif operator is None or not operator.active:
                failure = UnauthorizedError("Wrong username or password")
            elif not (
                password_ok
                if operator.password_hash == seen_hash
                else self.passwords.verify(operator.password_hash, password)
            ):
                operator.failed_logins += 1
                if operator.failed_logins >= self.settings.max_failed_logins:
                    operator.locked = True
                    audit.append(
                        unit.sql,
                        at=now,
                        actor=f"operator:{username}",
                        action="account_locked",
                        request_id=None,
                        detail={"failed_logins": operator.failed_logins},
                    )
                    log.warning(
                        "operator %s locked after %d failed sign-ins",
                        username,
                        operator.failed_logins,
                    )
                    failure = AccountLockedError(
                        "Too many failed sign-ins: this account is now locked. "
                        "Ask an administrator."
                    )
                else:
                    failure = UnauthorizedError("Wrong username or password")
            else:
                operator.failed_logins = 0
                token = new_operator_token()
                expires = now + timedelta(hours=self.settings.token_ttl_hours)
                session.add(
                    OperatorSession(
                        operator_id=operator.id,
                        token_hash=token_hash(token),
                        created_at=now,
                        expires_at=expires,
                    )
                )
                audit.append(
                    unit.sql, at=now, actor=f"operator:{username}", action="login", request_id=None
                )
                result = LoginResult(
                    token=token, expires_at=expires, operator=operator_view(operator)
                )
        if failure is not None:
            raise failure
        assert result is not None
        log.info("operator %s signed in", username)
        return result

    def logout(self, caller: Caller) -> None:
        """Revoke the caller's operator token."""
        caller.require_operator()
        with self.write() as unit:
            unit.session.execute(
                delete(OperatorSession).where(OperatorSession.token_hash == caller.token_hash)
            )
            audit.append(
                unit.sql, at=utcnow(), actor=caller.actor, action="logout", request_id=None
            )

    def authenticate(self, token: str | None) -> Caller:
        """Bearer token → Caller, or 401."""
        if not token:
            raise UnauthorizedError("Sign in first (Authorization: Bearer <token>)")
        digest = token_hash(token)
        # Prebuilt statements on the thread's own connection (Database.quick_read_one): every
        # API call authenticates, so this lookup is the hub's most frequent query.
        if token.startswith(OPERATOR_TOKEN_PREFIX):
            row = self.db.quick_read_one(_OPERATOR_BY_TOKEN, {"digest": digest})
            if row is None:
                raise UnauthorizedError("Your session is not valid; sign in again")
            if row.expires_at <= utcnow():
                raise UnauthorizedError("Your session has expired; sign in again")
            if not row.active or row.locked:
                raise UnauthorizedError("This account is disabled or locked")
            return Caller(
                kind="operator",
                id=row.id,
                actor=f"operator:{row.username}",
                token_hash=digest,
                role=Role(row.role),
                call_sign=call_sign_of(row.rank, row.display_name),
            )
        if token.startswith(DEVICE_TOKEN_PREFIX):
            device = self.db.quick_read_one(_DEVICE_BY_TOKEN, {"digest": digest})
            if device is None:
                raise UnauthorizedError("This device is not enrolled")
            if device.revoked:
                raise UnauthorizedError(
                    "This device has been revoked. Ask an administrator to enrol it again."
                )
            return Caller(
                kind="device",
                id=device.id,
                actor=f"device:{device.id}",
                token_hash=digest,
                officer_id=device.officer_id,
            )
        raise UnauthorizedError("Unknown kind of token")

    def me(self, caller: Caller) -> OperatorView:
        """The signed-in operator."""
        caller.require_operator()
        with self.db.read() as session:
            operator = session.get(Operator, caller.id)
            assert operator is not None
            return operator_view(operator)

    def config(self) -> HubConfig:
        """What clients need to behave consistently (ICE servers, times)."""
        s = self.settings
        return HubConfig(
            ice_servers=s.ice_servers,
            lease_seconds=s.lease_seconds,
            expire_after_seconds=s.expire_after_seconds,
            heartbeat_seconds=s.heartbeat_seconds,
            server_time=utcnow(),
        )

    # ------------------------------------------------------------------ device side

    def create_request(self, caller: Caller, body: CreateRequestBody) -> DeviceRequestView:
        """A device calls in: queue a new request for its bound officer."""
        caller.require_device()
        with self.write() as unit:
            # Prebuilt Core statements only, no ORM session (see `_Unit`).
            sql = unit.sql
            active = sql.scalar(_ACTIVE_OF_DEVICE, {"device_id": caller.id})
            if active is not None:
                raise AlreadyActiveError(
                    f"This device already has an active request ({active}); hang it up first"
                )
            now = utcnow()
            assert caller.officer_id is not None
            request_id = sql.insert(
                _INSERT_REQUEST,
                {
                    "state": RequestState.QUEUED.value,
                    "officer_id": caller.officer_id,
                    "device_id": caller.id,
                    "location": body.location.model_dump(mode="json") if body.location else None,
                    "sdp_offer": body.sdp_offer,
                    "created_at": now,
                    "queued_at": now,
                    "device_left": False,
                },
            )
            request = sql.first(_REQUEST_ROW, {"request_id": request_id})
            detail = {"officer_id": caller.officer_id, "device_id": caller.id}
            _, device_view = self.emit(
                unit, request, "request.created", caller.actor, "create", detail
            )
            return device_view

    def _device_request(
        self, session: Session, caller: Caller, request_id: int, for_update: bool = False
    ) -> VerificationRequest:
        caller.require_device()
        query = _REQUEST_FOR_UPDATE if for_update else _REQUEST
        return _own_request(caller, request_id, session.scalar(query, {"request_id": request_id}))

    def device_request(self, caller: Caller, request_id: int) -> DeviceRequestView:
        """The device's view of its own request."""
        with self.db.read() as session:
            request = self._device_request(session, caller, request_id)
            return device_request_view(
                self.db.session_statements(session), request, self.settings.ice_servers
            )

    def check_device_request(self, caller: Caller, request_id: int) -> None:
        """404/403 unless `request_id` is the calling device's own request."""
        with self.db.read() as session:
            self._device_request(session, caller, request_id)

    def replace_offer(self, caller: Caller, request_id: int, sdp_offer: str) -> DeviceRequestView:
        """The device re-offers while queued (after a release its old peer connection is spent)."""
        with self.write() as unit:
            request = self._device_request(unit.session, caller, request_id, for_update=True)
            if request.state != RequestState.QUEUED:
                raise IllegalTransitionError(
                    f"A new offer is only accepted while queued (request is {request.state})"
                )
            request.sdp_offer = sdp_offer
            audit.append(
                unit.sql, at=utcnow(), actor=caller.actor, action="offer", request_id=request.id
            )
            return device_request_view(unit.sql, request, self.settings.ice_servers)

    def hangup(self, caller: Caller, request_id: int) -> DeviceRequestView:
        """The device hangs up: cancel, mark device_left, or end, depending on the state."""
        caller.require_device()
        with self.write() as unit:
            # Prebuilt Core statements only, no ORM session (see `_Unit`).
            sql = unit.sql
            request = _own_request(
                caller, request_id, sql.first(_REQUEST_ROW, {"request_id": request_id})
            )
            state = self._next(request, Action.HANGUP)
            now = utcnow()
            if state is RequestState.CANCELLED:
                changes = _finish_values(request, state, now, "officer hung up before a decision")
                event = "request.cancelled"
            elif state is RequestState.CONNECTED:
                if request.device_left:  # hung up twice: nothing changes
                    return device_request_view(sql, request, self.settings.ice_servers)
                changes = {"device_left": True}
                event = "request.device_left"
            else:
                changes = _finish_values(request, state, now, "officer hung up after the decision")
                event = "request.ended"
            sql.execute(_UPDATE_REQUEST, {"request_id": request.id, **changes})
            request = sql.first(_REQUEST_ROW, {"request_id": request.id})
            _, device_view = self.emit(unit, request, event, caller.actor, "hangup")
            return device_view

    def device_officer(self, caller: Caller) -> OfficerView:
        """The device's own officer record."""
        caller.require_device()
        with self.db.read() as session:
            officer = session.get(Officer, caller.officer_id)
            if officer is None:
                raise NotFoundError("The officer of this device no longer exists")
            return officer_view(self.db.session_statements(session), officer)

    # ------------------------------------------------------------------ operator side

    @staticmethod
    def _next(request: Any, action: Action) -> RequestState:
        try:
            return next_state(RequestState(request.state), action, device_left=request.device_left)
        except IllegalTransition as exc:
            raise IllegalTransitionError(str(exc)) from None

    @staticmethod
    def _finish(
        request: VerificationRequest, state: RequestState, now: datetime, reason: str | None
    ) -> None:
        for name, value in _finish_values(request, state, now, reason).items():
            setattr(request, name, value)

    def _held(
        self, unit: _Unit, caller: Caller, request_id: int, action: Action
    ) -> tuple[VerificationRequest, RequestState]:
        """Load a request the caller must hold, and the state `action` leads to."""
        caller.require_operator(*ANSWERING_ROLES)
        request = unit.session.scalar(
            select(VerificationRequest)
            .where(VerificationRequest.id == request_id)
            .with_for_update()
        )
        if request is None:
            raise NotFoundError(f"No request {request_id}")
        if request.holder_id is not None and request.holder_id != caller.id:
            holder = unit.session.get(Operator, request.holder_id)
            raise NotHolderError(
                f"{call_sign(holder) if holder else 'Someone else'} holds this request",
                holder=call_sign(holder) if holder else None,
            )
        target = self._next(request, action)
        if request.holder_id is None:
            raise IllegalTransitionError(
                f"Cannot {action.value} a request that is {request.state}: claim it first"
            )
        return request, target

    def active_requests(self, caller: Caller) -> list[RequestView]:
        """Every non-terminal request, oldest first."""
        caller.require_operator()
        with self.db.read() as session:
            rows = session.scalars(
                select(VerificationRequest)
                .where(VerificationRequest.state.in_(_ACTIVE_VALUES))
                .order_by(VerificationRequest.created_at, VerificationRequest.id)
            ).all()
            sql = self.db.session_statements(session)
            return [request_view(sql, r) for r in rows]

    def request_detail(self, caller: Caller, request_id: int) -> RequestDetail:
        """A request with its audit timeline and snapshots (sergeants: active or own)."""
        caller.require_operator()
        with self.db.read() as session:
            request = session.get(VerificationRequest, request_id)
            if request is None:
                raise NotFoundError(f"No request {request_id}")
            if (
                caller.role is Role.SERGEANT
                and request.state not in _ACTIVE_VALUES
                and request.last_holder_id != caller.id
            ):
                raise ForbiddenError("Sergeants can only open the calls they handled")
            entries = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.request_id == request_id)
                .order_by(AuditEntry.seq)
            ).all()
            snaps = session.scalars(
                select(Snapshot).where(Snapshot.request_id == request_id).order_by(Snapshot.id)
            ).all()
            sql = self.db.session_statements(session)
            return RequestDetail(
                request=request_view(sql, request),
                audit=[
                    AuditEntryView(
                        id=e.id,
                        at=e.at,
                        actor=e.actor,
                        action=e.action,
                        request_id=e.request_id,
                        detail=e.detail,
                    )
                    for e in entries
                ],
                snapshots=[snapshot_view(sql, s) for s in snaps],
            )

    def claim(self, caller: Caller, request_id: int) -> ClaimResult:
        """queued → claimed with ONE conditional UPDATE; the loser learns who won."""
        self.check_claimable(caller, request_id)
        return self.claim_checked(caller, request_id)

    def check_claimable(self, caller: Caller, request_id: int) -> None:
        """Raise what a claim would raise if the request is already taken (a read, no lock).

        In a 50-way race, 49 losers are answered from this read and never queue for the writer
        lock; `claim_checked`'s conditional UPDATE still decides between racers that pass it.
        """
        caller.require_operator(*ANSWERING_ROLES)
        # One prebuilt Core query (state + holder's call sign), no ORM objects.
        seen = self.db.quick_read_one(_CLAIM_STATE, {"request_id": request_id})
        if seen is None:
            raise NotFoundError(f"No request {request_id}")
        if seen.state != RequestState.QUEUED.value:
            _raise_not_claimable(seen)

    def claim_checked(self, caller: Caller, request_id: int) -> ClaimResult:
        """The write half of `claim` (call `check_claimable` first)."""
        caller.require_operator(*ANSWERING_ROLES)
        with self.write() as unit:
            # Prebuilt Core statements only, no ORM session (see `_Unit`): in a race, every
            # loser waits while the winner's claim is written.
            sql = unit.sql
            request = sql.first(_REQUEST_ROW, {"request_id": request_id})
            if request is None:
                raise NotFoundError(f"No request {request_id}")
            now = utcnow()
            wait = max(0.0, (now - request.queued_at).total_seconds())
            values: dict[str, Any] = {
                "state": RequestState.CLAIMED.value,
                "holder_id": caller.id,
                "last_holder_id": caller.id,
                "claimed_at": now,
                "sdp_answer": None,
                "lease_expires_at": now + timedelta(seconds=self.settings.lease_seconds),
            }
            if request.first_claimed_at is None:
                values["first_claimed_at"] = now
                values["wait_seconds"] = max(0.0, (now - request.created_at).total_seconds())
            # Conditional: only a request still queued is claimed, whoever else is racing.
            claimed = sql.execute(
                _CLAIM_IF_QUEUED,
                {"request_id": request_id, "queued": RequestState.QUEUED.value, **values},
            )
            if claimed != 1:
                _raise_not_claimable(sql.first(_CLAIM_STATE, {"request_id": request_id}))
            request = sql.first(_REQUEST_ROW, {"request_id": request_id})
            view, _ = self.emit(
                unit,
                request,
                "request.claimed",
                caller.actor,
                "claim",
                {"wait_seconds": round(wait, 3)},
            )
            offer = sql.scalar(_OFFER_OF, {"request_id": request_id})
            assert offer is not None  # NOT NULL column
            return ClaimResult(
                request=view,
                sdp_offer=offer,
                ice_servers=self.settings.ice_servers,
            )

    def renew_lease(self, caller: Caller, request_id: int) -> RequestView:
        """The holder keeps the claim for another lease period (no event)."""
        with self.write() as unit:
            request, _ = self._held(unit, caller, request_id, Action.RENEW_LEASE)
            request.lease_expires_at = utcnow() + timedelta(seconds=self.settings.lease_seconds)
            return request_view(unit.sql, request)

    def answer(self, caller: Caller, request_id: int, sdp_answer: str) -> RequestView:
        """Store the holder's SDP answer and relay it to the device (`request.answered`)."""
        with self.write() as unit:
            request, _ = self._held(unit, caller, request_id, Action.ANSWER)
            request.sdp_answer = sdp_answer
            request.answered_at = utcnow()
            view, _ = self.emit(unit, request, "request.answered", caller.actor, "answer")
            return view

    def connected(self, caller: Caller, request_id: int) -> RequestView:
        """claimed → connected: media is flowing."""
        with self.write() as unit:
            request, target = self._held(unit, caller, request_id, Action.CONNECT)
            request.state = target.value
            request.connected_at = utcnow()
            view, _ = self.emit(unit, request, "request.connected", caller.actor, "connected")
            return view

    def release(self, caller: Caller, request_id: int) -> RequestView:
        """The holder gives the request back to the queue (failed if the device left)."""
        with self.write() as unit:
            request, target = self._held(unit, caller, request_id, Action.RELEASE)
            self._requeue_or_fail(
                unit,
                request,
                target,
                caller.actor,
                "release",
                "released by the operator after the device left",
            )
            return request_view(unit.sql, request)

    def _requeue_or_fail(
        self,
        unit: _Unit,
        request: VerificationRequest,
        target: RequestState,
        actor: str,
        action: str,
        fail_reason: str,
    ) -> None:
        now = utcnow()
        if target is RequestState.QUEUED:
            request.state = target.value
            request.holder_id = None
            request.lease_expires_at = None
            request.sdp_answer = None
            request.claimed_at = None
            request.connected_at = None
            request.answered_at = None
            request.queued_at = now
            self.emit(unit, request, "request.released", actor, action)
        elif target is RequestState.ENDED:
            self._finish(request, target, now, "the console went away after deciding")
            self.emit(unit, request, "request.ended", actor, action)
        else:
            self._finish(request, target, now, fail_reason)
            self.emit(unit, request, "request.failed", actor, action)

    def fail(self, caller: Caller, request_id: int, detail: str) -> RequestView:
        """claimed/connected → failed, with the holder's reason."""
        with self.write() as unit:
            request, target = self._held(unit, caller, request_id, Action.FAIL)
            self._finish(request, target, utcnow(), detail or "call failed")
            view, _ = self.emit(
                unit, request, "request.failed", caller.actor, "fail", {"detail": detail}
            )
            return view

    def end(self, caller: Caller, request_id: int) -> RequestView:
        """decided → ended: the sergeant hangs up after deciding."""
        with self.write() as unit:
            request, target = self._held(unit, caller, request_id, Action.END)
            self._finish(request, target, utcnow(), "operator ended the call")
            view, _ = self.emit(unit, request, "request.ended", caller.actor, "end")
            return view

    def decide(
        self, caller: Caller, request_id: int, body: DecisionBody, idempotency_key: str | None
    ) -> RequestView:
        """Record the decision (idempotent by key), push outcome + reference to the device."""
        caller.require_operator(*ANSWERING_ROLES)
        key = (idempotency_key or "").strip()
        if not key:
            raise InvalidRequestError("The Idempotency-Key header is required for a decision")
        if len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
            raise InvalidRequestError(
                f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_CHARS} characters"
            )
        _check_reason(body)
        body_hash = hashlib.sha256(
            json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
        ).hexdigest()
        with self.write() as unit:
            session = unit.session
            existing = session.scalar(select(Decision).where(Decision.request_id == request_id))
            if existing is not None and existing.idempotency_key == key:
                if existing.body_hash != body_hash:
                    raise IdempotencyMismatchError(
                        "This Idempotency-Key was used with a different decision"
                    )
                if existing.operator_id != caller.id:
                    raise NotHolderError("Another operator decided this request")
                request = session.get(VerificationRequest, request_id)
                assert request is not None
                return request_view(unit.sql, request)  # replay: same result, nothing written
            request, target = self._held(unit, caller, request_id, Action.DECIDE)
            now = utcnow()
            reference = self._unique_reference(session)
            session.add(
                Decision(
                    request_id=request.id,
                    operator_id=caller.id,
                    outcome=body.outcome.value,
                    reason_code=body.reason_code.value,
                    notes=body.notes,
                    checklist={k.value: v for k, v in body.checklist.items()},
                    override_reason=body.override_reason,
                    reference=reference,
                    idempotency_key=key,
                    body_hash=body_hash,
                    decided_at=now,
                )
            )
            request.state = target.value
            request.decided_at = now
            self.emit(
                unit,
                request,
                "request.decided",
                caller.actor,
                "decide",
                {
                    "outcome": body.outcome.value,
                    "reason_code": body.reason_code.value,
                    "reference": reference,
                    "override_reason": body.override_reason,
                },
            )
            if request.device_left:
                self._finish(
                    request,
                    self._next(request, Action.END),
                    now,
                    "officer had left before the decision",
                )
                self.emit(unit, request, "request.ended", HUB_ACTOR, "end")
            return request_view(unit.sql, request)

    @staticmethod
    def _unique_reference(session: Session) -> str:
        for _ in range(20):
            reference = new_reference()
            if session.scalar(select(Decision.id).where(Decision.reference == reference)) is None:
                return reference
        raise RuntimeError("could not find a free reference")  # 2^30 space: practically never

    # ------------------------------------------------------------------ snapshots, officers

    def add_snapshot(self, caller: Caller, request_id: int, data: bytes) -> SnapshotView:
        """Store a still from the live video (JPEG/PNG checked by magic bytes)."""
        mime = image_mime(data)
        with self.write() as unit:
            request, _ = self._held(unit, caller, request_id, Action.SNAPSHOT)
            snap = Snapshot(
                request_id=request.id,
                operator_id=caller.id,
                mime=mime,
                data=data,
                taken_at=utcnow(),
            )
            unit.session.add(snap)
            unit.session.flush()
            self.emit(
                unit,
                request,
                "request.snapshot",
                caller.actor,
                "snapshot",
                {"snapshot_id": snap.id, "bytes": len(data)},
            )
            return snapshot_view(unit.sql, snap)

    def snapshot_image(self, caller: Caller, snapshot_id: int) -> tuple[bytes, str]:
        """A snapshot's bytes and media type (operators)."""
        caller.require_operator()
        with self.db.read() as session:
            snap = session.get(Snapshot, snapshot_id)
            if snap is None:
                raise NotFoundError(f"No snapshot {snapshot_id}")
            return snap.data, snap.mime

    def officer(self, caller: Caller, officer_id: int) -> OfficerView:
        """An officer record (operators)."""
        caller.require_operator()
        with self.db.read() as session:
            officer = session.get(Officer, officer_id)
            if officer is None:
                raise NotFoundError(f"No officer {officer_id}")
            return officer_view(self.db.session_statements(session), officer)

    def officer_photo(self, caller: Caller, officer_id: int | None = None) -> tuple[bytes, str]:
        """The photo on file: any officer's for operators, its own officer's for a device."""
        if caller.kind == "device":
            officer_id = caller.officer_id
        else:
            caller.require_operator()
        with self.db.read() as session:
            officer = session.get(Officer, officer_id)
            if officer is None or officer.photo is None or officer.photo_mime is None:
                raise NotFoundError("No photo on file for this officer")
            return officer.photo, officer.photo_mime

    # ------------------------------------------------------------------ hub housekeeping

    def reap(self) -> int:
        """Expire old queued requests and take back lapsed leases; returns how many changed."""
        now = utcnow()
        expire_before = now - timedelta(seconds=self.settings.expire_after_seconds)
        with self.db.read() as session:
            stale = session.scalars(
                select(VerificationRequest.id)
                .where(
                    VerificationRequest.state == RequestState.QUEUED.value,
                    VerificationRequest.queued_at <= expire_before,
                )
                .limit(REAPER_BATCH)
            ).all()
            lapsed = session.scalars(
                select(VerificationRequest.id)
                .where(
                    VerificationRequest.state.in_(
                        [
                            RequestState.CLAIMED.value,
                            RequestState.CONNECTED.value,
                            RequestState.DECIDED.value,
                        ]
                    ),
                    VerificationRequest.lease_expires_at <= now,
                )
                .limit(REAPER_BATCH)
            ).all()
        if not stale and not lapsed:
            return 0  # the common case costs two indexed reads and no write lock
        changed = 0
        with self.write() as unit:
            session = unit.session
            for request_id in stale:
                request = session.get(VerificationRequest, request_id)
                if request is None or request.state != RequestState.QUEUED.value:
                    continue
                if request.queued_at > expire_before:
                    continue
                self._finish(
                    request,
                    RequestState.EXPIRED,
                    now,
                    f"nobody answered within {self.settings.expire_after_seconds:.0f} s",
                )
                self.emit(unit, request, "request.expired", HUB_ACTOR, "expire")
                changed += 1
            for request_id in lapsed:
                request = session.get(VerificationRequest, request_id)
                if (
                    request is None
                    or request.lease_expires_at is None
                    or request.lease_expires_at > now
                    or request.state
                    not in (
                        RequestState.CLAIMED.value,
                        RequestState.CONNECTED.value,
                        RequestState.DECIDED.value,
                    )
                ):
                    continue
                target = self._next(request, Action.LEASE_LOST)
                self._requeue_or_fail(
                    unit,
                    request,
                    target,
                    HUB_ACTOR,
                    "lease_lost",
                    "the operator's lease lapsed after the device left",
                )
                changed += 1
        return changed

    def events_from_db(
        self, cursor: int, limit: int = 1000, request_id: int | None = None
    ) -> list[BusEvent]:
        """Committed events with id > cursor, oldest first (for cursors the ring has dropped)."""
        query = select(Event).where(Event.id > cursor)
        if request_id is not None:
            query = query.where(Event.request_id == request_id)
        with self.db.read() as session:
            rows = session.scalars(query.order_by(Event.id).limit(limit)).all()
            return [bus_event_from_row(row) for row in rows]

    def first_event_cursor(self, request_id: int) -> int:
        """The cursor just before a request's first event (a device stream replays it all)."""
        with self.db.read() as session:
            first = session.scalar(
                select(Event.id).where(Event.request_id == request_id).order_by(Event.id).limit(1)
            )
        return int(first) - 1 if first is not None else self.bus.last_id

    def last_event_id(self) -> int:
        """The newest stored event id (0 when there is none)."""
        with self.db.read() as session:
            return int(session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) or 0)


def _raise_not_claimable(seen: Any) -> NoReturn:
    """409 for a `_CLAIM_STATE` row that is not queued: `claim_conflict` naming the holder, or
    `illegal_transition` if nobody holds it."""
    if seen.rank is not None:
        name = call_sign_of(seen.rank, seen.display_name)
        raise ClaimConflictError(f"{name} has already answered this call", holder=name)
    raise IllegalTransitionError(f"Cannot claim a request that is {seen.state}")


def _own_request(caller: Caller, request_id: int, request: Any | None) -> Any:
    """`request` if it is the calling device's own; another device's is reported as missing
    (devices learn nothing about others)."""
    if request is None or request.device_id != caller.id:
        raise NotFoundError(f"No request {request_id} for this device")
    return request


def _finish_values(
    request: Any, state: RequestState, now: datetime, reason: str | None
) -> dict[str, Any]:
    """The columns that end `request` in the terminal `state`."""
    values: dict[str, Any] = {
        "state": state.value,
        "ended_at": now,
        "holder_id": None,
        "lease_expires_at": None,
    }
    if reason and request.end_reason is None:
        values["end_reason"] = reason
    return values


def _check_reason(body: DecisionBody) -> None:
    """Reason must fit the outcome; `other` needs notes."""
    if body.outcome is Outcome.CONFIRMED and body.reason_code is not ReasonCode.IDENTITY_CONFIRMED:
        raise InvalidRequestError("A confirmation must use the reason 'identity_confirmed'")
    if body.outcome is Outcome.REFUSED and body.reason_code not in REFUSAL_REASONS:
        raise InvalidRequestError("A refusal needs a refusal reason, not 'identity_confirmed'")
    if body.reason_code is ReasonCode.OTHER and not body.notes.strip():
        raise InvalidRequestError("The reason 'other' needs notes saying why")


def image_mime(data: bytes) -> str:
    """'image/jpeg' or 'image/png' by magic bytes; 422 for anything else."""
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if data.startswith(PNG_MAGIC):
        return "image/png"
    raise InvalidRequestError("A snapshot must be a JPEG or PNG image")
