"""The sergeant and officer pickers filled from the hub's directory (GET /operators, /officers),
with the names seen in loaded rows as the fallback: service, view-model and filter bar against
the hand-written fake port."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtWidgets import QComboBox

from console.domain.errors import HubUnreachableError
from console.domain.history import Permissions
from console.models.history_vm import HistoryViewModel
from console.services.history import (
    HistoryService,
    merge_choices,
    officer_label,
    operator_label,
)
from console.widgets.history_filters import HistoryFilters
from protocol import Role
from tests.console.history.fakes import (
    NOW,
    OFFICER_DIRECTORY,
    OFFICERS,
    OPERATOR_DIRECTORY,
    OPERATORS,
    FakeHistoryPort,
    make_item,
    officer_summary,
    operator_summary,
    varied_items,
    wait_until,
)

SUPERVISOR = Permissions(sees_all_calls=True, may_export=True)
SERGEANT = Permissions(sees_all_calls=False, may_export=False)

#: The pickers' entries for the fakes' directory, in the hub's order.
DIRECTORY_OPERATORS = [
    (3, "Insp PATEL"),
    (2, "PS JONES"),
    (4, "PS OGDEN (inactive)"),
    (1, "PS SMITH"),
]
DIRECTORY_OFFICERS = [
    (10, "ADAMS, Lee (PC 1010CW)"),
    (8, "KHAN, Dana (DC 1002CW)"),
    (9, "OKAFOR, Sam (PC 1006CW)"),
    (7, "WALKER, Chris (PC 1001CW)"),
]


class Recorder:
    """Collects a signal's emissions."""

    def __init__(self, signal) -> None:
        self.calls: list[tuple] = []
        signal.connect(lambda *args: self.calls.append(args))

    @property
    def last(self):
        return self.calls[-1][0] if self.calls else None


def directory_port(items=None, role: Role = Role.SUPERVISOR) -> FakeHistoryPort:
    return FakeHistoryPort(
        varied_items(30) if items is None else items,
        role,
        operators=OPERATOR_DIRECTORY,
        officers=OFFICER_DIRECTORY,
    )


def make_vm(port: FakeHistoryPort, page_size: int = 20) -> HistoryViewModel:
    return HistoryViewModel(HistoryService(port, clock=lambda: NOW, page_size=page_size))


def entries(combo: QComboBox) -> list[tuple[object, str]]:
    return [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]


# ---------------------------------------------------------------------------- labels and merging


def test_labels_name_inactive_operators_and_put_surnames_first():
    assert operator_label(operator_summary(1, "Smith")) == "PS Smith"
    assert operator_label(operator_summary(5, "Old", active=False)) == "PS Old (inactive)"
    officer = officer_summary(7, "1001CW", "DC", "Jane", "Harper")
    assert officer_label(officer) == "HARPER, Jane (DC 1001CW)"


def test_merge_keeps_the_directory_order_and_appends_people_it_lacks():
    directory = [(3, "Insp PATEL"), (1, "PS SMITH")]
    seen = {1: "PS Smith (from a row)", 9: "PS ZED", 8: "PS ABLE"}
    assert merge_choices(directory, seen) == [
        (3, "Insp PATEL"),
        (1, "PS SMITH"),
        (8, "PS ABLE"),
        (9, "PS ZED"),
    ]
    # Without a directory: only the people seen, by label (what the pickers did before it).
    assert merge_choices(None, seen) == [
        (8, "PS ABLE"),
        (1, "PS Smith (from a row)"),
        (9, "PS ZED"),
    ]
    assert merge_choices(None, {}) == []


# ---------------------------------------------------------------------------- service


async def test_supervisor_choices_come_from_both_lists():
    port = directory_port([])
    choices = await HistoryService(port).filter_choices(SUPERVISOR)
    assert choices.operators == DIRECTORY_OPERATORS
    assert choices.officers == DIRECTORY_OFFICERS
    assert not choices.retry_later
    assert sorted(port.directory_calls) == ["officers", "operators"]


async def test_a_sergeant_never_asks_for_the_operator_list():
    port = directory_port([], role=Role.SERGEANT)
    choices = await HistoryService(port).filter_choices(SERGEANT)
    assert port.directory_calls == ["officers"]
    assert choices.operators is None
    assert choices.officers == DIRECTORY_OFFICERS


