"""Loopback 720p two-way call against the console media engine: setup latency, CPU, memory.

    .venv/bin/python bench/bench_media_call.py                    # 5 setup calls + a 60 s call
    .venv/bin/python bench/bench_media_call.py --seconds 20       # shorter
    .venv/bin/python bench/bench_media_call.py --soak-minutes 10  # 10-minute RSS soak
    .venv/bin/python bench/bench_media_call.py --seconds 60 --smaps  # which mappings grew
    SC_MALLOC_TUNING=off .venv/bin/python bench/bench_media_call.py  # without the malloc tuning
    .venv/bin/python bench/bench_media_call.py --malloc arenas=2     # another allocator setting

The "device" (aiortc offerer, synthetic moving 1280x720 video at 30 fps + a tone) runs in a
CHILD PROCESS, so the CPU and RSS figures are the console side alone: `AiortcMediaEngine` on its
media thread answering and decoding, sending its 1280x720 NO CAMERA card, and the real
`RemoteVideoFeed` rendering into a `QVideoSink` on a qasync GUI loop (offscreen Qt).

Reports: answer → first remote frame (p50 over --calls calls; goal ≤ 250 ms), console CPU % of one
core and RSS during the long call, and RSS growth (goal ≤ 5 MB over a 10-minute soak), with
glibc's own heap figures (mallinfo2), minor page faults per second, and what one malloc_trim(0)
would give back (console/adapters/memory_tuning.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import numpy as np

WIDTH, HEIGHT = 1280, 720
STEP_TIMEOUT_S = 20.0


# ---------------------------------------------------------------- device (child process)


def _device_tracks(fps: int, width: int, height: int):
    from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

    class Stripes(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            ys, xs = np.mgrid[0:height, 0 : width + 80]
            luma = (((xs + ys) // 40) % 2 * 160 + 60).astype(np.uint8)
            chroma = np.full((height // 2, width + 80), 128, dtype=np.uint8)
            self._wide = np.concatenate([luma, chroma])  # (h*3/2, w+80): slide a window
            self._index = 0
            self._start: float | None = None

        async def recv(self) -> av.VideoFrame:
            if self.readyState != "live":
                raise MediaStreamError
            self._start = self._start or time.monotonic()
            delay = self._start + self._index / fps - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            shift = (self._index * 4) % 80
            planes = np.ascontiguousarray(self._wide[:, shift : shift + width])
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = int(self._index * 90_000 / fps)
            frame.time_base = fractions.Fraction(1, 90_000)
            self._index += 1
            return frame

    class Tone(MediaStreamTrack):
        kind = "audio"

        def __init__(self) -> None:
            super().__init__()
            self._index = 0
            self._start: float | None = None

        async def recv(self) -> av.AudioFrame:
            if self.readyState != "live":
                raise MediaStreamError
            self._start = self._start or time.monotonic()
            delay = self._start + self._index * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            t = (np.arange(960) + self._index * 960) / 48_000
            pcm = (np.sin(2 * np.pi * 440 * t) * 6000).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = 48_000
            frame.pts = self._index * 960
            frame.time_base = fractions.Fraction(1, 48_000)
            self._index += 1
            return frame

    return Stripes(), Tone()


async def run_device(fps: int, width: int, height: int) -> None:
    """Line protocol on stdin/stdout: `offer` → {"sdp"}; {"answer"}; `close`; EOF ends."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaBlackhole

    loop = asyncio.get_running_loop()
    pc: RTCPeerConnection | None = None
    sink = MediaBlackhole()

    async def read_line() -> str:
        return (await loop.run_in_executor(None, sys.stdin.readline)).strip()

    while line := await read_line():
        if line == "offer":
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            pc.on("track", sink.addTrack)
            for track in _device_tracks(fps, width, height):
                pc.addTrack(track)
            await pc.setLocalDescription(await pc.createOffer())
            print(json.dumps({"sdp": pc.localDescription.sdp}), flush=True)
        elif line.startswith("{") and pc is not None:
            answer = json.loads(line)["answer"]
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            await sink.start()
            print(json.dumps({"ok": True}), flush=True)
        elif line == "close" and pc is not None:
            await sink.stop()
            sink = MediaBlackhole()
            await pc.close()
            pc = None
            print(json.dumps({"ok": True}), flush=True)
    if pc is not None:
        await pc.close()


# ---------------------------------------------------------------- console (this process)


