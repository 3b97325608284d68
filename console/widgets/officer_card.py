"""The officer's record on file: photo, name, numbers, station, and every status that matters.

Anything that should stop a routine Confirm (warrant not valid, off duty, not authorised, alerts)
is shown twice: in the red `WarningBanner` at the top, and in red against the field itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from console.models.officer_vm import OfficerViewModel, Severity
from console.widgets.warning_banner import WarningBanner

PHOTO_SIZE = (112, 140)
_COLOURS = {
    Severity.OK: "#2fbf71",
    Severity.WARN: "#f0a020",
    Severity.BAD: "#ff4d5e",
    Severity.NEUTRAL: "",
}


class OfficerCard(QFrame):
    """Renders `OfficerViewModel`; no logic beyond layout and colour.

    `show_photo=False` leaves the photo to a host that already shows it large (the Live panel's
    video pane puts the photo on file beside the live video, where the comparison is made); the
    photo's date and age warning then appear as a row of the card.
    """

    def __init__(
        self,
        officer_vm: OfficerViewModel,
        parent: QWidget | None = None,
        *,
        show_photo: bool = True,
    ) -> None:
        super().__init__(parent)
        self._show_photo = show_photo
        self.setObjectName("officerCard")
        self.setAccessibleName("Officer on record")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._vm = officer_vm

        self.banner = WarningBanner(self)
        self.photo = QLabel("No photo on file")
        self.photo.setObjectName("officerPhoto")
        self.photo.setAccessibleName("Officer photo on file")
        self.photo.setFixedSize(*PHOTO_SIZE)
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo.setWordWrap(True)
        self.photo.setStyleSheet("border: 1px solid #555;")
        self.photo_note = QLabel()
        self.photo_note.setObjectName("photoNote")
        self.photo_note.setWordWrap(True)
        self.photo_note.setMaximumWidth(PHOTO_SIZE[0] + 8)  # wrap under the photo, not wider

        self.name = QLabel("No officer")
        self.name.setObjectName("officerName")
        self.name.setAccessibleName("Officer name")
        self.name.setWordWrap(True)
        # A local stylesheet, not setFont(): the theme's base font-size would override setFont().
        self.name.setStyleSheet("font-size: 15pt; font-weight: bold;")

        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(10)
        self._grid.setVerticalSpacing(3)
        self.values: dict[str, QLabel] = {}

        photo_column = QVBoxLayout()
        photo_column.addWidget(self.photo)
        photo_column.addWidget(self.photo_note)
        photo_column.addStretch(1)
        details = QVBoxLayout()
        details.addLayout(self._grid)
        details.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(photo_column)
        body.addLayout(details, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.name)
        layout.addLayout(body, 1)
        self.photo.setVisible(show_photo)
        self.photo_note.setVisible(show_photo)

        officer_vm.changed.connect(self._render)
        self._render()

    def _render(self) -> None:
        presentation = self._vm.presentation
        if presentation is None:
            self.banner.set_messages([])
            self.name.setText("No officer")
            self.photo.setPixmap(self._vm.photo)  # null pixmap clears it
            self.photo.setText("No photo on file")
            self.photo_note.setText("")
            self._set_fields([])
            return
        self.banner.set_messages(presentation.banner)
        self.name.setText(f"{presentation.name}  {presentation.collar}")
        self.name.setAccessibleDescription(presentation.name)
        pixmap = self._vm.photo
        if pixmap.isNull():
            self.photo.setPixmap(pixmap)
            self.photo.setText("NO PHOTO ON FILE")
        else:
            self.photo.setPixmap(
                pixmap.scaled(
                    self.photo.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        self.photo_note.setText(presentation.photo_note)
        self._colour(self.photo_note, presentation.photo_note_severity)
        rows = [(f.label, f.value, f.severity) for f in presentation.fields]
        if not self._show_photo:
            rows.append(
                ("Photo on file", presentation.photo_note, presentation.photo_note_severity)
            )
        self._set_fields(rows)

    def _set_fields(self, rows: list[tuple[str, str, Severity]]) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        self.values = {}
        for row, (label_text, value_text, severity) in enumerate(rows):
            label = QLabel(label_text)
            label.setObjectName("fieldLabel")
            value = QLabel(value_text)
            value.setObjectName("fieldValue")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setAccessibleName(label_text)
            label.setBuddy(value)
            self._colour(value, severity)
            self._grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(value, row, 1)
            self.values[label_text] = value
        self._grid.setColumnStretch(1, 1)

    @staticmethod
    def _colour(label: QLabel, severity: Severity) -> None:
        colour = _COLOURS[severity]
        label.setProperty("severity", severity.value)
        weight = "font-weight: bold;" if severity == Severity.BAD else ""
        label.setStyleSheet((f"color: {colour};" if colour else "") + weight)
