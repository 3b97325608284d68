"""Current console screenshots at 1366x768 (run: `make screenshots`, which writes into docs/).

Starts a real hub on loopback with demo data. Simulated officers call in at staggered times (so
the queue shows normal, amber and red waits and bad warrants), PS Jones takes one, and the real
field simulator (`field.simulator.FieldDevice`, real WebRTC with a synthetic camera) makes a live
call that the real console answers with its real media engine. Captures, from the real window
built by the composition root: sign-in, queue, "taken by", the Live tab mid-call, History with a
call's record open, shortcuts and the lock screen. Offscreen platform; no camera, no sound.

Where the pictures go: `--out DIR`, else env `SC_SCREENSHOT_DIR`, else `artifacts/` (git-ignored),
so running it by hand never dirties the tree. In DIR: `console-live.png`, `console-history.png`,
and the shell's pictures under `screenshots/`.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.symbolsresolver=false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import qasync  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from console.app import ConsoleApp, create_qt_app  # noqa: E402
from console.settings import ConsoleSettings  # noqa: E402
from field.simulator import CallResult, FieldDevice  # noqa: E402
from hub.server import HubServer  # noqa: E402
from hub.settings import HubSettings  # noqa: E402
from protocol import API_PREFIX  # noqa: E402

SCREEN = (1366, 768)
PLACES = {  # where the queue-filler calls come from (field/locations.py style)
    "1002CW": (51.4613, -0.1156, "Brixton Road, near Brixton tube station"),
    "1003CW": (51.5154, -0.0722, "Commercial Street, Spitalfields"),
    "1004CW": (51.5033, -0.1195, "Belvedere Road, South Bank"),
    "1005CW": (51.4826, -0.0077, "Greenwich High Road, by the DLR"),
}
OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:96 VP8/90000\r\n"
)


def output_dir(argv: list[str]) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get("SC_SCREENSHOT_DIR") or ROOT / "artifacts"),
        help="folder for the PNGs (default: $SC_SCREENSHOT_DIR, else artifacts/)",
    )
    out: Path = parser.parse_args(argv).out
    return out if out.is_absolute() else ROOT / out


class Shots:
    def __init__(self, out: Path) -> None:
        self.out = out

    def save(self, widget: QWidget, name: str) -> None:
        path = self.out / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not widget.grab().save(str(path)):
            raise RuntimeError(f"could not write {path}")
        print(f"wrote {path}")


async def wait_until(condition: Callable[[], object], seconds: float = 30.0) -> None:
    for _ in range(round(seconds / 0.05)):  # polling Qt state with a deadline
        if condition():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("screenshot scenario stalled")


class Phone:
    """A field simulator call on its own thread and loop (it is somebody else's phone)."""

    def __init__(self, device: FieldDevice) -> None:
        self.result: concurrent.futures.Future[CallResult] = concurrent.futures.Future()
        self.thread = threading.Thread(target=self._run, args=(device,), daemon=True)
        self.thread.start()

    def _run(self, device: FieldDevice) -> None:
        try:
            self.result.set_result(asyncio.run(device.call()))
        except BaseException as exc:
            self.result.set_exception(exc)


async def device_token(client: httpx.AsyncClient, collar: str) -> str:
    response = await client.post("/demo/device-token", json={"collar_number": collar})
    response.raise_for_status()
    return str(response.json()["device_token"])


async def call_in(client: httpx.AsyncClient, collar: str) -> tuple[int, str]:
    """A queued request with a canned offer (queue filler: never answered with media)."""
    token = await device_token(client, collar)
    latitude, longitude, place = PLACES[collar]
    body = {
        "sdp_offer": OFFER,
        "location": {"latitude": latitude, "longitude": longitude, "description": place},
    }
    response = await client.post(
        "/requests", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return int(response.json()["id"]), token


async def jones_refuses(client: httpx.AsyncClient, jones: str, request_id: int) -> None:
    """PS Jones (another console) connects to and refuses a call: a second sergeant's record."""
    headers = {"Authorization": f"Bearer {jones}"}
    (await client.post(f"/requests/{request_id}/connected", headers=headers)).raise_for_status()
    decision = await client.post(
        f"/requests/{request_id}/decision",
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        json={
            "outcome": "refused",
            "reason_code": "not_authorised_plain_clothes",
            "notes": "Not authorised for plain-clothes duty on the register.",
            "checklist": {"face_matches_photo": True, "gave_name_and_number": True},
        },
    )
    decision.raise_for_status()
    (await client.post(f"/requests/{request_id}/end", headers=headers)).raise_for_status()


async def scenario(hub: HubServer, work: Path, shots: Shots) -> None:
    settings = ConsoleSettings(
        hub_url=hub.url,
        demo=True,
        data_dir=work / "data",
        config_dir=work / "config",
        media_devices=False,
        idle_lock_seconds=0,
    )
    app = ConsoleApp(settings)
    await app.start()
    app.window.resize(*SCREEN)
    phone: Phone | None = None
    try:
        await wait_until(app.panels_ready.is_set)
        app.sign_in_dialog.fill("smith", "smith-demo")
        shots.save(app.sign_in_dialog, "screenshots/console-sign-in")
        async with httpx.AsyncClient(base_url=hub.url + API_PREFIX, timeout=10) as client:
            await call_in(client, "1003CW")  # off duty: red wait by the time we look
            await asyncio.sleep(11)  # real waits, so the queue shows amber and red
            await call_in(client, "1002CW")  # warrant suspended
            await asyncio.sleep(10)
            taken, _ = await call_in(client, "1004CW")
            lost, lost_token = await call_in(client, "1005CW")  # reported lost
            app.sign_in_dialog.sign_in_button.click()
            await wait_until(lambda: app.queue_model.rowCount() == 4)
            shots.save(app.window, "screenshots/console-queue")

            login = await client.post(
                "/auth/login", json={"username": "jones", "password": "jones-demo"}
            )
            jones = login.json()["token"]
            claim = await client.post(
                f"/requests/{taken}/claim", headers={"Authorization": f"Bearer {jones}"}
            )
            claim.raise_for_status()
            await wait_until(
                lambda: any(
                    app.queue_model.entry(r).taken_by for r in range(app.queue_model.rowCount())
                )
            )
            app.queue_vm.request_answer(taken)
            shots.save(app.window, "screenshots/console-taken-by-jones")
            await jones_refuses(client, jones, taken)

            # A live call from the field simulator, answered by the real console.
            app.window.message_bar.dismiss()
            device = FieldDevice(
                hub.url,
                await device_token(client, "1001CW"),
                linger_after_decision_s=5.0,
                media_timeout_s=30.0,
                max_call_s=120.0,
            )
            phone = Phone(device)

            def live_request() -> int | None:
                model = app.queue_model
                rows = (model.entry(r) for r in range(model.rowCount()))
                return next((e.request_id for e in rows if e.collar_number == "1001CW"), None)

            await wait_until(live_request)
            live_id = live_request()
            assert live_id is not None
            app.queue_vm.request_answer(live_id)
            call_vm = app.call_vm
            await wait_until(lambda: call_vm.state.phase.value == "connected")
            pane = app.window.live_call_panel.video_pane
            await wait_until(
                lambda: app.remote_feed.rendered_count > 30 and pane.badge != "unknown"
            )
            decision = app.window.live_call_panel.decision_panel
            for box in list(decision.checks.values())[:3]:
                box.setChecked(True)  # mid-check: the sergeant is working through the list
            await asyncio.sleep(0.3)  # let the newest frame paint
            shots.save(app.window, "console-live")
            pane.snapshot_button.click()  # a still for the record, shown in History

            for box in decision.checks.values():
                box.setChecked(True)
            decision.confirm()
            await wait_until(lambda: call_vm.state.phase.value == "decided")
            await call_vm.hang_up()
            await asyncio.wrap_future(phone.result)
            await client.post(
                f"/requests/{lost}/hangup", headers={"Authorization": f"Bearer {lost_token}"}
            )

        # The supervisor reviews every sergeant's calls: sign out, sign in as Insp Patel.
        await app.sign_out()
        app.sign_in_dialog.fill("patel", "patel-demo")
        app.sign_in_dialog.sign_in_button.click()
        await wait_until(lambda: app.session_service.signed_in)
        history_vm = app.history_vm
        app.window.message_bar.dismiss()
        app.window.tabs.setCurrentWidget(app.window.history_scroll)

        def history_loaded() -> bool:
            return history_vm.model.rowCount() >= 3 and not history_vm.model.is_loading

        await wait_until(history_loaded)
        confirmed = next(
            row
            for row in range(history_vm.model.rowCount())
            if history_vm.model.items()[row].outcome is not None
            and history_vm.model.items()[row].outcome.value == "confirmed"
        )
        history_tab = app.window.history_panel
        history_tab.table.selectRow(confirmed)
        await wait_until(lambda: history_vm.detail.selected_id is not None)
        # Today's figures follow the list (they are asked for once its first page lands).
        await wait_until(
            lambda: (
                history_vm.headline is not None
                and history_vm.headline.calls >= history_vm.model.rowCount()
            )
        )
        await asyncio.sleep(1.0)  # the record and its snapshot load in the background
        shots.save(app.window, "console-history")
        app.window.tabs.setCurrentIndex(0)

        app.window.show_shortcuts()
        shots.save(app.window._shortcuts_dialog, "screenshots/console-shortcuts")  # type: ignore[arg-type]
        app.window._shortcuts_dialog.done(0)  # type: ignore[union-attr]
        app.lock_vm.enable()
        app.lock_vm.lock_now()
        await wait_until(app.lock_dialog.isVisible)
        shots.save(app.lock_dialog, "screenshots/console-locked")
    finally:
        await app.shutdown()
        if phone is not None:
            phone.thread.join(30)


def main(argv: list[str] | None = None) -> None:
    shots = Shots(output_dir(sys.argv[1:] if argv is None else argv))
    create_qt_app(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        hub = HubServer(
            HubSettings(
                port=0,
                db_url=f"sqlite:///{work / 'hub.db'}",
                demo=True,
                lease_seconds=60,
                expire_after_seconds=300,
                argon2_time_cost=1,
                argon2_memory_kib=8,
                argon2_parallelism=1,
            )
        ).start()
        try:
            qasync.run(scenario(hub, work, shots))
        finally:
            hub.stop()


if __name__ == "__main__":
    main()
