"""The field simulator's library API: one device (`FieldDevice`) or a live demo stream of calls.

`run_demo_stream` keeps a plausible queue alive against a `--demo` hub: several officers waiting at
once, a new call every few seconds while the queue is short, some officers giving up while queued,
every other call staying until a sergeant decides it or the hub expires it. The console's embedded
default runs it in-process; `safe-connection-field --demo` runs it from the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from field.device import CallResult, FieldDevice
from field.errors import FieldError, HubRequestError, HubUnreachableError
from field.hub_client import DEFAULT_TIMEOUT, request_demo_token
from field.media import SIZE_480P
from protocol.schemas import API_PREFIX, RequestState

__all__ = [
    "DEFAULT_DEMO_COLLARS",
    "CallResult",
    "DemoStreamStats",
    "FieldDevice",
    "discover_demo_collars",
    "discover_demo_devices",
    "run_demo_stream",
]

log = logging.getLogger(__name__)

# The named demo officers (shared facts); the rest of the demo seed's collars are generated, so
# the full list is read from the hub by `discover_demo_collars`.
DEFAULT_DEMO_COLLARS: tuple[str, ...] = ("1001CW", "1002CW", "1003CW", "1004CW", "1005CW")
# The demo admin's published credentials (shown on the console's sign-in dialog in demo mode).
DEMO_LISTING_ACCOUNT = ("admin", "admin-demo")
MAX_DEMO_OFFICERS = 500


@dataclass
class DemoStreamStats:
    """Counts of how the demo stream's calls ended."""

    started: int = 0
    completed: int = 0
    cancelled: int = 0
    expired_or_failed: int = 0
    errors: int = 0

    @property
    def finished(self) -> int:
        return self.completed + self.cancelled + self.expired_or_failed + self.errors


async def discover_demo_collars(hub_url: str) -> list[str]:
    """Every officer's collar number on a --demo hub, or the named demo collars as a fallback.

    Devices cannot list officers, so this signs in with the demo admin's published credentials,
    reads `GET /officers/{id}` for id 1, 2, ... until 404, and signs out again.
    """
    username, password = DEMO_LISTING_ACCOUNT
    collars: list[str] = []
    async with httpx.AsyncClient(
        base_url=hub_url.rstrip("/") + API_PREFIX, timeout=DEFAULT_TIMEOUT
    ) as http:
        try:
            login = await http.post(
                "/auth/login", json={"username": username, "password": password}
            )
            if login.status_code != 200:
                log.info(
                    "demo listing sign-in refused (%s); using the named demo officers",
                    login.status_code,
                )
                return list(DEFAULT_DEMO_COLLARS)
            auth = {"Authorization": f"Bearer {login.json()['token']}"}
            for officer_id in range(1, MAX_DEMO_OFFICERS + 1):
                response = await http.get(f"/officers/{officer_id}", headers=auth)
                if response.status_code != 200:
                    break
                collars.append(str(response.json()["collar_number"]))
            await http.post("/auth/logout", headers=auth)
        except httpx.TransportError as exc:
            raise HubUnreachableError(hub_url, type(exc).__name__) from exc
    return collars or list(DEFAULT_DEMO_COLLARS)


async def discover_demo_devices(
    hub_url: str,
    collars: Sequence[str] | None = None,
) -> dict[str, str]:
    """Device tokens of the demo officers, by collar number (all of them when `collars` is None).

    Unknown collars are skipped; an unreachable hub or a hub without --demo raises `FieldError`.
    """
    if collars is None:
        collars = await discover_demo_collars(hub_url)
    tokens: dict[str, str] = {}
    last_refusal: HubRequestError | None = None
    for collar in collars:
        try:
            tokens[collar] = await request_demo_token(hub_url, collar)
        except HubRequestError as exc:
            last_refusal = exc
            if exc.status in (401, 403):
                break  # not a demo hub, or not on loopback: no other collar will work either
    if not tokens:
        hint = f" ({last_refusal.message})" if last_refusal else ""
        raise FieldError(
            f"no demo officers available on {hub_url}: is it running with --demo?" + hint
        )
    return tokens


async def run_demo_stream(
    hub_url: str,
    *,
    stop_event: asyncio.Event,
    count: int | None = None,
    collars: Sequence[str] | None = None,
    target_waiting: int = 3,
    max_concurrent: int = 6,
    interval_s: tuple[float, float] = (2.0, 6.0),
    cancel_probability: float = 0.2,
    cancel_after_s: tuple[float, float] = (5.0, 25.0),
    video_size: tuple[int, int] = SIZE_480P,
    linger_after_decision_s: float = 8.0,
    seed: int | None = None,
    report: Callable[[str], None] | None = None,
) -> DemoStreamStats:
    """Run random demo calls until `stop_event` is set or `count` calls have finished.

    Returns the tally. Each call runs in a task owned here; on stop every live call hangs up.
    """
    say = report or (lambda line: log.info("%s", line))
    rng = random.Random(seed)
    tokens = await discover_demo_devices(hub_url, collars)
    say(f"demo stream: {len(tokens)} demo officers available on {hub_url}")
    stats = DemoStreamStats()
    devices: dict[str, FieldDevice] = {}
    tasks: dict[str, asyncio.Task[None]] = {}

    async def one_call(collar: str, device: FieldDevice, cancel_after: float | None) -> None:
        try:
            result = await device.call(cancel_after_s=cancel_after)
        except FieldError as exc:
            if exc.result is not None and exc.result.state in (
                RequestState.EXPIRED,
                RequestState.FAILED,
            ):
                stats.expired_or_failed += 1
            else:
                stats.errors += 1
            say(f"{collar}: {exc}")
            return
        # The device already reported the outcome line; only the tally is kept here.
        if result.completed:
            stats.completed += 1
        else:
            stats.cancelled += 1

    def forget(collar: str) -> Callable[[asyncio.Task[None]], None]:
        def on_done(_task: asyncio.Task[None]) -> None:
            tasks.pop(collar, None)
            devices.pop(collar, None)

        return on_done

    def waiting() -> int:
        return sum(1 for d in devices.values() if d.state in (None, RequestState.QUEUED))

    try:
        while not stop_event.is_set():
            if count is not None and stats.started >= count:
                if not tasks:
                    break
            else:
                free = [c for c in tokens if c not in tasks]
                if free and waiting() < target_waiting and len(tasks) < max_concurrent:
                    collar = rng.choice(free)
                    device = FieldDevice(
                        hub_url,
                        tokens[collar],
                        video_size=video_size,
                        linger_after_decision_s=linger_after_decision_s,
                        report=say,
                    )
                    cancel_after = (
                        rng.uniform(*cancel_after_s) if rng.random() < cancel_probability else None
                    )
                    devices[collar] = device
                    task = asyncio.get_running_loop().create_task(
                        one_call(collar, device, cancel_after), name=f"demo-call-{collar}"
                    )
                    tasks[collar] = task
                    task.add_done_callback(forget(collar))
                    stats.started += 1
            # Waiting for the stop signal doubles as the pause between calls.
            pause = rng.uniform(*interval_s) if waiting() < target_waiting else interval_s[0]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_event.wait(), pause)
    finally:
        live = list(tasks.values())
        for task in live:
            task.cancel()
        for task in live:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    say(
        f"demo stream over: {stats.started} started, {stats.completed} decided, "
        f"{stats.cancelled} hung up while queued, {stats.expired_or_failed} expired/failed, "
        f"{stats.errors} errors"
    )
    return stats
