"""`safe-connection-field` as a real subprocess: a completed call, and every way it must fail."""

from __future__ import annotations

import re
import signal

import httpx
import pytest

from hub.server import HubServer
from protocol.schemas import RequestState
from tests.helpers.answerer import HeadlessAnswerer
from tests.helpers.field import run_field_cli, start_field_cli, unused_loopback_port
from tests.helpers.hub import device_token, login, test_settings

QUEUED_LINE = re.compile(r"request (\d+) queued")


async def test_cli_completes_a_call_and_prints_the_reference(hub_server) -> None:
    token = device_token(hub_server, "1001CW")
    process = await start_field_cli(
        ["--hub", hub_server.url, "--officer", "1001CW", "--device-token", token, "--linger", "30"]
    )
    try:
        async with HeadlessAnswerer(hub_server.url) as sergeant:
            queued = await sergeant.wait_for_request(
                lambda v: v.state == RequestState.QUEUED and v.officer.collar_number == "1001CW"
            )
            call = await sergeant.claim_and_answer(queued.id)
            await call.wait_for_frames("video", 10)
            decided = await sergeant.decide(call)
            await sergeant.end(call)
        run = await process.wait(60)
    finally:
        await process.stop()
    assert decided.decision is not None
    assert run.returncode == 0, run.describe()
    assert f"reference {decided.decision.reference}" in run.stdout, run.describe()
    assert "CONFIRMED" in run.stdout
    assert "1/1 calls decided" in run.stdout


async def test_unreachable_hub_exits_non_zero_with_one_clear_line() -> None:
    url = f"http://127.0.0.1:{unused_loopback_port()}"
    run = await run_field_cli(
        ["--hub", url, "--officer", "1001CW", "--device-token", "dev_x"], timeout_s=60
    )
    assert run.returncode == 2, run.describe()
    assert f"cannot reach the hub at {url}" in run.stderr, run.describe()
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.describe()


async def test_unreachable_hub_without_a_token_says_so_too() -> None:
    url = f"http://127.0.0.1:{unused_loopback_port()}"
    run = await run_field_cli(["--hub", url, "--officer", "1001CW"], timeout_s=60)
    assert run.returncode == 2, run.describe()
    assert "demo endpoint" in run.stdout  # it said what it was trying
    assert "cannot reach the hub" in run.stderr


async def test_a_refused_device_token_exits_non_zero_with_a_message(hub_server) -> None:
    run = await run_field_cli(
        ["--hub", hub_server.url, "--officer", "1001CW", "--device-token", "dev_not-a-real-token"],
        timeout_s=60,
    )
    assert run.returncode == 3, run.describe()
    assert "refused the device token" in run.stderr, run.describe()
    assert "dev_not-a-real-token" not in run.stderr + run.stdout  # never echo a secret
    assert "Traceback" not in run.stderr


async def test_an_unknown_demo_officer_is_a_clear_error(hub_server) -> None:
    run = await run_field_cli(["--hub", hub_server.url, "--officer", "9999ZZ"], timeout_s=60)
    assert run.returncode != 0, run.describe()
    assert "Traceback" not in run.stderr
    assert "demo" in run.stderr, run.describe()


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--officer", "1001CW", "--count", "0"], "--count"),
        (["--officer", "1001CW", "--cancel-after", "-1"], "--cancel-after"),
        ([], "--officer"),
    ],
)
async def test_bad_arguments_are_refused_by_the_parser(args: list[str], complaint: str) -> None:
    run = await run_field_cli(["--hub", "http://127.0.0.1:1", *args], timeout_s=60)
    assert run.returncode == 2, run.describe()
    assert "usage:" in run.stderr
    assert complaint in run.stderr.splitlines()[-1], run.describe()


async def test_cancel_after_hangs_up_while_queued(hub_server) -> None:
    token = device_token(hub_server, "1003CW")
    run = await run_field_cli(
        [
            "--hub",
            hub_server.url,
            "--officer",
            "1003CW",
            "--device-token",
            token,
            "--cancel-after",
            "1",
        ],
        timeout_s=60,
    )
    assert run.returncode == 0, run.describe()
    match = QUEUED_LINE.search(run.stdout)
    assert match, run.describe()
    request_id = int(match.group(1))
    operator = login(hub_server.url, "patel", "patel-demo")
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as client:
        response = await client.get(
            f"/api/v1/requests/{request_id}", headers={"Authorization": f"Bearer {operator}"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["request"]["state"] == RequestState.CANCELLED.value


async def test_an_expired_request_exits_non_zero_with_a_message(tmp_path) -> None:
    server = HubServer(test_settings(tmp_path, expire_after_seconds=1.0)).start()
    try:
        token = device_token(server, "1001CW")
        run = await run_field_cli(
            ["--hub", server.url, "--officer", "1001CW", "--device-token", token], timeout_s=60
        )
    finally:
        server.stop()
    assert run.returncode == 5, run.describe()
    assert "expired" in run.stderr, run.describe()
    assert "Traceback" not in run.stderr


async def test_media_that_never_connects_exits_non_zero_with_a_message(hub_server) -> None:
    token = device_token(hub_server, "1001CW")
    process = await start_field_cli(
        [
            "--hub",
            hub_server.url,
            "--officer",
            "1001CW",
            "--device-token",
            token,
            "--media-timeout",
            "3",
        ]
    )
    try:
        async with HeadlessAnswerer(hub_server.url) as sergeant:
            queued = await sergeant.wait_for_request(
                lambda v: v.state == RequestState.QUEUED and v.officer.collar_number == "1001CW"
            )
            await sergeant.claim_and_answer_without_media(queued.id)
            run = await process.wait(60)
            # The device hung up on its way out: the request is not left claimed and silent.
            left = await sergeant.wait_for_state(queued.id, RequestState.CANCELLED)
    finally:
        await process.stop()
    assert run.returncode == 6, run.describe()
    assert "media never connected" in run.stderr, run.describe()
    assert left.end_reason


async def test_ctrl_c_while_queued_hangs_up(hub_server) -> None:
    token = device_token(hub_server, "1001CW")
    process = await start_field_cli(
        ["--hub", hub_server.url, "--officer", "1001CW", "--device-token", token]
    )
    try:
        async with HeadlessAnswerer(hub_server.url) as sergeant:
            queued = await sergeant.wait_for_request(
                lambda v: v.state == RequestState.QUEUED and v.officer.collar_number == "1001CW"
            )
            process.process.send_signal(signal.SIGINT)
            run = await process.wait(90)
            cancelled = await sergeant.wait_for_state(
                queued.id, RequestState.CANCELLED, timeout_s=60
            )
    finally:
        await process.stop()
    assert run.returncode == 130, run.describe()
    assert "interrupted" in run.stderr
    assert cancelled.state == RequestState.CANCELLED
