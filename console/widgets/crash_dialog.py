"""The one dialog for an unexpected error: plain words, where the details are, no traceback."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class CrashDialog(QDialog):
    """`accepted` = keep working; `quit_requested` via the Quit button (rejected)."""

    def __init__(self, summary: str, log_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle("Something went wrong")
        self.setAccessibleName("Unexpected error")
        layout = QVBoxLayout(self)
        heading = QLabel("Something went wrong in the console", self)
        heading.setObjectName("heading")
        layout.addWidget(heading)
        self.body = QLabel(self)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.body)
        self.set_summary(summary, log_path)
        buttons = QDialogButtonBox(self)
        self.continue_button = QPushButton("Keep working", self)
        self.continue_button.setAccessibleName("Keep working")
        self.quit_button = QPushButton("Quit console", self)
        self.quit_button.setAccessibleName("Quit console")
        buttons.addButton(self.continue_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.quit_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.continue_button.setDefault(True)

    def set_summary(self, summary: str, log_path: str, count: int = 1) -> None:
        more = f" ({count} errors so far)" if count > 1 else ""
        self.body.setText(
            f"{summary}{more}\n\nThe details were written to the log:\n{log_path}\n\n"
            "You can usually keep working. If the console misbehaves, quit and start it "
            "again, and give the log file to the control-room engineer."
        )
