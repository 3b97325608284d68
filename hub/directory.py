"""The directory of people the History filters name: operators who answer calls, and officers.

Core selects of exactly the columns the summaries show, so no password hash, failed-login count,
token, photo or alert is ever read, let alone sent.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.storage.models import Officer, Operator
from hub.views import call_sign_of
from protocol.schemas import OfficerSummary, OperatorSummary, Role

#: Roles that answer calls: an admin manages accounts and never holds a call, so never filters one.
ANSWERING_ROLE_VALUES = (Role.SERGEANT.value, Role.SUPERVISOR.value)

_OPERATORS = select(
    Operator.id, Operator.display_name, Operator.rank, Operator.role, Operator.active
).where(Operator.role.in_(ANSWERING_ROLE_VALUES))

# Case-insensitive, so "de Souza" sorts among the Ds; the id makes equal names stable.
_OFFICERS = select(
    Officer.id, Officer.collar_number, Officer.rank, Officer.surname, Officer.forenames
).order_by(func.lower(Officer.surname), func.lower(Officer.forenames), Officer.id)


def operator_directory(session: Session) -> list[OperatorSummary]:
    """Every sergeant and supervisor account, active or not, sorted by call sign."""
    summaries = [
        OperatorSummary(
            id=row.id,
            display_name=row.display_name,
            rank=row.rank,
            role=Role(row.role),
            call_sign=call_sign_of(row.rank, row.display_name),
            active=bool(row.active),
        )
        for row in session.execute(_OPERATORS)
    ]
    # Sorted here rather than in SQL: the call sign is composed, and ~100 rows cost nothing.
    return sorted(summaries, key=lambda s: (s.call_sign.casefold(), s.id))


def officer_directory(session: Session) -> list[OfficerSummary]:
    """Every officer on record, sorted by surname then forenames."""
    return [
        OfficerSummary(
            id=row.id,
            collar_number=row.collar_number,
            rank=row.rank,
            surname=row.surname,
            forenames=row.forenames,
        )
        for row in session.execute(_OFFICERS)
    ]
