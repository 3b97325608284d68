"""`safe-connection-field`: act as an officer's device and call the control room through a hub.

    safe-connection-field --hub http://127.0.0.1:8470 --officer 1001CW [--count N] [--interval S]
                          [--cancel-after S] [--device-token TOKEN] [--720p] [-v]
    safe-connection-field --hub http://127.0.0.1:8470 --demo [--count N]

Exit status 0 when every call completed (decided, or hung up on purpose by --cancel-after);
otherwise non-zero with one line on stderr saying why (see `field.errors` for the codes).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import statistics
import sys
from collections.abc import Sequence

from field.device import CallResult, FieldDevice
from field.errors import FieldError
from field.hub_client import request_demo_token
from field.media import SIZE_480P, SIZE_720P
from field.simulator import run_demo_stream

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="safe-connection-field",
        description="Simulate a plain-clothes officer's device calling the control room.",
    )
    parser.add_argument("--hub", default="http://127.0.0.1:8470", help="hub base URL")
    parser.add_argument(
        "--officer",
        metavar="COLLAR",
        help="collar number of the officer whose device this is (e.g. 1001CW)",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=None,
        help="number of calls (default 1; with --demo: run until Ctrl-C)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="S",
        help="pause between calls in seconds (with --demo: the longest pause)",
    )
    parser.add_argument(
        "--cancel-after",
        type=float,
        default=None,
        metavar="S",
        help="hang up after S seconds if nobody has answered yet",
    )
    parser.add_argument(
        "--device-token",
        default=os.environ.get("SC_DEVICE_TOKEN"),
        help="the enrolled device's token (default: env SC_DEVICE_TOKEN; without "
        "one, a --demo hub on loopback is asked for it)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="an endless random stream of calls from the demo officers",
    )
    parser.add_argument(
        "--720p", dest="hd", action="store_true", help="send 1280x720 instead of 640x480"
    )
    parser.add_argument(
        "--media-timeout",
        type=float,
        default=15.0,
        metavar="S",
        help="give up when no video arrives within S seconds of the answer",
    )
    parser.add_argument(
        "--max-call-seconds",
        type=float,
        default=900.0,
        metavar="S",
        help="give up on a call after S seconds in total",
    )
    parser.add_argument(
        "--linger",
        type=float,
        default=5.0,
        metavar="S",
        help="after the decision, wait S seconds for the sergeant to end the call",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)"
    )
    return parser


def say(line: str) -> None:
    """Progress lines go to stdout, flushed, so a parent process sees them as they happen."""
    print(line, flush=True)


def _summarise(results: Sequence[CallResult]) -> str:
    delays = [r.answer_to_first_frame_s for r in results if r.answer_to_first_frame_s is not None]
    rates = [fps for r in results if r.video is not None and (fps := r.video.fps()) is not None]
    parts = [f"{sum(r.completed for r in results)}/{len(results)} calls decided"]
    if delays:
        parts.append(
            f"answer->first frame median {statistics.median(delays) * 1000:.0f} ms "
            f"(max {max(delays) * 1000:.0f} ms)"
        )
    if rates:
        parts.append(f"received video {statistics.mean(rates):.1f} fps average")
    return "; ".join(parts)


async def _resolve_token(args: argparse.Namespace) -> str:
    if args.device_token:
        return str(args.device_token)
    say(
        f"no device token given: asking the hub's demo endpoint for {args.officer}'s device "
        "(works only with a hub started with --demo, on loopback)"
    )
    return await request_demo_token(args.hub, args.officer)


async def _run_calls(args: argparse.Namespace) -> int:
    token = await _resolve_token(args)
    device = FieldDevice(
        args.hub,
        token,
        video_size=SIZE_720P if args.hd else SIZE_480P,
        media_timeout_s=args.media_timeout,
        max_call_s=args.max_call_seconds,
        linger_after_decision_s=args.linger,
        report=say,
    )
    results: list[CallResult] = []
    count = args.count if args.count is not None else 1
    for index in range(count):
        if index:
            await asyncio.sleep(args.interval)  # a deliberate pause between calls, as specified
        result = await device.call(cancel_after_s=args.cancel_after)
        results.append(result)
        say(f"call {index + 1}/{count}: {result.summary()}")
    say(_summarise(results))
    return 0


async def _run_demo(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    stats = await run_demo_stream(
        args.hub,
        stop_event=stop,
        count=args.count,
        interval_s=(min(2.0, args.interval), max(2.0, args.interval, 6.0)),
        video_size=SIZE_720P if args.hd else SIZE_480P,
        report=say,
    )
    return 0 if stats.errors == 0 else 1


async def _main_async(args: argparse.Namespace) -> int:
    # SIGTERM behaves like Ctrl-C: cancel the work so every live call hangs up in its `finally`.
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None and hasattr(signal, "SIGTERM"):
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    return await (_run_demo(args) if args.demo else _run_calls(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `safe-connection-field` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.demo and not args.officer:
        parser.error("--officer COLLAR is required (or use --demo)")
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")
    if args.cancel_after is not None and args.cancel_after < 0:
        parser.error("--cancel-after must not be negative")
    level = (
        logging.WARNING
        if args.verbose == 0
        else (logging.INFO if args.verbose == 1 else logging.DEBUG)
    )
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_main_async(args))
    except FieldError as exc:
        print(f"safe-connection-field: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(
            "safe-connection-field: interrupted; the call was hung up", file=sys.stderr, flush=True
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
