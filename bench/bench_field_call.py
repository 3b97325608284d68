"""Field simulator (aiortc) → hub → headless aiortc sergeant: how fast video starts, how it holds.

Runs a real hub on loopback (demo data), then `--calls` calls one after another from the simulated
device of 1001CW (`field.device.FieldDevice`), each answered by the headless answerer from
tests/helpers/answerer.py. Both run on this process's event loop; the hub has its own thread.

Measures per call
  - answer → first frame: from the SDP answer (device: when it arrived; sergeant: when posted) to
    the first decoded video frame on each side;
  - steady state over `--seconds`: received video frames/s on each side, and the resolution.

    .venv/bin/python bench/bench_field_call.py                 # 5 calls, 5 s each, 640x480
    .venv/bin/python bench/bench_field_call.py --720p --calls 3

Prints a line per call, a summary and a JSON line. The machine is shared: run it once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from field.device import FieldDevice
from field.media import SIZE_480P, SIZE_720P
from hub.server import HubServer
from protocol.schemas import RequestState
from tests.helpers.answerer import HeadlessAnswerer
from tests.helpers.field import wait_until
from tests.helpers.hub import device_token, test_settings

COLLAR = "1001CW"


async def one_call(
    url: str, token: str, size: tuple[int, int], seconds: float, sergeant: HeadlessAnswerer
) -> dict[str, Any]:
    device = FieldDevice(url, token, video_size=size, linger_after_decision_s=60, report=None)
    call_task = asyncio.create_task(device.call())
    try:
        queued = await sergeant.wait_for_request(
            lambda v: v.state == RequestState.QUEUED and v.officer.collar_number == COLLAR
        )
        call = await sergeant.claim_and_answer(queued.id)
        await call.wait_for_frames("video", 5)
        live = device.live
        assert live is not None
        await wait_until(
            lambda: live.video is not None and live.video.frames >= 5,
            10,
            "the device to receive video",
        )
        # Steady state: count frames over a window on both sides.
        start_sergeant = call.frames("video")
        start_device = live.video.frames if live.video else 0
        started = time.monotonic()
        await asyncio.sleep(seconds)  # the measurement window itself
        elapsed = time.monotonic() - started
        received = call.consumers["video"].stats
        row = {
            "device_answer_to_first_frame_ms": round((live.answer_to_first_frame_s or 0) * 1000),
            "sergeant_answer_to_first_frame_ms": round((call.answer_to_first_frame_s or 0) * 1000),
            "sergeant_fps": round((call.frames("video") - start_sergeant) / elapsed, 1),
            "device_fps": round(
                ((live.video.frames if live.video else 0) - start_device) / elapsed, 1
            ),
            "sergeant_sees": f"{received.width}x{received.height}",
        }
        await sergeant.decide(call)
        await sergeant.end(call)
        result = await asyncio.wait_for(call_task, 30)
        row["reference"] = result.reference
        return row
    finally:
        if not call_task.done():
            call_task.cancel()
            await asyncio.gather(call_task, return_exceptions=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--720p", dest="hd", action="store_true")
    args = parser.parse_args()
    size = SIZE_720P if args.hd else SIZE_480P
    with tempfile.TemporaryDirectory() as folder:
        server = HubServer(test_settings(Path(folder))).start()
        try:
            token = device_token(server, COLLAR)
            rows = []
            async with HeadlessAnswerer(server.url, video_size=size) as sergeant:
                for index in range(args.calls):
                    row = await one_call(server.url, token, size, args.seconds, sergeant)
                    rows.append(row)
                    print(f"call {index + 1}: {row}", flush=True)
        finally:
            server.stop()
    summary: dict[str, Any] = {"calls": len(rows), "size": f"{size[0]}x{size[1]}"}
    for key in (
        "device_answer_to_first_frame_ms",
        "sergeant_answer_to_first_frame_ms",
        "sergeant_fps",
        "device_fps",
    ):
        values = [r[key] for r in rows]
        summary[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    for key, value in summary.items():
        print(f"{key:36} {value}")
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
