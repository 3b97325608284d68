"""Decision rules: what a complete decision is, and when Confirm needs an override reason.

Pure rules shared by the decision panel's view-model (to say what is missing) and the call
service (which enforces them again before anything is journalled or sent). Imports the wire
enums and views from `protocol` (pure pydantic data, no I/O) so the rules speak the hub's codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from protocol import (
    CHECKLIST_LABELS,
    MAX_NOTES_CHARS,
    REFUSAL_REASONS,
    ChecklistItem,
    DecisionBody,
    OfficerView,
    Outcome,
    ReasonCode,
    WarrantStatus,
)

MAX_OVERRIDE_CHARS = 500


@dataclass(frozen=True, slots=True)
class DecisionDraft:
    """What the sergeant has entered in the decision panel."""

    outcome: Outcome
    reason_code: ReasonCode | None
    notes: str = ""
    checklist: Mapping[ChecklistItem, bool] = field(default_factory=dict)
    override_reason: str = ""

    def to_body(self) -> DecisionBody:
        """The wire body; call only on a draft without `decision_problems`."""
        if self.reason_code is None:
            raise ValueError("a decision needs a reason code")
        override = self.override_reason.strip() or None
        return DecisionBody(
            outcome=self.outcome,
            reason_code=self.reason_code,
            notes=self.notes.strip(),
            checklist={item: bool(self.checklist.get(item, False)) for item in ChecklistItem},
            override_reason=override,
        )


def record_warnings(officer: OfficerView | None) -> list[str]:
    """Why the officer's record alone should stop a routine Confirm, worded for a red banner."""
    if officer is None:
        return []
    warnings: list[str] = []
    if officer.warrant_status != WarrantStatus.VALID:
        status = officer.warrant_status.value.replace("_", " ").upper()
        warnings.append(f"WARRANT {status} — DO NOT CONFIRM")
    if not officer.on_duty:
        warnings.append("NOT ON DUTY NOW")
    if not officer.plain_clothes_authorised:
        warnings.append("NOT AUTHORISED FOR PLAIN-CLOTHES WORK")
    if officer.alerts.strip():
        warnings.append(f"ALERT: {officer.alerts.strip()}")
    return warnings


def override_grounds(draft: DecisionDraft, officer: OfficerView | None) -> list[str]:
    """Why a Confirm needs an explicit override reason (empty list: it does not)."""
    if draft.outcome != Outcome.CONFIRMED:
        return []
    grounds = record_warnings(officer)
    grounds += [
        f"Not ticked: {CHECKLIST_LABELS[item]}"
        for item in ChecklistItem
        if not draft.checklist.get(item, False)
    ]
    return grounds


def decision_problems(draft: DecisionDraft, officer: OfficerView | None) -> list[str]:
    """Everything that blocks sending `draft`, as sentences for the sergeant (empty: valid)."""
    problems: list[str] = []
    if draft.outcome == Outcome.CONFIRMED:
        if draft.reason_code not in (None, ReasonCode.IDENTITY_CONFIRMED):
            problems.append("Confirm uses the reason 'Identity confirmed'.")
        if override_grounds(draft, officer) and not draft.override_reason.strip():
            problems.append("Give an override reason to confirm despite the warnings.")
    else:
        if draft.reason_code is None:
            problems.append("Choose a reason for refusing.")
        elif draft.reason_code not in REFUSAL_REASONS:
            problems.append("Choose a refusal reason.")
        if draft.reason_code == ReasonCode.OTHER and not draft.notes.strip():
            problems.append("Notes are required when the reason is 'Other'.")
    if len(draft.notes.strip()) > MAX_NOTES_CHARS:
        problems.append(f"Notes are limited to {MAX_NOTES_CHARS} characters.")
    if len(draft.override_reason.strip()) > MAX_OVERRIDE_CHARS:
        problems.append(f"The override reason is limited to {MAX_OVERRIDE_CHARS} characters.")
    return problems
