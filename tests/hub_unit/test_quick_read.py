"""`Database.quick_read_one`: the raw-cursor fast path returns what SQLAlchemy would return."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Select, bindparam, select

from hub.service import _CLAIM_STATE, _OPERATOR_BY_TOKEN, HubService, utcnow
from hub.storage.models import Device, OperatorSession, VerificationRequest
from protocol.schemas import RequestState


def _through_sqlalchemy(service: HubService, statement: Select[Any], params: dict[str, Any]) -> Any:
    with service.db.read_connection() as connection:
        return connection.execute(statement, params).first()


def test_a_token_row_matches_sqlalchemy_including_aware_datetimes(service: HubService) -> None:
    service.login("smith", "smith-demo")
    with service.db.read() as session:
        digest = session.scalars(select(OperatorSession.token_hash)).one()
    fast = service.db.quick_read_one(_OPERATOR_BY_TOKEN, {"digest": digest})
    slow = _through_sqlalchemy(service, _OPERATOR_BY_TOKEN, {"digest": digest})
    assert fast is not None
    assert tuple(fast) == tuple(slow)
    assert fast._fields == tuple(slow._fields)
    assert fast.expires_at.tzinfo is not None  # the column's own type processor ran
    assert fast.username == "smith"


def test_no_row_is_none(service: HubService) -> None:
    assert service.db.quick_read_one(_OPERATOR_BY_TOKEN, {"digest": "no-such-digest"}) is None
    assert service.db.quick_read_one(_CLAIM_STATE, {"request_id": 10**9}) is None


def test_a_write_is_seen_by_the_next_read(service: HubService) -> None:
    """Autocommit: the cached connection never holds an old snapshot between reads."""
    with service.db.write() as session:
        device = session.scalars(select(Device)).first()
        assert device is not None
        request = VerificationRequest(
            state=RequestState.QUEUED.value,
            officer_id=device.officer_id,
            device_id=device.id,
            sdp_offer="v=0",
            created_at=utcnow(),
            queued_at=utcnow(),
            device_left=False,
        )
        session.add(request)
        session.flush()
        request_id = request.id
    assert service.db.quick_read_one(_CLAIM_STATE, {"request_id": request_id}).state == "queued"
    with service.db.write() as session:
        session.get(VerificationRequest, request_id).state = RequestState.CANCELLED.value
    seen = service.db.quick_read_one(_CLAIM_STATE, {"request_id": request_id})
    assert seen.state == "cancelled"


def test_an_expanding_in_list_falls_back_to_sqlalchemy(service: HubService) -> None:
    statement = select(OperatorSession.id).where(
        OperatorSession.token_hash.in_(bindparam("digests", expanding=True))
    )
    assert service.db.quick_read_one(statement, {"digests": ["a", "b"]}) is None


def test_each_thread_reads_on_its_own_connection(service: HubService) -> None:
    service.login("jones", "jones-demo")
    with service.db.read() as session:
        digest = session.scalars(select(OperatorSession.token_hash)).one()
    seen: list[str] = []

    def read() -> None:
        row = service.db.quick_read_one(_OPERATOR_BY_TOKEN, {"digest": digest})
        seen.append(row.username)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["jones"] * 4
