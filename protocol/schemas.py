"""Request and response bodies, event payloads and enumerations of the Safe Connection protocol v1.

Every model forbids unknown fields (`extra="forbid"`) so that a misspelt field is a clear 422
instead of being silently dropped. Size limits live here so that hub, console and field agree.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

API_PREFIX = "/api/v1"

# Limits (bytes / characters). The hub rejects anything larger with 413 or 422.
MAX_BODY_BYTES = 256 * 1024  # any JSON body
MAX_SDP_CHARS = 64 * 1024
MAX_NOTES_CHARS = 4000
MAX_SNAPSHOT_BYTES = 2 * 1024 * 1024
MAX_PHOTO_BYTES = 2 * 1024 * 1024
MAX_PAGE_SIZE = 500

Sdp = Annotated[str, StringConstraints(min_length=10, max_length=MAX_SDP_CHARS)]
ShortText = Annotated[str, StringConstraints(max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------- enumerations


class RequestState(StrEnum):
    """A verification request's life (see docs/protocol.md for the transition table)."""

    QUEUED = "queued"
    CLAIMED = "claimed"
    CONNECTED = "connected"
    DECIDED = "decided"
    ENDED = "ended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


ACTIVE_STATES = frozenset(
    {RequestState.QUEUED, RequestState.CLAIMED, RequestState.CONNECTED, RequestState.DECIDED}
)
TERMINAL_STATES = frozenset(
    {RequestState.ENDED, RequestState.CANCELLED, RequestState.EXPIRED, RequestState.FAILED}
)


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    REFUSED = "refused"


class ReasonCode(StrEnum):
    """Reason codes from shared/design/domain.md."""

    IDENTITY_CONFIRMED = "identity_confirmed"
    FACE_MISMATCH = "face_mismatch"
    WARRANT_NOT_VALID = "warrant_not_valid"
    NOT_ON_DUTY = "not_on_duty"
    NOT_AUTHORISED_PLAIN_CLOTHES = "not_authorised_plain_clothes"
    PURPOSE_NOT_CREDIBLE = "purpose_not_credible"
    POOR_MEDIA = "poor_media"
    STAGED_CALL = "staged_call"
    OFFICER_ENDED_CALL = "officer_ended_call"
    OTHER = "other"


REASON_LABELS: dict[ReasonCode, str] = {
    ReasonCode.IDENTITY_CONFIRMED: "Identity confirmed",
    ReasonCode.FACE_MISMATCH: "Face does not match photo",
    ReasonCode.WARRANT_NOT_VALID: "Warrant not valid (suspended, revoked, lost, expired)",
    ReasonCode.NOT_ON_DUTY: "Officer not on duty",
    ReasonCode.NOT_AUTHORISED_PLAIN_CLOTHES: "Not authorised for plain-clothes work",
    ReasonCode.PURPOSE_NOT_CREDIBLE: "Purpose of stop not given or not credible",
    ReasonCode.POOR_MEDIA: "Poor video or audio: could not verify",
    ReasonCode.STAGED_CALL: "More than one person / signs of a staged call",
    ReasonCode.OFFICER_ENDED_CALL: "Officer ended the call",
    ReasonCode.OTHER: "Other (notes required)",
}

REFUSAL_REASONS = frozenset(ReasonCode) - {ReasonCode.IDENTITY_CONFIRMED}


class WarrantStatus(StrEnum):
    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    REPORTED_LOST = "reported_lost"
    EXPIRED = "expired"


class Role(StrEnum):
    SERGEANT = "sergeant"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class ChecklistItem(StrEnum):
    FACE_MATCHES_PHOTO = "face_matches_photo"
    GAVE_NAME_AND_NUMBER = "gave_name_and_number"
    WARRANT_CARD_MATCHES = "warrant_card_matches"
    ON_DUTY = "on_duty"
    PURPOSE_STATED = "purpose_stated"


CHECKLIST_LABELS: dict[ChecklistItem, str] = {
    ChecklistItem.FACE_MATCHES_PHOTO: "Face matches photo on file",
    ChecklistItem.GAVE_NAME_AND_NUMBER: "Officer gave name and number",
    ChecklistItem.WARRANT_CARD_MATCHES: "Warrant card shown matches record",
    ChecklistItem.ON_DUTY: "Officer is on duty",
    ChecklistItem.PURPOSE_STATED: "Purpose of the stop stated",
}


