"""CallService against fakes: claim, media, lease, hub events, decisions, teardown."""

from __future__ import annotations

import asyncio

import pytest

from console.domain.errors import (
    ClaimLostError,
    IllegalTransitionError,
    MediaError,
    UserFacingError,
)
from console.services.call import CallPhase, CallService
from console.services.decision import DecisionDraft, DeliveryStatus
from console.services.media_port import MediaState
from protocol import ChecklistItem, ConsoleEvent, Outcome, ReasonCode, RequestState, WarrantStatus

from .fakes import (
    ANSWER_SDP,
    NOW,
    OFFER_SDP,
    FakeCallApi,
    FakeClock,
    FakeMediaEngine,
    MemoryJournal,
    RecordingObserver,
    make_officer,
    make_request,
    settle,
)

ALL_TICKED = dict.fromkeys(ChecklistItem, True)
CONFIRM = DecisionDraft(Outcome.CONFIRMED, ReasonCode.IDENTITY_CONFIRMED, checklist=ALL_TICKED)


class Rig:
    def __init__(self) -> None:
        self.api = FakeCallApi()
        self.engine = FakeMediaEngine()
        self.journal = MemoryJournal()
        self.clock = FakeClock()
        self.observer = RecordingObserver()
        self.service = CallService(self.api, self.engine, self.journal, self.clock)
        self.service.add_observer(self.observer)

    @property
    def phase(self) -> CallPhase:
        return self.service.state.phase

    async def connected_call(self, request_id: int = 41) -> None:
        await self.service.answer(request_id)
        self.engine.last.emit(MediaState.CONNECTED)
        await settle()
        assert self.phase == CallPhase.CONNECTED

    def event(self, kind: str, request_id: int = 41, **changes: object) -> ConsoleEvent:
        return ConsoleEvent(id=99, type=kind, at=NOW, request=make_request(request_id, **changes))


@pytest.fixture
async def rig():
    rig = Rig()
    yield rig
    await rig.service.close()


async def test_answer_claims_loads_officer_and_answers_the_offer(rig: Rig) -> None:
    await rig.service.answer(41)

    assert rig.api.names()[0] == "claim"
    assert {"config", "officer", "officer_photo"} <= set(rig.api.names())
    assert ("post_answer", ANSWER_SDP) in rig.api.calls
    assert rig.engine.last.offer == OFFER_SDP
    assert rig.engine.last.ice_servers[0].urls == ["stun:example.invalid"]
    assert rig.phase == CallPhase.CONNECTING
    assert rig.service.state.officer.collar_number == "1001CW"
    assert rig.service.state.photo == b"\x89PNG fake photo"

    rig.engine.last.emit(MediaState.CONNECTED)
    await settle()
    assert rig.phase == CallPhase.CONNECTED
    assert rig.api.count("mark_connected") == 1


async def test_record_photo_and_media_answer_are_all_in_flight_at_once(rig: Rig) -> None:
    """The photo does not wait for the record; POST /answer waits for both."""
    rig.api.officer_gate = asyncio.Event()
    answering = asyncio.ensure_future(rig.service.answer(41))
    await settle()

    assert rig.api.count("officer_photo") == 1  # asked for while the record is still loading
    assert rig.engine.last.offer == OFFER_SDP  # the media engine is answering meanwhile
    assert "post_answer" not in rig.api.names()
    assert rig.phase == CallPhase.CLAIMING

    rig.api.officer_gate.set()
    await answering
    assert ("post_answer", ANSWER_SDP) in rig.api.calls
    assert rig.service.state.officer.collar_number == "1001CW"
    assert rig.service.state.photo == b"\x89PNG fake photo"
    assert rig.phase == CallPhase.CONNECTING


async def test_media_connecting_before_the_answer_post_returns_is_not_lost(rig: Rig) -> None:
    """The device may connect from the hub's event before our POST's response arrives."""
    rig.api.on_post_answer = lambda: rig.engine.last.emit(MediaState.CONNECTED)

    await rig.service.answer(41)
    await settle()

    assert rig.phase == CallPhase.CONNECTED
    assert rig.api.count("mark_connected") == 1
    await rig.clock.advance(30)  # the connect watchdog never fires
    assert rig.phase == CallPhase.CONNECTED


