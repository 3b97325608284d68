"""The call's video pane: the officer's live video large, the photo on file beside it.

Rendering choice (measured offscreen, PySide6 6.12): `QVideoWidget` draws through its own native
window/RHI path, and `QWidget.grab()` of it returns only the background colour (0xefefef): tests
and screenshots could never see the video. `VideoSurface` instead paints the sink's current
frame with `QVideoFrame.paint()` inside `paintEvent`: it shows up in `grab()`, costs ~0.3 ms per
paint at 640x360 once warm (offscreen CPU conversion; GPU on desktops), and needs no native
window. (`QVideoFrame.paint` logs "No RHI backend. Using CPU conversion." once per thread when
there is no GPU; that warning is harmless.)
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QRect, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
)
from PySide6.QtMultimedia import QVideoFrame, QVideoSink
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.models.video_feed import VideoFeed
from console.models.video_local_media import LocalMediaMonitor
from console.widgets.level_meter import LevelMeter

BACKGROUND = QColor("#111418")
PLACEHOLDER_TEXT = QColor("#9aa4b1")
BADGE_COLOURS = {
    "good": ("#1f7a34", "#ffffff"),
    "fair": ("#c98a10", "#000000"),
    "poor": ("#b02525", "#ffffff"),
    "unknown": ("#4a515c", "#ffffff"),
}


class _Clickable(QWidget):
    """A focusable widget that reports a click or Enter/Space as `clicked`."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit()
            return
        super().keyPressEvent(event)


