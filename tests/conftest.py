"""Suite-wide set-up: offscreen Qt, and no test ever touches the real user data or config dirs."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QtMultimedia looks for PipeWire and warns when it is missing; that is not our warning.
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.symbolsresolver=false")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point SC_DATA_DIR, XDG dirs and HOME-based config at a fresh temporary folder."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SC_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
    return base
