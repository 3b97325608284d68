"""The sign-in dialog: username + password, the hub's address, demo accounts in demo mode.

Forwards `sign_in_requested(username, password)`; the composition root runs the sign-in and
calls `show_error()` or `accept()`. Opened with `open()` (never `exec()` inside a coroutine).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class SignInDialog(QDialog):
    sign_in_requested = Signal(str, str)
    quit_requested = Signal()

    def __init__(
        self,
        hub_url: str,
        demo_accounts: tuple[tuple[str, str, str], ...] = (),
        parent: QWidget | None = None,
        notice: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.setWindowTitle("Safe Connection — sign in")
        self.setAccessibleName("Sign in")
        self.setModal(True)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        heading = QLabel("Safe Connection", self)
        heading.setObjectName("heading")
        layout.addWidget(heading)
        sub = QLabel("Control-room console. Sign in with your operator account.", self)
        sub.setWordWrap(True)
        layout.addWidget(sub)

        self.notice = QLabel(notice, self)
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(bool(notice))
        layout.addWidget(self.notice)

        form = QFormLayout()
        self.username = QLineEdit(self)
        self.username.setAccessibleName("Username")
        self.username.setPlaceholderText("e.g. smith")
        self.password = QLineEdit(self)
        self.password.setAccessibleName("Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        layout.addLayout(form)

        self.error = QLabel(self)
        self.error.setObjectName("signInError")
        self.error.setAccessibleName("Sign-in problem")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

        hub = QLabel(f"Hub: {hub_url}", self)
        hub.setObjectName("muted")
        hub.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(hub)

        if demo_accounts:
            layout.addWidget(self._demo_box(demo_accounts))

        buttons = QHBoxLayout()
        self.quit_button = QPushButton("&Quit", self)
        self.quit_button.setAccessibleName("Quit")
        self.quit_button.setAutoDefault(False)
        self.sign_in_button = QPushButton("&Sign in", self)
        self.sign_in_button.setObjectName("primary")
        self.sign_in_button.setAccessibleName("Sign in")
        self.sign_in_button.setDefault(True)
        buttons.addWidget(self.quit_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_in_button)
        layout.addLayout(buttons)

        self.sign_in_button.clicked.connect(self._submit)
        self.quit_button.clicked.connect(self.quit_requested.emit)
        self.password.returnPressed.connect(self._submit)
        self.username.returnPressed.connect(self.password.setFocus)
        self.username.setFocus()
        self.setMinimumWidth(480)

    def _demo_box(self, accounts: tuple[tuple[str, str, str], ...]) -> QWidget:
        box = QWidget(self)
        box.setObjectName("demoBox")
        rows = QVBoxLayout(box)
        rows.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Demo mode — try one of these accounts:", box)
        title.setObjectName("muted")
        rows.addWidget(title)
        for username, password, who in accounts:
            button = QPushButton(f"{username} / {password}  —  {who}", box)
            button.setObjectName("demoAccount")
            button.setAccessibleName(f"Fill in demo account {username}")
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, u=username, p=password: self.fill(u, p))
            rows.addWidget(button)
        return box

    def fill(self, username: str, password: str) -> None:
        self.username.setText(username)
        self.password.setText(password)
        self.sign_in_button.setFocus()

    def _submit(self) -> None:
        if not self.sign_in_button.isEnabled():
            return
        username = self.username.text().strip()
        if not username or not self.password.text():
            self.show_error("Enter your username and password.")
            return
        self.error.hide()
        self.sign_in_requested.emit(username, self.password.text())

    def set_busy(self, busy: bool) -> None:
        self.sign_in_button.setEnabled(not busy)
        self.sign_in_button.setText("Signing in…" if busy else "&Sign in")

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.adjustSize()  # grow to fit the message rather than squeeze the fields
        self.password.selectAll()
        self.password.setFocus()

    def reject(self) -> None:
        # Escape or the window's close button: quitting is the only way out of signing in.
        self.quit_requested.emit()