class VideoSurface(_Clickable):
    """Paints a feed's current frame (from its `QVideoSink`), letterboxed; a placeholder until
    the first frame. Holds a reference to the feed so the sink outlives the widget's use of it."""

    def __init__(self, feed: VideoFeed, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._feed = feed
        self._sink: QVideoSink = feed.video_sink
        self._placeholder = placeholder
        self._options = QVideoFrame.PaintOptions()
        self._options.aspectRatioMode = Qt.AspectRatioMode.KeepAspectRatio
        self._options.backgroundColor = BACKGROUND
        self._sink.videoFrameChanged.connect(self._on_frame_changed)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def has_frame(self) -> bool:
        return self._sink.videoFrame().isValid()

    def _on_frame_changed(self, _frame: QVideoFrame) -> None:
        self.update()  # paint later, coalesced by Qt; never paint per frame synchronously

    def sizeHint(self) -> QSize:
        return QSize(640, 360)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        frame = self._sink.videoFrame()
        if frame.isValid():
            frame.paint(painter, self.rect().toRectF(), self._options)
        else:
            painter.setPen(PLACEHOLDER_TEXT)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
        painter.end()


class PhotoView(_Clickable):
    """The photo on file, scaled to fit with its aspect ratio kept."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap = QPixmap()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def pixmap(self) -> QPixmap:
        return self._pixmap

    def set_pixmap(self, pixmap: QPixmap) -> None:
        self._pixmap = QPixmap(pixmap)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(300, 360)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._pixmap.isNull():
            painter.setPen(PLACEHOLDER_TEXT)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No photo on file")
        else:
            scaled = self._pixmap.scaled(
                self.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(self.rect().center())
            painter.drawPixmap(target, scaled)
        painter.end()


class ZoomDialog(QDialog):
    """A large view of the live video or the photo; opened with `open()`, never `exec()`."""

    def __init__(self, title: str, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.content = content
        close_button = QPushButton("Close")
        close_button.setAccessibleName("Close zoom")
        close_button.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(content, 1)
        layout.addWidget(close_button, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(1000, 640)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)


# The theme pads buttons 16 px a side; four call buttons in a row must fit a narrow pane.
_COMPACT_BUTTON = "padding: 6px 10px;"


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: bold;")
    return label


class VideoPane(QWidget):
    """Live video vs photo on file, self-view, mic meter, call controls, timer, quality badge.

    Renders and forwards intent only: signals below are asks for the view-model to act on.
    """

    mute_toggled = Signal(bool)  # True = microphone muted
    camera_toggled = Signal(bool)  # True = camera on (sending the picture)
    hangup_requested = Signal()
    snapshot_requested = Signal()

    def __init__(
        self, remote_feed: VideoFeed, self_feed: VideoFeed, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Video call")
        self.zoom_dialog: ZoomDialog | None = None
        self._remote_feed = remote_feed

        self.live_video = VideoSurface(remote_feed, "Waiting for the officer's video…")
        self.live_video.setAccessibleName("Officer live video")
        self.live_video.setAccessibleDescription("Click or press Enter to zoom")
        self.live_video.setMinimumSize(240, 180)
        self.live_video.clicked.connect(self._zoom_video)

        self.photo = PhotoView()
        self.photo.setAccessibleName("Photo on file")
        self.photo.setAccessibleDescription("Click or press Enter to zoom")
        self.photo.setMinimumSize(160, 180)
        self.photo.clicked.connect(self._zoom_photo)

        self.self_view = VideoSurface(self_feed, "Your camera")
        self.self_view.setAccessibleName("Your self-view")
        self.self_view.setFixedSize(192, 108)
        self.self_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.no_camera_label = QLabel("NO CAMERA")
        self.no_camera_label.setAccessibleName("No camera notice")
        self.no_camera_label.setStyleSheet(
            "background:#c98a10; color:black; font-weight:bold; padding:2px 6px; font-size:11pt;"
        )
        self.no_camera_label.setWordWrap(True)
        self.no_camera_label.hide()

        self.mic_meter = LevelMeter()
        self.mute_button = self._button("Mute", "Mute microphone", checkable=True)
        self.mute_button.toggled.connect(self._on_mute_toggled)
        self.camera_button = self._button("Camera off", "Turn camera off", checkable=True)
        self.camera_button.toggled.connect(self._on_camera_toggled)
        self.snapshot_button = self._button("Snapshot", "Save a snapshot of the live video")
        self.snapshot_button.clicked.connect(self.snapshot_requested)
        self.hangup_button = self._button("Hang up", "Hang up the call")
        self.hangup_button.setStyleSheet(
            f"QPushButton {{ {_COMPACT_BUTTON} background:#b02525; color:white;"
            " font-weight:bold; }"
            "QPushButton:disabled { background:#4a2a2a; color:#a99; }"
        )
        self.hangup_button.clicked.connect(self.hangup_requested)

        self.timer_label = QLabel("00:00")
        self.timer_label.setAccessibleName("Call duration")
        self.quality_badge = QLabel()
        self.quality_badge.setAccessibleName("Call quality")
        # Wraps rather than forcing the pane wider; the full figures are in the tooltip.
        self.quality_badge.setWordWrap(True)
        self._badge = "unknown"
        self.clear_quality()

        self._elapsed = QElapsedTimer()
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update_timer)

        # Laid out to fit a 1366 px screen beside the queue and the officer's record: the timer
        # sits on the live video's heading, the quality under the video it describes, your mic
        # meter under your self-view, and the call buttons on one compact row underneath.
        live_heading = QHBoxLayout()
        live_heading.addWidget(_heading("Officer \u2014 live"))
        live_heading.addStretch(1)
        live_heading.addWidget(self.timer_label)
        live_column = QVBoxLayout()
        live_column.addLayout(live_heading)
        live_column.addWidget(self.live_video, 1)
        live_column.addWidget(self.quality_badge)
        mic_row = QHBoxLayout()
        mic_label = QLabel("Mic")
        mic_label.setBuddy(self.mic_meter)
        mic_row.addWidget(mic_label)
        mic_row.addWidget(self.mic_meter, 1)
        photo_column = QVBoxLayout()
        photo_column.addWidget(_heading("Photo on file"))
        photo_column.addWidget(self.photo, 1)
        photo_column.addWidget(_heading("You"))
        photo_column.addWidget(self.self_view, 0, Qt.AlignmentFlag.AlignLeft)
        photo_column.addWidget(self.no_camera_label)
        photo_column.addLayout(mic_row)
        pictures = QHBoxLayout()
        # 5:3 gives a 4:3 video and a portrait photo about the same face height.
        pictures.addLayout(live_column, 5)
        pictures.addLayout(photo_column, 3)

        controls = QHBoxLayout()
        for button in (self.mute_button, self.camera_button, self.snapshot_button):
            controls.addWidget(button)
        controls.addStretch(1)
        controls.addWidget(self.hangup_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(pictures, 1)
        layout.addLayout(controls)

    # ---- slots fed by the view-model -------------------------------------------------------

    @Slot(QPixmap)
    def set_photo(self, pixmap: QPixmap) -> None:
        """Show the photo on file (a null pixmap shows "No photo on file")."""
        self.photo.set_pixmap(pixmap)

    @Slot(float)
    def set_mic_level(self, level: float) -> None:
        self.mic_meter.set_level(level)

    def set_no_camera(self, no_camera: bool, message: str = "") -> None:
        """Show the NO CAMERA notice (the officer is getting the generated card)."""
        self.no_camera_label.setText(f"NO CAMERA \u2014 {message}" if message else "NO CAMERA")
        self.no_camera_label.setVisible(no_camera)
        self.camera_button.setEnabled(not no_camera)

    def set_quality(
        self,
        width: int,
        height: int,
        fps: float,
        bitrate_kbps: float,
        packet_loss_pct: float,
        rtt_ms: float | None,
        badge: str,
    ) -> None:
        """Show the connection quality; `badge` is good / fair / poor / unknown."""
        rtt = "\u2013" if rtt_ms is None else f"{rtt_ms:.0f} ms"
        picture = f"{badge.upper()} \u00b7 {width}\u00d7{height} \u00b7 {fps:.0f} fps"
        short = f"{picture} \u00b7 RTT {rtt}"
        full = (
            f"{picture} \u00b7 {bitrate_kbps:.0f} kbit/s \u00b7 "
            f"loss {packet_loss_pct:.1f} % \u00b7 RTT {rtt}"
        )
        self._show_badge(badge, short, full)

    def clear_quality(self) -> None:
        self._show_badge("unknown", "Quality \u2013", "No call quality figures yet")

    @property
    def badge(self) -> str:
        return self._badge

    def start_call_timer(self) -> None:
        self._elapsed.start()
        self._update_timer()
        self._tick.start()

    def stop_call_timer(self) -> None:
        self._tick.stop()

    def attach_local_media(self, monitor: LocalMediaMonitor) -> None:
        """Follow the sergeant's devices: mic meter and the NO CAMERA notice."""
        monitor.mic_level_changed.connect(self.set_mic_level)
        monitor.camera_status_changed.connect(self.set_no_camera)

    def set_muted(self, muted: bool) -> None:
        """Reflect the mute state without emitting `mute_toggled`."""
        self.mute_button.blockSignals(True)
        self.mute_button.setChecked(muted)
        self.mute_button.blockSignals(False)
        self._relabel()

    # ---- internals -------------------------------------------------------------------------

    def _button(self, text: str, accessible: str, checkable: bool = False) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(accessible)
        button.setToolTip(accessible)
        button.setCheckable(checkable)
        button.setStyleSheet(f"QPushButton {{ {_COMPACT_BUTTON} }}")
        return button

    def _show_badge(self, badge: str, text: str, details: str) -> None:
        background, foreground = BADGE_COLOURS.get(badge, BADGE_COLOURS["unknown"])
        self._badge = badge if badge in BADGE_COLOURS else "unknown"
        self.quality_badge.setText(text)
        self.quality_badge.setToolTip(details)
        self.quality_badge.setAccessibleDescription(details)
        self.quality_badge.setStyleSheet(
            f"background:{background}; color:{foreground}; padding:2px 8px; border-radius:4px;"
        )

    def _update_timer(self) -> None:
        seconds = self._elapsed.elapsed() // 1000 if self._elapsed.isValid() else 0
        minutes, seconds = divmod(int(seconds), 60)
        self.timer_label.setText(f"{minutes:02d}:{seconds:02d}")

    def _on_mute_toggled(self, muted: bool) -> None:
        self._relabel()
        self.mute_toggled.emit(muted)

    def _on_camera_toggled(self, off: bool) -> None:
        self._relabel()
        self.camera_toggled.emit(not off)

    def _relabel(self) -> None:
        self.mute_button.setText("Unmute" if self.mute_button.isChecked() else "Mute")
        self.mute_button.setAccessibleName(
            "Unmute microphone" if self.mute_button.isChecked() else "Mute microphone"
        )
        self.camera_button.setText("Camera on" if self.camera_button.isChecked() else "Camera off")
        self.camera_button.setAccessibleName(
            "Turn camera on" if self.camera_button.isChecked() else "Turn camera off"
        )

    def _zoom_video(self) -> None:
        surface = VideoSurface(self._remote_feed, "Waiting for the officer's video…")
        surface.setAccessibleName("Officer live video, zoomed")
        self._open_zoom("Officer live video", surface)

    def _zoom_photo(self) -> None:
        view = PhotoView()
        view.setAccessibleName("Photo on file, zoomed")
        view.set_pixmap(self.photo.pixmap())
        self._open_zoom("Photo on file", view)

    def _open_zoom(self, title: str, content: QWidget) -> None:
        if self.zoom_dialog is not None:
            self.zoom_dialog.close()
        dialog = ZoomDialog(title, content, self)
        dialog.finished.connect(lambda _result: self._forget_zoom(dialog))
        self.zoom_dialog = dialog
        dialog.open()

    def _forget_zoom(self, dialog: ZoomDialog) -> None:
        if self.zoom_dialog is dialog:
            self.zoom_dialog = None
