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

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.storage.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64


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
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    request_id: int | None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's (write) transaction."""
    detail = detail or {}
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS_HASH)
        session.add(head)
    seq = head.seq + 1
    digest = entry_hash(head.hash, seq, at, actor, action, request_id, detail)
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        request_id=request_id,
        detail=detail,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.seq = seq
    head.hash = digest
    return entry


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
