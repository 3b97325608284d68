"""Shared by every console test folder."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _free_qt_objects_on_the_gui_thread() -> Iterator[None]:
    """Collect each test's garbage here, on the GUI thread.

    View-models and widgets own QTimers; left in a reference cycle, they would be freed by
    whichever thread next triggers the cyclic GC: a later test's hub, device or media thread
    ("QObject::~QObject: Timers cannot be stopped from another thread", then a crash).
    """
    yield
    gc.collect()
