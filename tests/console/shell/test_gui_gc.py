"""GuiThreadGarbageCollector: cycles die on the GUI thread, never in a worker's allocation."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, QTimer
from pytestqt.qtbot import QtBot

from console.gui_gc import GuiThreadGarbageCollector


class _Cyclic(QObject):
    """A QObject owning a running QTimer, kept alive only by a reference cycle."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.start(60_000)
        self.me = self  # the cycle


@pytest.fixture
def collector(qapp: object) -> Iterator[GuiThreadGarbageCollector]:
    gc.collect()
    was_enabled = gc.isenabled()
    collector = GuiThreadGarbageCollector(interval_ms=10)
    collector.start()
    yield collector
    collector.stop()
    assert gc.isenabled() == was_enabled


def _garbage_cycle() -> weakref.ref[_Cyclic]:
    obj = _Cyclic()
    return weakref.ref(obj)


def test_a_worker_threads_allocations_do_not_collect_gui_objects(
    collector: GuiThreadGarbageCollector,
) -> None:
    ref = _garbage_cycle()
    assert ref() is not None  # only the cycle holds it

    def allocate_a_lot() -> None:
        # Far past generation 0's threshold: with automatic GC on, this thread would collect.
        junk = [[] for _ in range(50 * gc.get_threshold()[0])]
        for item in junk:
            item.append(item)

    worker = threading.Thread(target=allocate_a_lot)
    worker.start()
    worker.join()
    assert ref() is not None, "a worker thread's allocation freed a Qt object"

    assert collector.collect_due() is not None
    gc.collect()  # the cycle may have been promoted past the generation that was due
    assert ref() is None


def test_nothing_is_collected_below_the_threshold(collector: GuiThreadGarbageCollector) -> None:
    gc.collect()
    assert collector.collect_due() is None


def test_the_timer_collects_on_its_own(collector: GuiThreadGarbageCollector, qtbot: QtBot) -> None:
    junk = [[] for _ in range(3 * gc.get_threshold()[0])]
    for item in junk:
        item.append(item)
    del junk, item
    qtbot.waitUntil(lambda: gc.get_count()[0] < gc.get_threshold()[0], timeout=5000)
