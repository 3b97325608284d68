"""`safe-connection-hub`: serve (default), verify-audit, enrol-device, revoke-device,
create-operator, unlock-operator."""

from __future__ import annotations

import argparse
import gc
import getpass
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import make_url

from hub import accounts
from hub.audit import verify_chain
from hub.errors import HubError
from hub.security import Passwords
from hub.settings import DEFAULT_PORT, HubSettings, default_db_url
from hub.storage.database import Database
from hub.storage.migrate import MigrationError, upgrade_to_head
from protocol.schemas import IceServer, Role

log = logging.getLogger(__name__)
# See `_serve`: how long a thread may hold the GIL while another waits for it.
GIL_SWITCH_INTERVAL_SECONDS = 0.0005

COMMANDS = (
    "serve",
    "verify-audit",
    "enrol-device",
    "revoke-device",
    "create-operator",
    "unlock-operator",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        prog="safe-connection-hub",
        description="Safe Connection control-room hub (default command: serve)",
    )
    parser.add_argument("--log-level", default=os.environ.get("SC_LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command")
    defaults = HubSettings(db_url="")

    serve = sub.add_parser("serve", allow_abbrev=False, help="run the hub (default)")
    serve.add_argument("--host", default=defaults.host)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--db", default=None, help="SQLAlchemy URL (default: hub.db in data dir)")
    serve.add_argument("--demo", action="store_true", help="seed demo data into an empty DB")
    serve.add_argument("--lease-seconds", type=float, default=defaults.lease_seconds)
    serve.add_argument("--expire-after-seconds", type=float, default=defaults.expire_after_seconds)
    serve.add_argument("--heartbeat-seconds", type=float, default=defaults.heartbeat_seconds)
    serve.add_argument(
        "--ice-server",
        action="extend",
        nargs="+",
        default=[],
        metavar="URL",
        help="STUN/TURN URL(s) handed to clients, e.g. stun:stun.example:3478 or "
        "turn:USER:PASSWORD@turn.example:3478 (repeatable; none on loopback)",
    )

    verify = sub.add_parser("verify-audit", allow_abbrev=False, help="check the audit hash chain")
    verify.add_argument("--db", default=None)

    enrol = sub.add_parser(
        "enrol-device", allow_abbrev=False, help="print a one-time device enrolment code"
    )
    enrol.add_argument("--db", default=None)
    enrol.add_argument("--officer", required=True, metavar="COLLAR")
    enrol.add_argument("--ttl-minutes", type=float, default=defaults.enrolment_code_ttl_minutes)

    revoke = sub.add_parser(
        "revoke-device", allow_abbrev=False, help="revoke a device or all of an officer's"
    )
    revoke.add_argument("--db", default=None)
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--device", type=int, metavar="ID")
    which.add_argument("--officer", metavar="COLLAR")

    create = sub.add_parser(
        "create-operator", allow_abbrev=False, help="create an operator account"
    )
    create.add_argument("--db", default=None)
    create.add_argument("--username", required=True)
    create.add_argument("--display-name", required=True, help="e.g. Smith (call sign: PS Smith)")
    create.add_argument("--rank", default="PS")
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.SERGEANT.value)
    secret = create.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password from this environment variable (else prompt)",
    )
    secret.add_argument("--password", help="the password itself (visible to other local users)")

    unlock = sub.add_parser(
        "unlock-operator", allow_abbrev=False, help="unlock a locked operator account"
    )
    unlock.add_argument("--db", default=None)
    unlock.add_argument("--username", required=True)
    return parser


def parse_ice_server(text: str) -> IceServer:
    """`stun:host:port`, or `turn:USER:PASSWORD@host:port` with the credentials split out."""
    scheme, _, rest = text.partition(":")
    if scheme in ("turn", "turns") and "@" in rest:
        credentials, _, address = rest.rpartition("@")
        username, _, password = credentials.partition(":")
        return IceServer(urls=[f"{scheme}:{address}"], username=username, credential=password)
    return IceServer(urls=[text])


def _open_db(url: str | None) -> Database:
    """Open an EXISTING database (admin commands never create one by accident)."""
    url = url or default_db_url()
    parsed = make_url(url)
    database = parsed.database
    is_file_db = parsed.get_backend_name() == "sqlite" and database not in (None, "", ":memory:")
    if is_file_db and not Path(str(database)).is_file():
        raise MigrationError(f"No hub database at {database}")
    db = Database(url)
    upgrade_to_head(db.engine)
    return db


def _serve(args: argparse.Namespace) -> int:
    from hub.server import HubServer, HubStartError

    settings = HubSettings(
        host=args.host,
        port=args.port,
        db_url=args.db or default_db_url(),
        demo=args.demo,
        lease_seconds=args.lease_seconds,
        expire_after_seconds=args.expire_after_seconds,
        heartbeat_seconds=args.heartbeat_seconds,
        ice_servers=[parse_ice_server(url) for url in args.ice_server],
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server = HubServer(settings).start()
    except HubStartError as exc:
        print(f"safe-connection-hub: {exc}", file=sys.stderr)
        return 1
    # Everything allocated so far (imports, ORM mappers, demo data) lives for the whole run:
    # moving it out of the collector's reach keeps full collections, and their pauses in the
    # event fan-out, short. Only here: an embedding process (the console) decides for itself.
    gc.freeze()
    # The hub's threads (event loop + request workers) share one GIL, and every SQLite call
    # releases it. With CPython's default 5 ms switch interval a writer that holds the writer
    # lock can wait up to 5 ms to get the GIL back after each statement while the event loop is
    # busy fanning out events: ~10 statements per transaction made writes queue for tens of ms
    # (measured: docs/performance.md). A shorter interval hands the GIL back sooner.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    print(f"Safe Connection hub on {server.url} (database {settings.db_url})", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0] not in COMMANDS and arguments[0] not in ("-h", "--help")):
        arguments.insert(0, "serve")
    args = _parser().parse_args(arguments)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return _dispatch(args)
    except (HubError, MigrationError) as exc:
        print(f"safe-connection-hub: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "serve":
        return _serve(args)
    db = _open_db(args.db)
    try:
        if args.command == "verify-audit":
            with db.read() as session:
                report = verify_chain(session)
            if report.ok:
                print(f"OK: audit chain intact ({report.entries} entries)")
                return 0
            print(f"BROKEN: {report.problem}")
            return 1
        if args.command == "enrol-device":
            code = accounts.create_enrolment_code(db, args.officer, args.ttl_minutes)
            print(code)
            print(
                f"(one-time code for officer {args.officer}, valid {args.ttl_minutes:g} min)",
                file=sys.stderr,
            )
            return 0
        if args.command == "revoke-device":
            count = accounts.revoke_devices(db, device_id=args.device, collar_number=args.officer)
            print(f"revoked {count} device(s)")
            return 0 if count else 1
        if args.command == "create-operator":
            if args.password is not None:
                password = args.password
            elif args.password_env:
                password = os.environ.get(args.password_env, "")
            else:
                password = getpass.getpass("Password: ")
            view = accounts.create_operator(
                db,
                Passwords(),
                username=args.username,
                password=password,
                display_name=args.display_name,
                rank=args.rank,
                role=Role(args.role),
            )
            print(f"created operator {view.username} (id {view.id}, {view.role.value})")
            return 0
        if args.command == "unlock-operator":
            accounts.unlock_operator(db, args.username)
            print(f"unlocked {args.username}")
            return 0
    finally:
        db.dispose()
    raise AssertionError(f"unknown command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
