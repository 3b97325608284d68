"""Write current console screenshots to docs/ (run: `make screenshots`).

Starts a real hub on loopback with demo data, has simulated officers call in at staggered times
(so the queue shows normal, amber and red waits, and a suspended warrant), lets PS Jones take
one, and captures the real console: sign-in, queue, "taken by", lock, shortcuts.
Uses the offscreen platform; no camera, no sound.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
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
from hub.server import HubServer  # noqa: E402
from hub.settings import HubSettings  # noqa: E402
from protocol import API_PREFIX  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:96 VP8/90000\r\n"
)


def save(widget: QWidget, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(OUT / f"{name}.png"))
    print(f"wrote {OUT / name}.png")


async def wait_until(condition: Callable[[], object]) -> None:
    for _ in range(400):  # polling Qt state with a 20 s deadline
        if condition():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("screenshot scenario stalled")


async def call_in(client: httpx.AsyncClient, collar: str) -> int:
    token = (await client.post("/demo/device-token", json={"collar_number": collar})).json()
    response = await client.post(
        "/requests",
        json={"sdp_offer": OFFER},
        headers={"Authorization": f"Bearer {token['device_token']}"},
    )
    response.raise_for_status()
    return int(response.json()["id"])


async def scenario(hub: HubServer, work: Path) -> None:
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
    app.window.resize(1366, 768)
    try:
        app.sign_in_dialog.fill("smith", "smith-demo")
        save(app.sign_in_dialog, "console-sign-in")
        async with httpx.AsyncClient(base_url=hub.url + API_PREFIX, timeout=10) as client:
            await call_in(client, "1001CW")
            await asyncio.sleep(11)
            await call_in(client, "1002CW")  # warrant suspended
            await asyncio.sleep(10)
            taken = await call_in(client, "1004CW")
            await call_in(client, "1005CW")  # reported lost
            app.sign_in_dialog.sign_in_button.click()
            await wait_until(lambda: app.queue_model.rowCount() == 4)
            save(app.window, "console-queue")
            login = await client.post(
                "/auth/login", json={"username": "jones", "password": "jones-demo"}
            )
            jones = login.json()["token"]
            await client.post(
                f"/requests/{taken}/claim", headers={"Authorization": f"Bearer {jones}"}
            )
            await wait_until(
                lambda: any(
                    app.queue_model.entry(r).taken_by for r in range(app.queue_model.rowCount())
                )
            )
            app.queue_vm.request_answer(taken)
            save(app.window, "console-taken-by-jones")
        app.window.show_shortcuts()
        save(app.window._shortcuts_dialog, "console-shortcuts")  # type: ignore[arg-type]
        app.window._shortcuts_dialog.done(0)  # type: ignore[union-attr]
        app.lock_vm.enable()
        app.lock_vm.lock_now()
        await wait_until(app.lock_dialog.isVisible)
        save(app.lock_dialog, "console-locked")
    finally:
        await app.shutdown()


def main() -> None:
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
            qasync.run(scenario(hub, work))
        finally:
            hub.stop()


if __name__ == "__main__":
    main()
