"""Chromium's field page → hub → headless aiortc sergeant: how fast video starts and how it holds.

Runs a real hub on loopback, Debian's Chromium (fake camera at 30 fps, phone-sized page) on the
field page, and the headless aiortc answerer from tests/helpers/answerer.py sending 720p back.

Measures
  - answer → first frame: from the sergeant posting its SDP answer to the first decoded frame of
    the officer's video at the sergeant (aiortc), and to the first frame decoded by Chromium;
  - steady state over `--seconds` (default 60): frames/s and resolution in both directions,
    sampled once a second after a short warm-up; Chromium's encoder limitation reason.

    .venv/bin/python bench/bench_browser.py              # 60 s steady state
    .venv/bin/python bench/bench_browser.py --seconds 15 # shorter

Prints a table and a JSON line. The machine is shared: run it once, not in a loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.async_api import Page, async_playwright  # noqa: E402

from hub.server import HubServer  # noqa: E402
from protocol.schemas import RequestState  # noqa: E402
from tests.browser.chromium import CHROMIUM, PHONE_VIEWPORT, chromium_args  # noqa: E402
from tests.browser.field_phone import open_enrolled, wait_for_phase  # noqa: E402
from tests.helpers.answerer import HeadlessAnswerer  # noqa: E402
from tests.helpers.hub import device_token, test_settings  # noqa: E402

SIZE_720P = (1280, 720)


async def page_stats(page: Page) -> dict[str, Any]:
    return dict(await page.evaluate("window.safeConnection.stats()") or {})


async def first_page_frame_at(page: Page, timeout_s: float = 30.0) -> float:
    """time.monotonic() when Chromium first reports a decoded frame (polled every 10 ms)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        inbound = (await page_stats(page)).get("inbound") or {}
        if inbound.get("framesDecoded", 0) >= 1:
            return time.monotonic()
        await asyncio.sleep(0.01)
    raise RuntimeError("Chromium decoded no frame")


async def run(seconds: float, warmup: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubServer(test_settings(Path(tmp), lease_seconds=15.0)).start()
        try:
            token = device_token(hub, "1001CW")
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=chromium_args()
                )
                try:
                    context = await browser.new_context(viewport=PHONE_VIEWPORT)
                    page = await context.new_page()
                    await open_enrolled(page, hub.url, token)
                    async with HeadlessAnswerer(hub.url, video_size=SIZE_720P) as sergeant:
                        return await measure(page, sergeant, seconds, warmup)
                finally:
                    await browser.close()
        finally:
            hub.stop()


async def measure(
    page: Page, sergeant: HeadlessAnswerer, seconds: float, warmup: float
) -> dict[str, Any]:
    clicked = time.monotonic()
    await page.click("#verify")
    queued = await sergeant.wait_for_request(lambda r: r.state == RequestState.QUEUED)
    queued_after = time.monotonic() - clicked
    page_first = asyncio.ensure_future(first_page_frame_at(page))
    call = await sergeant.claim_and_answer(queued.id, connect_timeout_s=30)
    page_first_at = await page_first
    await wait_for_phase(page, "connected")
    to_sergeant_first = call.answer_to_first_frame_s
    to_page_first = page_first_at - call.answered_at

    consumer = call.consumers["video"]
    await asyncio.sleep(warmup)  # let Chromium's bandwidth estimate ramp up before sampling

    samples: list[dict[str, Any]] = []
    start_frames = consumer.stats.frames
    start_page = ((await page_stats(page)).get("inbound") or {}).get("framesDecoded", 0)
    started = time.monotonic()
    previous = (started, start_frames, start_page)
    while time.monotonic() - started < seconds:
        await asyncio.sleep(1.0)  # a sampling period, not synchronisation
        now = time.monotonic()
        stats = await page_stats(page)
        inbound = stats.get("inbound") or {}
        outbound = stats.get("outbound") or {}
        frames = consumer.stats.frames
        decoded = inbound.get("framesDecoded", 0)
        span = now - previous[0]
        samples.append(
            {
                "to_sergeant_fps": (frames - previous[1]) / span,
                "to_sergeant_size": f"{consumer.stats.width}x{consumer.stats.height}",
                "to_page_fps": (decoded - previous[2]) / span,
                "to_page_size": f"{inbound.get('frameWidth')}x{inbound.get('frameHeight')}",
                "limitation": outbound.get("qualityLimitationReason"),
                "rtt_ms": stats.get("rttMs"),
            }
        )
        previous = (now, frames, decoded)
    elapsed = time.monotonic() - started
    final = await page_stats(page)
    await sergeant.decide(call)
    await sergeant.end(call)

    def spread(key: str) -> dict[str, float]:
        values = [s[key] for s in samples]
        return {
            "mean": round(statistics.fmean(values), 1),
            "min": round(min(values), 1),
            "p50": round(statistics.median(values), 1),
        }

    return {
        "seconds": round(elapsed, 1),
        "warmup_s": warmup,
        "click_to_queued_s": round(queued_after, 3),
        "answer_to_first_frame_at_sergeant_ms": round((to_sergeant_first or 0) * 1000),
        "answer_to_first_frame_at_page_ms": round(to_page_first * 1000),
        "to_sergeant_fps": spread("to_sergeant_fps"),
        "to_sergeant_avg_fps_total": round((consumer.stats.frames - start_frames) / elapsed, 1),
        "to_sergeant_sizes": dict(Counter(s["to_sergeant_size"] for s in samples)),
        "to_page_fps": spread("to_page_fps"),
        "to_page_sizes": dict(Counter(s["to_page_size"] for s in samples)),
        "chromium_limitation": dict(Counter(str(s["limitation"]) for s in samples)),
        "samples": samples,
        "chromium_encoder": (final.get("outbound") or {}).get("encoder"),
        "codec": final.get("codec"),
        "machine": {
            "cpus": __import__("os").cpu_count(),
            "cpu": cpu_model(),
            "python": platform.python_version(),
        },
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="steady-state window")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before sampling")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every sample")
    args = parser.parse_args()
    result = asyncio.run(run(args.seconds, args.warmup))
    if args.verbose:
        for sample in result["samples"]:
            print(json.dumps(sample))
    rows = [
        ("click Verify me → request queued", f"{result['click_to_queued_s'] * 1000:.0f} ms"),
        (
            "answer → first frame at sergeant (aiortc)",
            f"{result['answer_to_first_frame_at_sergeant_ms']} ms",
        ),
        ("answer → first frame in Chromium", f"{result['answer_to_first_frame_at_page_ms']} ms"),
        (
            "Chromium → sergeant fps (mean/min/p50)",
            "{mean}/{min}/{p50}".format(**result["to_sergeant_fps"]),
        ),
        ("Chromium → sergeant resolution", json.dumps(result["to_sergeant_sizes"])),
        (
            "sergeant → Chromium fps (mean/min/p50)",
            "{mean}/{min}/{p50}".format(**result["to_page_fps"]),
        ),
        ("sergeant → Chromium resolution", json.dumps(result["to_page_sizes"])),
        ("Chromium encoder limitation", json.dumps(result["chromium_limitation"])),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"bench_browser: {result['seconds']} s steady state after {result['warmup_s']} s warm-up")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}))


if __name__ == "__main__":
    main()
