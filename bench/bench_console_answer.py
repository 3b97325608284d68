"""Answer → first remote frame painted, through the real console call stack.

A real hub on loopback, the real field simulator (aiortc, 640x480 portrait video) in its own
thread, and the console's real call service + media engine + widgets offscreen (the same stack
`tests/helpers/console.py` builds for the e2e tests). For each call it times, from the sergeant's
Answer (`CallViewModel.answer`): the claim + SDP answer returning, media connected, the first
remote frame rendered into the video pane's sink; and Confirm → decided.

    .venv/bin/python bench/bench_console_answer.py            # 10 calls
    .venv/bin/python bench/bench_console_answer.py --calls 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.symbolsresolver=false")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sc-bench-answer-"))
    os.environ["SC_DATA_DIR"] = str(tmp / "data")

    # Imported after SC_DATA_DIR is set: nothing may touch the real user data dir.
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from console.domain.call import CallPhase
    from field.device import FieldDevice
    from hub.server import HubServer
    from tests.helpers.console import console_against, run_on_qasync
    from tests.helpers.hub import device_token, test_settings

    server = HubServer(test_settings(tmp)).start()
    rows: list[tuple[float, float, float, float]] = []

    async def run() -> None:
        async with console_against(server.url) as console:
            for _ in range(args.calls):
                device = FieldDevice(
                    server.url, device_token(server, "1001CW"), linger_after_decision_s=0.5
                )
                phone = asyncio.ensure_future(asyncio.to_thread(asyncio.run, device.call()))
                seen = {e.request.id for e in console.events if e.type == "request.created"}
                await console.wait_until(
                    lambda seen=seen: any(
                        e.type == "request.created" and e.request.id not in seen
                        for e in console.events
                    ),
                    "a new request",
                )
                request_id = max(
                    e.request.id for e in console.events if e.type == "request.created"
                )
                frames_before = console.remote_feed.rendered_count
                started = time.monotonic()
                await console.vm.answer(request_id)
                answered = time.monotonic()
                await console.wait_until(
                    lambda: console.service.state.phase == CallPhase.CONNECTED, "media connected"
                )
                connected = time.monotonic()
                await console.wait_until(
                    lambda fb=frames_before: console.remote_feed.rendered_count > fb, "first frame"
                )
                painted = time.monotonic()
                for box in console.panel.decision_panel.checks.values():
                    box.setChecked(True)
                confirm_clicked = time.monotonic()
                QTest.mouseClick(
                    console.panel.decision_panel.confirm_button, Qt.MouseButton.LeftButton
                )
                await console.wait_until(
                    lambda: console.service.state.phase == CallPhase.DECIDED, "decided"
                )
                decided = time.monotonic()
                await console.vm.hang_up()
                await phone
                rows.append(
                    (
                        answered - started,
                        connected - started,
                        painted - started,
                        decided - confirm_clicked,
                    )
                )

    try:
        run_on_qasync(run())
    finally:
        server.stop()

    names = ("answer() returned", "media connected", "first frame painted", "confirm -> decided")
    result: dict[str, object] = {
        "calls": len(rows),
        "load_avg_1m": os.getloadavg()[0],
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    for index, name in enumerate(names):
        values = sorted(row[index] * 1000 for row in rows)
        result[name] = {
            "p50_ms": round(statistics.median(values), 1),
            "max_ms": round(values[-1], 1),
        }
        print(f"{name:22s} p50 {statistics.median(values):7.1f} ms   max {values[-1]:7.1f} ms")
    print("goal: first frame painted p50 <= 250 ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