# ---------------------------------------------------------------------------- errors


class ErrorBody(_Strict):
    """Every 4xx/5xx response body."""

    error: str = Field(description="machine-readable code, e.g. 'claim_conflict'")
    detail: str = Field(description="human-readable, safe to show to a user")
    holder: str | None = Field(default=None, description="on claim_conflict: who holds it")


# ---------------------------------------------------------------------------- auth


class LoginBody(_Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class OperatorView(_Strict):
    id: int
    username: str
    display_name: str
    rank: str
    role: Role

    @property
    def call_sign(self) -> str:
        """'PS Smith' — how a sergeant is named to others."""
        return f"{self.rank} {self.display_name}".strip()


class LoginResult(_Strict):
    token: str
    expires_at: datetime
    operator: OperatorView


class IceServer(_Strict):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class HubConfig(_Strict):
    """GET /config: what clients need to behave consistently."""

    ice_servers: list[IceServer]
    lease_seconds: float
    expire_after_seconds: float
    heartbeat_seconds: float
    server_time: datetime


# ---------------------------------------------------------------------------- officers


class OfficerView(_Strict):
    id: int
    collar_number: str
    warrant_number: str
    rank: str
    surname: str
    forenames: str
    force: str
    station: str
    warrant_status: WarrantStatus
    on_duty: bool
    plain_clothes_authorised: bool
    alerts: str
    photo_taken_on: datetime | None
    photo_url: str | None = Field(description="GET with operator auth; image/png or image/jpeg")
    verifications_today: int = 0

    @property
    def display(self) -> str:
        """'DC Jane SMITH 4321AB'."""
        return f"{self.rank} {self.forenames} {self.surname.upper()} {self.collar_number}"

    @property
    def has_warning(self) -> bool:
        """True when the record alone should stop a routine Confirm."""
        return (
            self.warrant_status != WarrantStatus.VALID
            or not self.on_duty
            or not self.plain_clothes_authorised
            or bool(self.alerts.strip())
        )


# ---------------------------------------------------------------------------- requests


class Location(_Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=1_000_000)
    description: ShortText | None = None


class CreateRequestBody(_Strict):
    """POST /requests (device). The officer comes from the device token, never from the body."""

    sdp_offer: Sdp
    location: Location | None = None


class DecisionView(_Strict):
    outcome: Outcome
    reason_code: ReasonCode
    notes: str
    checklist: dict[ChecklistItem, bool]
    override_reason: str | None
    reference: str
    decided_at: datetime
    decided_by: str = Field(description="operator call sign, e.g. 'PS Smith'")


class RequestView(_Strict):
    """A verification request as consoles see it."""

    id: int
    state: RequestState
    officer: OfficerView
    location: Location | None
    created_at: datetime
    claimed_at: datetime | None
    connected_at: datetime | None
    decided_at: datetime | None
    ended_at: datetime | None
    holder: str | None = Field(description="call sign of the claiming operator")
    holder_id: int | None
    lease_expires_at: datetime | None
    device_left: bool = Field(description="the device hung up; only a decision remains")
    decision: DecisionView | None
    end_reason: str | None = Field(description="why a terminal state was reached")


class DeviceRequestView(_Strict):
    """What the officer's device sees of its own request (no other officers' data)."""

    id: int
    state: RequestState
    created_at: datetime
    queue_position: int | None = Field(description="1 = next to be answered; null when not queued")
    answered_by: str | None
    sdp_answer: str | None
    outcome: Outcome | None
    reason_code: ReasonCode | None
    reason_label: str | None
    reference: str | None
    ice_servers: list[IceServer]


class ClaimResult(_Strict):
    request: RequestView
    sdp_offer: str
    ice_servers: list[IceServer]


class AnswerBody(_Strict):
    sdp_answer: Sdp


class FailBody(_Strict):
    detail: Annotated[str, StringConstraints(max_length=500)] = ""


class DecisionBody(_Strict):
    """POST /requests/{id}/decision with an Idempotency-Key header."""

    outcome: Outcome
    reason_code: ReasonCode
    notes: Annotated[str, StringConstraints(max_length=MAX_NOTES_CHARS)] = ""
    checklist: dict[ChecklistItem, bool] = Field(default_factory=dict)
    override_reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class SnapshotView(_Strict):
    id: int
    request_id: int
    taken_at: datetime
    taken_by: str
    url: str


# ---------------------------------------------------------------------------- history


class HistorySort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"


class HistoryItem(_Strict):
    id: int
    reference: str | None
    created_at: datetime
    state: RequestState
    officer_id: int
    officer: str = Field(description="'DC Jane SMITH 4321AB'")
    operator_id: int | None
    operator: str | None
    outcome: Outcome | None
    reason_code: ReasonCode | None
    wait_seconds: float | None = Field(description="queued → claimed")
    talk_seconds: float | None = Field(description="connected → ended")


class HistoryPage(_Strict):
    items: list[HistoryItem]
    next_cursor: str | None = Field(description="opaque; pass as ?cursor= for the next page")
    total: int | None = Field(default=None, description="only when ?count=true")


class OperatorSummary(_Strict):
    """An operator who can answer calls, for the History "Sergeant" picker (GET /operators)."""

    id: int
    display_name: str
    rank: str
    role: Role
    call_sign: str = Field(description="'PS Smith'")
    active: bool = Field(description="false: the account is disabled (its calls stay in history)")


class OfficerSummary(_Strict):
    """An officer on record, for the History "Officer" picker (GET /officers): no photo/alerts."""

    id: int
    collar_number: str
    rank: str
    surname: str
    forenames: str


class HistoryStats(_Strict):
    calls: int
    by_outcome: dict[str, int] = Field(description="confirmed/refused/cancelled/expired/failed/...")
    median_answer_seconds: float | None
    p90_answer_seconds: float | None
    share_answered_within_10s: float | None


class AuditEntryView(_Strict):
    id: int
    at: datetime
    actor: str
    action: str
    request_id: int | None
    detail: dict[str, Any]


class RequestDetail(_Strict):
    request: RequestView
    audit: list[AuditEntryView]
    snapshots: list[SnapshotView]


# ---------------------------------------------------------------------------- events

EventType = Literal[
    "request.created",  # a new request is queued
    "request.claimed",
    "request.answered",  # the claimer posted its SDP answer
    "request.connected",
    "request.released",  # back to the queue (by the sergeant, or the hub after a lost lease)
    "request.decided",
    "request.ended",
    "request.cancelled",
    "request.expired",
    "request.failed",
    "request.device_left",  # the device hung up after connecting; only a decision remains
    "request.snapshot",
]


class ConsoleEvent(_Strict):
    """One SSE message on GET /events: `id:` is `id`, `event:` is `type`, `data:` is this JSON."""

    id: int
    type: EventType
    at: datetime
    request: RequestView


class DeviceEvent(_Strict):
    """One SSE message on GET /requests/{id}/device-events."""

    id: int
    type: EventType
    at: datetime
    request: DeviceRequestView


# ---------------------------------------------------------------------------- devices (added)


class OfferBody(_Strict):
    """POST /requests/{id}/offer (device): a fresh complete SDP offer while queued."""

    sdp_offer: Sdp


class EnrolBody(_Strict):
    """POST /devices/enrol (no auth): the one-time code an admin gave, and the warrant number."""

    warrant_number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    code: Annotated[str, StringConstraints(min_length=4, max_length=40)]
    label: ShortText | None = None


class EnrolResult(_Strict):
    device_token: str
    officer: OfficerView


class EnrolmentCodeBody(_Strict):
    """POST /enrolment-codes (admin)."""

    collar_number: Annotated[str, StringConstraints(min_length=1, max_length=16)]


class EnrolmentCodeResult(_Strict):
    code: str
    expires_in_seconds: float


class DemoDeviceTokenBody(_Strict):
    """POST /demo/device-token (demo mode, loopback only)."""

    collar_number: Annotated[str, StringConstraints(min_length=1, max_length=16)]


class DemoDeviceTokenResult(_Strict):
    device_token: str