class Device:
    """The parent's handle on the device child process."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def _ask(self, line: str) -> dict:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write((line + "\n").encode())
        await self.process.stdin.drain()
        reply = await asyncio.wait_for(self.process.stdout.readline(), STEP_TIMEOUT_S)
        if not reply:
            raise RuntimeError("device process ended")
        return json.loads(reply)

    async def offer(self) -> str:
        return (await self._ask("offer"))["sdp"]

    async def accept(self, answer: str) -> None:
        await self._ask(json.dumps({"answer": answer}))

    async def hang_up(self) -> None:
        await self._ask("close")


class FirstFrameProbe:
    """Wraps the real feed; timestamps the first frame the media thread hands over."""

    def __init__(self, feed) -> None:
        self.feed = feed
        self.first_at: float | None = None
        self.frames = 0

    def reset(self) -> None:
        self.first_at, self.frames = None, 0

    def offer_frame(self, frame: av.VideoFrame) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        self.frames += 1
        self.feed.offer_frame(frame)


async def wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def malloc_line() -> str:
    """glibc's own view of the heap (mallinfo2), to tell fragmentation from live memory."""
    from console.adapters.memory_tuning import malloc_stats

    stats = malloc_stats()
    if stats is None:
        return "n/a (not glibc)"
    mib = 2**20
    return (
        f"heap {stats.heap_bytes / mib:.1f} MiB (in use {stats.in_use_bytes / mib:.1f}, "
        f"free but held {stats.free_held_bytes / mib:.1f}), "
        f"mmapped {stats.mmapped_bytes / mib:.1f} MiB in {stats.mmapped_blocks} blocks"
    )


def tuning_line() -> str:
    """Which malloc tuning the console's media thread applied (console/adapters/memory_tuning)."""
    from console.adapters.memory_tuning import DISABLE_ENV, applied_tuning

    tuning = applied_tuning()
    if tuning is None:
        return f"none ({DISABLE_ENV}={os.environ.get(DISABLE_ENV, '')!r}, or not glibc)"
    return str(tuning)


def trim_once() -> str:
    """Time one malloc_trim(0) here (mid-call) and report the RSS it gave back."""
    from console.adapters.memory_tuning import trim_heap

    before = console_usage()[1]
    started = time.perf_counter()
    if not trim_heap():
        return "n/a"
    took_ms = (time.perf_counter() - started) * 1000
    after = console_usage()[1]
    return f"{took_ms:.1f} ms, RSS {before:.1f} -> {after:.1f} MiB"


def rss_by_mapping() -> dict[tuple[str, str], int]:
    """RSS in KiB of every mapping of this process, keyed by (start address, backing file)."""
    result: dict[tuple[str, str], int] = {}
    key = ("", "")
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()
            if head and "-" in head[0] and not head[0].endswith(":"):
                # Keyed by start: the brk heap and arena heaps grow at their end.
                key = (head[0].split("-")[0], head[5] if len(head) > 5 else "[anon]")
            elif head and head[0] == "Rss:":
                result[key] = int(head[1])
    return result


def print_smaps_growth(
    before: dict[tuple[str, str], int], after: dict[tuple[str, str], int]
) -> None:
    """The mappings whose RSS grew most over the call (where native growth lives)."""
    grown = sorted(
        ((after.get(key, 0) - before.get(key, 0), key) for key in before.keys() | after.keys()),
        reverse=True,
    )
    print("  mappings whose RSS grew most (KiB, start address, file):")
    for delta, (start, path) in grown[:8]:
        print(f"    {delta:+8d}  {start} {path}")
    shrunk = sum(delta for delta, _key in grown if delta < 0)
    print(f"    (mappings that shrank or went away: {shrunk:+d} KiB in all)")


def console_usage() -> tuple[float, float]:
    """(CPU seconds user+system, RSS MiB) of this process."""
    import psutil

    process = psutil.Process()
    times = process.cpu_times()
    return times.user + times.system, process.memory_info().rss / 2**20


