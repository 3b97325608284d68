"""A real WebRTC call through a real hub on loopback: the simulator's offer, the headless answerer.

Both peers run on the test's event loop; the hub runs in its own thread (real uvicorn, real SQLite).
Nothing is faked: the frames counted below were encoded, sent over UDP and decoded.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from field import device as device_module
from field.device import FieldDevice
from field.hub_client import DeviceHubClient
from protocol.schemas import DeviceRequestView, Location, Outcome, ReasonCode, RequestState
from tests.helpers.answerer import HeadlessAnswerer
from tests.helpers.field import wait_until
from tests.helpers.hub import device_token

log = logging.getLogger(__name__)

HAPPY = "1001CW"
MIN_FRAMES = 30  # one second of video at 30 fps; 50 audio frames is one second of tone


async def test_a_call_flows_both_ways_and_the_decision_reaches_the_device(hub_server) -> None:
    device = FieldDevice(
        hub_server.url, device_token(hub_server, HAPPY), linger_after_decision_s=30.0
    )
    async with HeadlessAnswerer(hub_server.url) as sergeant:
        call_task = asyncio.create_task(device.call())
        try:
            queued = await sergeant.wait_for_request(
                lambda v: v.state == RequestState.QUEUED and v.officer.collar_number == HAPPY
            )
            assert queued.location is not None
            assert 51.2 < queued.location.latitude < 51.8  # somewhere in London
            assert queued.location.description

            call = await sergeant.claim_and_answer(queued.id)
            # Media both ways: the sergeant sees and hears the officer ...
            await call.wait_for_frames("video", MIN_FRAMES)
            await call.wait_for_frames("audio", MIN_FRAMES)
            # ... and the officer's device sees and hears the sergeant.
            await wait_until(
                lambda: (
                    device.live is not None
                    and device.live.video is not None
                    and device.live.video.frames >= MIN_FRAMES
                    and device.live.audio is not None
                    and device.live.audio.frames >= MIN_FRAMES
                ),
                timeout_s=60,
                what="the device to receive the sergeant's video and audio",
            )

            decided = await sergeant.decide(call)
            await sergeant.end(call)
            result = await asyncio.wait_for(call_task, 60)
        finally:
            if not call_task.done():
                call_task.cancel()
                await asyncio.gather(call_task, return_exceptions=True)

    assert decided.decision is not None
    assert result.request_id == queued.id
    assert result.completed
    assert result.outcome == Outcome.CONFIRMED
    assert result.reason_code == ReasonCode.IDENTITY_CONFIRMED
    assert result.reference == decided.decision.reference
    assert result.state == RequestState.ENDED
    assert result.answered_by  # the sergeant's call sign reached the device
    # What the sergeant received is the simulator's 640x480 picture.
    video_stats = call.consumers["video"].stats
    assert (video_stats.width, video_stats.height) == (640, 480)
    assert result.video is not None
    assert result.video.width == 640
    delay = result.answer_to_first_frame_s
    assert delay is not None
    assert delay > 0
    log.info(
        "answer->first frame: device %.3f s, answerer %.3f s; fps device %.1f answerer %.1f",
        delay,
        call.answer_to_first_frame_s or -1,
        result.video.fps() or -1,
        video_stats.fps() or -1,
    )


async def test_a_refusal_reaches_the_device_with_its_reason(hub_server) -> None:
    collar = "1002CW"  # warrant suspended: the sergeant refuses
    device = FieldDevice(
        hub_server.url, device_token(hub_server, collar), linger_after_decision_s=30.0
    )
    async with HeadlessAnswerer(hub_server.url, "jones", "jones-demo") as sergeant:
        call_task = asyncio.create_task(device.call())
        try:
            queued = await sergeant.wait_for_request(
                lambda v: v.state == RequestState.QUEUED and v.officer.collar_number == collar
            )
            call = await sergeant.claim_and_answer(queued.id)
            decided = await sergeant.decide(
                call,
                Outcome.REFUSED,
                ReasonCode.WARRANT_NOT_VALID,
                notes="warrant suspended on record",
            )
            await sergeant.end(call)
            result = await asyncio.wait_for(call_task, 60)
        finally:
            if not call_task.done():
                call_task.cancel()
                await asyncio.gather(call_task, return_exceptions=True)

    assert decided.decision is not None
    assert result.outcome == Outcome.REFUSED
    assert result.reason_code == ReasonCode.WARRANT_NOT_VALID
    assert result.reason_label
    assert result.reference == decided.decision.reference
    assert "REFUSED" in result.summary()
    assert decided.decision.reference in result.summary()


async def test_after_a_release_the_device_re_offers_and_the_next_answer_works(hub_server) -> None:
    collar = "1004CW"
    device = FieldDevice(
        hub_server.url, device_token(hub_server, collar), linger_after_decision_s=30.0
    )
    async with HeadlessAnswerer(hub_server.url) as sergeant:
        call_task = asyncio.create_task(device.call())
        try:
            queued = await sergeant.wait_for_request(
                lambda v: v.state == RequestState.QUEUED and v.officer.collar_number == collar
            )
            first = await sergeant.claim_and_answer(queued.id)
            await sergeant.release(first)
            # The device notices the release and replaces its (now spent) offer.
            await wait_until(
                lambda: device.live is not None and device.live.reoffers == 1,
                timeout_s=60,
                what="the device to re-offer after the release",
            )
            second = await sergeant.claim_and_answer(queued.id)
            await second.wait_for_frames("video", 10)
            decided = await sergeant.decide(second)
            await sergeant.end(second)
            result = await asyncio.wait_for(call_task, 60)
        finally:
            if not call_task.done():
                call_task.cancel()
                await asyncio.gather(call_task, return_exceptions=True)
    assert decided.decision is not None
    assert result.reference == decided.decision.reference
    assert result.reoffers == 1
    assert first.claim.sdp_offer != second.claim.sdp_offer  # the second claim got the new offer


async def test_cancelled_before_hearing_the_request_was_queued_still_hangs_it_up(
    hub_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C between the hub queueing the request and the device reading the answer to its
    POST (a wide window on a loaded machine) must still hang the request up, not leave a phantom
    call in the sergeants' queue."""
    posted = asyncio.Event()
    answer_read = asyncio.Event()

    class SlowToHearClient(DeviceHubClient):
        """The real client, except that it is slow to read POST /requests' answer."""

        async def create_request(
            self, sdp_offer: str, location: Location | None
        ) -> DeviceRequestView:
            view = await super().create_request(sdp_offer, location)
            posted.set()
            await answer_read.wait()  # the hub has queued it; the device has not heard yet
            return view

    monkeypatch.setattr(device_module, "DeviceHubClient", SlowToHearClient)
    device = FieldDevice(hub_server.url, device_token(hub_server, HAPPY))
    async with HeadlessAnswerer(hub_server.url) as sergeant:
        call_task = asyncio.create_task(device.call())
        try:
            await asyncio.wait_for(posted.wait(), 60)
            queued = await sergeant.wait_for_request(
                lambda v: v.state == RequestState.QUEUED and v.officer.collar_number == HAPPY
            )
            call_task.cancel()  # Ctrl-C, while the POST's answer is still unread
            answer_read.set()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(call_task, 60)
            cancelled = await sergeant.wait_for_state(queued.id, RequestState.CANCELLED)
        finally:
            answer_read.set()
            if not call_task.done():
                call_task.cancel()
                await asyncio.gather(call_task, return_exceptions=True)
    assert cancelled.state == RequestState.CANCELLED
    assert device.live is not None
    assert device.live.request_id == queued.id
    assert device.live.hung_up_by_us
