"""Seed an EMPTY database with the demo accounts, officers (with portraits) and devices."""

from __future__ import annotations

import logging
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from hub import audit
from hub.demo.portraits import portrait_png
from hub.security import Passwords, token_hash
from hub.storage.database import Database
from hub.storage.models import Device, Officer, Operator
from protocol.schemas import Role, WarrantStatus

log = logging.getLogger(__name__)

FORCE = "Metropolitan Police Service (DEMO)"


@dataclass(frozen=True)
class DemoOperator:
    """A demo account and its (publicly known) password."""

    username: str
    password: str
    display_name: str
    rank: str
    role: Role


# Shown on the console's sign-in dialog in demo mode. Call signs: "PS Smith", "PS Jones".
DEMO_OPERATORS = (
    DemoOperator("smith", "smith-demo", "Smith", "PS", Role.SERGEANT),
    DemoOperator("jones", "jones-demo", "Jones", "PS", Role.SERGEANT),
    DemoOperator("patel", "patel-demo", "Patel", "Insp", Role.SUPERVISOR),
    DemoOperator("admin", "admin-demo", "Admin", "", Role.ADMIN),
)


@dataclass(frozen=True)
class DemoOfficer:
    """A demo officer's record."""

    collar_number: str
    rank: str
    forenames: str
    surname: str
    station: str
    warrant_status: WarrantStatus = WarrantStatus.VALID
    on_duty: bool = True
    plain_clothes_authorised: bool = True
    alerts: str = ""


NAMED_OFFICERS = (
    DemoOfficer("1001CW", "DC", "Jane", "Harper", "Charing Cross"),
    DemoOfficer(
        "1002CW", "PC", "Mark", "Ellison", "Charing Cross", warrant_status=WarrantStatus.SUSPENDED
    ),
    DemoOfficer("1003CW", "DC", "Priya", "Nair", "Charing Cross", on_duty=False),
    DemoOfficer("1004CW", "PC", "Tom", "Bradley", "Charing Cross", plain_clothes_authorised=False),
    DemoOfficer(
        "1005CW",
        "DS",
        "Grace",
        "Okafor",
        "Charing Cross",
        warrant_status=WarrantStatus.REPORTED_LOST,
    ),
)
FORENAMES = [
    "Aisha",
    "Ben",
    "Chloe",
    "Daniel",
    "Emma",
    "Farid",
    "Gemma",
    "Harry",
    "Imran",
    "Jade",
    "Kwame",
    "Laura",
    "Mohammed",
    "Niamh",
    "Oliver",
    "Poppy",
    "Rhys",
    "Sofia",
    "Tariq",
    "Una",
    "Victor",
    "Wendy",
    "Yusuf",
    "Zara",
    "Callum",
]
SURNAMES = [
    "Adeyemi",
    "Brooks",
    "Chen",
    "Dawson",
    "Evans",
    "Fraser",
    "Green",
    "Hughes",
    "Iqbal",
    "Jenkins",
    "Kowalski",
    "Lewis",
    "Murphy",
    "Novak",
    "O'Brien",
    "Patel",
    "Quinn",
    "Russell",
    "Singh",
    "Turner",
    "Usman",
    "Vaughan",
    "Walsh",
    "Young",
    "Zielinski",
]
STATIONS = [
    ("Brixton", "LX"),
    ("Hackney", "GD"),
    ("Croydon", "ZD"),
    ("Camden", "EK"),
    ("Lewisham", "PL"),
    ("Westminster", "CW"),
]


def demo_officers(count: int) -> list[DemoOfficer]:
    """The five named officers, then generated ones (deterministic)."""
    rng = random.Random(4321)
    officers = list(NAMED_OFFICERS)
    used = {o.collar_number for o in officers}
    while len(officers) < count:
        station, unit = STATIONS[rng.randrange(len(STATIONS))]
        collar = f"{rng.randrange(1100, 9999)}{unit}"
        if collar in used:
            continue
        used.add(collar)
        status = WarrantStatus.EXPIRED if len(officers) % 13 == 12 else WarrantStatus.VALID
        officers.append(
            DemoOfficer(
                collar,
                rng.choice(["PC", "PC", "DC", "DC", "DS"]),
                rng.choice(FORENAMES),
                rng.choice(SURNAMES),
                station,
                warrant_status=status,
                on_duty=rng.random() > 0.1,
                alerts="Subject of an open conduct enquiry" if len(officers) % 11 == 10 else "",
            )
        )
    return officers


_HASH_CACHE: dict[tuple[tuple[int, int, int], str], str] = {}


def _hashed(passwords: Passwords, password: str) -> str:
    # Hashing is deliberately slow; a process that seeds many test hubs pays it once per password.
    key = (passwords.params, password)
    if key not in _HASH_CACHE:
        _HASH_CACHE[key] = passwords.hash(password)
    return _HASH_CACHE[key]


def seed_demo_data(db: Database, passwords: Passwords, officer_count: int = 30) -> bool:
    """Seed if the database has no officers and no operators; returns True if it seeded."""
    with db.write() as session:
        if session.scalar(select(func.count(Officer.id))) or session.scalar(
            select(func.count(Operator.id))
        ):
            return False
        now = datetime.now(UTC)
        for op in DEMO_OPERATORS:
            session.add(
                Operator(
                    username=op.username,
                    display_name=op.display_name,
                    rank=op.rank,
                    role=op.role.value,
                    password_hash=_hashed(passwords, op.password),
                    active=True,
                    failed_logins=0,
                    locked=False,
                )
            )
        for index, spec in enumerate(demo_officers(officer_count)):
            officer = Officer(
                collar_number=spec.collar_number,
                warrant_number=f"MP{700001 + index}",
                rank=spec.rank,
                surname=spec.surname,
                forenames=spec.forenames,
                force=FORCE,
                station=spec.station,
                warrant_status=spec.warrant_status.value,
                on_duty=spec.on_duty,
                plain_clothes_authorised=spec.plain_clothes_authorised,
                alerts=spec.alerts,
                photo=portrait_png(index + 1),
                photo_mime="image/png",
                photo_taken_on=datetime(2024, 1 + index % 12, 1 + index % 28, tzinfo=UTC),
            )
            session.add(officer)
            session.flush()
            # One enrolled device per officer; its secret is discarded (the simulator asks the
            # demo endpoint for a token of its own).
            session.add(
                Device(
                    officer_id=officer.id,
                    token_hash=token_hash(secrets.token_hex(32)),
                    label="demo phone",
                    created_at=now,
                    revoked=False,
                )
            )
        audit.append(
            db.session_statements(session),
            at=now,
            actor="hub",
            action="seed_demo_data",
            request_id=None,
            detail={"officers": officer_count, "operators": len(DEMO_OPERATORS)},
        )
    log.info("seeded demo data: %d officers, %d operators", officer_count, len(DEMO_OPERATORS))
    return True
