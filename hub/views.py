"""Stored rows → protocol views. Pure functions of prebuilt reads (`Statements`); no writes.

The rows may be ORM objects or Core rows of the same table: only attributes named like the
columns are read.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select

from hub.storage.models import Decision, Officer, Operator, VerificationRequest
from hub.storage.statements import Statements
from protocol.schemas import (
    API_PREFIX,
    REASON_LABELS,
    ChecklistItem,
    DecisionView,
    DeviceRequestView,
    IceServer,
    Location,
    OfficerView,
    OperatorView,
    Outcome,
    ReasonCode,
    RequestState,
    RequestView,
    Role,
    SnapshotView,
    WarrantStatus,
)


def call_sign(operator: Operator) -> str:
    """'PS Smith': how an operator is named to others."""
    return call_sign_of(operator.rank, operator.display_name)


def call_sign_of(rank: str, display_name: str) -> str:
    """`call_sign` from the two columns (for Core queries that do not load an Operator)."""
    return f"{rank} {display_name}".strip()


def operator_view(operator: Operator) -> OperatorView:
    """An operator account as the API shows it (no secrets)."""
    return OperatorView(
        id=operator.id,
        username=operator.username,
        display_name=operator.display_name,
        rank=operator.rank,
        role=Role(operator.role),
    )


# Built once (with bind parameters): these run for every event, and building a select and its
# cache key costs several times what SQLite needs to answer it.
_REQUESTS_SINCE = select(func.count(VerificationRequest.id)).where(
    VerificationRequest.officer_id == bindparam("officer_id"),
    VerificationRequest.created_at >= bindparam("since"),
)
_QUEUED_AHEAD = select(func.count(VerificationRequest.id)).where(
    VerificationRequest.state == RequestState.QUEUED.value,
    or_(
        VerificationRequest.created_at < bindparam("created_at"),
        and_(
            VerificationRequest.created_at == bindparam("created_at"),
            VerificationRequest.id < bindparam("request_id"),
        ),
    ),
)
_DECISION_OF = select(*Decision.__table__.c).where(Decision.request_id == bindparam("request_id"))
# An officer's card and today's count in one Core query (no photo, no ORM identity map): it is
# part of every event a request produces.
_TODAY_OF_OFFICER = (
    select(func.count(VerificationRequest.id))
    .where(
        VerificationRequest.officer_id == Officer.id,
        VerificationRequest.created_at >= bindparam("since"),
    )
    .correlate(Officer)
    .scalar_subquery()
)
_OFFICER_CARD = select(
    Officer.id,
    Officer.collar_number,
    Officer.warrant_number,
    Officer.rank,
    Officer.surname,
    Officer.forenames,
    Officer.force,
    Officer.station,
    Officer.warrant_status,
    Officer.on_duty,
    Officer.plain_clothes_authorised,
    Officer.alerts,
    Officer.photo_taken_on,
    Officer.photo_mime,
    _TODAY_OF_OFFICER.label("verifications_today"),
).where(Officer.id == bindparam("officer_id"))
_CALL_SIGN_OF = select(Operator.rank, Operator.display_name).where(
    Operator.id == bindparam("operator_id")
)


def _call_sign_by_id(sql: Statements, operator_id: int | None) -> str | None:
    if operator_id is None:
        return None
    row = sql.first(_CALL_SIGN_OF, {"operator_id": operator_id})
    return call_sign_of(row.rank, row.display_name) if row is not None else None


def _start_of_today() -> datetime:
    return datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)


def officer_view(sql: Statements, officer: Officer) -> OfficerView:
    """An officer record, with how many verification requests he made today (UTC)."""
    today = sql.scalar(_REQUESTS_SINCE, {"officer_id": officer.id, "since": _start_of_today()})
    return _officer_view_of(officer, int(today or 0))


def officer_view_by_id(sql: Statements, officer_id: int) -> OfficerView | None:
    """`officer_view` for an id, in one Core query; None if there is no such officer."""
    row = sql.first(_OFFICER_CARD, {"officer_id": officer_id, "since": _start_of_today()})
    return _officer_view_of(row, int(row.verifications_today or 0)) if row is not None else None


def _officer_view_of(officer: Any, verifications_today: int) -> OfficerView:
    """From an `Officer` or a row of its columns (both have the same attribute names)."""
    return OfficerView(
        id=officer.id,
        collar_number=officer.collar_number,
        warrant_number=officer.warrant_number,
        rank=officer.rank,
        surname=officer.surname,
        forenames=officer.forenames,
        force=officer.force,
        station=officer.station,
        warrant_status=WarrantStatus(officer.warrant_status),
        on_duty=officer.on_duty,
        plain_clothes_authorised=officer.plain_clothes_authorised,
        alerts=officer.alerts,
        photo_taken_on=officer.photo_taken_on,
        photo_url=f"{API_PREFIX}/officers/{officer.id}/photo" if officer.photo_mime else None,
        verifications_today=verifications_today,
    )


def decision_view(sql: Statements, decision: Any) -> DecisionView:
    """A decision (an ORM `Decision` or a row of its columns) with the decider's call sign."""
    return DecisionView(
        outcome=Outcome(decision.outcome),
        reason_code=ReasonCode(decision.reason_code),
        notes=decision.notes,
        checklist={ChecklistItem(k): bool(v) for k, v in decision.checklist.items()},
        override_reason=decision.override_reason,
        reference=decision.reference,
        decided_at=decision.decided_at,
        decided_by=_call_sign_by_id(sql, decision.operator_id) or "?",
    )


