"""The audit hash chain and `safe-connection-hub verify-audit`: intact chains pass, any edit,
deletion or reordering is found and named."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, text, update

from hub import audit
from hub.cli import main as hub_cli
from hub.storage.database import Database
from hub.storage.migrate import upgrade_to_head
from hub.storage.models import AuditEntry, AuditHead

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    upgrade_to_head(database.engine)
    yield database
    database.dispose()


def _append_many(db: Database, count: int) -> None:
    for n in range(count):
        with db.write() as session:
            audit.append(
                db.session_statements(session),
                at=T0 + timedelta(seconds=n),
                actor=f"operator:u{n % 3}",
                action="claim" if n % 2 else "create",
                request_id=None,
                detail={"n": n, "note": "café ✓"},
            )


def _verify(db: Database) -> audit.ChainReport:
    with db.read() as session:
        return audit.verify_chain(session, batch=3)  # small batches: exercise the paging


def test_an_untouched_chain_verifies(db: Database) -> None:
    _append_many(db, 10)
    report = _verify(db)
    assert report.ok, report.problem
    assert report.entries == 10


def test_an_empty_chain_verifies(db: Database) -> None:
    report = _verify(db)
    assert report.ok
    assert report.entries == 0


def test_entries_link_to_their_predecessor(db: Database) -> None:
    _append_many(db, 4)
    with db.read() as session:
        entries = session.query(AuditEntry).order_by(AuditEntry.seq).all()
    assert entries[0].prev_hash == audit.GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in entries}) == 4


def test_an_edited_detail_is_detected(db: Database) -> None:
    _append_many(db, 6)
    with db.write() as session:
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == 4)
            .values(detail={"n": 999, "note": "café ✓"})
        )
    report = _verify(db)
    assert not report.ok
    assert "seq 4" in (report.problem or "")
    assert report.entries == 3


def test_an_edited_actor_is_detected(db: Database) -> None:
    _append_many(db, 3)
    with db.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="hub"))
    report = _verify(db)
    assert not report.ok
    assert "seq 2" in (report.problem or "")


def test_a_deleted_entry_is_detected(db: Database) -> None:
    _append_many(db, 5)
    with db.write() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    report = _verify(db)
    assert not report.ok
    assert "missing" in (report.problem or "")


def test_a_deleted_tail_is_detected_through_the_head(db: Database) -> None:
    _append_many(db, 5)
    with db.write() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    report = _verify(db)
    assert not report.ok
    assert "head" in (report.problem or "")


def test_a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link(db: Database) -> None:
    _append_many(db, 4)
    with db.write() as session:
        entry = session.query(AuditEntry).filter_by(seq=2).one()
        forged = audit.entry_hash(
            entry.prev_hash, 2, entry.at, entry.actor, entry.action, entry.request_id, {"n": 42}
        )
        session.execute(
            update(AuditEntry).where(AuditEntry.seq == 2).values(detail={"n": 42}, hash=forged)
        )
    report = _verify(db)
    assert not report.ok
    assert "seq 3" in (report.problem or "")


def test_hash_depends_on_every_field() -> None:
    base = ("0" * 64, 1, T0, "hub", "expire", 7, {"a": 1})
    reference = audit.entry_hash(*base)
    variants = [
        ("1" * 64, 1, T0, "hub", "expire", 7, {"a": 1}),
        ("0" * 64, 2, T0, "hub", "expire", 7, {"a": 1}),
        ("0" * 64, 1, T0 + timedelta(microseconds=1), "hub", "expire", 7, {"a": 1}),
        ("0" * 64, 1, T0, "hub2", "expire", 7, {"a": 1}),
        ("0" * 64, 1, T0, "hub", "claim", 7, {"a": 1}),
        ("0" * 64, 1, T0, "hub", "expire", 8, {"a": 1}),
        ("0" * 64, 1, T0, "hub", "expire", 7, {"a": 2}),
    ]
    for variant in variants:
        assert audit.entry_hash(*variant) != reference, variant


def test_verify_audit_cli_reports_ok(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    _append_many(db, 3)
    assert hub_cli(["verify-audit", "--db", db.url]) == 0
    assert "OK" in capsys.readouterr().out


def test_verify_audit_cli_fails_on_tampering(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _append_many(db, 3)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET action = 'decide' WHERE seq = 2"))
    assert hub_cli(["verify-audit", "--db", db.url]) == 1
    out = capsys.readouterr().out
    assert "BROKEN" in out
    assert "seq 2" in out


def test_head_row_tracks_the_last_entry(db: Database) -> None:
    _append_many(db, 3)
    with db.read() as session:
        head = session.get(AuditHead, 1)
        last = session.query(AuditEntry).filter_by(seq=3).one()
        assert head is not None
        assert (head.seq, head.hash) == (3, last.hash)
