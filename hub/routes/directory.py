"""Directory reads for the History filter pickers: operators who answer calls, and officers."""

from __future__ import annotations

from fastapi import APIRouter

from hub.directory import officer_directory, operator_directory
from hub.routes.deps import CallerDep, Responses, ServiceDep
from hub.service import READING_ROLES
from protocol.schemas import API_PREFIX, ErrorBody, OfficerSummary, OperatorSummary

router = APIRouter(prefix=API_PREFIX, tags=["directory"])
ERRORS: Responses = {code: {"model": ErrorBody} for code in (401, 403)}


# Plain `def` routes: FastAPI runs them in the thread pool, so a list of ~100 rows never holds
# the event loop, whatever the database.
@router.get("/operators", response_model=list[OperatorSummary], responses=ERRORS)
def operators(caller: CallerDep, service: ServiceDep) -> list[OperatorSummary]:
    """Every sergeant and supervisor account, inactive ones included (supervisor, admin)."""
    # A sergeant sees only his own history, so he has no use for the list of operators.
    caller.require_operator(*READING_ROLES)
    with service.db.read() as session:
        return operator_directory(session)


@router.get("/officers", response_model=list[OfficerSummary], responses=ERRORS)
def officers(caller: CallerDep, service: ServiceDep) -> list[OfficerSummary]:
    """Every officer on record, as a small summary (operators)."""
    caller.require_operator()
    with service.db.read() as session:
        return officer_directory(session)
