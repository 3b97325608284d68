"""`Statements`: prebuilt statements compiled once and run on the DBAPI connection (SQLite) give
exactly what SQLAlchemy gives, inside the same transaction; anything else falls back to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import StatementError

from hub import audit
from hub.service import (
    _ACTIVE_OF_DEVICE,
    _CLAIM_IF_QUEUED,
    _CLAIM_STATE,
    _INSERT_EVENT,
    _INSERT_REQUEST,
    _OFFER_OF,
    _REQUEST_ROW,
    _UPDATE_REQUEST,
    HubService,
    utcnow,
)
from hub.storage.models import Device, VerificationRequest
from hub.storage.statements import Statements
from hub.views import _CALL_SIGN_OF, _DECISION_OF, _OFFICER_CARD, _QUEUED_AHEAD, _REQUESTS_SINCE
from protocol.schemas import RequestState


@contextmanager
def _transaction(service: HubService, compiled: bool) -> Iterator[Statements]:
    """A write transaction whose statements take the direct path (`compiled`) or SQLAlchemy's."""
    with service.db.engine.connect() as connection, connection.begin():
        cache = service.db.compiled_statements if compiled else None
        yield Statements(connection, cache)


def _device(service: HubService) -> Any:
    with service.db.read() as session:
        device = session.scalars(select(Device).order_by(Device.id)).first()
        assert device is not None
        return device


def _new_request(sql: Statements, device: Any) -> int:
    now = utcnow()
    return sql.insert(
        _INSERT_REQUEST,
        {
            "state": RequestState.QUEUED.value,
            "officer_id": device.officer_id,
            "device_id": device.id,
            "location": {"lat": 51.5, "lon": -0.12, "accuracy_m": 8.0},
            "sdp_offer": "v=0",
            "created_at": now,
            "queued_at": now,
            "device_left": False,
        },
    )


@pytest.mark.parametrize("compiled", [True, False], ids=["direct", "sqlalchemy"])
def test_a_request_written_and_read_back_matches_the_orm(
    service: HubService, compiled: bool
) -> None:
    device = _device(service)
    with _transaction(service, compiled) as sql:
        request_id = _new_request(sql, device)
        row = sql.first(_REQUEST_ROW, {"request_id": request_id})
        assert sql.scalar(_ACTIVE_OF_DEVICE, {"device_id": device.id}) == request_id
    with service.db.read() as session:
        orm = session.get(VerificationRequest, request_id)
        assert orm is not None
        for name in row._fields:
            assert getattr(row, name) == getattr(orm, name), name
    assert row.location == {"lat": 51.5, "lon": -0.12, "accuracy_m": 8.0}  # JSON decoded
    assert row.created_at.tzinfo is not None  # the UTC column's own processor ran
    assert row.device_left is False  # a bool, not SQLite's 0


@pytest.mark.parametrize("compiled", [True, False], ids=["direct", "sqlalchemy"])
def test_an_update_sets_exactly_the_columns_given(service: HubService, compiled: bool) -> None:
    device = _device(service)
    ended = utcnow() + timedelta(seconds=5)
    with _transaction(service, compiled) as sql:
        request_id = _new_request(sql, device)
        changed = sql.execute(
            _UPDATE_REQUEST,
            {"request_id": request_id, "state": RequestState.CANCELLED.value, "ended_at": ended},
        )
        missed = sql.execute(_UPDATE_REQUEST, {"request_id": 10**9, "device_left": True})
        row = sql.first(_REQUEST_ROW, {"request_id": request_id})
    assert (changed, missed) == (1, 0)
    assert row.state == RequestState.CANCELLED.value
    assert row.ended_at == ended
    assert row.location is not None  # untouched columns
    assert row.device_left is False


def test_direct_statements_run_in_the_sqlalchemy_transaction(service: HubService) -> None:
    """A rollback undoes what the direct path wrote: it is the same transaction."""
    device = _device(service)
    written: list[int] = []

    def write_then_fail() -> None:
        with _transaction(service, compiled=True) as sql:
            written.append(_new_request(sql, device))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        write_then_fail()
    (request_id,) = written
    with service.db.read() as session:
        assert session.get(VerificationRequest, request_id) is None