DECIDED_STATES = frozenset({RequestState.DECIDED.value, RequestState.ENDED.value})


def find_decision(sql: Statements, request: Any) -> Any | None:
    """The request's decision as a row; only decided/ended requests can have one (saves a
    query)."""
    if request.state not in DECIDED_STATES:
        return None
    return sql.first(_DECISION_OF, {"request_id": request.id})


def request_view(sql: Statements, request: Any, decision: Any | None = None) -> RequestView:
    """A request as consoles see it: officer record, holder, decision (pass `decision` if it
    is already at hand: saves the lookup)."""
    officer = officer_view_by_id(sql, request.officer_id)
    assert officer is not None  # foreign key
    if decision is None:
        decision = find_decision(sql, request)
    return RequestView(
        id=request.id,
        state=RequestState(request.state),
        officer=officer,
        location=Location.model_validate(request.location) if request.location else None,
        created_at=request.created_at,
        claimed_at=request.claimed_at,
        connected_at=request.connected_at,
        decided_at=request.decided_at,
        ended_at=request.ended_at,
        holder=_call_sign_by_id(sql, request.holder_id),
        holder_id=request.holder_id,
        lease_expires_at=request.lease_expires_at,
        device_left=request.device_left,
        decision=decision_view(sql, decision) if decision else None,
        end_reason=request.end_reason,
    )


def queue_position(sql: Statements, request: Any) -> int | None:
    """1 = next to be answered (oldest first); None when not queued."""
    if request.state != RequestState.QUEUED:
        return None
    ahead = sql.scalar(_QUEUED_AHEAD, {"created_at": request.created_at, "request_id": request.id})
    return int(ahead or 0) + 1


def device_request_view(
    sql: Statements, request: Any, ice_servers: list[IceServer], decision: Any | None = None
) -> DeviceRequestView:
    """What the officer's device may see of its own request: no other officers' data."""
    if decision is None:
        decision = find_decision(sql, request)
    answered_by: str | None = None
    if request.last_holder_id and request.state != RequestState.QUEUED:
        answered_by = _call_sign_by_id(sql, request.last_holder_id)
    reason = ReasonCode(decision.reason_code) if decision else None
    return DeviceRequestView(
        id=request.id,
        state=RequestState(request.state),
        created_at=request.created_at,
        queue_position=queue_position(sql, request),
        answered_by=answered_by,
        sdp_answer=(
            request.sdp_answer
            if request.state in (RequestState.CLAIMED, RequestState.CONNECTED)
            else None
        ),
        outcome=Outcome(decision.outcome) if decision else None,
        reason_code=reason,
        reason_label=REASON_LABELS[reason] if reason else None,
        reference=decision.reference if decision else None,
        ice_servers=ice_servers,
    )


def snapshot_view(sql: Statements, snapshot: Any) -> SnapshotView:
    """Snapshot metadata with the URL of the image."""
    return SnapshotView(
        id=snapshot.id,
        request_id=snapshot.request_id,
        taken_at=snapshot.taken_at,
        taken_by=_call_sign_by_id(sql, snapshot.operator_id) or "?",
        url=f"{API_PREFIX}/snapshots/{snapshot.id}",
    )
