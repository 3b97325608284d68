"""Officer card, decision panel and live call panel, rendered offscreen with real Qt widgets."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage

from console.domain.call import CallPhase
from console.models.call_vm import CallViewModel
from console.models.decision_vm import DecisionViewModel
from console.models.officer_vm import OfficerViewModel, present_officer
from console.models.video_feed import RemoteVideoFeed, SelfViewFeed
from console.services.call import CallService
from console.services.media_port import MediaState
from console.widgets.decision_panel import DecisionPanel
from console.widgets.live_call_panel import LiveCallPanel
from console.widgets.officer_card import OfficerCard
from console.widgets.video_pane import VideoPane
from protocol import ChecklistItem, Outcome, ReasonCode, WarrantStatus

from .fakes import (
    FakeCallApi,
    FakeClock,
    FakeMediaEngine,
    MemoryJournal,
    make_officer,
    settle,
)

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"


def png(colour: tuple[int, int, int] = (200, 160, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 150), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def is_red(colour: QColor) -> bool:
    return colour.red() > 140 and colour.green() < 60 and colour.blue() < 80


def region_pixels(image: QImage, top_left: QPoint, width: int, height: int) -> list[QColor]:
    return [
        image.pixelColor(top_left.x() + x, top_left.y() + y)
        for x in range(2, width - 2, max(1, width // 12))
        for y in range(2, height - 2, max(1, height // 4))
    ]


# ---------------------------------------------------------------------------- officer card


def test_suspended_warrant_shows_a_red_banner_that_cannot_be_missed(qtbot) -> None:
    vm = OfficerViewModel()
    card = OfficerCard(vm)
    qtbot.addWidget(card)
    card.resize(640, 420)
    card.show()
    vm.set_officer(make_officer(warrant_status=WarrantStatus.SUSPENDED), png())

    assert card.banner.isVisible()
    assert "WARRANT SUSPENDED — DO NOT CONFIRM" in card.banner.text()
    assert card.values["Warrant status"].text() == "SUSPENDED"

    image = card.grab().toImage()
    banner = card.banner.geometry()
    pixels = region_pixels(image, banner.topLeft(), banner.width(), banner.height())
    red_share = sum(is_red(p) for p in pixels) / len(pixels)
    assert red_share > 0.6, f"only {red_share:.0%} of the banner is red"
    assert banner.width() > card.width() * 0.8  # spans the card


def test_valid_officer_has_no_banner_and_no_red_at_the_top(qtbot) -> None:
    vm = OfficerViewModel()
    card = OfficerCard(vm)
    qtbot.addWidget(card)
    card.resize(640, 420)
    card.show()
    vm.set_officer(make_officer(), png())

    assert not card.banner.isVisible()
    image = card.grab().toImage()
    pixels = region_pixels(image, QPoint(0, 0), card.width(), 30)
    assert not any(is_red(p) for p in pixels)
    assert card.values["On duty now"].property("severity") == "ok"
    assert not card.photo.pixmap().isNull()


def test_every_record_warning_is_on_the_banner(qtbot) -> None:
    vm = OfficerViewModel()
    card = OfficerCard(vm)
    qtbot.addWidget(card)
    vm.set_officer(
        make_officer(on_duty=False, plain_clothes_authorised=False, alerts="Under investigation"),
        None,
    )
    text = card.banner.text()
    assert "NOT ON DUTY" in text
    assert "NOT AUTHORISED FOR PLAIN-CLOTHES WORK" in text
    assert "ALERT: Under investigation" in text
    assert card.values["Plain clothes"].property("severity") == "bad"
    assert card.photo.text() == "NO PHOTO ON FILE"


def test_old_photo_is_flagged() -> None:
    officer = make_officer(photo_taken_on=datetime(2020, 1, 5, tzinfo=UTC))
    presentation = present_officer(officer, now=datetime(2026, 11, 29, tzinfo=UTC))
    assert "over 6 years old" in presentation.photo_note
    recent = present_officer(make_officer(), now=datetime(2026, 11, 29, tzinfo=UTC))
    assert "years old" not in recent.photo_note


# ---------------------------------------------------------------------------- decision panel


@pytest.fixture
def decision(qtbot):
    vm = DecisionViewModel()
    panel = DecisionPanel(vm)
    qtbot.addWidget(panel)
    panel.show()
    vm.set_officer(make_officer())
    vm.set_enabled(True)
    requested: list[object] = []
    vm.decision_requested.connect(requested.append)
    return vm, panel, requested


def tick_all(panel: DecisionPanel) -> None:
    for box in panel.checks.values():
        box.setChecked(True)


def test_refuse_without_reason_is_blocked(qtbot, decision) -> None:
    _vm, panel, requested = decision
    qtbot.mouseClick(panel.refuse_button, Qt.MouseButton.LeftButton)
    assert requested == []
    assert panel.problems.isVisible()
    assert "Choose a reason" in panel.problems.text()


def test_other_without_notes_is_blocked_then_sent_with_notes(qtbot, decision) -> None:
    _vm, panel, requested = decision
    panel.reason.setCurrentIndex(panel.reason.findData(ReasonCode.OTHER.value))
    qtbot.mouseClick(panel.refuse_button, Qt.MouseButton.LeftButton)
    assert requested == []
    assert "Notes are required" in panel.problems.text()

    qtbot.keyClicks(panel.notes, "Second man filming from a car")
    assert not panel.problems.isVisible()  # editing clears the old complaint
    qtbot.mouseClick(panel.refuse_button, Qt.MouseButton.LeftButton)
    [draft] = requested
    assert draft.outcome == Outcome.REFUSED
    assert draft.reason_code == ReasonCode.OTHER
    assert draft.to_body().notes == "Second man filming from a car"


def test_confirm_with_everything_ticked_needs_no_override(qtbot, decision) -> None:
    _vm, panel, requested = decision
    tick_all(panel)
    assert not panel.override_box.isVisible()
    qtbot.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)
    [draft] = requested
    assert draft.outcome == Outcome.CONFIRMED
    assert draft.to_body().override_reason is None
    assert all(draft.to_body().checklist.values())


def test_confirm_with_an_unticked_item_asks_for_an_override(qtbot, decision) -> None:
    _vm, panel, requested = decision
    tick_all(panel)
    panel.checks[ChecklistItem.PURPOSE_STATED].setChecked(False)
    assert not panel.override_box.isVisible()  # a clean record: no clutter until Confirm
    qtbot.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)
    assert requested == []
    assert "override reason" in panel.problems.text()
    assert panel.override_box.isVisible()
    assert "Purpose of the stop stated" in panel.override_label.text()

    qtbot.keyClicks(panel.override, "Purpose given to the member of the public off camera")
    qtbot.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)
    [draft] = requested
    assert draft.to_body().checklist[ChecklistItem.PURPOSE_STATED] is False
    assert draft.to_body().override_reason.startswith("Purpose given")


def test_confirm_on_a_warning_record_needs_an_override_reason(qtbot, decision) -> None:
    vm, panel, requested = decision
    vm.set_officer(make_officer(warrant_status=WarrantStatus.SUSPENDED))
    tick_all(panel)
    assert panel.override_box.isVisible()
    assert "WARRANT SUSPENDED" in panel.override_label.text()

    qtbot.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)
    assert requested == []
    assert panel.override.hasFocus() or panel.override.isVisible()

    qtbot.keyClicks(panel.override, "Suspension lifted today, confirmed with PSD by phone")
    qtbot.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)
    [draft] = requested
    assert draft.to_body().override_reason.startswith("Suspension lifted")


def test_keyboard_shortcuts_confirm_and_refuse(qtbot, decision) -> None:
    _vm, panel, requested = decision
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=20000)
    panel.reason.setCurrentIndex(panel.reason.findData(ReasonCode.FACE_MISMATCH.value))
    qtbot.keyClick(panel, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert [d.reason_code for d in requested] == [ReasonCode.FACE_MISMATCH]

    tick_all(panel)
    qtbot.keyClick(panel, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [d.outcome for d in requested] == [Outcome.REFUSED, Outcome.CONFIRMED]


def test_panel_is_disabled_without_a_call(qtbot, decision) -> None:
    vm, panel, requested = decision
    vm.set_enabled(False)
    assert not panel.confirm_button.isEnabled()
    assert not vm.confirm()
    assert requested == []


# ---------------------------------------------------------------------------- live call panel


class LiveRig:
    def __init__(self, qtbot) -> None:
        self.api = FakeCallApi()
        self.engine = FakeMediaEngine()
        self.clock = FakeClock()
        self.service = CallService(self.api, self.engine, MemoryJournal(), self.clock)
        self.vm = CallViewModel(self.service)
        self.messages: list[tuple[str, str]] = []
        self.vm.message_posted.connect(lambda level, text: self.messages.append((level, text)))
        self.feed = RemoteVideoFeed()
        self.self_feed = SelfViewFeed()  # kept alive: the pane paints from its sink
        self.pane = VideoPane(self.feed, self.self_feed)
        self.panel = LiveCallPanel(self.vm, self.pane, self.feed)
        qtbot.addWidget(self.panel)
        self.panel.resize(1100, 700)
        self.panel.show()


@pytest.fixture
async def live(qtbot):
    rig = LiveRig(qtbot)
    yield rig
    await rig.vm.close()


async def test_live_panel_walks_through_a_confirmed_call(qtbot, live: LiveRig) -> None:
    panel = live.panel
    assert panel.pages.currentWidget() is panel.idle_page

    await live.vm.answer(41)
    assert panel.pages.currentWidget() is panel.call_page
    assert panel.phase_label.text() == "Connecting video…"
    assert "PC Chris WALKER" in panel.officer_card.name.text()
    assert panel.officer_card.values["Collar number"].text() == "1001CW"

    live.engine.last.emit(MediaState.CONNECTED)
    await settle()
    assert panel.phase_label.text() == "Live"

    tick_all(panel.decision_panel)
    qtbot.mouseClick(panel.decision_panel.confirm_button, Qt.MouseButton.LeftButton)
    await settle()
    assert live.service.state.phase == CallPhase.DECIDED
    assert panel.outcome_label.isVisible()
    assert panel.outcome_label.text() == "CONFIRMED — SC-TEST-01"

    qtbot.mouseClick(live.pane.hangup_button, Qt.MouseButton.LeftButton)
    await settle()
    assert panel.pages.currentWidget() is panel.idle_page
    assert "CONFIRMED — SC-TEST-01" in panel.last_call_label.text()
    assert live.api.count("end") == 1
    # The next call starts from a clean form.
    assert not any(box.isChecked() for box in panel.decision_panel.checks.values())


async def test_claim_lost_goes_to_the_message_bar(live: LiveRig) -> None:
    from console.domain.errors import ClaimLostError

    live.api.claim_error = ClaimLostError("PS Jones")
    await live.vm.answer(41)
    assert live.messages == [("warning", "Taken by PS Jones.")]
    assert live.panel.pages.currentWidget() is live.panel.idle_page


async def test_media_failure_enables_release_and_fail(qtbot, live: LiveRig) -> None:
    live.engine.answer_error = RuntimeError("no DTLS")
    await live.vm.answer(41)
    assert live.panel.phase_label.text() == "Video failed"
    assert live.panel.release_button.isEnabled()
    assert live.panel.fail_button.isEnabled()
    assert any(level == "error" and "Mark failed" in text for level, text in live.messages)

    qtbot.mouseClick(live.panel.fail_button, Qt.MouseButton.LeftButton)
    await settle()
    assert live.api.count("fail") == 1
    assert "Marked failed" in live.panel.last_call_label.text()


async def test_pending_delivery_is_visible(qtbot, live: LiveRig) -> None:
    await live.vm.answer(41)
    live.engine.last.emit(MediaState.CONNECTED)
    await settle()
    live.api.reachable = False
    panel = live.panel
    panel.decision_panel.reason.setCurrentIndex(
        panel.decision_panel.reason.findData(ReasonCode.FACE_MISMATCH.value)
    )
    qtbot.mouseClick(panel.decision_panel.refuse_button, Qt.MouseButton.LeftButton)
    await settle()
    assert panel.phase_label.text() == "Decision pending delivery"
    assert panel.pending_label.isVisible()
    assert panel.pending_label.text() == "1 decision pending delivery"

    live.api.reachable = True
    await live.clock.advance(1)
    assert not panel.pending_label.isVisible()
    assert panel.outcome_label.text() == "REFUSED — SC-TEST-01"


async def test_suspended_officer_mid_call_screenshot(live: LiveRig) -> None:
    live.api.officer_record = make_officer(
        warrant_status=WarrantStatus.SUSPENDED, photo_taken_on=datetime(2021, 6, 1, tzinfo=UTC)
    )
    live.api.photo = png()
    await live.vm.answer(41)
    live.engine.last.emit(MediaState.CONNECTED)
    await settle()

    image = live.panel.grab().toImage()
    banner = live.panel.officer_card.banner
    origin = banner.mapTo(live.panel, QPoint(0, 0))
    pixels = region_pixels(image, origin, banner.width(), banner.height())
    assert sum(is_red(p) for p in pixels) / len(pixels) > 0.6
    assert live.panel.decision_panel.override_box.isVisible()  # a warning: override up front
    assert live.panel.decision_panel.confirm_button.isVisible()
    ARTIFACTS.mkdir(exist_ok=True)
    assert image.save(str(ARTIFACTS / "live-call-suspended.png"))
