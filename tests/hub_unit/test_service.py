"""HubService on a real SQLite file, without HTTP: atomic transitions, the reaper, events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from hub import accounts
from hub.errors import ClaimConflictError, IllegalTransitionError, NotHolderError
from hub.service import Caller, HubService, utcnow
from hub.storage.models import AuditEntry, Event, Operator, VerificationRequest
from protocol.schemas import CreateRequestBody, DecisionBody, Outcome, ReasonCode, RequestState

OFFER = CreateRequestBody(sdp_offer="v=0 offer for a unit test")


def _operator(service: HubService, username: str) -> Caller:
    with service.db.read() as session:
        operator_id = session.scalar(select(Operator.id).where(Operator.username == username))
    token = service.login(username, f"{username}-demo").token
    caller = service.authenticate(token)
    assert caller.id == operator_id
    return caller


def _device(service: HubService, collar: str = "1001CW") -> Caller:
    return service.authenticate(accounts.issue_device_token(service.db, collar, "test", "test"))


def _counts(service: HubService) -> tuple[int, int]:
    with service.db.read() as session:
        events = session.scalar(select(func.count(Event.id)))
        entries = session.scalar(select(func.count(AuditEntry.id)))
    return int(events or 0), int(entries or 0)


def _age(service: HubService, request_id: int, **fields_in_the_past: timedelta) -> None:
    now = utcnow()
    with service.db.write() as session:
        session.execute(
            update(VerificationRequest)
            .where(VerificationRequest.id == request_id)
            .values(**{name: now - ago for name, ago in fields_in_the_past.items()})
        )


def test_each_change_writes_one_event_and_one_audit_entry(service: HubService) -> None:
    before = _counts(service)
    created = service.create_request(_device(service), OFFER)
    service.claim(_operator(service, "smith"), created.id)
    events, entries = _counts(service)
    assert events - before[0] == 2
    assert entries - before[1] >= 2  # + the sign-in and device token entries
    assert service.bus.last_id == events


def test_an_illegal_transition_changes_nothing(service: HubService) -> None:
    created = service.create_request(_device(service), OFFER)
    smith = _operator(service, "smith")
    before = _counts(service)
    with pytest.raises(IllegalTransitionError):
        service.connected(smith, created.id)  # not claimed yet
    assert _counts(service) == before


def test_second_claim_names_the_holder_and_others_cannot_act(service: HubService) -> None:
    created = service.create_request(_device(service), OFFER)
    smith, jones = _operator(service, "smith"), _operator(service, "jones")
    service.claim(smith, created.id)
    with pytest.raises(ClaimConflictError) as conflict:
        service.claim(jones, created.id)
    assert conflict.value.holder == "PS Smith"
    with pytest.raises(NotHolderError):
        service.answer(jones, created.id, "v=0 an answer from the wrong sergeant")


def test_reaper_releases_a_lapsed_claim(service: HubService) -> None:
    created = service.create_request(_device(service), OFFER)
    service.claim(_operator(service, "smith"), created.id)
    assert service.reap() == 0
    _age(service, created.id, lease_expires_at=timedelta(seconds=1))
    assert service.reap() == 1
    with service.db.read() as session:
        request = session.get(VerificationRequest, created.id)
        assert request is not None
        assert request.state == RequestState.QUEUED
        assert request.holder_id is None


def test_reaper_fails_a_lapsed_call_whose_device_left(service: HubService) -> None:
    device = _device(service)
    created = service.create_request(device, OFFER)
    smith = _operator(service, "smith")
    service.claim(smith, created.id)
    service.connected(smith, created.id)
    service.hangup(device, created.id)
    _age(service, created.id, lease_expires_at=timedelta(seconds=1))
    assert service.reap() == 1
    assert service.device_request(device, created.id).state is RequestState.FAILED


def test_reaper_expires_unanswered_requests(service: HubService) -> None:
    device = _device(service)
    created = service.create_request(device, OFFER)
    _age(service, created.id, queued_at=timedelta(seconds=service.settings.expire_after_seconds))
    assert service.reap() == 1
    assert service.device_request(device, created.id).state is RequestState.EXPIRED


def test_decision_after_the_device_left_ends_the_call(service: HubService) -> None:
    device = _device(service)
    created = service.create_request(device, OFFER)
    smith = _operator(service, "smith")
    service.claim(smith, created.id)
    service.connected(smith, created.id)
    service.hangup(device, created.id)
    body = DecisionBody(outcome=Outcome.REFUSED, reason_code=ReasonCode.OFFICER_ENDED_CALL)
    view = service.decide(smith, created.id, body, "key-1")
    assert view.state is RequestState.ENDED
    assert view.decision is not None
    assert view.decision.reference.startswith("SC-")
    seen = service.device_request(device, created.id)
    assert seen.reference == view.decision.reference
    assert seen.reason_code is ReasonCode.OFFICER_ENDED_CALL
