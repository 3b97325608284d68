"""The whole Live tab at a laptop's 1366x768 and at 1920x1080: queue beside the call, mid-call,
with the real theme and fonts, and nothing to scroll sideways.

Real widgets offscreen; the call flow runs on hand-written fakes (tests/console/call/fakes.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSettings
from PySide6.QtWidgets import QWidget

from console.app import configure_qt_app
from console.models.call_vm import CallViewModel
from console.models.queue_model import Column, QueueTableModel
from console.models.video_feed import RemoteVideoFeed, SelfViewFeed
from console.services.call import CallService
from console.services.media_port import MediaState
from console.services.queue import entry_from_view
from console.widgets.live_call_panel import LiveCallPanel
from console.widgets.main_window import MainWindow, placeholder_panel
from console.widgets.queue_panel import QueuePanel
from console.widgets.video_pane import VideoPane
from protocol.schemas import Location

from .fakes import (
    FakeCallApi,
    FakeClock,
    FakeMediaEngine,
    MemoryJournal,
    make_officer,
    make_request,
    settle,
)
from .test_widgets import png

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"


class LiveTab:
    """The main window holding the real queue panel and the real call panel on fakes."""

    def __init__(self, qtbot, tmp_path: Path, size: tuple[int, int]) -> None:
        self.api = FakeCallApi()
        self.api.photo = png()
        self.engine = FakeMediaEngine()
        self.vm = CallViewModel(CallService(self.api, self.engine, MemoryJournal(), FakeClock()))
        self.feed = RemoteVideoFeed()
        self.self_feed = SelfViewFeed()
        self.panel = LiveCallPanel(self.vm, VideoPane(self.feed, self.self_feed), self.feed)
        self.queue_model = QueueTableModel()
        now = datetime.now(UTC)
        for index, collar in enumerate(("1002CW", "1004CW", "1005CW")):
            view = make_request(
                50 + index,
                created_at=now - timedelta(seconds=40 - 10 * index),
                officer=make_officer(collar_number=collar, surname="Bradley-Ellison"),
                location=Location(
                    latitude=51.5, longitude=-0.1, description="Greenwich High Road, by the DLR"
                ),
            )
            self.queue_model.entry_added(entry_from_view(view))
        self.queue_panel = QueuePanel(self.queue_model)
        self.queue_panel.set_waiting_count(3)
        self.settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
        self.window = MainWindow(
            self.queue_panel, self.panel, placeholder_panel("History", "stand-in"), self.settings
        )
        qtbot.addWidget(self.window)
        self.window.resize(*size)
        self.window.show()
        qtbot.waitExposed(self.window)

    async def start_call(self) -> None:
        await self.vm.answer(41)
        self.window.set_in_call(True)  # app.py does this on the call VM's state_changed
        self.engine.last.emit(MediaState.CONNECTED)
        await settle()

    async def end_call(self) -> None:
        await self.vm.release()
        await settle()
        self.window.set_in_call(False)

    def sideways_scroll(self) -> bool:
        return self.window.live_scroll.horizontalScrollBar().maximum() > 0


def fully_shown(widget: QWidget, window: QWidget) -> bool:
    """Visible, not clipped by a scroll area or splitter, and inside the window."""
    whole = widget.visibleRegion().boundingRect() == widget.rect()
    top_left = widget.mapTo(window, QPoint(0, 0))
    inside = window.rect().contains(QRect(top_left, widget.size()))
    return widget.isVisible() and whole and inside


@pytest.fixture(params=[(1366, 768), (1920, 1080)], ids=["1366x768", "1920x1080"])
async def live_tab(request, qapp, qtbot, tmp_path):
    configure_qt_app(qapp)  # the real theme and fonts decide the sizes
    tab = LiveTab(qtbot, tmp_path, request.param)
    yield tab
    await tab.vm.close()


async def test_idle_live_tab_shows_the_whole_no_call_page(live_tab: LiveTab) -> None:
    window = live_tab.window
    await settle()
    assert not live_tab.sideways_scroll()
    assert fully_shown(live_tab.panel.idle_title, window)
    assert not live_tab.queue_panel.compact
    assert not live_tab.queue_panel.table.isColumnHidden(Column.LOCATION)


async def test_mid_call_everything_fits_without_sideways_scrolling(live_tab: LiveTab) -> None:
    window = live_tab.window
    idle_sizes = window.splitter.sizes()
    await live_tab.start_call()

    assert window.in_call
    assert live_tab.queue_panel.compact
    assert live_tab.queue_panel.table.isColumnHidden(Column.LOCATION)
    assert not live_tab.queue_panel.table.isColumnHidden(Column.WARRANT)
    assert not live_tab.sideways_scroll()
    panel, pane = live_tab.panel, live_tab.panel.video_pane
    assert window.live_scroll.viewport().width() >= panel.minimumSizeHint().width()
    decision = panel.decision_panel
    for widget in (
        pane.live_video,
        pane.photo,
        pane.mute_button,
        pane.camera_button,
        pane.snapshot_button,
        pane.hangup_button,
        decision.confirm_button,
        decision.refuse_button,
        panel.release_button,
        live_tab.queue_panel.table,
    ):
        assert fully_shown(widget, window), widget.accessibleName()
    # The comparison is made side by side, and the video gets the larger share.
    assert pane.photo.geometry().left() > pane.live_video.geometry().right()
    assert pane.live_video.width() > pane.photo.width()
    assert pane.live_video.width() >= 320
    ARTIFACTS.mkdir(exist_ok=True)
    name = f"live-tab-{window.width()}x{window.height()}.png"
    assert window.grab().save(str(ARTIFACTS / name))

    # After the call the queue gets its columns and its width back.
    await live_tab.end_call()
    assert not live_tab.queue_panel.compact
    assert not live_tab.queue_panel.table.isColumnHidden(Column.LOCATION)
    assert window.splitter.sizes() == idle_sizes


async def test_layout_saved_mid_call_keeps_the_sergeants_own_split(live_tab: LiveTab) -> None:
    window = live_tab.window
    idle_sizes = window.splitter.sizes()
    await live_tab.start_call()
    during_call = window.splitter.sizes()
    assert during_call != idle_sizes

    window.save_layout()

    assert window.splitter.sizes() == during_call  # saving does not disturb the call
    await live_tab.end_call()
    window.splitter.setSizes([1, 1])
    assert window.splitter.restoreState(live_tab.settings.value("window/splitter"))
    assert window.splitter.sizes() == idle_sizes
