"""Services and view-models against hand-written fake ports (no hub, no network)."""

from __future__ import annotations

import asyncio

from console.domain.connection import LinkState, LinkStatus
from console.domain.errors import (
    AccountLockedError,
    AuthenticationError,
    HubUnreachableError,
    UserFacingError,
)
from console.models.lock_vm import LockViewModel
from console.models.session_vm import DEMO_ACCOUNTS, SessionViewModel, sign_in_message
from console.services.connection import ConnectionService
from console.services.queue import QueueService
from console.services.session import SessionService
from protocol import RequestState
from tests.console.shell.fakes import (
    FakeSessionPort,
    FakeSnapshotPort,
    RecordingListener,
    event,
    request_view,
)
from tests.console.shell.helpers import wait_until


async def test_session_vm_signs_in_and_reports_failures(qapp):
    port = FakeSessionPort()
    vm = SessionViewModel(SessionService(port), hub_url="http://hub:8470", demo=True)
    signed, failed = [], []
    vm.signed_in.connect(signed.append)
    vm.sign_in_failed.connect(failed.append)
    assert vm.demo_accounts == DEMO_ACCOUNTS

    assert not await vm.sign_in("smith", "wrong")
    assert failed == ["Wrong username or password. Check Caps Lock and try again."]
    assert await vm.sign_in("  smith ", "right")
    assert signed[0].username == "smith"
    assert vm.operator_label == "PS Smith"
    await vm.sign_out()
    assert port.logged_out
    assert vm.operator is None


def test_sign_in_messages_say_what_to_do():
    url = "http://hub:8470"
    assert "supervisor" in sign_in_message(AccountLockedError("x", code="account_locked"), url)
    assert sign_in_message(HubUnreachableError(), url).startswith(
        "Cannot reach the hub at http://hub:8470."
    )
    assert sign_in_message(
        AuthenticationError("Enter your username and password.", code="missing"), url
    ) == ("Enter your username and password.")
    assert sign_in_message(UserFacingError("Odd reply."), url) == "Odd reply."


async def test_session_expiry_notifies_once(qapp):
    service = SessionService(FakeSessionPort())
    vm = SessionViewModel(service, hub_url="http://hub", demo=False)
    expired = []
    vm.session_expired.connect(lambda: expired.append(1))
    await service.sign_in("smith", "right")
    await service.session_expired()
    await service.session_expired()  # a second 401 while signed out: nothing more
    assert expired == [1]
    assert vm.demo_accounts == ()


async def test_lock_vm_unlocks_only_with_the_right_password(qapp):
    now = [100.0]
    port = FakeSessionPort()
    service = SessionService(port)
    await service.sign_in("smith", "right")
    vm = LockViewModel(service, idle_seconds=60, clock=lambda: now[0])
    locked, failures = [], []
    vm.locked.connect(lambda: locked.append(1))
    vm.unlock_failed.connect(failures.append)
    vm.enable()
    now[0] += 61
    vm._check()  # what the timer calls when it fires
    assert locked == [1]
    assert not await vm.unlock("wrong")
    assert failures == ["Wrong password. Try again."]
    assert not await vm.unlock("")
    assert failures[-1] == "Enter your password to unlock."
    assert await vm.unlock("right")
    assert not vm.is_locked
    assert port.renewals == 1  # the unlock renews the token (revoking the old one)
    vm.disable()


class FakeStream:
    """`EventStreamPort` whose run() is scripted by the test."""

    def __init__(self, script) -> None:
        self.script = script
        self.forgotten = 0

    def forget_position(self) -> None:
        self.forgotten += 1

    async def run(self, handler) -> None:
        await self.script(handler)


async def test_connection_refreshes_on_fresh_connect_only_and_survives_bad_listeners(qapp):
    port = FakeSnapshotPort([request_view(1)])
    queue = QueueService(port)
    listener = RecordingListener()
    queue.add_listener(listener)
    reported = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    done = asyncio.Event()

    async def script(handler):
        handler.status_changed(LinkStatus(LinkState.CONNECTED))
        await handler.stream_connected(False)
        handler.event_received(event(5, request_view(2)))
        await handler.stream_connected(True)  # resumed: no second snapshot
        done.set()
        await asyncio.Event().wait()

    async def lost():
        raise AssertionError("not expected")

    connection = ConnectionService(FakeStream(script), queue, lost)
    seen = []
    connection.add_event_listener(lambda e: 1 / 0)  # a buggy listener...
    connection.add_event_listener(seen.append)  # ...must not starve the next one
    statuses = []
    connection.add_status_listener(statuses.append)
    try:
        connection.start()
        await asyncio.wait_for(done.wait(), 5)
        assert port.calls == 1
        assert [e.request_id for e in queue.entries] == [1, 2]
        assert [e.id for e in seen] == [5]
        assert isinstance(reported[0]["exception"], ZeroDivisionError)
        assert statuses[0].state == LinkState.CONNECTED
    finally:
        loop.set_exception_handler(previous)
        await connection.stop()
    assert connection.status.state == LinkState.OFFLINE
    assert listener.log[-1] == ("reset", [])  # signed out: the queue is emptied


async def test_auth_failure_on_the_stream_ends_the_session(qapp):
    async def script(handler):
        raise AuthenticationError("expired", code="unauthorized")

    lost = []

    async def on_lost():
        lost.append(1)

    queue = QueueService(FakeSnapshotPort())
    queue.apply(event(1, request_view(9, RequestState.QUEUED)))
    connection = ConnectionService(FakeStream(script), queue, on_lost)
    connection.start()
    await wait_until(lambda: lost, what="session lost")
    assert not connection.running
    assert queue.entries == []


async def test_half_signed_in_is_not_signed_in(qapp):
    class ConfigFails(FakeSessionPort):
        async def config(self):
            raise HubUnreachableError()

    port = ConfigFails()
    vm = SessionViewModel(SessionService(port), hub_url="http://hub", demo=False)
    failed = []
    vm.sign_in_failed.connect(failed.append)
    assert not await vm.sign_in("smith", "right")
    assert failed[0].startswith("Cannot reach the hub")
    assert vm.operator is None
    assert port.logged_out
