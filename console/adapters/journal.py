"""The console's local decision journal: a small SQLite file in the data dir (SQLAlchemy 2).

A decision is written here before it is sent to the hub and marked delivered only after the hub
acknowledged it, so a crash, a network cut or a hub restart between the two loses nothing
(see console/services/decision.py). This module owns its own tiny ORM; it is unrelated to the
hub's database. Writes are a few hundred bytes and commit in about a millisecond, so they run
directly on the GUI loop rather than paying for a thread hop.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, Integer, String, Text, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from console.services.decision import DeliveryStatus, JournalEntry
from protocol import DecisionBody

log = logging.getLogger(__name__)

JOURNAL_FILENAME = "console-journal.sqlite3"


class _Base(DeclarativeBase):
    pass


class _DecisionRow(_Base):
    __tablename__ = "journalled_decisions"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, index=True)
    body_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    operator_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # FULL sync: the whole point of the journal is to survive a power cut after "Confirm".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class SqliteDecisionJournal:
    """`DecisionJournal` on a SQLite file; returns plain `JournalEntry` objects."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._engine: Engine = create_engine(f"sqlite:///{path}")
        event.listen(self._engine, "connect", _sqlite_pragmas)
        _Base.metadata.create_all(self._engine)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> SqliteDecisionJournal:
        return cls(data_dir / JOURNAL_FILENAME)

    def record(
        self, key: str, request_id: int, body: DecisionBody, operator_id: int | None = None
    ) -> JournalEntry:
        row = _DecisionRow(
            key=key,
            request_id=request_id,
            operator_id=operator_id,
            body_json=body.model_dump_json(),
            status=DeliveryStatus.PENDING.value,
            created_at=datetime.now(UTC),
            attempts=0,
        )
        with self._sessions.begin() as session:
            session.add(row)
        return _entry(row)

    def note_attempt(self, key: str, error: str | None) -> None:
        with self._sessions.begin() as session:
            row = self._row(session, key)
            row.attempts += 1
            row.last_error = error

    def mark_delivered(self, key: str, reference: str) -> None:
        with self._sessions.begin() as session:
            row = self._row(session, key)
            row.status = DeliveryStatus.DELIVERED.value
            row.reference = reference
            row.delivered_at = datetime.now(UTC)

    def mark_rejected(self, key: str, error: str) -> None:
        with self._sessions.begin() as session:
            row = self._row(session, key)
            row.status = DeliveryStatus.REJECTED.value
            row.last_error = error

    def pending(self) -> list[JournalEntry]:
        with self._sessions() as session:
            rows = session.scalars(
                select(_DecisionRow)
                .where(_DecisionRow.status == DeliveryStatus.PENDING.value)
                .order_by(_DecisionRow.created_at)
            ).all()
            return [_entry(row) for row in rows]

    def get(self, key: str) -> JournalEntry | None:
        with self._sessions() as session:
            row = session.get(_DecisionRow, key)
            return _entry(row) if row is not None else None

    def entries(self) -> list[JournalEntry]:
        """Every entry, oldest first (for diagnostics and tests)."""
        with self._sessions() as session:
            rows = session.scalars(select(_DecisionRow).order_by(_DecisionRow.created_at)).all()
            return [_entry(row) for row in rows]

    def close(self) -> None:
        self._engine.dispose()

    @staticmethod
    def _row(session: Session, key: str) -> _DecisionRow:
        row = session.get(_DecisionRow, key)
        if row is None:
            raise KeyError(f"no journalled decision with key {key}")
        return row


def _entry(row: _DecisionRow) -> JournalEntry:
    created = row.created_at
    if created.tzinfo is None:  # SQLite drops the offset; we only ever store UTC
        created = created.replace(tzinfo=UTC)
    return JournalEntry(
        key=row.key,
        request_id=row.request_id,
        body=DecisionBody.model_validate(json.loads(row.body_json)),
        status=DeliveryStatus(row.status),
        created_at=created,
        attempts=row.attempts,
        reference=row.reference,
        last_error=row.last_error,
        operator_id=row.operator_id,
    )
