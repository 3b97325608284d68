"""The new-request chime: a QSoundEffect that degrades to silence where there is no audio device."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal

log = logging.getLogger(__name__)

CHIME_PATH = Path(__file__).resolve().parents[2] / "resources" / "chime.wav"


class Chime(QObject):
    """Plays the chime unless muted. `chime_requested` fires on every request, even when muted
    or silent, so tests and the window alert can follow it without an audio device."""

    chime_requested = Signal()
    muted_changed = Signal(bool)

    def __init__(self, path: Path = CHIME_PATH, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._muted = False
        self._path = path
        self._effect: object | None = None
        self.played = 0  # chimes actually handed to the sound device

    @property
    def muted(self) -> bool:
        return self._muted

    def set_muted(self, muted: bool) -> None:
        if muted != self._muted:
            self._muted = muted
            log.info("chime %s", "muted" if muted else "unmuted")
            self.muted_changed.emit(muted)

    def ring(self) -> None:
        self.chime_requested.emit()
        if self._muted:
            return
        effect = self._sound_effect()
        if effect is not None:
            effect.play()  # type: ignore[attr-defined]
            self.played += 1

    def _sound_effect(self) -> object | None:
        # Built lazily: importing QtMultimedia and probing audio costs ~100 ms at start-up.
        if self._effect is None:
            try:
                from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
            except ImportError:
                log.warning("QtMultimedia is not available; the chime is silent")
                self._effect = False
                return None
            if not QMediaDevices.audioOutputs():
                # No sound device (CI, a remote desktop): stay silent rather than let
                # QSoundEffect warn on every play. The window alert still flashes.
                log.info("no audio output device; the chime is silent")
                self._effect = False
                return None
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(self._path)))
            effect.setVolume(0.8)
            self._effect = effect
        return self._effect or None
