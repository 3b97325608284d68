"""ORM tables of the hub (SQLAlchemy 2 declarative). Portable: SQLite by default, PostgreSQL by URL.

The Alembic migration `db/migrations/versions/0001_initial.py` creates exactly these tables; keep
them in step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (portable), always handed back as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so Alembic names constraints predictably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Officer(Base):
    """A police officer on record, with the photo on file."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    collar_number: Mapped[str] = mapped_column(String(16), unique=True)
    warrant_number: Mapped[str] = mapped_column(String(32), unique=True)
    rank: Mapped[str] = mapped_column(String(16))
    surname: Mapped[str] = mapped_column(String(80))
    forenames: Mapped[str] = mapped_column(String(120))
    force: Mapped[str] = mapped_column(String(120))
    station: Mapped[str] = mapped_column(String(120))
    warrant_status: Mapped[str] = mapped_column(String(20))
    on_duty: Mapped[bool] = mapped_column(Boolean)
    plain_clothes_authorised: Mapped[bool] = mapped_column(Boolean)
    alerts: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    photo_mime: Mapped[str | None] = mapped_column(String(32))
    photo_taken_on: Mapped[datetime | None]


class Operator(Base):
    """A control-room account (sergeant, supervisor, admin) with its Argon2 hash."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    rank: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class OperatorSession(Base):
    """A signed-in operator token (stored as SHA-256 only)."""

    __tablename__ = "operator_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Device(Base):
    """An officer's enrolled device; its token is stored as SHA-256 only."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None]


class EnrolmentCode(Base):
    """A one-time code that enrols a device for an officer."""

    __tablename__ = "enrolment_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class VerificationRequest(Base):
    """One verification call and every step's time."""

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_created_at_id", "created_at", "id"),
        Index("ix_requests_state_created_at", "state", "created_at"),
        Index("ix_requests_state_lease_expires_at", "state", "lease_expires_at"),
        Index("ix_requests_officer_id_created_at", "officer_id", "created_at"),
        Index("ix_requests_last_holder_id_created_at", "last_holder_id", "created_at"),
        Index("ix_requests_device_id_state", "device_id", "state"),
        Index("ix_requests_wait_seconds", "wait_seconds"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(16))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    location: Mapped[dict[str, Any] | None]
    sdp_offer: Mapped[str] = mapped_column(Text, deferred=True)
    sdp_answer: Mapped[str | None] = mapped_column(Text, deferred=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    # Who held it last (kept after a release): history shows sergeants the calls they handled.
    last_holder_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # When it (re-)entered the queue: expiry counts from here, so a released call gets a fresh wait.
    queued_at: Mapped[datetime]
    first_claimed_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    connected_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # queued → first claim, stored so that stats need no date arithmetic in SQL.
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    device_left: Mapped[bool] = mapped_column(Boolean, default=False)
    end_reason: Mapped[str | None] = mapped_column(String(500))


class Decision(Base):
    """A sergeant's decision on a request, with its public reference."""

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("request_id", "idempotency_key", name="uq_decisions_request_id_key"),
        Index("ix_decisions_outcome_reason", "outcome", "reason_code"),
        Index("ix_decisions_operator_id", "operator_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str] = mapped_column(Text, default="")
    checklist: Mapped[dict[str, Any]]
    override_reason: Mapped[str | None] = mapped_column(String(500))
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    body_hash: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime]


class Snapshot(Base):
    """A still taken from the live video during a call."""

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    mime: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    taken_at: Mapped[datetime]


class Event(Base):
    """A committed change, streamed to consoles and devices (ids are the SSE cursor)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """One link of the tamper-evident audit chain."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row (id=1): the chain's last seq and hash. Updating it serialises appends everywhere."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