async def console_main(args: argparse.Namespace) -> None:
    from console.adapters.media.card import CardStyle
    from console.adapters.media.engine import AiortcMediaEngine
    from console.models.video_feed import RemoteVideoFeed, SelfViewFeed

    if args.malloc is not None:
        from console.adapters.memory_tuning import AllocatorTuning, tune_allocator

        # Applied before the engine exists, so the media thread's own (product) tuning is skipped.
        tune_allocator(AllocatorTuning.parse(args.malloc))

    remote = RemoteVideoFeed()
    probe = FirstFrameProbe(remote)
    engine = AiortcMediaEngine(
        probe,
        SelfViewFeed(),
        use_devices=False,
        card_style=CardStyle(width=WIDTH, height=HEIGHT),
        video_fps=args.console_fps,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--device",
        "--device-fps",
        str(args.device_fps),
        "--device-size",
        f"{args.width}x{args.height}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    device = Device(process)
    try:
        setup_ms: list[float] = []
        answer_ms: list[float] = []
        connected_ms: list[float] = []
        for index in range(args.calls + 1):  # the first call warms imports and codecs up
            probe.reset()
            connected_at: list[float] = []
            call = engine.new_call(
                lambda event, marks=connected_at: (
                    marks.append(time.perf_counter()) if event.state == "connected" else None
                )
            )
            offer = await device.offer()
            started = time.perf_counter()
            answer = await call.answer(offer, [])
            answered = time.perf_counter()
            await device.accept(answer)
            await wait_for(lambda: probe.first_at is not None, STEP_TIMEOUT_S, "first frame")
            if index > 0:
                setup_ms.append((probe.first_at - started) * 1000)
                answer_ms.append((answered - started) * 1000)
                if connected_at:
                    connected_ms.append((connected_at[0] - started) * 1000)
            await call.close()
            await device.hang_up()
        print(
            f"setup over {args.calls} calls, device {args.width}x{args.height} "
            "(answer() called -> first remote frame decoded):"
        )
        print(
            f"  answer -> first frame  p50 {statistics.median(setup_ms):6.1f} ms   "
            f"min {min(setup_ms):6.1f}   max {max(setup_ms):6.1f}   (goal <= 250 ms)"
        )
        print(f"  answer() itself        p50 {statistics.median(answer_ms):6.1f} ms")
        if connected_ms:
            print(f"  answer -> CONNECTED    p50 {statistics.median(connected_ms):6.1f} ms")

        seconds = args.soak_minutes * 60 if args.soak_minutes else args.seconds
        probe.reset()
        call = engine.new_call(lambda _event: None)
        await device.accept(await call.answer(await device.offer(), []))
        await wait_for(lambda: probe.first_at is not None, STEP_TIMEOUT_S, "first frame")
        warmup = min(10.0, seconds / 4)
        await asyncio.sleep(warmup)  # bench pacing, not synchronisation
        if args.tracemalloc:
            import tracemalloc

            tracemalloc.start(8)
            traced0 = tracemalloc.take_snapshot()
        cpu0, rss0 = console_usage()
        malloc0 = malloc_line()
        faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        smaps0 = rss_by_mapping() if args.smaps else {}
        frames0, rendered0, wall0 = probe.frames, remote.rendered_count, time.monotonic()
        rss_samples = [rss0]
        end = wall0 + seconds
        while (now := time.monotonic()) < end:
            await asyncio.sleep(min(args.sample_seconds, end - now))
            rss_samples.append(console_usage()[1])
        cpu1, rss1 = console_usage()
        faults1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        malloc1 = malloc_line()
        if args.smaps:
            print_smaps_growth(smaps0, rss_by_mapping())
        trim_line = trim_once()  # after the figures: how long one trim blocks, what it frees
        if args.tracemalloc:
            grown = tracemalloc.take_snapshot().compare_to(traced0, "traceback")
            print("  Python allocations grown most during the call (tracemalloc):")
            for stat in grown[:5]:
                where = stat.traceback.format()[-1].strip()
                print(f"    {stat.size_diff / 1024:+9.1f} KiB  {where}")
        wall = time.monotonic() - wall0
        quality = call.quality()
        await call.close()
        await device.hang_up()
        print(
            f"{seconds:.0f} s two-way call, device {args.width}x{args.height}@{args.device_fps} "
            "-> console,"
            f" console card {WIDTH}x{HEIGHT}@{args.console_fps:g} -> device:"
        )
        print(f"  console CPU           {100 * (cpu1 - cpu0) / wall:5.1f} % of one core")
        print(f"  minor page faults     {(faults1 - faults0) / wall:7.0f} /s")
        print(
            f"  frames decoded        {(probe.frames - frames0) / wall:5.1f} fps; rendered "
            f"{(remote.rendered_count - rendered0) / wall:5.1f} fps"
        )
        print(
            f"  quality               {quality.width}x{quality.height} {quality.fps} fps "
            f"{quality.bitrate_kbps} kbit/s loss {quality.packet_loss_pct} % "
            f"RTT {quality.rtt_ms} ms badge {quality.badge}"
        )
        print(
            f"  console RSS           {rss0:6.1f} MiB after warm-up -> {rss1:6.1f} MiB "
            f"(growth {rss1 - rss0:+.1f} MiB; samples {', '.join(f'{r:.1f}' for r in rss_samples)})"
        )
        print(f"  glibc malloc at start {malloc0}")
        print(f"  glibc malloc at end   {malloc1}")
        print(f"  allocator tuning      {tuning_line()}")
        print(f"  malloc_trim(0) once   {trim_line}")
    finally:
        with contextlib.suppress(Exception):
            await engine.shutdown()
        if process.stdin is not None:
            process.stdin.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), 10)
        if process.returncode is None:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the long call")
    parser.add_argument("--calls", type=int, default=5, help="calls for the setup-latency p50")
    parser.add_argument("--soak-minutes", type=float, default=0.0, help="run a soak instead")
    parser.add_argument("--device-fps", type=int, default=30)
    parser.add_argument("--console-fps", type=float, default=15.0)
    parser.add_argument("--device-size", default=f"{WIDTH}x{HEIGHT}", help="e.g. 640x360")
    parser.add_argument(
        "--sample-seconds", type=float, default=30.0, help="RSS sampling interval in the long call"
    )
    parser.add_argument(
        "--malloc",
        help="allocator experiment instead of the product tuning, e.g. "
        "'mmap=262144,trim=1048576,arenas=2,trim_every=15' or 'none'",
    )
    parser.add_argument(
        "--smaps", action="store_true", help="show which memory mappings grew (native RSS)"
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="show which Python allocations grew"
    )
    parser.add_argument("--device", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.width, args.height = (int(part) for part in args.device_size.split("x"))
    if args.device:
        asyncio.run(run_device(args.device_fps, args.width, args.height))
        return

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    qasync.run(console_main(args))
    del app


if __name__ == "__main__":
    main()
