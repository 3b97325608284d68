"""Generate resources/chime.wav: a soft two-tone chime (E6 then C6), 16-bit mono 44.1 kHz.

Run once (`.venv/bin/python resources/make_chime.py`); the WAV is committed.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 44_100
OUT = Path(__file__).with_name("chime.wav")


def tone(frequency: float, seconds: float) -> np.ndarray:
    """A bell-like note: fundamental + a quiet octave, quick attack, exponential decay."""
    t = np.arange(int(RATE * seconds)) / RATE
    envelope = np.minimum(1.0, t / 0.008) * np.exp(-t * 4.5)
    wave_form = np.sin(2 * np.pi * frequency * t) + 0.25 * np.sin(2 * np.pi * 2 * frequency * t)
    return wave_form * envelope


def main() -> None:
    first = tone(1318.5, 0.55)  # E6
    second = tone(1046.5, 0.9)  # C6
    gap = int(RATE * 0.18)
    total = np.zeros(gap + len(second))
    total[: len(first)] += first
    total[gap : gap + len(second)] += second
    total = 0.6 * total / np.max(np.abs(total))
    samples = (total * 32767).astype("<i2")
    with wave.open(str(OUT), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())


if __name__ == "__main__":
    main()
