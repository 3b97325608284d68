"""Shown after the idle lock: the signed-in operator re-enters the password, or signs out."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class LockDialog(QDialog):
    unlock_requested = Signal(str)
    sign_out_requested = Signal()

    def __init__(self, operator_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockDialog")
        self.setWindowTitle("Console locked")
        self.setAccessibleName("Console locked")
        self.setModal(True)
        layout = QVBoxLayout(self)
        heading = QLabel("Console locked", self)
        heading.setObjectName("heading")
        layout.addWidget(heading)
        self.who = QLabel(self)
        self.who.setWordWrap(True)
        layout.addWidget(self.who)
        self.set_operator(operator_label)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        layout.addWidget(self.password)
        self.error = QLabel(self)
        self.error.setObjectName("signInError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        self.sign_out_button = QPushButton("Sign &out", self)
        self.sign_out_button.setAccessibleName("Sign out")
        self.sign_out_button.setAutoDefault(False)
        self.unlock_button = QPushButton("&Unlock", self)
        self.unlock_button.setObjectName("primary")
        self.unlock_button.setAccessibleName("Unlock")
        self.unlock_button.setDefault(True)
        buttons.addWidget(self.sign_out_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        layout.addLayout(buttons)
        self.unlock_button.clicked.connect(self._submit)
        self.password.returnPressed.connect(self._submit)
        self.sign_out_button.clicked.connect(self.sign_out_requested.emit)
        self.setMinimumWidth(420)

    def set_operator(self, operator_label: str) -> None:
        self.who.setText(
            f"Locked after a period without input. {operator_label}, enter your "
            "password to continue. Calls keep ringing while locked."
        )

    def _submit(self) -> None:
        self.error.hide()
        self.unlock_requested.emit(self.password.text())

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.adjustSize()  # grow to fit the message rather than squeeze the fields
        self.password.selectAll()
        self.password.setFocus()

    def prepare(self) -> None:
        """Clear the previous attempt before showing the dialog again."""
        self.password.clear()
        self.error.hide()
        self.password.setFocus()

    def reject(self) -> None:
        # Escape must not bypass the lock.
        return
