"""VideoPane: photo beside the video, zoom, controls forward intent, badge, NO CAMERA, meter."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap

from console.models.video_feed import RemoteVideoFeed, SelfViewFeed
from console.models.video_local_media import LocalMediaMonitor
from console.widgets.level_meter import AMBER, GREEN, RED, LevelMeter
from console.widgets.video_pane import BADGE_COLOURS, VideoPane


@pytest.fixture
def pane(qtbot) -> VideoPane:
    widget = VideoPane(RemoteVideoFeed(), SelfViewFeed())
    qtbot.addWidget(widget)
    widget.resize(900, 560)
    widget.show()
    return widget


def red_pixmap() -> QPixmap:
    pixmap = QPixmap(120, 160)
    pixmap.fill(QColor(200, 20, 20))
    return pixmap


def test_photo_on_file_is_drawn_beside_the_video(pane: VideoPane) -> None:
    pane.set_photo(red_pixmap())
    image = pane.photo.grab().toImage()
    centre = image.pixelColor(image.width() // 2, image.height() // 2)
    assert (centre.red(), centre.green(), centre.blue()) == (200, 20, 20)
    assert pane.photo.geometry().left() > pane.live_video.geometry().right()


def test_clicking_the_photo_opens_a_zoom_dialog(qtbot, pane: VideoPane) -> None:
    pane.set_photo(red_pixmap())
    qtbot.mouseClick(pane.photo, Qt.MouseButton.LeftButton)
    dialog = pane.zoom_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.windowTitle() == "Photo on file"
    assert dialog.content.pixmap().size() == red_pixmap().size()
    dialog.accept()
    qtbot.waitUntil(lambda: pane.zoom_dialog is None)


def test_clicking_the_live_video_zooms_the_same_feed(qtbot) -> None:
    remote = RemoteVideoFeed()
    pane = VideoPane(remote, SelfViewFeed())
    qtbot.addWidget(pane)
    pane.show()
    planes = np.full((360 * 3 // 2, 640), 128, dtype=np.uint8)
    planes[:360] = 230
    with qtbot.waitSignal(remote.frame_rendered, timeout=30000):
        remote.offer_frame(av.VideoFrame.from_ndarray(planes, format="yuv420p"))

    pane.live_video.setFocus()
    qtbot.keyClick(pane.live_video, Qt.Key.Key_Return)

    dialog = pane.zoom_dialog
    assert dialog is not None
    assert dialog.windowTitle() == "Officer live video"
    image = dialog.content.grab().toImage()
    assert image.pixelColor(image.width() // 2, image.height() // 2).lightness() > 180


def test_buttons_forward_intent(qtbot, pane: VideoPane) -> None:
    with qtbot.waitSignal(pane.mute_toggled, timeout=10000) as muted:
        qtbot.mouseClick(pane.mute_button, Qt.MouseButton.LeftButton)
    assert muted.args == [True]
    assert pane.mute_button.accessibleName() == "Unmute microphone"

    with qtbot.waitSignal(pane.camera_toggled, timeout=10000) as camera:
        qtbot.mouseClick(pane.camera_button, Qt.MouseButton.LeftButton)
    assert camera.args == [False]  # camera switched off

    with qtbot.waitSignal(pane.hangup_requested, timeout=10000):
        qtbot.mouseClick(pane.hangup_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(pane.snapshot_requested, timeout=10000):
        qtbot.mouseClick(pane.snapshot_button, Qt.MouseButton.LeftButton)


def test_every_control_has_an_accessible_name(pane: VideoPane) -> None:
    controls = [
        pane.live_video,
        pane.photo,
        pane.self_view,
        pane.mic_meter,
        pane.mute_button,
        pane.camera_button,
        pane.snapshot_button,
        pane.hangup_button,
        pane.timer_label,
        pane.quality_badge,
        pane.no_camera_label,
    ]
    assert all(control.accessibleName() for control in controls)


@pytest.mark.parametrize("badge", ["good", "fair", "poor"])
def test_quality_badge_colour_and_figures(pane: VideoPane, badge: str) -> None:
    pane.set_quality(1280, 720, 29.6, 1450.0, 0.4, 23.0, badge)
    assert pane.badge == badge
    text = pane.quality_badge.text()  # compact on screen, so the pane fits beside the record
    assert badge.upper() in text
    assert "1280\u00d7720" in text
    assert "30 fps" in text
    assert "RTT 23 ms" in text
    details = pane.quality_badge.toolTip()  # every figure, also for screen readers
    assert details == pane.quality_badge.accessibleDescription()
    assert "1450 kbit/s" in details
    assert "loss 0.4 %" in details
    assert "RTT 23 ms" in details
    assert BADGE_COLOURS[badge][0] in pane.quality_badge.styleSheet()


def test_unknown_badge_and_missing_rtt(pane: VideoPane) -> None:
    pane.set_quality(0, 0, 0.0, 0.0, 0.0, None, "nonsense")
    assert pane.badge == "unknown"
    assert "RTT \u2013" in pane.quality_badge.text()


def test_no_camera_notice(pane: VideoPane) -> None:
    pane.set_no_camera(True, "Camera in use by another application")
    assert pane.no_camera_label.isVisible()
    assert "in use by another application" in pane.no_camera_label.text()
    assert not pane.camera_button.isEnabled()
    pane.set_no_camera(False)
    assert not pane.no_camera_label.isVisible()


def test_call_timer_starts_at_zero(pane: VideoPane) -> None:
    pane.start_call_timer()
    assert pane.timer_label.text() == "00:00"
    pane.stop_call_timer()


@pytest.mark.parametrize(
    ("level", "expected", "colour"),
    [(-1.0, 0.0, GREEN), (0.5, 0.5, GREEN), (0.8, 0.8, AMBER), (7.0, 1.0, RED)],
)
def test_level_meter_clamps_and_colours(qtbot, level, expected, colour) -> None:
    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.set_level(level)
    assert meter.level == expected
    assert meter.colour() == colour


def test_level_meter_nan_is_silence(qtbot) -> None:
    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.set_level(0.6)
    meter.set_level(float("nan"))
    assert meter.level == 0.0


class FakeStatus:
    def __init__(self, using_card: bool, camera_message: str) -> None:
        self.using_card = using_card
        self.camera_message = camera_message


class FakeLocalMedia:
    """A hand-written stand-in for the engine's local-media surface."""

    def __init__(self) -> None:
        self.level = 0.0
        self.status = FakeStatus(True, "No camera found")
        self.listeners: list = []

    def microphone_level(self) -> float:
        return self.level

    def local_status(self) -> FakeStatus:
        return self.status

    def add_status_listener(self, listener) -> None:
        self.listeners.append(listener)


def test_local_media_monitor_drives_meter_and_no_camera_notice(qtbot, pane: VideoPane) -> None:
    source = FakeLocalMedia()
    monitor = LocalMediaMonitor(source)
    pane.attach_local_media(monitor)

    monitor.start()
    assert pane.no_camera_label.isVisible()
    assert "No camera found" in pane.no_camera_label.text()

    source.level = 0.42
    qtbot.waitUntil(lambda: pane.mic_meter.level == pytest.approx(0.42), timeout=20000)

    for listener in source.listeners:  # the camera came up
        listener(FakeStatus(False, "Camera on"))
    assert not pane.no_camera_label.isVisible()
    monitor.stop()