async def test_media_failing_before_the_answer_post_returns_is_reported(rig: Rig) -> None:
    rig.api.on_post_answer = lambda: rig.engine.last.emit(MediaState.FAILED, "ICE failed")

    await rig.service.answer(41)
    await settle()

    assert rig.phase == CallPhase.MEDIA_FAILED
    assert "ICE failed" in rig.service.state.detail


async def test_claim_lost_names_the_holder_and_leaves_nothing_running(rig: Rig) -> None:
    rig.api.claim_error = ClaimLostError("PS Jones")

    with pytest.raises(ClaimLostError, match="Taken by PS Jones"):
        await rig.service.answer(41)

    assert rig.phase == CallPhase.IDLE
    assert rig.engine.calls == []
    await rig.clock.advance(10)
    assert rig.api.count("renew_lease") == 0


async def test_second_answer_while_busy_is_refused(rig: Rig) -> None:
    await rig.connected_call()
    with pytest.raises(UserFacingError, match="Finish the current call"):
        await rig.service.answer(42)
    assert rig.api.count("claim") == 1


async def test_lease_renewed_every_third_of_lease_and_stops_when_call_ends(rig: Rig) -> None:
    await rig.connected_call()
    await rig.clock.advance(3.5)  # lease 3 s → renew every 1 s
    assert rig.api.count("renew_lease") == 3

    await rig.service.decide(CONFIRM)
    await rig.service.hang_up()
    assert rig.phase == CallPhase.IDLE
    renewals = rig.api.count("renew_lease")
    await rig.clock.advance(10)
    assert rig.api.count("renew_lease") == renewals
    assert rig.clock.sleepers == 0


async def test_lease_keeps_trying_while_hub_unreachable(rig: Rig) -> None:
    await rig.connected_call()
    rig.api.reachable = False
    await rig.clock.advance(3.5)
    assert rig.phase == CallPhase.CONNECTED
    rig.api.reachable = True
    await rig.clock.advance(1)
    assert rig.api.count("renew_lease") == 4


async def test_lease_lost_resets_the_call_with_a_message(rig: Rig) -> None:
    await rig.connected_call()
    rig.api.renew_error = IllegalTransitionError("Not the holder.", code="not_holder")
    await rig.clock.advance(1)

    assert rig.phase == CallPhase.IDLE
    assert "Claim lost" in rig.observer.texts()
    assert rig.engine.last.closed == 1
    assert rig.service.state.last_call.summary == "Claim lost"


async def test_media_answer_failure_offers_fail_or_release(rig: Rig) -> None:
    rig.engine.answer_error = RuntimeError("DTLS exploded")

    await rig.service.answer(41)

    assert rig.phase == CallPhase.MEDIA_FAILED
    assert "post_answer" not in rig.api.names()
    level, text = rig.observer.notices[-1]
    assert level == "error"
    assert "Mark failed" in text
    assert "Release to queue" in text
    assert "DTLS" not in text  # no internals on screen

    await rig.service.mark_failed()
    assert rig.api.count("fail") == 1
    assert rig.phase == CallPhase.IDLE
    assert rig.engine.last.closed == 1
    await rig.clock.advance(10)
    assert rig.api.count("renew_lease") == 0


async def test_media_answer_timeout_is_a_media_failure(rig: Rig) -> None:
    rig.engine.answer_hangs = True
    rig.service._media_answer_timeout = 0.05  # the real timeout is 15 s
    await rig.service.answer(41)
    assert rig.phase == CallPhase.MEDIA_FAILED


async def test_media_never_connecting_trips_the_watchdog_then_release(rig: Rig) -> None:
    await rig.service.answer(41)
    await rig.clock.advance(21)
    assert rig.phase == CallPhase.MEDIA_FAILED
    assert "did not connect in time" in rig.service.state.detail

    await rig.service.release()
    assert rig.api.count("release") == 1
    assert rig.phase == CallPhase.IDLE
    assert rig.service.state.last_call.summary == "Released to the queue"


async def test_media_dropping_mid_call_is_reported(rig: Rig) -> None:
    await rig.connected_call()
    rig.engine.last.emit(MediaState.FAILED, "No packets for 5 s.")
    assert rig.phase == CallPhase.MEDIA_FAILED
    assert "connection was lost" in rig.service.state.detail


