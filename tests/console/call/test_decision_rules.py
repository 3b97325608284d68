"""The pure decision rules (console.domain.decision)."""

from __future__ import annotations

import pytest

from console.domain.decision import (
    DecisionDraft,
    decision_problems,
    override_grounds,
    record_warnings,
)
from protocol import MAX_NOTES_CHARS, ChecklistItem, Outcome, ReasonCode, WarrantStatus

from .fakes import make_officer

TICKED = dict.fromkeys(ChecklistItem, True)


def test_clean_confirm_has_no_problems_and_no_override_grounds() -> None:
    draft = DecisionDraft(Outcome.CONFIRMED, ReasonCode.IDENTITY_CONFIRMED, checklist=TICKED)
    assert decision_problems(draft, make_officer()) == []
    assert override_grounds(draft, make_officer()) == []
    assert draft.to_body().override_reason is None


def test_confirm_must_use_identity_confirmed() -> None:
    draft = DecisionDraft(Outcome.CONFIRMED, ReasonCode.FACE_MISMATCH, checklist=TICKED)
    assert decision_problems(draft, make_officer()) == [
        "Confirm uses the reason 'Identity confirmed'."
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"warrant_status": WarrantStatus.REPORTED_LOST}, "WARRANT REPORTED LOST — DO NOT CONFIRM"),
        ({"warrant_status": WarrantStatus.REVOKED}, "WARRANT REVOKED — DO NOT CONFIRM"),
        ({"on_duty": False}, "NOT ON DUTY NOW"),
        ({"plain_clothes_authorised": False}, "NOT AUTHORISED FOR PLAIN-CLOTHES WORK"),
        ({"alerts": "  Known to PSD  "}, "ALERT: Known to PSD"),
    ],
)
def test_each_record_warning_demands_an_override(changes: dict, expected: str) -> None:
    officer = make_officer(**changes)
    assert record_warnings(officer) == [expected]
    draft = DecisionDraft(Outcome.CONFIRMED, ReasonCode.IDENTITY_CONFIRMED, checklist=TICKED)
    assert decision_problems(draft, officer) == [
        "Give an override reason to confirm despite the warnings."
    ]
    with_reason = DecisionDraft(
        Outcome.CONFIRMED, ReasonCode.IDENTITY_CONFIRMED, checklist=TICKED, override_reason="ok"
    )
    assert decision_problems(with_reason, officer) == []


def test_refusal_rules() -> None:
    officer = make_officer()
    assert decision_problems(DecisionDraft(Outcome.REFUSED, None), officer) == [
        "Choose a reason for refusing."
    ]
    wrong = DecisionDraft(Outcome.REFUSED, ReasonCode.IDENTITY_CONFIRMED)
    assert decision_problems(wrong, officer) == ["Choose a refusal reason."]
    blank_notes = DecisionDraft(Outcome.REFUSED, ReasonCode.OTHER, notes="   ")
    assert decision_problems(blank_notes, officer) == [
        "Notes are required when the reason is 'Other'."
    ]
    # A refusal never needs an override, whatever the record says.
    refuse = DecisionDraft(Outcome.REFUSED, ReasonCode.WARRANT_NOT_VALID)
    assert decision_problems(refuse, make_officer(warrant_status=WarrantStatus.SUSPENDED)) == []


def test_over_long_notes_are_refused_before_the_hub_sees_them() -> None:
    draft = DecisionDraft(
        Outcome.REFUSED, ReasonCode.STAGED_CALL, notes="x" * (MAX_NOTES_CHARS + 1)
    )
    assert decision_problems(draft, make_officer()) == [
        f"Notes are limited to {MAX_NOTES_CHARS} characters."
    ]
