"""`safe-connection-hub` admin commands on a real SQLite file (no server running)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import accounts
from hub.cli import main as hub_cli
from hub.cli import parse_ice_server
from hub.demo.seed import seed_demo_data
from hub.errors import UnauthorizedError
from hub.security import Passwords
from hub.storage.database import Database
from hub.storage.migrate import upgrade_to_head


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    upgrade_to_head(db.engine)
    seed_demo_data(db, Passwords(time_cost=1, memory_kib=8, parallelism=1), officer_count=5)
    db.dispose()
    return url


def test_ice_server_urls_with_and_without_credentials() -> None:
    stun = parse_ice_server("stun:stun.example:3478")
    assert (stun.urls, stun.username, stun.credential) == (["stun:stun.example:3478"], None, None)
    turn = parse_ice_server("turn:alice:pa:ss@turn.example:3478?transport=udp")
    assert turn.urls == ["turn:turn.example:3478?transport=udp"]
    assert (turn.username, turn.credential) == ("alice", "pa:ss")


def test_enrol_device_prints_a_code_that_enrols_once(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hub_cli(["enrol-device", "--db", db_url, "--officer", "1001CW"]) == 0
    code = capsys.readouterr().out.strip()
    db = Database(db_url)
    try:
        token, officer = accounts.enrol_device(db, "MP700001", code.lower())
        assert token.startswith("dev_")
        assert officer.collar_number == "1001CW"
        with pytest.raises(UnauthorizedError):
            accounts.enrol_device(db, "MP700001", code)
    finally:
        db.dispose()


def test_enrolment_code_needs_the_right_warrant_number(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hub_cli(["enrol-device", "--db", db_url, "--officer", "1002CW"]) == 0
    code = capsys.readouterr().out.strip()
    db = Database(db_url)
    try:
        with pytest.raises(UnauthorizedError):
            accounts.enrol_device(db, "MP700001", code)  # 1001CW's number, not 1002CW's
    finally:
        db.dispose()


def test_unknown_officer_is_a_clear_error(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert hub_cli(["enrol-device", "--db", db_url, "--officer", "0000XX"]) == 2
    assert "0000XX" in capsys.readouterr().err


def test_admin_commands_never_create_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "hub.db"
    assert hub_cli(["verify-audit", "--db", f"sqlite:///{missing}"]) == 2
    assert "No hub database" in capsys.readouterr().err
    assert not missing.exists()


def test_revoke_device_by_officer(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert hub_cli(["revoke-device", "--db", db_url, "--officer", "1003CW"]) == 0
    assert "revoked 1 device" in capsys.readouterr().out
    assert hub_cli(["revoke-device", "--db", db_url, "--officer", "1003CW"]) == 1


def test_create_operator_then_sign_in_is_possible(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "create-operator",
        "--db",
        db_url,
        "--username",
        "brown",
        "--display-name",
        "Brown",
        "--password",
        "brown-password",
    ]
    assert hub_cli(args) == 0
    assert "created operator brown" in capsys.readouterr().out
    assert hub_cli(args) == 2  # the username is taken
    assert "taken" in capsys.readouterr().err