def test_every_hot_statement_takes_the_direct_path(service: HubService) -> None:
    """A statement that silently fell back to SQLAlchemy would cost the hub ~0.1 ms per use."""
    cache = service.db.compiled_statements
    assert cache is not None
    request_keys = dict.fromkeys(
        (
            "state",
            "officer_id",
            "device_id",
            "location",
            "sdp_offer",
            "created_at",
            "queued_at",
            "device_left",
        )
    )
    hot: list[tuple[Any, dict[str, Any] | None]] = [
        (_ACTIVE_OF_DEVICE, None),
        (_REQUEST_ROW, None),
        (_INSERT_REQUEST, request_keys),
        (_UPDATE_REQUEST, dict.fromkeys(("request_id", "state", "ended_at", "holder_id"))),
        (_INSERT_EVENT, dict.fromkeys(("type", "request_id", "payload", "created_at"))),
        (
            _CLAIM_IF_QUEUED,
            dict.fromkeys(
                (
                    "request_id",
                    "queued",
                    "state",
                    "holder_id",
                    "last_holder_id",
                    "claimed_at",
                    "sdp_answer",
                    "lease_expires_at",
                    "first_claimed_at",
                    "wait_seconds",
                )
            ),
        ),
        (_CLAIM_STATE, None),
        (_OFFER_OF, None),
        (audit._LOCK_HEAD, None),
        (
            audit._INSERT_ENTRY,
            dict.fromkeys(
                ("seq", "at", "actor", "action", "request_id", "detail", "prev_hash", "hash")
            ),
        ),
        (audit._MOVE_HEAD, dict.fromkeys(("new_seq", "new_hash"))),
        (_OFFICER_CARD, None),
        (_QUEUED_AHEAD, None),
        (_REQUESTS_SINCE, None),
        (_CALL_SIGN_OF, None),
        (_DECISION_OF, None),
    ]
    slow = [str(statement) for statement, keys in hot if cache.get(statement, keys) is None]
    assert slow == []


def test_an_insert_that_needs_a_python_default_is_left_to_sqlalchemy(
    service: HubService,
) -> None:
    """`device_left` has a Python-side default: only SQLAlchemy knows to fill it in."""
    device = _device(service)
    statement = insert(VerificationRequest)
    keys = {"state", "officer_id", "device_id", "sdp_offer", "created_at", "queued_at"}
    cache = service.db.compiled_statements
    assert cache is not None
    assert cache.get(statement, dict.fromkeys(keys)) is None
    now = utcnow()
    with _transaction(service, compiled=True) as sql:
        request_id = sql.insert(
            statement,
            {
                "state": RequestState.QUEUED.value,
                "officer_id": device.officer_id,
                "device_id": device.id,
                "sdp_offer": "v=0",
                "created_at": now,
                "queued_at": now,
            },
        )
        assert sql.first(_REQUEST_ROW, {"request_id": request_id}).device_left is False


def test_an_unlabelled_aggregate_is_read_by_position(service: HubService) -> None:
    device = _device(service)
    with _transaction(service, compiled=True) as sql:
        _new_request(sql, device)
        since = utcnow() - timedelta(hours=1)
        count = sql.scalar(_REQUESTS_SINCE, {"officer_id": device.officer_id, "since": since})
    assert count == 1


@pytest.mark.parametrize("compiled", [True, False], ids=["direct", "sqlalchemy"])
def test_a_missing_parameter_is_an_error_not_a_null(service: HubService, compiled: bool) -> None:
    device = _device(service)
    with _transaction(service, compiled) as sql:
        request_id = _new_request(sql, device)
        with pytest.raises((KeyError, StatementError)):
            sql.execute(_UPDATE_REQUEST, {"state": RequestState.CANCELLED.value})
        assert sql.first(_REQUEST_ROW, {"request_id": request_id}).state == "queued"
