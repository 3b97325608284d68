"""The decision panel's view-model: checklist, reason, notes, override — and their validation.

The rules live in `console.services.decision` (the service enforces them again); this model keeps
the draft, says what is missing, and emits `decision_requested(DecisionDraft)` only for a valid
draft. The call view-model connects that to the call service.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from console.domain.decision import (
    DecisionDraft,
    decision_problems,
    override_grounds,
    record_warnings,
)
from protocol import REFUSAL_REASONS, ChecklistItem, OfficerView, Outcome, ReasonCode


class DecisionViewModel(QObject):
    changed = Signal()  # draft, officer or enabled state changed
    problems_changed = Signal(list)  # list[str] shown under the buttons; [] clears
    decision_requested = Signal(object)  # DecisionDraft, already valid

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._officer: OfficerView | None = None
        self._checklist: dict[ChecklistItem, bool] = dict.fromkeys(ChecklistItem, False)
        self._reason: ReasonCode | None = None
        self._notes = ""
        self._override = ""
        self._enabled = False
        self._busy = False
        self._problems: list[str] = []
        self._confirm_attempted = False

    # ------------------------------------------------------------------ state

    @property
    def enabled(self) -> bool:
        """A call is open for a decision and none is being sent."""
        return self._enabled and not self._busy

    @property
    def checklist(self) -> dict[ChecklistItem, bool]:
        return dict(self._checklist)

    @property
    def refusal_reason(self) -> ReasonCode | None:
        return self._reason

    @property
    def notes(self) -> str:
        return self._notes

    @property
    def override_reason(self) -> str:
        return self._override

    @property
    def problems(self) -> list[str]:
        return list(self._problems)

    def confirm_draft(self) -> DecisionDraft:
        return DecisionDraft(
            Outcome.CONFIRMED,
            ReasonCode.IDENTITY_CONFIRMED,
            self._notes,
            dict(self._checklist),
            self._override,
        )

    def refuse_draft(self) -> DecisionDraft:
        return DecisionDraft(Outcome.REFUSED, self._reason, self._notes, dict(self._checklist), "")

    @property
    def override_grounds(self) -> list[str]:
        """Why Confirm needs an override reason now (drives the override field's visibility)."""
        return override_grounds(self.confirm_draft(), self._officer)

    @property
    def override_shown(self) -> bool:
        """Show the override field: the record has warnings, or Confirm was tried without it.

        Unticked checklist items alone only bring the field up once the sergeant tries to
        confirm, so a routine call is not cluttered with an override box from the first second.
        """
        if not self.enabled or not self.override_grounds:
            return False
        return bool(record_warnings(self._officer)) or self._confirm_attempted

    @staticmethod
    def refusal_reasons() -> list[ReasonCode]:
        """Refusal reasons in the protocol's order."""
        return [code for code in ReasonCode if code in REFUSAL_REASONS]

    # ------------------------------------------------------------------ edits

    def set_officer(self, officer: OfficerView | None) -> None:
        if officer != self._officer:
            self._officer = officer
            self.changed.emit()

    def set_enabled(self, enabled: bool) -> None:
        if enabled != self._enabled:
            self._enabled = enabled
            self.changed.emit()

    def set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.changed.emit()

    def set_checked(self, item: ChecklistItem, checked: bool) -> None:
        if self._checklist[item] != checked:
            self._checklist[item] = checked
            self._clear_problems()
            self.changed.emit()

    def set_refusal_reason(self, reason: ReasonCode | None) -> None:
        if reason is not None and reason not in REFUSAL_REASONS:
            raise ValueError(f"{reason} is not a refusal reason")
        if reason != self._reason:
            self._reason = reason
            self._clear_problems()
            self.changed.emit()

    def set_notes(self, notes: str) -> None:
        if notes != self._notes:
            self._notes = notes
            self._clear_problems()
            self.changed.emit()

    def set_override_reason(self, text: str) -> None:
        if text != self._override:
            self._override = text
            self._clear_problems()
            self.changed.emit()

    def reset(self) -> None:
        """A fresh form for the next call."""
        self._checklist = dict.fromkeys(ChecklistItem, False)
        self._reason = None
        self._notes = ""
        self._override = ""
        self._busy = False
        self._confirm_attempted = False
        self._set_problems([])
        self.changed.emit()

    # ------------------------------------------------------------------ intents

    def confirm(self) -> bool:
        """Ask to confirm; returns False (with problems posted) when the draft is incomplete."""
        sent = self._request(self.confirm_draft())
        if not sent and not self._confirm_attempted and self.override_grounds:
            self._confirm_attempted = True
            self.changed.emit()  # the override field appears
        return sent

    def refuse(self) -> bool:
        """Ask to refuse; returns False (with problems posted) when the draft is incomplete."""
        return self._request(self.refuse_draft())

    def _request(self, draft: DecisionDraft) -> bool:
        if not self.enabled:
            self._set_problems(["There is no call to decide."])
            return False
        problems = decision_problems(draft, self._officer)
        self._set_problems(problems)
        if problems:
            return False
        self.decision_requested.emit(draft)
        return True

    def _clear_problems(self) -> None:
        if self._problems:
            self._set_problems([])

    def _set_problems(self, problems: list[str]) -> None:
        self._problems = problems
        self.problems_changed.emit(list(problems))
