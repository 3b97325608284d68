"""Twenty calls in a row: the CLI against a real hub, answered by the headless answerer."""

from __future__ import annotations

import re

import pytest

from tests.helpers.answerer import HeadlessAnswerer
from tests.helpers.field import start_field_cli
from tests.helpers.hub import device_token

CALLS = 20


@pytest.mark.slow
async def test_twenty_calls_in_a_row_all_complete(hub_server) -> None:
    token = device_token(hub_server, "1001CW")
    process = await start_field_cli(
        [
            "--hub",
            hub_server.url,
            "--officer",
            "1001CW",
            "--device-token",
            token,
            "--count",
            str(CALLS),
            "--interval",
            "0",
            "--linger",
            "30",
        ]
    )
    try:
        async with HeadlessAnswerer(hub_server.url) as sergeant:
            try:
                served = await sergeant.serve(CALLS, min_frames=10)
            except AssertionError as exc:
                raise AssertionError(
                    f"{exc}\n{(await process.kill_and_collect()).describe()}"
                ) from exc
        run = await process.wait(120)
    finally:
        await process.stop()
    assert run.returncode == 0, run.describe()
    references = [
        c.decision.decision.reference
        for c in served
        if c.decision is not None and c.decision.decision is not None
    ]
    assert len(set(references)) == CALLS
    for reference in references:
        assert f"reference {reference}" in run.stdout, run.describe()
    assert f"{CALLS}/{CALLS} calls decided" in run.stdout, run.describe()
    assert len(re.findall(r"call \d+/20: CONFIRMED", run.stdout)) == CALLS
    print(run.stdout.strip().splitlines()[-1])  # answer->first frame and fps, for the record
