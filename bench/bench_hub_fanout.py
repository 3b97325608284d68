"""Fan-out latency: a request is created → 50 subscribed consoles receive `request.created`.

Usage: .venv/bin/python bench/bench_hub_fanout.py [--consoles 50] [--requests 200]

Latency per console = receipt of the event minus the moment the device's `POST /requests` was
written to the socket (so it includes the hub handling the POST). Requests are created one at a
time; the next is created only after every console has the previous one and its hang-up.
Target: p99 ≤ 20 ms. The hub runs as a separate process (`safe-connection-hub serve --demo`).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench_hub_common import (
    FAKE_OFFER,
    RawHttp,
    SseTap,
    device_tokens,
    login,
    report,
    start_hub,
    summary_ms,
)

TARGET_P99_MS = 20.0


async def run(consoles: int, requests: int) -> None:
    hub = start_hub("--heartbeat-seconds", "30", "--lease-seconds", "60")
    taps: list[SseTap] = []
    try:
        operator = await login(hub.port, "smith", "smith-demo")
        devices = await device_tokens(hub.port, operator, 30)
        received: dict[int, dict[int, float]] = {}  # request id -> console -> time
        cancelled: dict[int, int] = {}  # request id -> consoles that saw it cancelled
        wake = asyncio.Event()

        def make_handler(console: int):
            def on_event(_id: int, kind: str, data: bytes, at: float) -> None:
                rid = int(data.split(b'"request":{"id":', 1)[1].split(b",", 1)[0])
                if kind == "request.created":
                    received.setdefault(rid, {})[console] = at
                elif kind == "request.cancelled":
                    cancelled[rid] = cancelled.get(rid, 0) + 1
                wake.set()

            return on_event

        for n in range(consoles):
            tap = SseTap(hub.port, operator, make_handler(n))
            await tap.start()
            taps.append(tap)

        conns = [await RawHttp(hub.port).connect() for _ in devices]
        latencies: list[float] = []
        hub_cpu_start, client_cpu_start = hub.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        for n in range(requests):
            k = n % len(devices)
            payload = conns[k].encode("POST", "/requests", devices[k], {"sdp_offer": FAKE_OFFER})
            sent = time.perf_counter()
            status, body = await conns[k].send_raw(payload)
            if status != 201:
                raise SystemExit(f"create: {status} {body}")
            rid = body["id"]
            async with asyncio.timeout(30):
                while len(received.get(rid, {})) < consoles:
                    wake.clear()
                    await wake.wait()
            latencies.extend(at - sent for at in received[rid].values())
            status, body = await conns[k].request("POST", f"/requests/{rid}/hangup", devices[k])
            if status != 200:
                raise SystemExit(f"hangup: {status} {body}")
            async with asyncio.timeout(30):
                while cancelled.get(rid, 0) < consoles:
                    wake.clear()
                    await wake.wait()
        elapsed = time.perf_counter() - started
        hub_cpu = hub.cpu_seconds() - hub_cpu_start
        client_cpu = time.process_time() - client_cpu_start
        for conn in conns:
            await conn.close()
    finally:
        for tap in taps:
            await tap.stop()
        hub.stop()

    stats = summary_ms(latencies)
    report(
        "bench_hub_fanout",
        [
            ("consoles", str(consoles), ""),
            ("requests", str(requests), ""),
            ("deliveries", str(stats["n"]), ""),
            ("created→received p50 (ms)", f"{stats['p50_ms']:.2f}", ""),
            ("created→received p90 (ms)", f"{stats['p90_ms']:.2f}", ""),
            ("created→received p99 (ms)", f"{stats['p99_ms']:.2f}", f"≤ {TARGET_P99_MS:.0f}"),
            ("created→received max (ms)", f"{stats['max_ms']:.2f}", ""),
            ("wall time (s)", f"{elapsed:.1f}", ""),
            ("hub CPU (% of one core)", f"{100 * hub_cpu / elapsed:.0f}", ""),
            ("bench client CPU (% of one core)", f"{100 * client_cpu / elapsed:.0f}", ""),
        ],
        {
            "consoles": consoles,
            "requests": requests,
            "latency": stats,
            "target_p99_ms": TARGET_P99_MS,
            "hub_cpu_percent": round(100 * hub_cpu / elapsed),
            "client_cpu_percent": round(100 * client_cpu / elapsed),
            "meets_target": stats["p99_ms"] <= TARGET_P99_MS,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consoles", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.consoles, args.requests))


if __name__ == "__main__":
    main()
