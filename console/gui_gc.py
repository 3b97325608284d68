"""Python's cyclic garbage collection, run on the GUI thread only.

Why: CPython runs a cyclic collection in whichever thread happens to allocate when a generation's
threshold is crossed. In this process that is often the media thread (decoding 30 frames a
second), the embedded hub's thread or the simulator's. A QObject caught in a reference cycle (a
view-model, a widget, a QTimer's owner) is then destroyed from that thread, and Qt objects must
die on the thread they live on: Qt warns "QObject::~QObject: Timers cannot be stopped from another
thread" and may crash. The console tests hit exactly this (tests/console/conftest.py).

So automatic collection is switched off for the process and this object runs the same
generational policy (the interpreter's own thresholds) from a GUI-thread timer. Reference
counting, which frees almost everything, is unaffected; only cycles wait for the next tick.
Pattern as in pyqtgraph's `GarbageCollector`.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 500


class GuiThreadGarbageCollector(QObject):
    """Disables automatic GC while active; collects due generations on a GUI-thread timer."""

    def __init__(self, interval_ms: int = DEFAULT_INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)

    def start(self) -> None:
        """Take over collection from the interpreter (call on the GUI thread)."""
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Give collection back to the interpreter, after one last full pass here."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def collect_due(self) -> int | None:
        """Collect the oldest generation whose threshold is crossed; None if none is."""
        count0, count1, count2 = gc.get_count()
        threshold0, threshold1, threshold2 = self._thresholds
        if count0 <= threshold0:
            return None
        generation = 0
        if count1 > threshold1:
            generation = 2 if count2 > threshold2 else 1
        found = gc.collect(generation)
        if found:
            log.debug("collected %d objects in generation %d", found, generation)
        return generation
