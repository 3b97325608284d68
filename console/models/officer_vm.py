"""The officer card's view-model: the record on file, turned into what the card must show.

`present_officer` is plain Python (testable without Qt): it decides wording and severity, so the
card widget only lays out text and colours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QPixmap

from console.domain.decision import record_warnings
from protocol import OfficerView, WarrantStatus

# Photos older than this may no longer look like the officer: the card says so.
PHOTO_MAX_AGE_DAYS = 3 * 365


class Severity(StrEnum):
    OK = "ok"
    WARN = "warn"
    BAD = "bad"
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class CardField:
    label: str
    value: str
    severity: Severity = Severity.NEUTRAL


@dataclass(frozen=True, slots=True)
class OfficerPresentation:
    """Everything the officer card shows, already worded."""

    name: str  # "PC Chris WALKER"
    collar: str
    fields: list[CardField] = field(default_factory=list)
    banner: list[str] = field(default_factory=list)  # red banner lines; empty = no banner
    photo_note: str = ""
    photo_note_severity: Severity = Severity.NEUTRAL


_WARRANT_WORDS = {
    WarrantStatus.VALID: "VALID",
    WarrantStatus.SUSPENDED: "SUSPENDED",
    WarrantStatus.REVOKED: "REVOKED",
    WarrantStatus.REPORTED_LOST: "REPORTED LOST / STOLEN",
    WarrantStatus.EXPIRED: "EXPIRED",
}


def present_officer(officer: OfficerView, now: datetime | None = None) -> OfficerPresentation:
    """Word the record for the card; `now` decides the photo's age."""
    now = now or datetime.now(UTC)
    warrant_ok = officer.warrant_status == WarrantStatus.VALID
    fields = [
        CardField("Collar number", officer.collar_number),
        CardField("Warrant card", officer.warrant_number),
        CardField("Station / unit", f"{officer.station} — {officer.force}"),
        CardField(
            "Warrant status",
            _WARRANT_WORDS[officer.warrant_status],
            Severity.OK if warrant_ok else Severity.BAD,
        ),
        CardField(
            "On duty now",
            "Yes" if officer.on_duty else "NO — not on the roster now",
            Severity.OK if officer.on_duty else Severity.BAD,
        ),
        CardField(
            "Plain clothes",
            "Authorised" if officer.plain_clothes_authorised else "NOT AUTHORISED",
            Severity.OK if officer.plain_clothes_authorised else Severity.BAD,
        ),
        CardField(
            "Alerts",
            officer.alerts.strip() or "None",
            Severity.BAD if officer.alerts.strip() else Severity.NEUTRAL,
        ),
        CardField(
            "Verified today",
            _times(officer.verifications_today),
            Severity.WARN if officer.verifications_today >= 3 else Severity.NEUTRAL,
        ),
    ]
    photo_note, photo_severity = _photo_note(officer.photo_taken_on, now)
    return OfficerPresentation(
        name=f"{officer.rank} {officer.forenames} {officer.surname.upper()}",
        collar=officer.collar_number,
        fields=fields,
        banner=record_warnings(officer),
        photo_note=photo_note,
        photo_note_severity=photo_severity,
    )


def _times(count: int) -> str:
    if count == 0:
        return "Not verified before today"
    return f"{count} time{'s' if count != 1 else ''} before this call"


def _photo_note(taken_on: datetime | None, now: datetime) -> tuple[str, Severity]:
    if taken_on is None:
        return "Photo date unknown", Severity.WARN
    if taken_on.tzinfo is None:
        taken_on = taken_on.replace(tzinfo=UTC)
    age_days = (now - taken_on).days
    text = f"Photo taken {taken_on:%d %b %Y}"
    if age_days > PHOTO_MAX_AGE_DAYS:
        return f"{text} — over {age_days // 365} years old", Severity.WARN
    return text, Severity.NEUTRAL


class OfficerViewModel(QObject):
    """Holds the current officer record and photo; `changed` tells the card to re-render."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._officer: OfficerView | None = None
        self._presentation: OfficerPresentation | None = None
        self._photo = QPixmap()
        self._photo_bytes: bytes | None = None

    @property
    def officer(self) -> OfficerView | None:
        return self._officer

    @property
    def presentation(self) -> OfficerPresentation | None:
        return self._presentation

    @property
    def photo(self) -> QPixmap:
        """The photo on file (null pixmap when none or undecodable)."""
        return self._photo

    def set_officer(self, officer: OfficerView | None, photo: bytes | None) -> None:
        if officer == self._officer and photo == self._photo_bytes:
            return
        self._officer = officer
        self._presentation = present_officer(officer) if officer is not None else None
        if photo != self._photo_bytes:
            self._photo_bytes = photo
            pixmap = QPixmap()
            if photo:
                pixmap.loadFromData(photo)
            self._photo = pixmap
        self.changed.emit()
