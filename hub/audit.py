"""Tamper-evident audit log: every entry's hash covers its content and the previous hash.

Appends are serialised by updating the single `audit_head` row in the same transaction as the
entry, which works the same on SQLite (BEGIN IMMEDIATE) and PostgreSQL (row lock).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from hub.storage.models import AuditEntry, AuditHead
from hub.storage.statements import Statements

GENESIS_HASH = "0" * 64
# Built once: every state change appends, and building statements costs more than running them.
_LOCK_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
_INSERT_ENTRY = insert(AuditEntry)
_INSERT_HEAD = insert(AuditHead)
_MOVE_HEAD = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    request_id: int | None,
    detail: dict[str, Any],
) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the entry's content."""
    content = json.dumps(
        {
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "request_id": request_id,
            "detail": detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256((prev_hash + content).encode("ascii")).hexdigest()


def append(
    sql: Statements,
    *,
    at: datetime,
    actor: str,
    action: str,
    request_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's (write) transaction.

    Prebuilt Core statements, not ORM objects: this runs for every state change, and a read of
    the head, one INSERT and one UPDATE cost a fraction of the unit-of-work flush they replaced.
    `sql` flushes the transaction's pending ORM changes first (the entry's request row must exist
    for its foreign key). The head
    row is read under the transaction's write lock (BEGIN IMMEDIATE on SQLite, FOR UPDATE on
    PostgreSQL), so the chain stays linear whoever appends.
    """
    detail = detail or {}
    head = sql.first(_LOCK_HEAD)
    prev_seq, prev_hash = (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)
    seq = prev_seq + 1
    digest = entry_hash(prev_hash, seq, at, actor, action, request_id, detail)
    sql.execute(
        _INSERT_ENTRY,
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "request_id": request_id,
            "detail": detail,
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    if head is None:
        sql.execute(_INSERT_HEAD, {"id": 1, "seq": seq, "hash": digest})
    else:
        sql.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": digest})


@dataclass(frozen=True)
class ChainReport:
    """Result of verifying the chain: ok, how many entries, and the first problem if any."""

    ok: bool
    entries: int
    problem: str | None = None


def verify_entries(entries: Iterable[AuditEntry], head: AuditHead | None) -> ChainReport:
    """Recompute every hash in seq order; report the first broken link."""
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry in entries:
        where = f"entry seq {entry.seq} (id {entry.id}, {entry.action})"
        if entry.seq != expected_seq:
            return ChainReport(
                False, count, f"{where}: expected seq {expected_seq} (missing entry)"
            )
        if entry.prev_hash != prev:
            return ChainReport(False, count, f"{where}: prev_hash does not match previous entry")
        digest = entry_hash(
            prev, entry.seq, entry.at, entry.actor, entry.action, entry.request_id, entry.detail
        )
        if digest != entry.hash:
            return ChainReport(False, count, f"{where}: content does not match its hash")
        prev = entry.hash
        expected_seq += 1
        count += 1
    if head is not None and (head.seq != count or head.hash != prev):
        return ChainReport(
            False, count, f"chain head (seq {head.seq}) does not match the last entry (seq {count})"
        )
    if head is None and count:
        return ChainReport(False, count, "chain head row is missing")
    return ChainReport(True, count)


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Verify the whole chain stored in the database, streaming in batches."""

    def _entries() -> Iterable[AuditEntry]:
        last = 0
        while True:
            rows = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > last)
                .order_by(AuditEntry.seq)
                .limit(batch)
            ).all()
            if not rows:
                return
            yield from rows
            last = rows[-1].seq
            session.expunge_all()

    head = session.get(AuditHead, 1)
    head_copy = AuditHead(id=1, seq=head.seq, hash=head.hash) if head is not None else None
    return verify_entries(_entries(), head_copy)
