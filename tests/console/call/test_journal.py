"""The SQLite decision journal on a real file: durable across a restart, delivered exactly once."""

from __future__ import annotations

from pathlib import Path

from console.adapters.journal import SqliteDecisionJournal
from console.services.decision import DecisionDelivery, DeliveryStatus
from protocol import ChecklistItem, DecisionBody, Outcome, ReasonCode

from .fakes import FakeCallApi, FakeClock, settle

BODY = DecisionBody(
    outcome=Outcome.REFUSED,
    reason_code=ReasonCode.OTHER,
    notes="Two men, one phone",
    checklist={ChecklistItem.FACE_MATCHES_PHOTO: True},
)


def test_entries_round_trip_through_the_file(tmp_path: Path) -> None:
    journal = SqliteDecisionJournal(tmp_path / "j.sqlite3")
    journal.record("k1", 5, BODY, operator_id=3)
    journal.note_attempt("k1", "hub_unreachable")
    journal.close()

    reopened = SqliteDecisionJournal(tmp_path / "j.sqlite3")
    entry = reopened.get("k1")
    assert entry is not None
    assert entry.body == BODY
    assert entry.attempts == 1
    assert entry.operator_id == 3
    assert entry.last_error == "hub_unreachable"
    assert entry.created_at.tzinfo is not None
    assert [e.key for e in reopened.pending()] == ["k1"]
    reopened.mark_delivered("k1", "SC-AAAA-BB")
    assert reopened.pending() == []
    assert reopened.get("k1").status == DeliveryStatus.DELIVERED
    reopened.close()


async def test_pending_decision_survives_a_restart_and_is_delivered_once(tmp_path: Path) -> None:
    path = tmp_path / "data" / "console-journal.sqlite3"
    api = FakeCallApi(reachable=False)

    # First run: the hub is down when the sergeant decides; then the console is closed.
    first_clock = FakeClock()
    first = DecisionDelivery(api, SqliteDecisionJournal(path), first_clock)
    submitted = await first.submit(41, BODY, operator_id=1)
    assert not submitted.delivered
    await first_clock.advance(3)
    await first.close()
    attempts_before_restart = api.count("decide")
    assert attempts_before_restart >= 2

    # Second run: a new journal object on the same file, the hub is back.
    api.reachable = True
    journal = SqliteDecisionJournal(path)
    [entry] = journal.pending()
    assert entry.key == submitted.key
    clock = FakeClock()
    second = DecisionDelivery(api, journal, clock)
    assert second.resume_pending(operator_id=2) == 0  # another sergeant signed in: not theirs
    assert second.resume_pending(operator_id=1) == 1
    await clock.advance(1)
    await settle()

    keys = [arg for name, arg in api.calls if name == "decide"]
    assert set(keys) == {submitted.key}
    assert len(api.decisions) == 1
    assert journal.pending() == []
    assert journal.get(submitted.key).reference == "SC-TEST-01"

    # A third start finds nothing to send.
    third = DecisionDelivery(api, SqliteDecisionJournal(path), FakeClock())
    assert third.resume_pending() == 0
    await second.close()
