"""The History detail panel: one call's record — decision, checklist, notes, audit timeline and
snapshots (thumbnails arrive lazily from the detail view-model).

Render only. Bound duck-typed to a `HistoryDetailViewModel` (signals `detail_changed(object)`,
`thumbnail_ready(int, QImage)`, `loading_changed(bool)`); see history_filters.py for why the type
is not imported.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QListWidget,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.models.history_model import OUTCOME_COLOURS, format_duration
from protocol import (
    CHECKLIST_LABELS,
    REASON_LABELS,
    AuditEntryView,
    ChecklistItem,
    RequestDetail,
)

# Two snapshots (face and warrant card) side by side fit the narrow record panel.
THUMBNAIL_WIDTH = 144

#: Audit detail keys worth a line in the timeline (the rest is machine detail, e.g. hashes).
_TIMELINE_KEYS = ("outcome", "reason_code", "reference", "holder", "detail", "reason", "by")


def _time(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%H:%M:%S") if moment is not None else "—"


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def timeline_line(entry: AuditEntryView) -> str:
    """'09:12:03  PS Smith  request.claimed  (holder: PS Smith)'."""
    extras = [
        f"{key}: {entry.detail[key]}"
        for key in _TIMELINE_KEYS
        if key in entry.detail and entry.detail[key] not in (None, "")
    ]
    suffix = f"  ({'; '.join(extras)})" if extras else ""
    return f"{_time(entry.at)}  {entry.actor}  {entry.action.replace('_', ' ')}{suffix}"


class HistoryDetail(QScrollArea):
    """Shows the selected call's `RequestDetail`, or a hint when nothing is selected."""

    def __init__(self, detail_vm: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyDetail")
        self.setAccessibleName("Call record")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # The panel is narrow beside the table: its texts wrap instead of scrolling sideways.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._vm = detail_vm
        self._thumbnails: dict[int, QLabel] = {}

        body = QWidget(self)
        body.setObjectName("historyDetailBody")
        self.setWidget(body)
        outer = QVBoxLayout(body)
        # Hold the body at least at its layout's minimum so the scroll area scrolls instead of
        # squeezing rows over each other when the record is taller than the panel.
        outer.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)

        self.placeholder = QLabel("Select a call to see its record.", body)
        self.placeholder.setObjectName("historyDetailPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        outer.addWidget(self.placeholder)

        self.content = QWidget(body)
        outer.addWidget(self.content)
        outer.addStretch(1)
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(0, 0, 0, 0)

        heading = QHBoxLayout()
        self.reference_label = self._label("historyDetailReference", "Reference", 1.6, bold=True)
        self.reference_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome_label = self._label("historyDetailOutcome", "Outcome", 1.3, bold=True)
        heading.addWidget(self.reference_label)
        heading.addStretch(1)
        heading.addWidget(self.outcome_label)
        layout.addLayout(heading)

        facts = QGridLayout()
        facts.setHorizontalSpacing(12)
        facts.setColumnStretch(1, 1)
        self.facts: dict[str, QLabel] = {}
        for row, (key, caption) in enumerate(
            (
                ("officer", "Officer"),
                ("sergeant", "Sergeant"),
                ("reason", "Reason"),
                ("called", "Called at"),
                ("wait", "Answered after"),
                ("talk", "Talk time"),
                ("state", "Final state"),
                ("override", "Override reason"),
                ("location", "Location"),
            )
        ):
            name = QLabel(f"{caption}:", self.content)
            name.setProperty("historyFactName", True)
            name.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            value = self._label(f"historyDetail_{key}", caption)
            value.setWordWrap(True)  # long reasons wrap instead of widening the panel
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts[key] = value
            facts.addWidget(name, row, 0)
            facts.addWidget(value, row, 1)
        layout.addLayout(facts)

        layout.addWidget(self._section("Checklist"))
        self.checklist_label = self._label("historyDetailChecklist", "Checklist")
        self.checklist_label.setTextFormat(Qt.TextFormat.RichText)
        self.checklist_label.setWordWrap(True)
        layout.addWidget(self.checklist_label)

        layout.addWidget(self._section("Notes"))
        self.notes_label = self._label("historyDetailNotes", "Notes")
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.notes_label)

        layout.addWidget(self._section("Timeline"))
        self.timeline = QListWidget(self.content)
        self.timeline.setObjectName("historyDetailTimeline")
        self.timeline.setAccessibleName("Audit timeline")
        self.timeline.setMinimumHeight(140)
        # Wrap long lines instead of scrolling sideways: the detail panel is narrow.
        self.timeline.setWordWrap(True)
        self.timeline.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.timeline.setResizeMode(QListWidget.ResizeMode.Adjust)
        layout.addWidget(self.timeline)

        layout.addWidget(self._section("Snapshots"))
        self.snapshots_row = QWidget(self.content)
        self.snapshots_row.setObjectName("historyDetailSnapshots")
        self.snapshots_row.setAccessibleName("Snapshots")
        self._snapshots_layout = QHBoxLayout(self.snapshots_row)
        self._snapshots_layout.setContentsMargins(0, 0, 0, 0)
        self._snapshots_layout.addStretch(1)
        layout.addWidget(self.snapshots_row)

        detail_vm.detail_changed.connect(self.show_detail)
        detail_vm.thumbnail_ready.connect(self.show_thumbnail)
        detail_vm.loading_changed.connect(self._show_loading)
        self.show_detail(detail_vm.current)

    def _label(
        self, name: str, accessible: str, scale: float = 1.0, *, bold: bool = False
    ) -> QLabel:
        label = QLabel(self.content)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        if scale != 1.0 or bold:
            font = QFont(label.font())
            font.setPointSizeF(max(font.pointSizeF(), 10.0) * scale)
            font.setBold(bold)
            label.setFont(font)
        return label

    def _section(self, title: str) -> QLabel:
        label = QLabel(title, self.content)
        label.setProperty("historySection", True)
        font = QFont(label.font())
        font.setBold(True)
        label.setFont(font)
        return label

    # ------------------------------------------------------------------ render

    def _show_loading(self, loading: bool) -> None:
        if loading:
            self.placeholder.setText("Loading the call's record…")
            self.placeholder.show()
            self.content.hide()

    def show_detail(self, detail: RequestDetail | None) -> None:
        self._clear_snapshots()
        if detail is None:
            self.placeholder.setText("Select a call to see its record.")
            self.placeholder.show()
            self.content.hide()
            return
        self.placeholder.hide()
        self.content.show()
        request = detail.request
        decision = request.decision
        self.reference_label.setText(decision.reference if decision else f"Call #{request.id}")
        if decision is not None:
            key = decision.outcome.value
            outcome = decision.outcome.value.title()
        else:
            key = "other"
            outcome = request.state.value.title()
        self.outcome_label.setText(outcome)
        self.outcome_label.setProperty("outcome", key)
        colour = OUTCOME_COLOURS.get(key, OUTCOME_COLOURS["other"]).name()
        self.outcome_label.setStyleSheet(f"color: {colour};")

        self.facts["officer"].setText(request.officer.display)
        self.facts["sergeant"].setText(
            (decision.decided_by if decision else request.holder) or "— (never answered)"
        )
        self.facts["reason"].setText(REASON_LABELS[decision.reason_code] if decision else "—")
        self.facts["called"].setText(
            request.created_at.astimezone().strftime("%a %d %b %Y %H:%M:%S")
        )
        self.facts["wait"].setText(
            format_duration(_seconds_between(request.created_at, request.claimed_at))
        )
        self.facts["talk"].setText(
            format_duration(_seconds_between(request.connected_at, request.ended_at))
        )
        state = request.state.value.title()
        self.facts["state"].setText(
            f"{state} — {request.end_reason}" if request.end_reason else state
        )
        self.facts["override"].setText((decision.override_reason if decision else None) or "—")
        location = request.location
        self.facts["location"].setText(
            "—"
            if location is None
            else location.description or f"{location.latitude:.5f}, {location.longitude:.5f}"
        )

        self.checklist_label.setText(self._checklist_html(decision.checklist if decision else {}))
        notes = decision.notes.strip() if decision else ""
        self.notes_label.setText(notes or "No notes.")

        self.timeline.clear()
        for entry in detail.audit:
            self.timeline.addItem(timeline_line(entry))

        for snapshot in detail.snapshots:
            thumb = QLabel("Loading…", self.snapshots_row)
            thumb.setObjectName(f"historySnapshot_{snapshot.id}")
            thumb.setAccessibleName(
                f"Snapshot taken {_time(snapshot.taken_at)} by {snapshot.taken_by}"
            )
            thumb.setFixedSize(THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 3 // 4)
            thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
            thumb.setFrameShape(QFrame.Shape.StyledPanel)
            thumb.setToolTip(f"{_time(snapshot.taken_at)} — {snapshot.taken_by}")
            self._snapshots_layout.insertWidget(self._snapshots_layout.count() - 1, thumb)
            self._thumbnails[snapshot.id] = thumb
            cached = self._vm.image(snapshot.id)
            if cached is not None:
                self.show_thumbnail(snapshot.id, cached)
        if not detail.snapshots:
            none = QLabel("No snapshots were taken.", self.snapshots_row)
            self._snapshots_layout.insertWidget(0, none)

    @staticmethod
    def _checklist_html(checklist: dict[ChecklistItem, bool]) -> str:
        lines = []
        for item, label in CHECKLIST_LABELS.items():
            ticked = checklist.get(item)
            if ticked is True:
                lines.append(f"<span style='color:#43a047'>&#10003;</span> {label}")
            elif ticked is False:
                lines.append(f"<span style='color:#e53935'>&#10007;</span> {label}")
            else:
                lines.append(f"<span style='color:#9e9e9e'>&ndash;</span> {label} (not recorded)")
        return "<br>".join(lines)

    def show_thumbnail(self, snapshot_id: int, image: QImage) -> None:
        label = self._thumbnails.get(snapshot_id)
        if label is None:
            return  # a thumbnail for a record no longer shown
        pixmap = QPixmap.fromImage(image).scaled(
            label.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        label.setPixmap(pixmap)

    def _clear_snapshots(self) -> None:
        self._thumbnails.clear()
        while self._snapshots_layout.count() > 1:
            item = self._snapshots_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def thumbnail_labels(self) -> dict[int, QLabel]:
        return dict(self._thumbnails)
