"""The call flow end to end: real hub on loopback, real field simulator, real console widgets
offscreen with the real aiortc media engine, all over real HTTP and real WebRTC.

The officer's device runs in its own thread and event loop (it is somebody else's phone); the
console runs on a qasync loop like the application.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from console.domain.call import CallPhase
from console.services.decision import DeliveryStatus
from field.device import FieldDevice
from protocol import Outcome, ReasonCode
from tests.helpers.console import (
    ConsoleUnderTest,
    DeviceRun,
    console_against,
    mean_luma,
    run_on_qasync,
    samples,
    share_changed,
    start_device,
)
from tests.helpers.hub import device_token, hub_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
__all__ = ["hub_server"]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
HUB_CLI = [sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main())"]


# ---------------------------------------------------------------------------- helpers


def tick_all_and_confirm(console: ConsoleUnderTest) -> None:
    panel = console.panel.decision_panel
    for box in panel.checks.values():
        box.setChecked(True)
    QTest.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)


async def answer_and_connect(console: ConsoleUnderTest) -> int:
    created = await console.wait_for_event("request.created")
    return await answer_and_connect_to(console, created.request.id)


async def answer_and_connect_to(console: ConsoleUnderTest, request_id: int) -> int:
    await console.vm.answer(request_id)
    await console.wait_until(
        lambda: console.service.state.phase == CallPhase.CONNECTED, "media connected"
    )
    return request_id


class SubprocessHub:
    """`safe-connection-hub serve` as a child process on a fixed port and SQLite file."""

    def __init__(self, tmp_path: Path, *extra: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = tmp_path / "hub.db"
        self.log = tmp_path / "hub.log"
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            *HUB_CLI,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            f"sqlite:///{self.db}",
            *self.extra,
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)  # polling a child's readiness with a deadline: nothing to await
        raise AssertionError("hub did not start:\n" + self.log.read_text(errors="replace"))

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


# ---------------------------------------------------------------------------- tests


def test_answer_see_the_officer_confirm_and_the_device_gets_the_reference(hub_server, qapp):
    token = device_token(hub_server, "1001CW")

    async def scenario() -> None:
        async with console_against(hub_server.url) as console:
            device = FieldDevice(
                hub_server.url,
                token,
                linger_after_decision_s=30.0,
                media_timeout_s=30.0,
                max_call_s=120.0,
            )
            device_call = start_device(device)
            request_id = await answer_and_connect(console)
            assert "1001CW" in console.panel.officer_card.name.text()
            assert not console.panel.officer_card.banner.isVisible()

            # Remote frames are painted in the video pane: not black, and moving.
            await console.wait_until(lambda: console.remote_feed.rendered_count >= 10, "frames")
            first = samples(console.pane.live_video.grab().toImage())
            assert mean_luma(first) > 20, "the live video is black"
            seen = console.remote_feed.rendered_count
            await console.wait_until(
                lambda: console.remote_feed.rendered_count >= seen + 15, "more frames"
            )
            second = samples(console.pane.live_video.grab().toImage())
            assert share_changed(first, second) > 0.005, "the live video is frozen"

            await console.wait_until(lambda: console.pane.badge != "unknown", "quality badge")
            QTest.mouseClick(console.pane.snapshot_button, Qt.MouseButton.LeftButton)
            snapshot = await console.wait_for_event("request.snapshot", request_id)
            assert snapshot.request.id == request_id
            ARTIFACTS.mkdir(exist_ok=True)
            assert console.panel.grab().save(str(ARTIFACTS / "live-call-e2e.png"))

            tick_all_and_confirm(console)
            await console.wait_until(
                lambda: console.service.state.phase == CallPhase.DECIDED, "decided"
            )
            reference = console.service.state.decision.reference
            assert console.panel.outcome_label.text() == f"CONFIRMED — {reference}"

            QTest.mouseClick(console.pane.hangup_button, Qt.MouseButton.LeftButton)
            await console.wait_for_event("request.ended", request_id)
            await console.wait_until(
                lambda: console.service.state.phase == CallPhase.IDLE, "idle after hang-up"
            )
            assert reference in console.panel.last_call_label.text()

            result = await device_call.wait(60)
            assert result.outcome == Outcome.CONFIRMED
            assert result.reference == reference
            assert result.answered_by == "PS Smith"
            assert result.video is not None
            assert result.video.frames > 0
            [entry] = console.journal.entries()
            assert entry.status == DeliveryStatus.DELIVERED
            assert entry.reference == reference

    run_on_qasync(scenario())


def test_officer_hanging_up_while_queued_leaves_the_queue(hub_server, qapp):
    token = device_token(hub_server, "1002CW")

    async def scenario() -> None:
        async with console_against(hub_server.url) as console:
            device_call = start_device(FieldDevice(hub_server.url, token), cancel_after_s=1.0)
            created = await console.wait_for_event("request.created")
            request_id = created.request.id
            await console.wait_for_event("request.cancelled", request_id)
            result = await device_call.wait(30)
            assert result.cancelled_by_us
            active = await console.hub_http.json("GET", "/requests", params={"active": "true"})
            assert request_id not in [item["id"] for item in active]
            assert console.service.state.phase == CallPhase.IDLE

    run_on_qasync(scenario())


def test_hub_killed_during_the_decision_journal_delivers_exactly_once(tmp_path, qapp):
    hub = SubprocessHub(tmp_path, "--demo", "--lease-seconds", "60")
    hub.start()
    try:
        token = device_token(hub.url, "1001CW")

        async def scenario() -> None:
            async with console_against(hub.url, backoff_seconds=(0.3, 0.6, 1.0)) as console:
                device = FieldDevice(hub.url, token, media_timeout_s=30.0, max_call_s=120.0)
                device_call = start_device(device)
                request_id = await answer_and_connect(console)

                hub.kill()
                tick_all_and_confirm(console)
                await console.wait_until(
                    lambda: console.service.state.phase == CallPhase.DELIVERING, "pending"
                )
                assert console.panel.pending_label.isVisible()
                assert [e.status for e in console.journal.entries()] == [DeliveryStatus.PENDING]
                await console.wait_until(
                    lambda: console.journal.entries()[0].attempts >= 2,
                    "a retry while the hub is down",
                )

                await asyncio.to_thread(hub.start)
                await console.wait_until(
                    lambda: console.service.state.phase == CallPhase.DECIDED,
                    "delivered",
                    timeout=60,
                )
                [entry] = console.journal.entries()
                assert entry.status == DeliveryStatus.DELIVERED
                reference = console.service.state.decision.reference
                assert entry.reference == reference
                assert not console.panel.pending_label.isVisible()

                detail = await console.hub_http.json("GET", f"/requests/{request_id}")
                assert detail["request"]["decision"]["reference"] == reference
                decided = [a for a in detail["audit"] if "decid" in a["action"]]
                assert len(decided) == 1, detail["audit"]

                await console.vm.hang_up()
                with contextlib.suppress(Exception):  # the device may give up while the hub is down
                    await device_call.wait(60)

        run_on_qasync(scenario())
    finally:
        hub.kill()


def test_console_restarted_while_a_decision_is_pending_delivers_it_once(tmp_path, qapp):
    hub = SubprocessHub(tmp_path, "--demo", "--lease-seconds", "60")
    hub.start()
    data_dir = tmp_path / "console-data"
    try:
        token = device_token(hub.url, "1001CW")

        async def first_run() -> tuple[int, str]:
            async with console_against(hub.url, data_dir=data_dir) as console:
                device = FieldDevice(hub.url, token, media_timeout_s=30.0, max_call_s=60.0)
                device_call = start_device(device)
                request_id = await answer_and_connect(console)
                hub.kill()
                tick_all_and_confirm(console)
                await console.wait_until(
                    lambda: console.service.state.phase == CallPhase.DELIVERING, "pending"
                )
                [entry] = console.journal.entries()
                assert entry.status == DeliveryStatus.PENDING
            # The console is closed here with the decision still pending.
            devices.append(device_call)
            return request_id, entry.key

        devices: list[DeviceRun] = []
        request_id, key = run_on_qasync(first_run())
        hub.start()

        async def second_run() -> None:
            async with console_against(hub.url, data_dir=data_dir) as console:
                assert await console.vm.resume_pending() == 1
                await console.wait_until(
                    lambda: console.journal.get(key).status == DeliveryStatus.DELIVERED,
                    "delivered after restart",
                )
                reference = console.journal.get(key).reference
                detail = await console.hub_http.json("GET", f"/requests/{request_id}")
                assert detail["request"]["decision"]["reference"] == reference
                decided = [a for a in detail["audit"] if "decid" in a["action"]]
                assert len(decided) == 1, detail["audit"]
                assert any(reference in text for _, text in console.messages)

        run_on_qasync(second_run())
        for device_call in devices:
            device_call.join()
    finally:
        hub.kill()


def test_second_sergeant_is_told_who_took_the_call_and_answers_after_release(hub_server, qapp):
    token = device_token(hub_server, "1003CW")

    async def scenario() -> None:
        async with (
            console_against(hub_server.url) as smith,
            console_against(hub_server.url, username="jones", password="jones-demo") as jones,
        ):
            device = FieldDevice(hub_server.url, token, linger_after_decision_s=30.0)
            device_call = start_device(device)
            request_id = await answer_and_connect(smith)
            # The record says off duty: the red banner is up on PS Smith's card.
            assert "NOT ON DUTY NOW" in smith.panel.officer_card.banner.text()

            await jones.vm.answer(request_id)
            assert jones.messages == [("warning", "Taken by PS Smith.")]
            assert jones.service.state.phase == CallPhase.IDLE
            assert smith.service.state.phase == CallPhase.CONNECTED

            await smith.vm.release()
            assert smith.service.state.phase == CallPhase.IDLE
            assert "Released to the queue" in smith.panel.last_call_label.text()
            assert not any("Claim lost" in text for _, text in smith.messages)
            await jones.wait_for_event("request.released", request_id)
            await jones.wait_until(lambda: device.live.reoffers >= 1, "the device re-offering")

            await answer_and_connect_to(jones, request_id)
            decision = jones.panel.decision_panel
            decision.reason.setCurrentIndex(decision.reason.findData(ReasonCode.NOT_ON_DUTY.value))
            QTest.mouseClick(decision.refuse_button, Qt.MouseButton.LeftButton)
            await jones.wait_until(
                lambda: jones.service.state.phase == CallPhase.DECIDED, "decided"
            )
            reference = jones.service.state.decision.reference
            await jones.vm.hang_up()

            result = await device_call.wait(60)
            assert result.outcome == Outcome.REFUSED
            assert result.reason_code == ReasonCode.NOT_ON_DUTY
            assert result.reference == reference
            assert result.answered_by == "PS Jones"

    run_on_qasync(scenario())