async def test_device_left_asks_for_a_decision(rig: Rig) -> None:
    await rig.connected_call()
    rig.service.handle_hub_event(
        rig.event("request.device_left", device_left=True, state=RequestState.CONNECTED)
    )
    await settle()

    assert rig.phase == CallPhase.AWAITING_DECISION
    assert ("warning", "Officer hung up — record your decision.") in rig.observer.notices
    assert rig.engine.last.closed == 1

    rig.api.device_left = True  # the hub ends a decided request at once when the device left
    await rig.service.decide(DecisionDraft(Outcome.REFUSED, ReasonCode.OFFICER_ENDED_CALL))
    assert rig.phase == CallPhase.IDLE
    assert rig.service.state.last_call.summary == "REFUSED — SC-TEST-01"
    assert rig.api.count("end") == 0


async def test_events_for_other_requests_are_ignored(rig: Rig) -> None:
    await rig.connected_call()
    rig.service.handle_hub_event(rig.event("request.cancelled", request_id=99))
    await settle()
    assert rig.phase == CallPhase.CONNECTED


async def test_cancelled_before_connect_resets(rig: Rig) -> None:
    await rig.service.answer(41)
    rig.service.handle_hub_event(rig.event("request.cancelled", state=RequestState.CANCELLED))
    await settle()
    assert rig.phase == CallPhase.IDLE
    assert "hung up before the call connected" in rig.observer.texts()
    assert rig.engine.last.closed == 1


async def test_confirm_then_hang_up_ends_the_request(rig: Rig) -> None:
    await rig.connected_call()
    await rig.service.decide(CONFIRM)
    assert rig.phase == CallPhase.DECIDED
    assert rig.service.state.decision.reference == "SC-TEST-01"

    await rig.service.hang_up()
    assert rig.api.count("end") == 1
    assert rig.phase == CallPhase.IDLE
    assert rig.service.state.last_call.reference == "SC-TEST-01"


async def test_officer_ending_after_decision_resets(rig: Rig) -> None:
    await rig.connected_call()
    await rig.service.decide(CONFIRM)
    rig.service.handle_hub_event(rig.event("request.ended", state=RequestState.ENDED))
    await settle()
    assert rig.phase == CallPhase.IDLE
    assert rig.api.count("end") == 0


async def test_invalid_decision_is_refused_before_anything_is_journalled(rig: Rig) -> None:
    rig.api.officer_record = make_officer(warrant_status=WarrantStatus.SUSPENDED)
    await rig.connected_call()

    with pytest.raises(UserFacingError, match="override reason"):
        await rig.service.decide(CONFIRM)
    assert rig.journal.rows == {}
    assert rig.api.count("decide") == 0


async def test_unreachable_hub_keeps_decision_pending_and_retries_with_same_key(rig: Rig) -> None:
    await rig.connected_call()
    rig.api.reachable = False

    await rig.service.decide(CONFIRM)
    assert rig.phase == CallPhase.DELIVERING
    assert "pending delivery" in rig.observer.texts()
    [entry] = rig.journal.rows.values()
    assert entry.status == DeliveryStatus.PENDING

    await rig.clock.advance(1 + 2 + 4)  # three more attempts under the backoff
    keys = [arg for name, arg in rig.api.calls if name == "decide"]
    assert len(keys) == 4
    assert set(keys) == {entry.key}

    rig.api.reachable = True
    await rig.clock.advance(8)
    assert rig.phase == CallPhase.DECIDED
    assert rig.journal.rows[entry.key].status == DeliveryStatus.DELIVERED
    assert rig.journal.rows[entry.key].reference == "SC-TEST-01"
    assert len(rig.api.decisions) == 1
    await rig.clock.advance(60)
    assert rig.api.count("decide") == 5  # nothing more once delivered


async def test_decision_rejected_by_hub_is_marked_and_raised(rig: Rig) -> None:
    await rig.connected_call()
    rig.api.decide_error = IllegalTransitionError("Not the holder.", code="not_holder")

    with pytest.raises(IllegalTransitionError):
        await rig.service.decide(CONFIRM)
    [entry] = rig.journal.rows.values()
    assert entry.status == DeliveryStatus.REJECTED
    await rig.clock.advance(60)
    assert rig.api.count("decide") == 1


