"""Accounts and devices: operators, enrolment codes, device enrolment and revocation.

Used by the HTTP routes and by the `safe-connection-hub` CLI (which opens the database directly).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select, update

from hub import audit
from hub.errors import InvalidRequestError, NotFoundError, UnauthorizedError
from hub.security import (
    Passwords,
    new_device_token,
    new_enrolment_code,
    normalise_enrolment_code,
    token_hash,
)
from hub.service import utcnow
from hub.storage.database import Database
from hub.storage.models import Device, EnrolmentCode, Officer, Operator, OperatorSession
from hub.views import officer_view, operator_view
from protocol.schemas import OfficerView, OperatorView, Role

log = logging.getLogger(__name__)


def create_operator(
    db: Database,
    passwords: Passwords,
    *,
    username: str,
    password: str,
    display_name: str,
    rank: str,
    role: Role,
    actor: str = "admin-cli",
) -> OperatorView:
    """Create an operator account; 422 if the username is taken or the password too short."""
    if len(password) < 8:
        raise InvalidRequestError("The password must have at least 8 characters")
    with db.write() as session:
        if session.scalar(select(Operator.id).where(Operator.username == username)) is not None:
            raise InvalidRequestError(f"The username {username!r} is taken")
        operator = Operator(
            username=username,
            display_name=display_name,
            rank=rank,
            role=role.value,
            password_hash=passwords.hash(password),
            active=True,
            failed_logins=0,
            locked=False,
        )
        session.add(operator)
        session.flush()
        audit.append(
            db.session_statements(session),
            at=utcnow(),
            actor=actor,
            action="create_operator",
            request_id=None,
            detail={"username": username, "role": role.value},
        )
        return operator_view(operator)


def unlock_operator(db: Database, username: str, actor: str = "admin-cli") -> None:
    """Unlock an account locked after failed sign-ins."""
    with db.write() as session:
        operator = session.scalar(select(Operator).where(Operator.username == username))
        if operator is None:
            raise NotFoundError(f"No operator {username!r}")
        operator.locked = False
        operator.failed_logins = 0
        audit.append(
            db.session_statements(session),
            at=utcnow(),
            actor=actor,
            action="unlock_operator",
            request_id=None,
            detail={"username": username},
        )


def deactivate_operator(db: Database, username: str, actor: str = "admin-cli") -> None:
    """Disable an account and end its sessions."""
    with db.write() as session:
        operator = session.scalar(select(Operator).where(Operator.username == username))
        if operator is None:
            raise NotFoundError(f"No operator {username!r}")
        operator.active = False
        session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id))
        audit.append(
            db.session_statements(session),
            at=utcnow(),
            actor=actor,
            action="deactivate_operator",
            request_id=None,
            detail={"username": username},
        )


def create_enrolment_code(
    db: Database, collar_number: str, ttl_minutes: float = 10.0, actor: str = "admin-cli"
) -> str:
    """A one-time code (valid `ttl_minutes`) that enrols one device for the officer."""
    code = new_enrolment_code()
    now = utcnow()
    with db.write() as session:
        officer = session.scalar(select(Officer).where(Officer.collar_number == collar_number))
        if officer is None:
            raise NotFoundError(f"No officer with collar number {collar_number!r}")
        session.add(
            EnrolmentCode(
                officer_id=officer.id,
                code_hash=token_hash(normalise_enrolment_code(code)),
                created_at=now,
                expires_at=now + timedelta(minutes=ttl_minutes),
            )
        )
        audit.append(
            db.session_statements(session),
            at=now,
            actor=actor,
            action="enrolment_code",
            request_id=None,
            detail={"officer_id": officer.id},
        )
    return code


def enrol_device(
    db: Database, warrant_number: str, code: str, label: str = ""
) -> tuple[str, OfficerView]:
    """Exchange a one-time code + the officer's warrant number for a device token."""
    now = utcnow()
    digest = token_hash(normalise_enrolment_code(code))
    with db.write() as session:
        row = session.execute(
            select(EnrolmentCode, Officer)
            .join(Officer, Officer.id == EnrolmentCode.officer_id)
            .where(EnrolmentCode.code_hash == digest)
        ).first()
        if (
            row is None
            or row[1].warrant_number != warrant_number.strip()
            or row[0].used_at is not None
            or row[0].expires_at <= now
        ):
            raise UnauthorizedError("This enrolment code is not valid (wrong, used or expired)")
        enrolment, officer = row
        enrolment.used_at = now
        token = new_device_token()
        device = Device(
            officer_id=officer.id,
            token_hash=token_hash(token),
            label=label[:120],
            created_at=now,
            revoked=False,
        )
        session.add(device)
        session.flush()
        audit.append(
            db.session_statements(session),
            at=now,
            actor=f"device:{device.id}",
            action="enrol_device",
            request_id=None,
            detail={"officer_id": officer.id},
        )
        view = officer_view(db.session_statements(session), officer)
    log.info("device enrolled for officer %d", view.id)
    return token, view


def issue_device_token(db: Database, collar_number: str, label: str, actor: str) -> str:
    """A fresh enrolled device for the officer (demo mode and tests only)."""
    now = utcnow()
    token = new_device_token()
    with db.write() as session:
        officer = session.scalar(select(Officer).where(Officer.collar_number == collar_number))
        if officer is None:
            raise NotFoundError(f"No officer with collar number {collar_number!r}")
        device = Device(
            officer_id=officer.id,
            token_hash=token_hash(token),
            label=label,
            created_at=now,
            revoked=False,
        )
        session.add(device)
        session.flush()
        audit.append(
            db.session_statements(session),
            at=now,
            actor=actor,
            action="issue_device_token",
            request_id=None,
            detail={"officer_id": officer.id, "device_id": device.id},
        )
    return token


def revoke_devices(
    db: Database,
    *,
    device_id: int | None = None,
    collar_number: str | None = None,
    actor: str = "admin-cli",
) -> int:
    """Revoke one device, or every device of an officer; returns how many were revoked."""
    now = utcnow()
    with db.write() as session:
        query = update(Device).where(Device.revoked.is_(False))
        if device_id is not None:
            query = query.where(Device.id == device_id)
        elif collar_number is not None:
            officer_id = session.scalar(
                select(Officer.id).where(Officer.collar_number == collar_number)
            )
            if officer_id is None:
                raise NotFoundError(f"No officer with collar number {collar_number!r}")
            query = query.where(Device.officer_id == officer_id)
        else:
            raise InvalidRequestError("Say which device (id) or officer (collar number)")
        count = session.execute(query.values(revoked=True, revoked_at=now)).rowcount  # type: ignore[attr-defined]
        audit.append(
            db.session_statements(session),
            at=now,
            actor=actor,
            action="revoke_device",
            request_id=None,
            detail={"device_id": device_id, "collar_number": collar_number, "revoked": count},
        )
    return int(count)
