"""Sustained throughput: new requests per second while 100 consoles subscribe to /events.

Usage: .venv/bin/python bench/bench_hub_throughput.py [--subscribers 100] [--seconds 15]

Every demo officer's device (≈30) loops "create a request, hang it up" on its own keep-alive
connection for `--seconds`. The rate counts a request only once ALL subscribers have received its
`request.created`: rate = requests created / (first create → last delivery). Each request also
produces a `request.cancelled`, so subscribers receive two events per request.
Target: ≥ 300 requests/s. Hub in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench_hub_common import (
    FAKE_OFFER,
    RawHttp,
    SseCounter,
    SseTap,
    device_tokens,
    login,
    report,
    start_hub,
    summary_ms,
)

TARGET_PER_SECOND = 300.0


async def run(subscribers: int, seconds: float) -> None:
    hub = start_hub("--heartbeat-seconds", "30", "--lease-seconds", "60")
    taps: list[SseTap | SseCounter] = []
    try:
        operator = await login(hub.port, "patel", "patel-demo")
        devices = await device_tokens(hub.port, operator, 60)
        created_at: dict[int, float] = {}  # request id -> POST written
        delivered_at: dict[int, float] = {}  # request id -> received by the first subscriber
        progress = asyncio.Event()

        def on_first(_id: int, kind: str, data: bytes, at: float) -> None:
            # One subscriber parses every event, for the create → delivery lag.
            if kind == "request.created":
                rid = int(data.split(b'"request":{"id":', 1)[1].split(b",", 1)[0])
                delivered_at[rid] = at
                progress.set()

        first = SseTap(hub.port, operator, on_first)
        await first.start()
        taps.append(first)
        # The others only count (SseCounter): what matters is that every one received every
        # request.created, and when the last of them arrived.
        counters = [
            SseCounter(hub.port, operator, "request.created", progress.set)
            for _ in range(subscribers - 1)
        ]
        for counter in counters:
            await counter.start()
            taps.append(counter)

        created = 0
        stop_at = time.perf_counter() + seconds

        async def worker(device: str) -> None:
            nonlocal created
            conn = await RawHttp(hub.port).connect()
            try:
                while time.perf_counter() < stop_at:
                    sent = time.perf_counter()
                    status, body = await conn.request(
                        "POST", "/requests", device, {"sdp_offer": FAKE_OFFER}
                    )
                    if status != 201:
                        raise SystemExit(f"create: {status} {body}")
                    created_at[body["id"]] = sent
                    created += 1
                    status, body = await conn.request(
                        "POST", f"/requests/{body['id']}/hangup", device
                    )
                    if status != 200:
                        raise SystemExit(f"hangup: {status} {body}")
            finally:
                await conn.close()

        hub_cpu_start, client_cpu_start = hub.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(d) for d in devices))
        async with asyncio.timeout(120):
            while (
                len(delivered_at) < created
                or min((c.count for c in counters), default=created) < created
            ):
                progress.clear()
                await progress.wait()
        finished = max([max(delivered_at.values()), *(c.last_at for c in counters)])
        hub_cpu = hub.cpu_seconds() - hub_cpu_start
        client_cpu = time.process_time() - client_cpu_start
    finally:
        for tap in taps:
            await tap.stop()
        hub.stop()

    elapsed = finished - started
    lags = [delivered_at[rid] - sent for rid, sent in created_at.items() if rid in delivered_at]
    rate = created / elapsed
    lag = summary_ms(lags)
    report(
        "bench_hub_throughput",
        [
            ("subscribers", str(subscribers), ""),
            ("devices looping create+hangup", str(len(devices)), ""),
            ("requests created", str(created), ""),
            ("events delivered", str(2 * created * subscribers), ""),
            ("requests/s (all delivered)", f"{rate:.0f}", f"≥ {TARGET_PER_SECOND:.0f}"),
            ("create→delivery p50 (ms)", f"{lag['p50_ms']:.1f}", ""),
            ("create→delivery p99 (ms)", f"{lag['p99_ms']:.1f}", ""),
            ("wall time (s)", f"{elapsed:.1f}", ""),
            ("hub CPU (% of one core)", f"{100 * hub_cpu / elapsed:.0f}", ""),
            # Less sensitive to a busy shared box than the rate: CPU per create + hang-up pair.
            ("hub CPU per request (ms)", f"{1000 * hub_cpu / max(created, 1):.2f}", ""),
            ("bench client CPU (% of one core)", f"{100 * client_cpu / elapsed:.0f}", ""),
        ],
        {
            "subscribers": subscribers,
            "devices": len(devices),
            "requests": created,
            "requests_per_second": round(rate, 1),
            "create_to_delivery": lag,
            "target_per_second": TARGET_PER_SECOND,
            "meets_target": rate >= TARGET_PER_SECOND,
            "hub_cpu_percent": round(100 * hub_cpu / elapsed),
            "hub_cpu_ms_per_request": round(1000 * hub_cpu / max(created, 1), 2),
            "client_cpu_percent": round(100 * client_cpu / elapsed),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    asyncio.run(run(args.subscribers, args.seconds))


if __name__ == "__main__":
    main()
