"""Fixtures shared by the hub's in-process tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.context import HubContext
from hub.service import HubService
from tests.helpers.hub import test_settings


@pytest.fixture
def service(tmp_path: Path) -> Iterator[HubService]:
    """A hub service over a fresh SQLite file with the demo accounts and six demo officers."""
    context = HubContext(test_settings(tmp_path, demo_officer_count=6))
    context.open()
    yield context.service
    context.close()
