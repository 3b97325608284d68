"""Guards the Python 3.11 + PySide6 6.12.0 + qasync `none_dealloc` abort (shared/design/media.md).

The crash aborts the interpreter, so the canary runs in a subprocess: thousands of loop
callbacks under the real qasync loop (the console's own entry point), and a clean exit.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[3]

CANARY = r"""
import asyncio, sys
import qasync
from PySide6.QtWidgets import QApplication
from console.app import create_qt_app

create_qt_app(sys.argv[:1])

async def main() -> int:
    done = 0
    for _ in range(20_000):
        await asyncio.sleep(0)
        done += 1
    # Cross-thread callbacks too, as the media and hub threads deliver them.
    loop = asyncio.get_running_loop()
    futures = [loop.run_in_executor(None, lambda i=i: i) for i in range(500)]
    done += len(await asyncio.gather(*futures))
    return done

print("callbacks", qasync.run(main()))
"""


def test_twenty_thousand_callbacks_under_the_real_qasync_loop():
    result = subprocess.run(
        [sys.executable, "-c", CANARY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "QT_QPA_PLATFORM": "offscreen",
            "PATH": "/usr/bin:/bin",
            "QT_LOGGING_RULES": "qt.multimedia.symbolsresolver=false",
        },
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "callbacks 20500" in result.stdout
    assert "none_dealloc" not in result.stderr


def test_the_crashing_interpreter_cannot_be_installed():
    """requires-python excludes 3.11, and this interpreter is 3.12+."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    allowed = SpecifierSet(project["requires-python"])
    assert "3.11.9" not in allowed
    assert "3.12.0" in allowed
    assert sys.version_info >= (3, 12)
