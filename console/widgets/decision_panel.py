"""Checklist, refusal reason, notes, override reason, and the Confirm / Refuse buttons.

Keyboard-first: Alt+1…Alt+5 tick the checklist, Ctrl+Enter confirms, Ctrl+R refuses. Buttons stay
enabled during a call so that a shortcut always answers; an incomplete decision is not sent and
the panel says, in red under the buttons, what is missing and focuses the field to fix.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.models.decision_vm import DecisionViewModel
from protocol import CHECKLIST_LABELS, MAX_NOTES_CHARS, REASON_LABELS, ChecklistItem, ReasonCode

CONFIRM_KEYS = ("Ctrl+Return", "Ctrl+Enter")
# The dark theme leaves the tick boxes dark grey on near-black; a sergeant must see at a glance
# which items are ticked: a light outline when empty, solid green when ticked.
_CHECKLIST_STYLE = (
    "QCheckBox::indicator { border: 2px solid #8a96a3; border-radius: 3px;"
    " background: #0f1317; }"
    "QCheckBox::indicator:checked { border-color: #2fbf71; background: #2fbf71; }"
    "QCheckBox::indicator:disabled { border-color: #4a525c; }"
    "QCheckBox:focus { color: #ffffff; }"
    "QCheckBox::indicator:focus { border-color: #4d9cff; }"
)
REFUSE_KEY = "Ctrl+R"


class DecisionPanel(QWidget):
    """Renders `DecisionViewModel` and forwards every edit and intent to it."""

    def __init__(self, decision_vm: DecisionViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("decisionPanel")
        self.setAccessibleName("Decision")
        self._vm = decision_vm
        self._rendering = False

        checklist_box = QGroupBox("Checklist")
        checklist_box.setStyleSheet(_CHECKLIST_STYLE)
        checklist_layout = QVBoxLayout(checklist_box)
        checklist_layout.setSpacing(2)  # five rows must fit beside the video on a 768 px screen
        self.checks: dict[ChecklistItem, QCheckBox] = {}
        for number, item in enumerate(ChecklistItem, start=1):
            box = QCheckBox(f"&{number}  {CHECKLIST_LABELS[item]}")
            box.setAccessibleName(CHECKLIST_LABELS[item])
            box.toggled.connect(lambda checked, item=item: self._vm.set_checked(item, checked))
            checklist_layout.addWidget(box)
            self.checks[item] = box

        self.reason = QComboBox()
        self.reason.setAccessibleName("Refusal reason")
        # Long reason labels must not force the side column wider than the window.
        self.reason.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.reason.setMinimumContentsLength(18)
        self.reason.addItem("Choose a refusal reason…", None)
        for code in self._vm.refusal_reasons():
            self.reason.addItem(REASON_LABELS[code], code.value)
        self.reason.currentIndexChanged.connect(self._on_reason_changed)
        reason_label = QLabel("&Reason")
        reason_label.setBuddy(self.reason)

        self.notes = QPlainTextEdit()
        self.notes.setAccessibleName("Notes")
        self.notes.setPlaceholderText("Notes for the record (required for 'Other')")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(54)
        self.notes.textChanged.connect(lambda: self._vm.set_notes(self.notes.toPlainText()))
        notes_label = QLabel("&Notes")
        notes_label.setBuddy(self.notes)

        self.override_label = QLabel()
        self.override_label.setObjectName("overrideGrounds")
        self.override_label.setWordWrap(True)
        self.override_label.setStyleSheet("color: #f0a020;")
        self.override = QLineEdit()
        self.override.setAccessibleName("Override reason")
        self.override.setPlaceholderText("Why you confirm despite the above (required)")
        self.override.setMaxLength(500)
        self.override.textChanged.connect(self._vm.set_override_reason)
        self.override_box = QWidget()
        override_layout = QVBoxLayout(self.override_box)
        override_layout.setContentsMargins(0, 0, 0, 0)
        override_layout.addWidget(self.override_label)
        override_layout.addWidget(self.override)

        self.confirm_button = QPushButton("CONFIRM")
        self.confirm_button.setObjectName("confirmButton")
        self.confirm_button.setAccessibleName("Confirm identity")
        self.confirm_button.setStyleSheet(
            "QPushButton { background: #1e7d46; color: white; font-weight: bold; padding: 8px;"
            " font-size: 14pt; }"
            "QPushButton:disabled { background: #3a4a40; color: #9aa; }"
        )
        self.confirm_button.clicked.connect(self.confirm)
        self.refuse_button = QPushButton("REFUSE")
        self.refuse_button.setObjectName("refuseButton")
        self.refuse_button.setAccessibleName("Refuse")
        self.refuse_button.setStyleSheet(
            "QPushButton { background: #a3202c; color: white; font-weight: bold; padding: 8px;"
            " font-size: 14pt; }"
            "QPushButton:disabled { background: #4a3a3c; color: #a99; }"
        )
        self.refuse_button.clicked.connect(self.refuse)

        self.confirm_button.setToolTip("Confirm identity (Ctrl+Enter)")
        self.refuse_button.setToolTip("Refuse (Ctrl+R); choose a reason first")
        keys_hint = QLabel("Ctrl+Enter confirm · Ctrl+R refuse · Alt+1…5 tick")
        keys_hint.setObjectName("shortcutHint")
        keys_hint.setWordWrap(True)
        keys_hint.setStyleSheet("color: #8a8f98; font-size: 11pt;")

        self.problems = QLabel()
        self.problems.setObjectName("decisionProblems")
        self.problems.setAccessibleName("What is missing")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #ff4d5e; font-weight: bold;")
        self.problems.hide()

        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm_button, 1)
        buttons.addWidget(self.refuse_button, 1)
        # The buttons + what-is-missing live in their own widget so a host can pin them below a
        # scrolling form (LiveCallPanel does): Confirm and Refuse must never scroll out of view.
        self.actions = QWidget()
        self.actions.setObjectName("decisionActions")
        actions_layout = QVBoxLayout(self.actions)
        actions_layout.setContentsMargins(0, 4, 0, 0)
        actions_layout.addLayout(buttons)
        actions_layout.addWidget(keys_hint)
        actions_layout.addWidget(self.problems)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(checklist_box)
        # Labels beside their fields, not above: the form must fit beside the video at 768 px.
        fields = QFormLayout()
        fields.setContentsMargins(0, 0, 0, 0)
        fields.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        fields.addRow(reason_label, self.reason)
        fields.addRow(notes_label, self.notes)
        layout.addLayout(fields)
        layout.addWidget(self.override_box)
        layout.addWidget(self.actions)

        self.shortcuts: list[QShortcut] = []
        for keys in CONFIRM_KEYS:
            self._shortcut(keys, self.confirm)
        self._shortcut(REFUSE_KEY, self.refuse)

        decision_vm.changed.connect(self._render)
        decision_vm.problems_changed.connect(self._show_problems)
        self._render()

    def _shortcut(self, keys: str, slot: object) -> None:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)
        self.shortcuts.append(shortcut)

    # ------------------------------------------------------------------ intents

    def confirm(self) -> None:
        if not self._vm.confirm():
            self._focus_first_problem(confirming=True)

    def refuse(self) -> None:
        if not self._vm.refuse():
            self._focus_first_problem(confirming=False)

    def _focus_first_problem(self, *, confirming: bool) -> None:
        if confirming and self.override_box.isVisible() and not self.override.text().strip():
            self.override.setFocus()
        elif not confirming and self._vm.refusal_reason is None:
            self.reason.setFocus()
        elif not confirming and self._vm.refusal_reason == ReasonCode.OTHER:
            self.notes.setFocus()

    def _on_reason_changed(self, _index: int) -> None:
        if self._rendering:
            return
        data = self.reason.currentData()
        self._vm.set_refusal_reason(ReasonCode(data) if data else None)

    # ------------------------------------------------------------------ rendering

    def _render(self) -> None:
        self._rendering = True
        try:
            enabled = self._vm.enabled
            for item, box in self.checks.items():
                box.blockSignals(True)
                box.setChecked(self._vm.checklist[item])
                box.blockSignals(False)
            reason = self._vm.refusal_reason
            index = self.reason.findData(reason.value if reason else None)
            self.reason.setCurrentIndex(max(index, 0))
            if self.notes.toPlainText() != self._vm.notes:
                self.notes.blockSignals(True)
                self.notes.setPlainText(self._vm.notes[: MAX_NOTES_CHARS + 1])
                self.notes.blockSignals(False)
            if self.override.text() != self._vm.override_reason:
                self.override.blockSignals(True)
                self.override.setText(self._vm.override_reason)
                self.override.blockSignals(False)
            grounds = _compact(self._vm.override_grounds) if self._vm.override_shown else []
            self.override_label.setText(
                "Confirming needs an override reason:\n• " + "\n• ".join(grounds) if grounds else ""
            )
            self.override_box.setVisible(bool(grounds))
            for widget in (
                *self.checks.values(),
                self.reason,
                self.notes,
                self.override,
                self.confirm_button,
                self.refuse_button,
            ):
                widget.setEnabled(enabled)
        finally:
            self._rendering = False

    def _show_problems(self, problems: list[str]) -> None:
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))


def _compact(grounds: list[str]) -> list[str]:
    """Record warnings in full; unticked checklist items folded into one line."""
    unticked = [g for g in grounds if g.startswith("Not ticked: ")]
    shown = [g for g in grounds if not g.startswith("Not ticked: ")]
    if len(unticked) == 1:
        shown.append(unticked[0])
    elif unticked:
        shown.append(f"{len(unticked)} checklist items not ticked")
    return shown
