"""The History tab against a real hub (uvicorn on loopback, real SQLite, demo data).

Completed calls are made over HTTP as the devices and sergeants would (a dummy-but-valid SDP is
enough for history); then the console's real adapter, service, view-model and widgets list them.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from console.adapters.history_api import HistoryApi
from console.adapters.hub_http import HubHttp
from console.domain.history import OutcomeFilter
from console.models.history_model import Column
from console.models.history_vm import HistoryViewModel
from console.services.history import HistoryService
from console.widgets.history_filters import HistoryFilters
from console.widgets.history_tab import HistoryTab
from protocol import API_PREFIX
from tests.console.history.fakes import png_bytes, wait_until
from tests.helpers.hub import (  # noqa: F401
    add_retired_sergeant,
    auth,
    device_token,
    hub_server,
    login,
)

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
THEME = Path(__file__).resolve().parents[3] / "resources" / "theme.qss"
DUMMY_SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=history test\r\nt=0 0\r\n"
PASSWORDS = {"smith": "smith-demo", "jones": "jones-demo", "patel": "patel-demo"}


def _ok(response: httpx.Response) -> dict:
    assert response.is_success, f"{response.request.url}: {response.status_code} {response.text}"
    return response.json()


def make_calls(url: str) -> dict[str, str]:
    """Four calls: smith confirms 1001CW (with a snapshot), smith refuses 1002CW, jones confirms
    1004CW, and 1003CW hangs up while queued. Returns collar → reference."""
    tokens = {name: login(url, name, password) for name, password in PASSWORDS.items()}
    references: dict[str, str] = {}
    plan = [
        ("1001CW", "smith", "confirmed", "identity_confirmed"),
        ("1002CW", "smith", "refused", "warrant_not_valid"),
        ("1004CW", "jones", "confirmed", "identity_confirmed"),
        ("1003CW", None, None, None),
    ]
    with httpx.Client(base_url=url + API_PREFIX, timeout=10.0) as http:
        for collar, sergeant, outcome, reason in plan:
            device = auth(device_token(url, collar))
            request_id = _ok(http.post("/requests", json={"sdp_offer": DUMMY_SDP}, headers=device))[
                "id"
            ]
            if sergeant is None:
                _ok(http.post(f"/requests/{request_id}/hangup", headers=device))
                continue
            operator = auth(tokens[sergeant])
            _ok(http.post(f"/requests/{request_id}/claim", headers=operator))
            _ok(http.post(f"/requests/{request_id}/connected", headers=operator))
            if collar == "1001CW":
                # The snapshot: the officer's (synthetic) photo on file stands in for a frame of
                # live video, so the screenshot shows a face, as it would in service.
                me = _ok(http.get("/device/me", headers=device))
                photo = http.get(f"/officers/{me['id']}/photo", headers=operator)
                image, kind = (
                    (photo.content, photo.headers["content-type"].split(";")[0])
                    if photo.is_success
                    else (png_bytes((30, 160, 60)), "image/png")
                )
                _ok(
                    http.post(
                        f"/requests/{request_id}/snapshots",
                        content=image,
                        headers={**operator, "Content-Type": kind},
                    )
                )
            decided = _ok(
                http.post(
                    f"/requests/{request_id}/decision",
                    json={
                        "outcome": outcome,
                        "reason_code": reason,
                        "notes": f"history test {collar}",
                        "checklist": {"face_matches_photo": outcome == "confirmed"},
                    },
                    headers={**operator, "Idempotency-Key": uuid.uuid4().hex},
                )
            )
            references[collar] = decided["decision"]["reference"]
            _ok(http.post(f"/requests/{request_id}/end", headers=operator))
    return references


@pytest.fixture
def calls(hub_server):  # noqa: F811 - the fixture imported above
    return make_calls(hub_server.url)


class Console:
    """The History tab wired exactly as the shell wires it, signed in as one operator."""

    def __init__(self, url: str, username: str) -> None:
        self.client = httpx.AsyncClient(base_url=url)
        self.hub_http = HubHttp(self.client)
        self.hub_http.set_token(login(url, username, PASSWORDS[username]))
        self.vm = HistoryViewModel(HistoryService(HistoryApi(self.hub_http)))
        self.messages: list[tuple[str, str]] = []
        self.vm.message_posted.connect(lambda level, text: self.messages.append((level, text)))
        self.tab = HistoryTab(self.vm)

    def shown(self) -> list[str]:
        model = self.vm.model
        return [model.data(model.index(r, Column.OFFICER)) for r in range(model.rowCount())]

    async def settle(self) -> None:
        await wait_until(lambda: not self.vm.model.is_loading, timeout=10)

    async def close(self) -> None:
        self.vm.close()
        await self.client.aclose()


@pytest.fixture
async def open_console(hub_server, qtbot) -> AsyncIterator:  # noqa: F811
    opened: list[Console] = []

    def _open(username: str) -> Console:
        console = Console(hub_server.url, username)
        opened.append(console)
        console.vm.start()
        return console

    yield _open
    for console in opened:
        await console.close()
        console.tab.deleteLater()
    opened.clear()
    # Collect the widgets' reference cycles here, on the GUI thread: left to chance, Python's
    # cyclic GC may run in the hub's server thread and destroy QObjects (with their timers)
    # there, which Qt reports as "Timers cannot be stopped from another thread".
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


async def test_supervisor_lists_filters_details_and_exports(calls, open_console, tmp_path):
    console = open_console("patel")
    vm = console.vm
    await wait_until(lambda: vm.model.rowCount() == 4 and vm.headline is not None, timeout=10)
    assert vm.permissions.sees_all_calls
    assert vm.permissions.may_export
    assert console.tab.export_button.isVisibleTo(console.tab)
    shown = console.shown()
    assert shown[0].endswith("1003CW")  # newest first: the hang-up was made last
    assert {officer.split()[-1] for officer in shown} == {"1001CW", "1002CW", "1004CW", "1003CW"}
    assert vm.headline.calls == 4
    assert vm.headline.by_outcome.get("confirmed") == 2
    assert vm.headline.by_outcome.get("refused") == 1

    vm.set_outcome(OutcomeFilter.REFUSED)
    await wait_until(lambda: console.shown() == [s for s in shown if s.endswith("1002CW")])
    vm.set_outcome(OutcomeFilter.CANCELLED)
    await wait_until(lambda: console.shown() == [s for s in shown if s.endswith("1003CW")])
    vm.set_outcome(OutcomeFilter.ALL)
    await console.settle()
    jones = next(
        row.item.operator_id
        for row in map(vm.model.row_at, range(vm.model.rowCount()))
        if row.item.operator and "JONES" in row.item.operator.upper()
    )
    vm.set_operator(jones)
    await wait_until(lambda: console.shown() == [s for s in shown if s.endswith("1004CW")])
    vm.set_operator(None)
    vm.set_reference(calls["1001CW"].lower())
    await wait_until(lambda: console.shown() == [s for s in shown if s.endswith("1001CW")])

    vm.select_row(0)
    await wait_until(lambda: vm.detail.current is not None, timeout=10)
    detail = vm.detail.current
    assert detail.request.decision.reference == calls["1001CW"]
    actions = [entry.action for entry in detail.audit]
    assert any("claim" in action for action in actions)
    assert any("decid" in action or "decision" in action for action in actions)
    assert len(detail.snapshots) == 1
    snapshot_id = detail.snapshots[0].id
    await wait_until(lambda: vm.detail.image(snapshot_id) is not None, timeout=10)
    assert not vm.detail.image(snapshot_id).isNull()

    # A screenshot of the real thing: themed, the row selected, its record and snapshot shown.
    vm.set_reference("")
    await console.settle()
    tab = console.tab
    if THEME.exists():
        tab.setStyleSheet(THEME.read_text(encoding="utf-8"))
    tab.resize(1600, 900)
    tab.show()
    row = next(
        r for r in range(vm.model.rowCount()) if vm.model.row_at(r).item.id == detail.request.id
    )
    tab.table.selectRow(row)
    await wait_until(lambda: vm.detail.current is not None, timeout=10)
    await wait_until(
        lambda: any(
            label.pixmap() is not None and not label.pixmap().isNull()
            for label in tab.detail.thumbnail_labels().values()
        ),
        timeout=10,
    )
    tab.detail.ensureWidgetVisible(next(iter(tab.detail.thumbnail_labels().values())))
    ARTIFACTS.mkdir(exist_ok=True)
    assert tab.grab().save(str(ARTIFACTS / "history_tab_real_hub.png"))

    vm.set_reference("")
    await console.settle()
    target = tmp_path / "export.csv"
    finished: list[tuple[bool, str]] = []
    vm.export_finished.connect(lambda ok, text: finished.append((ok, text)))
    vm.export_to(str(target))
    await wait_until(lambda: bool(finished), timeout=60)
    assert finished == [(True, "Exported 4 calls to export.csv.")]
    lines = target.read_text().splitlines()
    assert len(lines) == 5
    assert all(reference in target.read_text() for reference in calls.values())
    assert console.messages[-1][0] == "info"


async def test_sergeant_sees_only_his_own_calls_and_cannot_export(calls, open_console, tmp_path):
    smith = open_console("smith")
    jones = open_console("jones")
    await wait_until(lambda: smith.vm.model.rowCount() == 2, timeout=10)
    await wait_until(lambda: jones.vm.model.rowCount() == 1, timeout=10)
    await smith.settle()
    assert sorted(o.split()[-1] for o in smith.shown()) == ["1001CW", "1002CW"]
    assert [o.split()[-1] for o in jones.shown()] == ["1004CW"]
    assert not smith.vm.permissions.may_export
    assert not smith.tab.export_button.isVisibleTo(smith.tab)
    assert not smith.tab.filters.operator_combo.isVisibleTo(smith.tab)

    # Even if asked, the hub refuses a sergeant's export and nothing is written.
    finished: list[tuple[bool, str]] = []
    smith.vm.export_finished.connect(lambda ok, text: finished.append((ok, text)))
    smith.vm.export_to(str(tmp_path / "smith.csv"))
    await wait_until(lambda: bool(finished), timeout=10)
    assert finished[0][0] is False
    assert list(tmp_path.glob("smith.csv*")) == []


async def test_supervisor_picks_a_sergeant_with_no_loaded_rows(calls, hub_server, qtbot):  # noqa: F811
    """The directory on a real hub: the first page (one row: the hang-up nobody answered) names
    no sergeant, yet the picker offers every sergeant, a disabled one marked inactive, and every
    officer; picking PS Jones lists his call."""
    add_retired_sergeant(hub_server)
    client = httpx.AsyncClient(base_url=hub_server.url)
    hub_http = HubHttp(client)
    hub_http.set_token(login(hub_server.url, "patel", PASSWORDS["patel"]))
    history = HistoryService(HistoryApi(hub_http), page_size=1, first_page_size=1)
    vm = HistoryViewModel(history)
    bar = HistoryFilters(vm)  # the filter bar alone: no table view asks for more pages
    qtbot.addWidget(bar)
    try:
        vm.start()
        await wait_until(lambda: bar.operator_combo.count() == 5, timeout=10)
        await wait_until(lambda: not vm.model.is_loading, timeout=10)
        assert vm.model.rowCount() == 1
        assert vm.model.row_at(0).item.operator_id is None  # no sergeant in the loaded rows
        offered = [bar.operator_combo.itemText(i) for i in range(bar.operator_combo.count())]
        assert offered == [
            "All sergeants",
            "Insp Patel",
            "PS Abbott (inactive)",
            "PS Jones",
            "PS Smith",
        ]
        assert bar.operator_combo.isVisibleTo(bar)
        await wait_until(lambda: bar.officer_combo.count() > 25, timeout=10)
        officers = [bar.officer_combo.itemText(i) for i in range(bar.officer_combo.count())]
        assert "HARPER, Jane (DC 1001CW)" in officers
        names = [text.split(" (")[0].casefold() for text in officers[1:]]  # "HARPER, Jane"
        assert names == sorted(names)
        # The closed picker keeps its width in the filter bar; its open list shows whole names.
        view = bar.officer_combo.view()
        assert view.minimumWidth() >= view.sizeHintForColumn(0) > bar.officer_combo.width()

        index = bar.operator_combo.findText("PS Jones")
        bar.operator_combo.setCurrentIndex(index)
        bar.operator_combo.activated.emit(index)
        await wait_until(
            lambda: (
                vm.query.operator_id is not None
                and not vm.model.is_loading
                and vm.model.rowCount() == 1
            ),
            timeout=10,
        )
        row = vm.model.row_at(0).item
        assert row.officer.endswith("1004CW")
        assert row.reference == calls["1004CW"]
        assert bar.operator_combo.currentText() == "PS Jones"
    finally:
        vm.close()
        await client.aclose()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