async def test_pending_decisions_from_a_previous_run_are_delivered_once(rig: Rig) -> None:
    earlier = rig.journal.record("key-from-yesterday", 17, CONFIRM.to_body(), operator_id=1)
    colleagues = rig.journal.record("jones-key", 18, CONFIRM.to_body(), operator_id=2)
    assert await rig.service.resume_pending_deliveries() == 1  # only PS Smith's own
    assert rig.service.delivery.resume_pending(1) == 1  # a second resume does not double up
    await rig.clock.advance(1)
    await rig.clock.advance(60)

    assert [arg for name, arg in rig.api.calls if name == "decide"] == [earlier.key]
    assert rig.journal.rows[earlier.key].status == DeliveryStatus.DELIVERED
    assert rig.journal.rows[colleagues.key].status == DeliveryStatus.PENDING  # waits for Jones
    assert "request 17 delivered" in rig.observer.texts()


async def test_resuming_waits_for_the_hub_to_say_who_we_are(rig: Rig) -> None:
    rig.journal.record("k", 17, CONFIRM.to_body(), operator_id=1)
    rig.api.reachable = False
    resuming = asyncio.get_running_loop().create_task(rig.service.resume_pending_deliveries())
    await rig.clock.advance(3)
    assert not resuming.done()
    rig.api.reachable = True
    await rig.clock.advance(4)
    assert await resuming == 1


async def test_decision_is_journalled_with_the_holder(rig: Rig) -> None:
    await rig.connected_call()
    await rig.service.decide(CONFIRM)
    [entry] = rig.journal.rows.values()
    assert entry.operator_id == 1


async def test_snapshot_posts_the_newest_frame(rig: Rig) -> None:
    await rig.connected_call()
    await rig.service.take_snapshot()
    assert ("post_snapshot", "image/jpeg") in rig.api.calls

    rig.engine.snapshot = None
    with pytest.raises(MediaError, match="No video frame"):
        await rig.service.take_snapshot()


async def test_hang_up_before_deciding_keeps_the_claim_for_the_decision(rig: Rig) -> None:
    await rig.connected_call()
    await rig.service.hang_up()
    assert rig.phase == CallPhase.AWAITING_DECISION
    assert rig.engine.last.closed == 1
    await rig.service.decide(DecisionDraft(Outcome.REFUSED, ReasonCode.POOR_MEDIA))
    # Media is already closed: the decision ends the call at once.
    assert rig.phase == CallPhase.IDLE
    assert rig.api.count("end") == 1


async def test_close_stops_everything(rig: Rig) -> None:
    await rig.connected_call()
    await rig.service.close()
    assert rig.engine.last.closed == 1
    await rig.clock.advance(10)
    assert rig.api.count("renew_lease") == 0


async def test_echo_of_our_own_release_is_not_reported_as_a_lost_claim(rig: Rig) -> None:
    await rig.connected_call()
    original = rig.api.release

    async def release_with_early_echo(request_id: int):
        # The SSE echo can overtake the POST's response.
        rig.service.handle_hub_event(rig.event("request.released"))
        await settle()
        return await original(request_id)

    rig.api.release = release_with_early_echo
    await rig.service.release()
    await settle()
    assert rig.phase == CallPhase.IDLE
    assert "Claim lost" not in rig.observer.texts()
    assert rig.observer.notices[-1] == ("info", "Request released to the queue.")


async def test_echo_of_our_own_end_does_not_claim_the_officer_ended(rig: Rig) -> None:
    await rig.connected_call()
    await rig.service.decide(CONFIRM)
    original = rig.api.end

    async def end_with_early_echo(request_id: int):
        rig.service.handle_hub_event(rig.event("request.ended", state=RequestState.ENDED))
        await settle()
        return await original(request_id)

    rig.api.end = end_with_early_echo
    await rig.service.hang_up()
    await settle()
    assert rig.phase == CallPhase.IDLE
    assert "officer ended" not in rig.observer.texts()


async def test_answering_the_next_call_ends_a_decided_one(rig: Rig) -> None:
    await rig.connected_call(41)
    await rig.service.decide(CONFIRM)
    await rig.service.answer(42)
    assert ("end", 41) in rig.api.calls
    assert rig.engine.calls[0].closed == 1
    assert rig.service.state.request_id == 42
    assert rig.phase == CallPhase.CONNECTING
