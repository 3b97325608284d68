"""Answer → first remote frame painted, through the real console call stack.

A real hub on loopback, the real field simulator (aiortc, 640x480 portrait video) in its own
thread, and the console's real call service + media engine + widgets offscreen (the same stack
`tests/helpers/console.py` builds for the e2e tests). For each call it times, from the sergeant's
Answer (`CallViewModel.answer`): the claim + SDP answer returning, media connected, the first
remote frame rendered into the video pane's sink; and Confirm → decided.

    .venv/bin/python bench/bench_console_answer.py            # 10 calls
    .venv/bin/python bench/bench_console_answer.py --calls 3
    .venv/bin/python bench/bench_console_answer.py --calls 3 --trace   # + where the time goes

`--trace` wraps hub calls, the device's answer handling, ICE, DTLS, VP8 encode/decode, the
jitter buffer and the render with timestamp probes (measurement only: the bench process holds
hub, device and console, so one monotonic clock covers all three) and prints, per call, the
first time each step happened after Answer, then the medians.
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
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.symbolsresolver=false")


class Trace:
    """First-occurrence timestamps of named steps, relative to the current call's Answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.start = 0.0
        self.marks: dict[str, float] = {}

    def begin(self) -> None:
        with self._lock:
            self.start = time.monotonic()
            self.marks = {}

    def mark(self, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            if self.start and name not in self.marks:
                self.marks[name] = (now - self.start) * 1000


TRACE = Trace()


def _side() -> str:
    """Which party the current thread belongs to, from its name."""
    name = threading.current_thread().name
    if name.startswith("media"):  # the console's MediaThread
        return "console"
    if name.startswith(("field", "asyncio", "Dummy")):  # the device: qasync's to_thread workers
        return "device"
    return name


def _wrap_async(owner: Any, attr: str, label: Callable[..., str | None], *, start: bool = False):
    original = getattr(owner, attr)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        name = label(*args, **kwargs)
        if start and name:
            TRACE.mark(f"{name} start")
        result = await original(*args, **kwargs)
        if name:
            TRACE.mark(name)
        return result

    setattr(owner, attr, wrapper)


def _wrap_sync(owner: Any, attr: str, label: Callable[..., str | None], *, start: bool = False):
    original = getattr(owner, attr)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        name = label(*args, **kwargs)
        if start and name:
            TRACE.mark(f"{name} start")
        result = original(*args, **kwargs)
        if name:
            TRACE.mark(name)
        return result

    setattr(owner, attr, wrapper)


def install_trace_probes() -> None:
    """Timestamp probes on every step between Answer and the first painted frame."""
    import aioice.ice
    import aiortc.rtcrtpreceiver as receiver_module
    from aiortc.codecs import vpx
    from aiortc.jitterbuffer import JitterBuffer
    from aiortc.rtcdtlstransport import RTCDtlsTransport, State

    import field.device as device_module
    from console.adapters.call_api import HubCallApi
    from console.adapters.media.call import AiortcCallMedia
    from console.models.video_feed import RemoteVideoFeed
    from field.media import PortraitVideoTrack

    for attr in ("claim", "config", "officer", "officer_photo", "post_answer"):
        _wrap_async(HubCallApi, attr, lambda *a, attr=attr, **k: f"console {attr}", start=True)
    _wrap_async(AiortcCallMedia, "_answer_on_media", lambda *a, **k: "console SDP answer ready")
    _wrap_sync(
        AiortcCallMedia,
        "_on_connection_state",
        lambda self, state: f"console pc {state} (media thread)",
    )
    _wrap_async(
        device_module.FieldDevice,
        "_maybe_apply_answer",
        lambda *a, **k: "device answer applied",
        start=True,
    )
    _wrap_async(
        aioice.ice.Connection,
        "connect",
        lambda self: f"{'device' if self.ice_controlling else 'console'} ICE completed",
        start=True,
    )
    original_set_state = RTCDtlsTransport._set_state

    def set_state(self: RTCDtlsTransport, state: State) -> None:
        if state == State.CONNECTED:
            TRACE.mark(f"{_side()} DTLS connected ({self._role})")
        original_set_state(self, state)

    RTCDtlsTransport._set_state = set_state  # type: ignore[method-assign]
    _wrap_async(PortraitVideoTrack, "recv", lambda *a, **k: "device frame 1 rendered", start=True)
    from aiortc.rtcrtpsender import RTCRtpSender

    _wrap_async(RTCRtpSender, "send", lambda self, p: f"{_side()} {self.kind} sender started")

    encode_counts: dict[int, int] = {}
    original_encode = vpx.Vp8Encoder.encode

    def encode(self: Any, frame: Any, force_keyframe: bool = False) -> Any:
        side = "device" if frame.width == 640 else "console"
        count = encode_counts[id(self)] = encode_counts.get(id(self), 0) + 1
        if count <= 2:
            TRACE.mark(f"{side} VP8 encode {count} start")
        result = original_encode(self, frame, force_keyframe)
        if count <= 2:
            TRACE.mark(f"{side} VP8 encode {count} done")
        return result

    vpx.Vp8Encoder.encode = encode  # type: ignore[method-assign]

    original_handle = receiver_module.RTCRtpReceiver._handle_rtp_packet

    async def handle(self: Any, packet: Any, arrival_time_ms: int) -> None:
        if len(packet.payload) > 200:  # video, not audio
            TRACE.mark(f"{_side()} first video RTP packet in")
        if packet.marker and len(packet.payload) > 200:
            TRACE.mark(f"{_side()} first video marker packet in")
        await original_handle(self, packet, arrival_time_ms)

    receiver_module.RTCRtpReceiver._handle_rtp_packet = handle  # type: ignore[method-assign]

    original_add = JitterBuffer.add

    def add(self: JitterBuffer, packet: Any) -> Any:
        pli, frame = original_add(self, packet)
        if frame is not None and self._is_video:
            TRACE.mark(f"{_side()} jitter buffer released frame 1")
        return pli, frame

    JitterBuffer.add = add  # type: ignore[method-assign]

    original_decode = vpx.Vp8Decoder.decode

    def decode(self: Any, encoded_frame: Any) -> Any:
        frames = original_decode(self, encoded_frame)
        if frames and frames[0].width == 640:
            TRACE.mark("console VP8 frame 1 decoded")
        return frames

    vpx.Vp8Decoder.decode = decode  # type: ignore[method-assign]
    _wrap_sync(RemoteVideoFeed, "offer_frame", lambda *a, **k: "console frame offered to feed")
    _wrap_sync(RemoteVideoFeed, "_render_pending", lambda *a, **k: "console frame painted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--trace", action="store_true", help="print where the time goes")
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

    if args.trace:
        install_trace_probes()
    server = HubServer(test_settings(tmp)).start()
    rows: list[tuple[float, float, float, float]] = []
    traces: list[dict[str, float]] = []

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
                marks: dict[str, float] = {}

                def on_phase(_state: object, marks: dict[str, float] = marks) -> None:
                    if console.service.state.phase == CallPhase.CONNECTED:
                        marks.setdefault("connected", time.monotonic())

                def on_rendered(_w: int, _h: int, marks: dict[str, float] = marks) -> None:
                    marks.setdefault("painted", time.monotonic())

                # Exact times from the events themselves, not from a polling loop's wake-ups.
                console.vm.state_changed.connect(on_phase)
                console.remote_feed.frame_rendered.connect(on_rendered)
                TRACE.begin()
                started = time.monotonic()
                await console.vm.answer(request_id)
                answered = time.monotonic()
                await console.wait_until(lambda m=marks: "connected" in m, "media connected")
                await console.wait_until(lambda m=marks: "painted" in m, "first frame")
                console.vm.state_changed.disconnect(on_phase)
                console.remote_feed.frame_rendered.disconnect(on_rendered)
                connected, painted = marks["connected"], marks["painted"]
                traces.append(dict(TRACE.marks))
                TRACE.start = 0.0
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

    if args.trace:
        print_traces(traces)
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


def print_traces(traces: list[dict[str, float]]) -> None:
    """Per step: its time after Answer in each call, and the median, in order of the median."""
    steps = {name for marks in traces for name in marks}
    medians = {name: statistics.median([m[name] for m in traces if name in m]) for name in steps}
    print(f"{'step (ms after Answer)':50s} {'p50':>7s}   per call")
    for name in sorted(steps, key=medians.__getitem__):
        per_call = " ".join(
            f"{marks[name]:6.1f}" if name in marks else "     -" for marks in traces
        )
        print(f"{name:50s} {medians[name]:7.1f}   {per_call}")


if __name__ == "__main__":
    main()