async def test_a_hub_without_the_directory_is_logged_at_info_and_not_retried(caplog):
    port = FakeHistoryPort([])  # no directory: 404, as a hub older than this console
    with caplog.at_level(logging.INFO, logger="console.services.history"):
        choices = await HistoryService(port).filter_choices(SUPERVISOR)
    assert (choices.operators, choices.officers, choices.retry_later) == (None, None, False)
    records = [r for r in caplog.records if "directory" in r.getMessage()]
    assert {r.levelno for r in records} == {logging.INFO}
    assert len(records) == 2


async def test_a_hub_that_cannot_answer_now_is_worth_asking_again():
    port = directory_port([])
    port.fail_next_directory = HubUnreachableError()
    choices = await HistoryService(port).filter_choices(SUPERVISOR)
    assert (choices.operators, choices.officers, choices.retry_later) == (None, None, True)


# ---------------------------------------------------------------------------- view-model


async def test_supervisor_pickers_offer_everyone_in_the_directory():
    port = directory_port()
    vm = make_vm(port)
    operators, officers = Recorder(vm.operators_seen), Recorder(vm.officers_seen)
    vm.start()
    await wait_until(lambda: operators.last == DIRECTORY_OPERATORS)
    await wait_until(lambda: officers.last == DIRECTORY_OFFICERS)
    # PS OGDEN has no loaded rows (no calls at all): he is offered, and filtering by him works.
    vm.set_operator(4)
    await wait_until(lambda: not vm.model.is_loading)
    assert port.page_calls[-1][0]["operator_id"] == "4"
    assert vm.model.rowCount() == 0
    vm.set_operator(2)
    await wait_until(lambda: not vm.model.is_loading and vm.model.rowCount() > 0)
    assert {vm.model.row_at(r).item.operator_id for r in range(vm.model.rowCount())} == {2}
    # The directory is read once per sign-in, not per search or refresh.
    vm.refresh()
    await wait_until(lambda: not vm.model.is_loading)
    assert sorted(port.directory_calls) == ["officers", "operators"]
    vm.close()
    assert operators.last == []
    assert officers.last == []


async def test_people_missing_from_the_directory_still_appear_from_rows():
    newcomer = make_item(1, officer_id=11, officer="PC Nia YOUNG 1011CW")
    port = directory_port([newcomer, *varied_items(10)[1:]])
    vm = make_vm(port)
    officers = Recorder(vm.officers_seen)
    vm.start()
    await wait_until(lambda: officers.last is not None and len(officers.last) == 5)
    assert officers.last == [*DIRECTORY_OFFICERS, (11, "PC Nia YOUNG 1011CW")]
    vm.close()


async def test_sergeant_gets_every_officer_and_only_the_sergeants_in_his_rows():
    port = directory_port(role=Role.SERGEANT)
    vm = make_vm(port)
    operators, officers = Recorder(vm.operators_seen), Recorder(vm.officers_seen)
    vm.start()
    await wait_until(lambda: officers.last == DIRECTORY_OFFICERS)
    await wait_until(lambda: not vm.model.is_loading)
    assert "operators" not in port.directory_calls
    assert operators.last == [(1, OPERATORS[1])]  # himself, from his rows (the picker is hidden)
    vm.close()


async def test_older_hub_pickers_show_what_the_rows_give(caplog):
    port = FakeHistoryPort(varied_items(30))  # 404 on both directory reads
    vm = make_vm(port)
    operators, officers = Recorder(vm.operators_seen), Recorder(vm.officers_seen)
    messages = Recorder(vm.message_posted)
    with caplog.at_level(logging.INFO, logger="console.services.history"):
        vm.start()
        await wait_until(lambda: len(port.directory_calls) == 2 and not vm.model.is_loading)
        await wait_until(lambda: vm.headline is not None)
    assert operators.last == sorted(OPERATORS.items(), key=lambda kv: kv[1])
    assert officers.last == sorted(OFFICERS.items(), key=lambda kv: kv[1])
    assert messages.calls == []  # nothing for the user to act on
    assert vm.model.rowCount() == 20
    assert any(r.levelno == logging.INFO and "directory" in r.getMessage() for r in caplog.records)
    vm.close()


