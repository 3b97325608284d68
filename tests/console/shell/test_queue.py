"""The queue service (fake snapshot port) and the Qt queue model (qtmodeltester, wait colours)."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt

from console.domain.queue import WaitThresholds
from console.models.chime import Chime
from console.models.queue_model import (
    TAKEN_ROLE,
    WAIT_COLOURS,
    WAIT_LEVEL_ROLE,
    Column,
    QueueTableModel,
    QueueViewModel,
)
from console.services.queue import QueueService, entry_from_view
from protocol import RequestState, WarrantStatus
from tests.console.shell.fakes import (
    T0,
    FakeSnapshotPort,
    RecordingListener,
    event,
    request_view,
)
from tests.console.shell.helpers import wait_until

ME, JONES = 1, 2


def make_service(views=None, linger=0.2):
    service = QueueService(FakeSnapshotPort(views), taken_linger_seconds=linger)
    service.my_operator_id = ME
    listener = RecordingListener()
    service.add_listener(listener)
    return service, listener


async def test_snapshot_keeps_only_queued_oldest_first():
    service, listener = make_service(
        [
            request_view(1, age_seconds=5),
            request_view(2, RequestState.CLAIMED, holder="PS Jones", holder_id=JONES),
            request_view(3, age_seconds=30),
        ]
    )
    await service.refresh()
    assert [e.request_id for e in service.entries] == [3, 1]
    assert listener.log == [("reset", [3, 1])]


async def test_new_request_then_own_claim_leaves_at_once():
    service, listener = make_service()
    service.apply(event(10, request_view(5)))
    service.apply(
        event(
            11,
            request_view(5, RequestState.CLAIMED, holder="PS Smith", holder_id=ME),
            "request.claimed",
        )
    )
    assert listener.log == [("added", 5), ("removed", 5)]
    assert service.entries == []


async def test_claim_by_another_sergeant_lingers_then_leaves():
    service, listener = make_service(linger=0.2)
    service.apply(event(10, request_view(5)))
    service.apply(
        event(
            11,
            request_view(5, RequestState.CLAIMED, holder="PS Jones", holder_id=JONES),
            "request.claimed",
        )
    )
    assert ("updated", (5, "PS Jones")) in listener.log
    assert service.entries[0].taken_by == "PS Jones"
    # Later events of that call (connected) do not cut the linger short.
    service.apply(
        event(
            12,
            request_view(5, RequestState.CONNECTED, holder="PS Jones", holder_id=JONES),
            "request.connected",
        )
    )
    assert len(service.entries) == 1
    await wait_until(lambda: not service.entries, timeout=30, what="taken row to leave")
    assert listener.log[-1] == ("removed", 5)


async def test_release_back_to_queue_cancels_linger_and_rings_again():
    service, listener = make_service(linger=5)
    service.apply(event(10, request_view(5)))
    service.apply(
        event(
            11,
            request_view(5, RequestState.CLAIMED, holder="PS Jones", holder_id=JONES),
            "request.claimed",
        )
    )
    service.apply(event(12, request_view(5), "request.released"))
    assert service.entries[0].taken_by is None
    assert listener.log[-1] == ("updated", (5, None))
    service.close()


async def test_cancelled_and_unknown_requests():
    service, listener = make_service()
    service.apply(event(1, request_view(7, RequestState.CANCELLED), "request.cancelled"))
    assert listener.log == []  # never seen: nothing to remove
    service.apply(event(2, request_view(8)))
    service.apply(event(3, request_view(8, RequestState.EXPIRED), "request.expired"))
    assert listener.log == [("added", 8), ("removed", 8)]


def test_entry_from_view_flattens_officer_and_location():
    view = request_view(1, warrant=WarrantStatus.SUSPENDED)
    entry = entry_from_view(view)
    assert entry.officer_name == "Chris WALKER"
    assert entry.collar_number == "1001CW"
    assert not entry.warrant_valid
    assert entry.location == ""


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


def make_model(qapp, clock=None):
    return QueueTableModel(WaitThresholds(10, 20), clock=clock or Clock(), tick_ms=50)


async def test_model_passes_qtmodeltester(qtmodeltester, qapp):
    model = make_model(qapp)
    service, _ = make_service([request_view(1, age_seconds=3), request_view(2, age_seconds=12)])
    service.add_listener(model)
    await service.refresh()
    service.apply(event(5, request_view(3, age_seconds=1)))
    service.apply(event(6, request_view(4, age_seconds=50)))  # older: inserted at the top
    qtmodeltester.check(model, force_py=True)
    assert [model.entry(r).request_id for r in range(model.rowCount())] == [4, 2, 1, 3]
    service.apply(event(7, request_view(2, RequestState.CANCELLED), "request.cancelled"))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 3


async def test_wait_column_ticks_and_turns_amber_then_red(qapp):
    clock = Clock()
    model = make_model(qapp, clock)
    model.queue_reset([entry_from_view(request_view(1, age_seconds=0))])
    wait = model.index(0, Column.WAIT)
    assert wait.data() == "0:00"
    assert wait.data(WAIT_LEVEL_ROLE) == "normal"
    assert wait.data(Qt.ItemDataRole.ForegroundRole) is None

    changed_columns = []
    model.dataChanged.connect(lambda a, b, roles: changed_columns.append((a.column(), b.column())))
    clock.now = T0 + timedelta(seconds=12)
    await wait_until(lambda: changed_columns, timeout=20, what="a tick")
    assert set(changed_columns) == {(Column.WAIT, Column.WAIT)}  # only the wait column
    assert wait.data() == "0:12"
    assert wait.data(WAIT_LEVEL_ROLE) == "amber"
    assert (
        wait.data(Qt.ItemDataRole.ForegroundRole).color()
        == WAIT_COLOURS[wait.data(WAIT_LEVEL_ROLE)]
    )
    clock.now = T0 + timedelta(seconds=25)
    assert wait.data(WAIT_LEVEL_ROLE) == "red"


def test_warrant_and_taken_rendering(qapp):
    model = make_model(qapp)
    model.queue_reset([entry_from_view(request_view(1, warrant=WarrantStatus.SUSPENDED))])
    warrant = model.index(0, Column.WARRANT)
    assert warrant.data() == "SUSPENDED"
    assert warrant.data(Qt.ItemDataRole.ForegroundRole).color().name() == "#ff5252"
    assert "do not confirm" in warrant.data(Qt.ItemDataRole.ToolTipRole)
    model.entry_updated(model.entry(0).taken("PS Jones"))
    assert model.index(0, Column.STATUS).data() == "Taken by PS Jones"
    assert model.index(0, 0).data(TAKEN_ROLE) == "PS Jones"
    assert model.oldest_waiting() is None
    assert model.waiting_count() == 0


class CountingChime(Chime):
    """A real Chime that never touches the sound device (CI has none)."""

    def _sound_effect(self):
        return None


def test_view_model_chimes_and_answers(qapp, qtbot):
    model = make_model(qapp)
    chime = CountingChime()
    vm = QueueViewModel(model, chime)
    messages, answers, alerts = [], [], []
    vm.message_posted.connect(lambda level, text: messages.append((level, text)))
    vm.answer_requested.connect(answers.append)
    vm.alert_requested.connect(lambda: alerts.append(1))

    with qtbot.waitSignal(chime.chime_requested, timeout=10000):
        vm.entry_added(entry_from_view(request_view(1, age_seconds=9)))
        model.entry_added(entry_from_view(request_view(1, age_seconds=9)))
    assert alerts == [1]
    model.entry_added(entry_from_view(request_view(2, age_seconds=3)))
    vm.answer_oldest()
    assert answers == [1]
    vm.request_answer(2)
    assert answers == [1, 2]

    model.entry_updated(model.entry(0).taken("PS Jones"))
    vm.request_answer(1)
    assert messages[-1] == ("warning", "Taken by PS Jones.")
    vm.request_answer(99)
    assert messages[-1] == ("warning", "That request is no longer waiting.")
    vm.set_busy(True)
    vm.request_answer(2)
    assert "Finish the current call" in messages[-1][1]
    assert answers == [1, 2]

    vm.toggle_mute()
    assert chime.muted
    with qtbot.waitSignal(chime.chime_requested, timeout=10000):
        chime.ring()  # muted: still requested (alert), just silent
    assert chime.played == 0
