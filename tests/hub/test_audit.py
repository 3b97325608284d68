"""The audit hash chain and `safe-connection-hub verify-audit`.

A hub writes a few calls' worth of audit entries and stops; then the SQLite file is tampered with
directly (as an insider with database access would) and the CLI must name the first broken link.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.hub.cli_hub import run_cli, sqlite_url
from tests.hub.client import API, CONFIRM, FAKE_OFFER, bearer
from tests.hub.conftest import discover_collars, start_hub


@pytest.fixture(scope="module")
def audited_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stopped hub's SQLite file holding the audit trail of three finished calls."""
    folder = tmp_path_factory.mktemp("audit")
    server = start_hub(folder)
    try:
        collars = discover_collars(server.url)
        with httpx.Client(base_url=server.url + API, timeout=15) as client:
            smith = client.post(
                "/auth/login", json={"username": "smith", "password": "smith-demo"}
            ).json()["token"]
            for n in range(3):
                dev = client.post("/demo/device-token", json={"collar_number": collars[n]}).json()[
                    "device_token"
                ]
                rid = client.post(
                    "/requests", json={"sdp_offer": FAKE_OFFER}, headers=bearer(dev)
                ).json()["id"]
                for step in ("claim", "connected"):
                    resp = client.post(f"/requests/{rid}/{step}", headers=bearer(smith))
                    assert resp.status_code == 200, resp.text
                resp = client.post(
                    f"/requests/{rid}/decision",
                    json=CONFIRM,
                    headers={**bearer(smith), "Idempotency-Key": f"a{n}"},
                )
                assert resp.status_code == 200, resp.text
                assert client.post(f"/requests/{rid}/end", headers=bearer(smith)).is_success
    finally:
        server.stop()
    return Path(server.settings.db_url.removeprefix("sqlite:///"))


@pytest.fixture
def db_copy(audited_db: Path, tmp_path: Path) -> Path:
    """A private copy of the audited database (WAL folded in) for one test to tamper with."""
    copy = tmp_path / "copy.db"
    with sqlite3.connect(audited_db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return copy


def audit_table(conn: sqlite3.Connection) -> tuple[str, list[str]]:
    """The audit table's name and columns, discovered from the schema."""
    names = [
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        if "audit" in row[0].lower()
    ]
    table = next((n for n in names if "head" not in n.lower()), None)
    assert table, f"no audit table among {names}"
    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    return table, columns


def tamper(value: object) -> object:
    """A plausible forgery: still valid JSON / text, just different."""
    if isinstance(value, str) and value.startswith("{"):
        data = json.loads(value)
        data["forged"] = True
        return json.dumps(data)
    if isinstance(value, str) and value:
        return value + " (edited)"
    return "forged"


def verify(db: Path) -> tuple[int, str]:
    done = run_cli("verify-audit", "--db", sqlite_url(db))
    return done.returncode, done.stdout + done.stderr


def test_untouched_chain_verifies(db_copy: Path) -> None:
    code, output = verify(db_copy)
    assert code == 0, output
    assert "ok" in output.lower()


@pytest.mark.parametrize("column_hint", ["action", "detail", "actor"])
def test_edited_entry_is_named(db_copy: Path, column_hint: str) -> None:
    with sqlite3.connect(db_copy) as conn:
        table, columns = audit_table(conn)
        column = next(c for c in columns if column_hint in c.lower())
        ids = [row[0] for row in conn.execute(f"SELECT id FROM {table} ORDER BY id")]
        assert len(ids) >= 10, ids
        victim = ids[len(ids) // 2]
        value = conn.execute(f"SELECT {column} FROM {table} WHERE id=?", (victim,)).fetchone()[0]
        tampered = tamper(value)
        conn.execute(f"UPDATE {table} SET {column}=? WHERE id=?", (tampered, victim))
    code, output = verify(db_copy)
    assert code != 0, output
    assert str(victim) in output, f"verify-audit did not name entry {victim}: {output}"


def test_deleted_entry_breaks_the_chain(db_copy: Path) -> None:
    with sqlite3.connect(db_copy) as conn:
        table, _ = audit_table(conn)
        ids = [row[0] for row in conn.execute(f"SELECT id FROM {table} ORDER BY id")]
        victim = ids[len(ids) // 3]
        conn.execute(f"DELETE FROM {table} WHERE id=?", (victim,))
    code, output = verify(db_copy)
    assert code != 0, output
    following = ids[ids.index(victim) + 1]
    assert str(victim) in output or str(following) in output, output


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    code, output = verify(tmp_path / "nowhere" / "none.db")
    assert code != 0
    assert "Traceback" not in output, output


def test_original_is_untouched(audited_db: Path, tmp_path: Path) -> None:
    # The tamper tests work on copies; the source still verifies.
    copy = tmp_path / "again.db"
    shutil.copy(audited_db, copy)
    for suffix in ("-wal", "-shm"):
        side = audited_db.with_name(audited_db.name + suffix)
        if side.exists():
            shutil.copy(side, copy.with_name(copy.name + suffix))
    code, output = verify(copy)
    assert code == 0, output