async def test_a_failed_directory_read_is_retried_on_refresh():
    port = directory_port()
    port.fail_next_directory = HubUnreachableError()
    vm = make_vm(port)
    operators = Recorder(vm.operators_seen)
    vm.start()
    await wait_until(lambda: len(port.directory_calls) == 2 and not vm.model.is_loading)
    await wait_until(lambda: operators.last is not None)
    assert operators.last == sorted(OPERATORS.items(), key=lambda kv: kv[1])  # rows only
    port.fail_next_directory = None
    vm.refresh()
    await wait_until(lambda: operators.last == DIRECTORY_OPERATORS)
    assert len(port.directory_calls) == 4
    vm.close()


async def test_the_next_operator_to_sign_in_gets_his_own_directory():
    port = directory_port()
    vm = make_vm(port)
    operators, officers = Recorder(vm.operators_seen), Recorder(vm.officers_seen)
    vm.start()
    await wait_until(lambda: operators.last == DIRECTORY_OPERATORS)
    vm.close()
    # A sergeant signs in on the same console: no operator list, and none left over.
    port.role = Role.SERGEANT
    port.directory_calls.clear()
    vm.start()
    await wait_until(lambda: officers.last == DIRECTORY_OFFICERS and not vm.model.is_loading)
    await wait_until(lambda: operators.last == [(1, OPERATORS[1])])
    assert port.directory_calls == ["officers"]
    vm.close()


async def test_an_answer_arriving_after_sign_out_is_dropped():
    """The supervisor signs out while the directory is on its way; a sergeant signs in. The
    supervisor's operator list must never reach the sergeant's pickers."""
    port = directory_port()
    port.directory_gate = asyncio.Event()
    vm = make_vm(port)
    operators, officers = Recorder(vm.operators_seen), Recorder(vm.officers_seen)
    vm.start()
    await wait_until(lambda: sorted(port.directory_calls) == ["officers", "operators"])
    vm.close()
    port.role = Role.SERGEANT
    vm.start()
    await wait_until(lambda: port.directory_calls.count("officers") == 2)
    # Both sign-ins' reads wait on the same gate and wake in order: the supervisor's (had it
    # survived) lands before the sergeant's.
    port.directory_gate.set()
    await wait_until(lambda: officers.last == DIRECTORY_OFFICERS and not vm.model.is_loading)
    await wait_until(lambda: operators.last == [(1, OPERATORS[1])])
    assert DIRECTORY_OPERATORS not in [call[0] for call in operators.calls]
    vm.close()


# ---------------------------------------------------------------------------- filter bar


async def test_filter_bar_lists_the_directory_and_keeps_the_choice_when_it_refills(qtbot):
    port = directory_port()
    port.directory_gate = asyncio.Event()  # the directory arrives after the first rows
    vm = make_vm(port)
    bar = HistoryFilters(vm)
    qtbot.addWidget(bar)
    vm.start()
    await wait_until(lambda: bar.officer_combo.count() == 4)  # all + the three seen in rows
    index = bar.officer_combo.findData(8)
    bar.officer_combo.setCurrentIndex(index)
    bar.officer_combo.activated.emit(index)
    await wait_until(lambda: vm.query.officer_id == 8 and not vm.model.is_loading)

    port.directory_gate.set()
    await wait_until(lambda: bar.officer_combo.count() == 5)
    assert entries(bar.officer_combo) == [(-1, "All officers"), *DIRECTORY_OFFICERS]
    assert bar.officer_combo.currentData() == 8  # still the officer the table is filtered on
    assert bar.officer_combo.currentText() == "KHAN, Dana (DC 1002CW)"
    assert entries(bar.operator_combo) == [(-1, "All sergeants"), *DIRECTORY_OPERATORS]
    assert bar.operator_combo.isVisibleTo(bar)
    vm.close()


async def test_filter_bar_keeps_a_choice_the_new_list_lacks(qtbot):
    port = FakeHistoryPort(varied_items(10))
    vm = make_vm(port)
    bar = HistoryFilters(vm)
    qtbot.addWidget(bar)
    vm.start()
    await wait_until(lambda: bar.operator_combo.count() == 3)
    index = bar.operator_combo.findData(2)
    bar.operator_combo.setCurrentIndex(index)
    bar.operator_combo.activated.emit(index)
    await wait_until(lambda: vm.query.operator_id == 2 and not vm.model.is_loading)
    vm.operators_seen.emit([(1, "PS SMITH")])  # a refill without PS JONES
    assert bar.operator_combo.currentData() == 2
    assert bar.operator_combo.currentText() == OPERATORS[2]
    vm.close()
