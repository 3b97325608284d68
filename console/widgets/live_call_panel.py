"""The Live tab's call area: status, officer video + photo, officer card, decision, call actions.

Hosts the media engineer's `VideoPane` (passed in, so the composition root owns the feeds) and
wires its asks (hang up, snapshot, mute, camera) to the `CallViewModel`. Between calls the panel
shows an idle page with the previous call's outcome, so a stale picture is never on screen.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.domain.call import CallPhase
from console.models.video_feed import VideoFeed
from console.widgets.decision_panel import DecisionPanel
from console.widgets.fitting_scroll import FittingScrollArea
from console.widgets.officer_card import OfficerCard
from console.widgets.video_pane import VideoPane
from protocol import Outcome

# (keys, what) for the shell's Help ▸ Shortcuts dialog.
SHORTCUTS: list[tuple[str, str]] = [
    ("Ctrl+Enter", "Confirm identity"),
    ("Ctrl+R", "Refuse (choose a reason first)"),
    ("Alt+1 … Alt+5", "Tick checklist items"),
    ("Ctrl+H", "Hang up (after deciding: end the call)"),
    ("Ctrl+Shift+S", "Snapshot of the live video into the record"),
    ("Ctrl+Shift+Q", "Release the request to the queue"),
    ("Ctrl+Shift+F", "Mark the call failed"),
]

_PHASE_COLOURS = {
    CallPhase.CONNECTED: "#2fbf71",
    CallPhase.MEDIA_FAILED: "#ff4d5e",
    CallPhase.AWAITING_DECISION: "#f0a020",
    CallPhase.DELIVERING: "#f0a020",
}
_OUTCOME_STYLE = {
    Outcome.CONFIRMED: "background: #1e7d46; color: white;",
    Outcome.REFUSED: "background: #a3202c; color: white;",
}


# Sizes go in local stylesheets, not setFont(): the app theme sets a base font-size on every
# widget, which overrides setFont() but not a widget's own stylesheet.
_PHASE_STYLE = "font-size: 18pt; font-weight: bold;"
_OUTCOME_FONT = "font-size: 22pt; font-weight: bold; padding: 8px;"


class LiveCallPanel(QWidget):
    """Renders `console.models.call_vm.CallViewModel` and forwards the sergeant's intents to it.

    `call_vm` is typed loosely on purpose: the view-model module imports the call service, and
    widgets may not depend on services, even indirectly (import-linter contract).
    """

    def __init__(
        self,
        call_vm: Any,
        video_pane: VideoPane,
        remote_feed: VideoFeed | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("liveCallPanel")
        self.setAccessibleName("Live call")
        self._vm = call_vm
        self.video_pane = video_pane
        # Cleared between calls so the last officer's face never greets the next call.
        self._remote_feed = remote_feed

        self.phase_label = QLabel()
        self.phase_label.setObjectName("callPhase")
        self.phase_label.setAccessibleName("Call state")
        self.phase_label.setStyleSheet(_PHASE_STYLE)
        self.request_label = QLabel()
        self.request_label.setObjectName("callRequest")
        self.request_label.setAccessibleName("Request")
        self.pending_label = QLabel()
        self.pending_label.setObjectName("pendingDeliveries")
        self.pending_label.setAccessibleName("Decisions pending delivery")
        self.pending_label.setStyleSheet(
            "background: #f0a020; color: black; font-weight: bold; padding: 2px 8px;"
        )
        self.pending_label.hide()
        self.detail_label = QLabel()
        self.detail_label.setObjectName("callDetail")
        self.detail_label.setAccessibleName("Call detail")
        self.detail_label.setWordWrap(True)

        self.outcome_label = QLabel()
        self.outcome_label.setObjectName("callOutcome")
        self.outcome_label.setAccessibleName("Decision outcome and reference")
        self.outcome_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.outcome_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome_label.hide()

        self.officer_card = OfficerCard(call_vm.officer, show_photo=False)
        self.decision_panel = DecisionPanel(call_vm.decision)

        self.release_button = QPushButton("Release to queue")
        self.release_button.setAccessibleName("Release the request to the queue")
        self.release_button.clicked.connect(call_vm.request_release)
        self.fail_button = QPushButton("Mark failed")
        self.fail_button.setAccessibleName("Mark the call failed")
        self.fail_button.clicked.connect(call_vm.request_mark_failed)

        # Idle page: what happened last, and what to do next.
        self.idle_title = QLabel("No call in progress")
        self.idle_title.setObjectName("idleTitle")
        self.idle_title.setStyleSheet("font-size: 20pt; font-weight: bold;")
        self.idle_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.idle_hint = QLabel("Answer the oldest request from the queue.")
        self.idle_hint.setWordWrap(True)
        self.idle_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.last_call_label = QLabel()
        self.last_call_label.setObjectName("lastCall")
        self.last_call_label.setAccessibleName("Previous call")
        self.last_call_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.last_call_label.setStyleSheet("font-size: 14pt; font-weight: bold;")
        self.last_call_label.setWordWrap(True)  # a long summary must not widen the idle page
        self.last_call_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        idle_page = QWidget()
        idle_layout = QVBoxLayout(idle_page)
        idle_layout.addStretch(1)
        for widget in (self.idle_title, self.idle_hint, self.last_call_label):
            idle_layout.addWidget(widget)
        idle_layout.addStretch(2)

        # Call page: video on the left; record + decision form on the right, scrolling if the
        # screen is small, with Confirm / Refuse pinned underneath so they never scroll away.
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 6, 0)  # clear of the vertical scroll bar
        side_layout.addWidget(self.officer_card)
        side_layout.addWidget(self.decision_panel)
        side_layout.addStretch(1)
        side_scroll = FittingScrollArea(side)
        side_column = QWidget()
        side_column_layout = QVBoxLayout(side_column)
        side_column_layout.setContentsMargins(0, 0, 0, 0)
        side_column_layout.addWidget(side_scroll, 1)
        side_column_layout.addWidget(self.decision_panel.actions)  # moved out of the scroll
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(video_pane)
        splitter.addWidget(side_column)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        call_page = QWidget()
        call_layout = QVBoxLayout(call_page)
        call_layout.setContentsMargins(0, 0, 0, 0)
        call_layout.addWidget(self.outcome_label)
        call_layout.addWidget(splitter, 1)

        self.pages = QStackedWidget()
        self.idle_page = idle_page
        self.call_page = call_page
        self.pages.addWidget(idle_page)
        self.pages.addWidget(call_page)

        # Release / Mark failed ride on the header line: a row of their own would take height
        # the record and checklist need on a 768 px screen.
        header = QHBoxLayout()
        header.addWidget(self.phase_label)
        header.addWidget(self.request_label, 1)
        header.addWidget(self.pending_label)
        header.addWidget(self.release_button)
        header.addWidget(self.fail_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.detail_label)
        layout.addWidget(self.pages, 1)

        video_pane.hangup_requested.connect(call_vm.request_hang_up)
        video_pane.snapshot_requested.connect(call_vm.request_snapshot)
        video_pane.mute_toggled.connect(call_vm.set_microphone_muted)
        video_pane.camera_toggled.connect(call_vm.set_camera_enabled)
        call_vm.officer.changed.connect(self._show_photo)
        call_vm.quality_changed.connect(self._show_quality)
        call_vm.state_changed.connect(self._render)
        call_vm.pending_deliveries_changed.connect(self._show_pending)
        call_vm.busy_changed.connect(lambda _busy: self._render(call_vm.state))

        self.shortcuts: dict[str, QShortcut] = {}
        for keys, slot in (
            ("Ctrl+H", call_vm.request_hang_up),
            ("Ctrl+Shift+S", call_vm.request_snapshot),
            ("Ctrl+Shift+Q", call_vm.request_release),
            ("Ctrl+Shift+F", call_vm.request_mark_failed),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self.shortcuts[keys] = shortcut

        self._timer_running = False
        self._render(call_vm.state)
        self._show_pending(call_vm.pending_deliveries)

    # ------------------------------------------------------------------ rendering

    def _render(self, state: Any) -> None:
        phase = state.phase
        self.phase_label.setText(self._vm.phase_title())
        colour = _PHASE_COLOURS.get(phase, "")
        self.phase_label.setStyleSheet(_PHASE_STYLE + (f"color: {colour};" if colour else ""))
        officer = state.officer.display if state.officer else ""
        self.request_label.setText(
            f"Request {state.request_id} · {officer}" if state.request_id is not None else ""
        )
        self.detail_label.setText(state.detail)
        self.detail_label.setVisible(bool(state.detail))
        self._show_page(self.idle_page if phase == CallPhase.IDLE else self.call_page)

        decision = state.decision
        if decision is not None and phase in (CallPhase.DECIDED, CallPhase.DELIVERING):
            self.outcome_label.setText(f"{decision.outcome.value.upper()} — {decision.reference}")
            self.outcome_label.setStyleSheet(_OUTCOME_STYLE[decision.outcome] + _OUTCOME_FONT)
            self.outcome_label.show()
        elif phase == CallPhase.DELIVERING:
            self.outcome_label.setText("DECISION SAVED — PENDING DELIVERY TO THE HUB")
            self.outcome_label.setStyleSheet("background: #f0a020; color: black;" + _OUTCOME_FONT)
            self.outcome_label.show()
        else:
            self.outcome_label.hide()

        last = state.last_call
        self.last_call_label.setText(
            f"Previous call (request {last.request_id}): {last.summary}\n{last.officer}"
            if last is not None
            else ""
        )

        holding = phase.can_decide and not self._vm.busy
        self.release_button.setEnabled(holding)
        self.fail_button.setEnabled(holding)
        in_call = phase != CallPhase.IDLE
        self.release_button.setVisible(in_call)
        self.fail_button.setVisible(in_call)
        self.video_pane.hangup_button.setEnabled(phase.holds_claim and not self._vm.busy)
        self.video_pane.snapshot_button.setEnabled(
            state.media_live and phase == CallPhase.CONNECTED
        )
        live = phase == CallPhase.CONNECTED and state.media_live
        if live and not self._timer_running:
            self.video_pane.start_call_timer()
        elif not live and self._timer_running:
            self.video_pane.stop_call_timer()
        self._timer_running = live
        if phase == CallPhase.IDLE:
            self.video_pane.clear_quality()
            if self._remote_feed is not None:
                self._remote_feed.clear()

    def _show_page(self, page: QWidget) -> None:
        """Show `page`; only the shown page counts towards the panel's minimum size.

        A stacked widget is as wide as its widest page: between calls the wide call page would
        otherwise keep the queue squeezed for nothing. Ignored policies take a page out.
        """
        for other in (self.idle_page, self.call_page):
            policy = QSizePolicy.Policy.Preferred if other is page else QSizePolicy.Policy.Ignored
            other.setSizePolicy(policy, policy)
        self.pages.setCurrentWidget(page)
        self.updateGeometry()

    def _show_photo(self) -> None:
        self.video_pane.set_photo(self._vm.officer.photo)

    def _show_quality(self, quality: Any) -> None:
        self.video_pane.set_quality(
            quality.width,
            quality.height,
            quality.fps,
            quality.bitrate_kbps,
            quality.packet_loss_pct,
            quality.rtt_ms,
            quality.badge.value,
        )

    def _show_pending(self, count: int) -> None:
        self.pending_label.setText(
            f"{count} decision{'s' if count != 1 else ''} pending delivery" if count else ""
        )
        self.pending_label.setVisible(count > 0)
