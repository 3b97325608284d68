"""One simulated officer's device making one verification call through the hub.

The call procedure follows aiortc's examples: media and signalling are set up, the offer (with all
candidates) goes into `POST /requests`, the device follows its own event stream until the sergeant's
answer arrives, the remote tracks are consumed in their own tasks, and everything is torn down in
`finally` — including `POST /hangup` if we leave early (Ctrl-C, `cancel_after_s`, errors).

If a sergeant's claim is released (by him or by a lapsed lease) after he answered, the old peer
connection is spent: the device builds a new one and re-offers with `POST /requests/{id}/offer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiortc import InvalidStateError, MediaStreamTrack

from field.errors import (
    CallEndedBadlyError,
    CallTimeoutError,
    FieldError,
    HubRequestError,
    MediaNotConnectedError,
)
from field.hub_client import DeviceHubClient
from field.locations import random_london_location
from field.media import (
    SIZE_480P,
    PortraitVideoTrack,
    SyntheticVideo,
    ToneTrack,
    TrackConsumer,
    TrackStats,
    load_portrait,
)
from field.rtc import apply_answer, create_offer, new_peer_connection, prefer_vp8
from protocol.schemas import (
    TERMINAL_STATES,
    DeviceRequestView,
    IceServer,
    Location,
    Outcome,
    ReasonCode,
    RequestState,
)

log = logging.getLogger(__name__)

# Generous: on a loaded machine the hub may take seconds to answer, and a hang-up that times out
# leaves a phantom call in the sergeants' queue (httpx's own read timeout is 10 s).
HANGUP_TIMEOUT_S = 15.0
# How long a cancelled call still waits for the answer to a POST /requests already sent.
CREATE_REQUEST_GRACE_S = 15.0
PEER_CLOSE_TIMEOUT_S = 5.0


@dataclass
class CallResult:
    """What happened to one call, as the device saw it (filled in live during the call)."""

    request_id: int | None = None
    state: RequestState | None = None
    outcome: Outcome | None = None
    reason_code: ReasonCode | None = None
    reason_label: str | None = None
    reference: str | None = None
    answered_by: str | None = None
    cancelled_by_us: bool = False
    hung_up_by_us: bool = False
    reoffers: int = 0
    answered_at: float | None = None  # time.monotonic() when the SDP answer arrived
    video: TrackStats | None = None  # received from the sergeant
    audio: TrackStats | None = None
    frames_sent: int = 0

    @property
    def completed(self) -> bool:
        """A sergeant decided the call (confirmed or refused)."""
        return self.outcome is not None and self.reference is not None

    @property
    def answer_to_first_frame_s(self) -> float | None:
        """Seconds from receiving the sergeant's answer to the first decoded video frame."""
        if self.answered_at is None or self.video is None or self.video.first_frame_at is None:
            return None
        return self.video.first_frame_at - self.answered_at

    def summary(self) -> str:
        """One line for a terminal: outcome, reason and reference, or how it ended."""
        if self.outcome is not None and self.reference is not None:
            return (
                f"{self.outcome.value.upper()}: {self.reason_label or self.reason_code} "
                f"- reference {self.reference} (by {self.answered_by or 'the control room'})"
            )
        state = self.state.value if self.state else "not started"
        return f"request {self.request_id} {state}" + (
            " (we hung up while queued)" if self.cancelled_by_us else ""
        )


@dataclass
class _MediaVerdict:
    """Posted by a media watchdog: did video start flowing after the answer?"""

    peer: _Peer
    ok: bool
    detail: str = ""


@dataclass
class _StreamLost:
    """Posted when the device event stream gives up (token refused, hub gone)."""

    error: FieldError


@dataclass
class _Update:
    """A view of our request: from an event (with its type and id) or a snapshot GET (without)."""

    view: DeviceRequestView
    event_type: str | None = None
    event_id: int | None = None


_InboxItem = _Update | _MediaVerdict | _StreamLost


class _Peer:
    """One RTCPeerConnection with our synthetic tracks and consumers for the sergeant's tracks."""

    def __init__(
        self, ice_servers: list[IceServer], video: SyntheticVideo, result: CallResult
    ) -> None:
        self.pc = new_peer_connection(ice_servers)
        self.video_track = PortraitVideoTrack(video)
        self.audio_track = ToneTrack()
        self.consumers: dict[str, TrackConsumer] = {}
        self.video_arrived = asyncio.Event()
        self.connection_failed = asyncio.Event()
        self.applied_answer: str | None = None
        self.answer_seen_at_event = 0  # id of the event that brought the answer
        prefer_vp8(self.pc.addTransceiver(self.video_track, direction="sendrecv"))
        self.pc.addTransceiver(self.audio_track, direction="sendrecv")

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            # Never recv() here (aiortc #510): each track gets its own consumer task.
            consumer = TrackConsumer(track)
            self.consumers[track.kind] = consumer
            consumer.start()
            if track.kind == "video":
                result.video = consumer.stats
                self.video_arrived.set()
            elif track.kind == "audio":
                result.audio = consumer.stats

        @self.pc.on("connectionstatechange")
        def on_connection_state() -> None:
            log.debug("peer connection %s", self.pc.connectionState)
            if self.pc.connectionState == "failed":
                self.connection_failed.set()

    async def watch_media(self, timeout_s: float, inbox: asyncio.Queue[_InboxItem]) -> None:
        """Post a verdict: a video frame arrived, or the connection failed / timed out."""
        loop = asyncio.get_running_loop()
        failed = loop.create_task(self.connection_failed.wait())
        try:
            async with asyncio.timeout(timeout_s):
                await self.video_arrived.wait()
                got_frame = loop.create_task(self.consumers["video"].wait_for_frames(1, timeout_s))
                try:
                    done, _ = await asyncio.wait(
                        {got_frame, failed}, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    got_frame.cancel()
            if got_frame in done and got_frame.result():
                inbox.put_nowait(_MediaVerdict(self, ok=True))
            else:
                detail = "ICE/DTLS failed" if failed in done else "the video track ended"
                inbox.put_nowait(_MediaVerdict(self, ok=False, detail=detail))
        except TimeoutError:
            inbox.put_nowait(
                _MediaVerdict(
                    self, ok=False, detail=f"no video within {timeout_s:g} s of the answer"
                )
            )
        finally:
            failed.cancel()

    async def close(self) -> int:
        """Stop consumers and close the connection; return the number of video frames sent."""
        for consumer in self.consumers.values():
            await consumer.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pc.close(), PEER_CLOSE_TIMEOUT_S)
        return self.video_track.frames_sent


@dataclass
class _Call:
    """Everything one call owns; torn down as a whole."""

    client: DeviceHubClient
    result: CallResult
    ice_servers: list[IceServer] = field(default_factory=list)
    video: SyntheticVideo | None = None
    peer: _Peer | None = None
    inbox: asyncio.Queue[_InboxItem] = field(default_factory=asyncio.Queue)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    watchdog: asyncio.Task[None] | None = None
    spent_answers: set[str] = field(default_factory=set)
    last_event_id: int = 0

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


class FieldDevice:
    """An enrolled officer's device, able to make calls one after another."""

    def __init__(
        self,
        hub_url: str,
        device_token: str,
        *,
        video_size: tuple[int, int] = SIZE_480P,
        location: Location | None = None,
        media_timeout_s: float = 15.0,
        max_call_s: float = 900.0,
        linger_after_decision_s: float = 5.0,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.hub_url = hub_url.rstrip("/")
        self.device_token = device_token
        self.video_size = video_size
        self.location = location
        self.media_timeout_s = media_timeout_s
        self.max_call_s = max_call_s
        self.linger_after_decision_s = linger_after_decision_s
        self._report = report or (lambda line: log.info("%s", line))
        self.state: RequestState | None = None  # the live state of the current call, for callers
        self.live: CallResult | None = None  # the current (or last) call's result, filled live

    async def call(self, *, cancel_after_s: float | None = None) -> CallResult:
        """Make one call and return its result.

        Raises a `field.errors.FieldError` when the call cannot complete: hub unreachable, token
        refused, request expired or failed, media never connected, or our own time limit.
        `cancel_after_s` hangs up after that many seconds if nobody has answered yet.
        """
        call = _Call(DeviceHubClient(self.hub_url, self.device_token), CallResult())
        self.live = call.result
        self.state = None
        try:
            config = await call.client.config()
            officer = await call.client.me()
            photo = await call.client.photo()
            call.ice_servers = list(config.ice_servers)
            call.video = SyntheticVideo(
                load_portrait(photo), f"{officer.rank} {officer.collar_number}", self.video_size
            )
            call.peer = _Peer(call.ice_servers, call.video, call.result)
            sdp_offer = await create_offer(call.peer.pc)
            location = self.location or random_london_location()
            view = await self._create_request(call, sdp_offer, location)
            position = f", position {view.queue_position}" if view.queue_position else ""
            self._report(
                f"request {view.id} queued as {officer.display} at "
                f"{location.description or 'an unknown place'}{position}"
            )
            read_timeout = max(5.0, config.heartbeat_seconds * 3)
            call.spawn(self._pump_events(call, view.id, read_timeout), f"device-events-{view.id}")
            await self._follow(call, view.id, cancel_after_s)
            return call.result
        except FieldError as error:
            if error.result is None:
                error.result = call.result
            raise
        finally:
            await self._tear_down(call)

    # ------------------------------------------------------------------ internals

    async def _create_request(
        self, call: _Call, sdp_offer: str, location: Location
    ) -> DeviceRequestView:
        """POST /requests and record the request, finishing the POST even if we are cancelled.

        Once the POST is on its way the hub may queue the request before we hear back. A Ctrl-C
        in that window used to cancel the await, so the device never learnt the id, could not
        hang up, and left a phantom call in the sergeants' queue. The POST therefore runs in its
        own task; a cancellation waits (bounded) for its answer and records the id, so that
        `_tear_down` hangs it up, and then goes on being a cancellation.
        """
        posting = asyncio.get_running_loop().create_task(
            call.client.create_request(sdp_offer, location), name="device-create-request"
        )
        try:
            view = await asyncio.shield(posting)
        except asyncio.CancelledError:
            await self._remember_late_request(posting, call.result)
            raise
        self._remember_request(view, call.result)
        return view

    async def _remember_late_request(
        self, posting: asyncio.Task[DeviceRequestView], result: CallResult
    ) -> None:
        """Cancelled mid-POST: wait (bounded) for the hub's answer so the request can be hung up."""
        try:
            view = await asyncio.wait_for(posting, CREATE_REQUEST_GRACE_S)
        except Exception as exc:  # whatever it was, the cancellation must go on
            log.warning("cancelled while creating the request; it may be left queued: %s", exc)
            return
        self._remember_request(view, result)

    def _remember_request(self, view: DeviceRequestView, result: CallResult) -> None:
        result.request_id = view.id
        self._absorb(view, result)

    async def _pump_events(self, call: _Call, request_id: int, read_timeout_s: float) -> None:
        async def on_connected() -> None:
            # Read the current state once per (re)connection so nothing that happened before
            # the stream opened is missed. Handling is idempotent, so duplicates are harmless.
            call.inbox.put_nowait(_Update(await call.client.get_request(request_id)))

        try:
            async for event in call.client.device_events(
                request_id, read_timeout_s=read_timeout_s, on_connected=on_connected
            ):
                call.inbox.put_nowait(_Update(event.request, event.type, event.id))
        except FieldError as error:
            call.inbox.put_nowait(_StreamLost(error))

    async def _follow(self, call: _Call, request_id: int, cancel_after_s: float | None) -> None:
        """React to the request's views until it is over; raise a FieldError if it went wrong."""
        result = call.result
        started = time.monotonic()
        call_deadline = started + self.max_call_s
        cancel_at = started + cancel_after_s if cancel_after_s is not None else None
        linger_until: float | None = None
        while True:
            deadlines = [call_deadline]
            if cancel_at is not None and result.answered_at is None:
                deadlines.append(cancel_at)
            if linger_until is not None:
                deadlines.append(linger_until)
            try:
                item = await asyncio.wait_for(
                    call.inbox.get(), max(0.0, min(deadlines) - time.monotonic())
                )
            except TimeoutError:
                now = time.monotonic()
                if linger_until is not None and now >= linger_until:
                    self._report(f"request {request_id}: nobody ended the call; hanging up")
                    await self._hang_up(call)
                    return
                if cancel_at is not None and result.answered_at is None and now >= cancel_at:
                    self._report(
                        f"request {request_id}: hanging up while queued "
                        f"(cancel after {cancel_after_s:.1f} s)"
                    )
                    result.cancelled_by_us = True
                    await self._hang_up(call)
                    return
                if now >= call_deadline:
                    state = result.state.value if result.state else "unknown"
                    raise CallTimeoutError(
                        f"request {request_id} still {state} after {self.max_call_s:g} s; giving up"
                    ) from None
                continue

            if isinstance(item, _StreamLost):
                raise item.error
            if isinstance(item, _Update) and item.event_id is not None:
                call.last_event_id = max(call.last_event_id, item.event_id)
            if isinstance(item, _MediaVerdict):
                if item.peer is not call.peer or result.outcome is not None:
                    continue  # a verdict on a spent connection, or too late to matter
                if not item.ok:
                    raise MediaNotConnectedError(
                        f"request {request_id}: media never connected ({item.detail})"
                    )
                delay = result.answer_to_first_frame_s
                self._report(
                    f"request {request_id}: media flowing (first video frame "
                    f"{(delay or 0) * 1000:.0f} ms after the answer)"
                )
                continue

            # Views may be stale (a replayed event after a fresher snapshot), so act only on facts
            # that cannot go backwards: terminal states, decisions, a new answer, a new release.
            view = item.view
            before_decision = result.outcome is None
            self._absorb(view, result)
            if view.state in TERMINAL_STATES:
                self._finish(view, result)
                return
            if item.event_type == "request.released" and self._is_fresh_release(call, item):
                await self._reoffer(call, request_id)
            elif view.sdp_answer and view.state in (RequestState.CLAIMED, RequestState.CONNECTED):
                await self._maybe_apply_answer(call, request_id, item)
            if before_decision and result.outcome is not None:
                self._report(f"request {request_id}: {result.summary()}")
                linger_until = time.monotonic() + self.linger_after_decision_s

    @staticmethod
    def _is_fresh_release(call: _Call, item: _Update) -> bool:
        """A release that happened after the answer our current connection is using."""
        peer = call.peer
        return (
            peer is not None
            and peer.applied_answer is not None
            and item.event_id is not None
            and item.event_id > peer.answer_seen_at_event
        )

    async def _maybe_apply_answer(self, call: _Call, request_id: int, item: _Update) -> None:
        peer = call.peer
        view = item.view
        assert peer is not None
        assert view.sdp_answer is not None
        if view.sdp_answer in call.spent_answers:
            return  # the answer of a released claim, still shown in a snapshot
        if peer.applied_answer is not None:
            if view.sdp_answer != peer.applied_answer:
                log.warning(
                    "request %s: a second, different answer on one offer; ignored", request_id
                )
            return
        self._report(f"request {request_id}: answered by {view.answered_by or 'the control room'}")
        peer.applied_answer = view.sdp_answer
        peer.answer_seen_at_event = item.event_id or call.last_event_id
        call.result.answered_at = time.monotonic()
        try:
            await apply_answer(peer.pc, view.sdp_answer)
        except (ValueError, TimeoutError, InvalidStateError) as exc:
            raise MediaNotConnectedError(
                f"request {request_id}: the control room's answer could not be applied "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        call.watchdog = call.spawn(
            peer.watch_media(self.media_timeout_s, call.inbox), f"media-watch-{request_id}"
        )

    async def _reoffer(self, call: _Call, request_id: int) -> None:
        """The claim was released after an answer: start again with a fresh connection."""
        assert call.video is not None
        self._report(f"request {request_id}: released back to the queue; re-offering")
        if call.watchdog is not None:
            call.watchdog.cancel()
        if call.peer is not None:
            if call.peer.applied_answer is not None:
                call.spent_answers.add(call.peer.applied_answer)
            call.result.frames_sent += await call.peer.close()
        call.result.answered_at = None
        call.peer = _Peer(call.ice_servers, call.video, call.result)
        sdp_offer = await create_offer(call.peer.pc)
        try:
            await call.client.replace_offer(request_id, sdp_offer)
        except HubRequestError as exc:
            if exc.status != 409:
                raise
            # Claimed again before our new offer landed: that sergeant has the spent offer, his
            # media will not connect and his console will release or fail the request.
            self._report(f"request {request_id}: re-offer too late ({exc.detail})")
            return
        call.result.reoffers += 1

    def _absorb(self, view: DeviceRequestView, result: CallResult) -> None:
        """Copy what the device learns from a view of its request into the result."""
        result.state = view.state
        self.state = view.state
        result.answered_by = view.answered_by or result.answered_by
        if view.outcome is not None and view.reference is not None:
            result.outcome = view.outcome
            result.reason_code = view.reason_code
            result.reason_label = view.reason_label
            result.reference = view.reference

    @staticmethod
    def _finish(view: DeviceRequestView, result: CallResult) -> None:
        """Return quietly on a good ending; raise CallEndedBadlyError otherwise."""
        if view.state == RequestState.ENDED and result.completed:
            return
        if view.state == RequestState.CANCELLED and result.hung_up_by_us:
            return
        reasons = {
            RequestState.EXPIRED: "expired: nobody answered in time",
            RequestState.FAILED: "failed: the control room reported a media failure",
            RequestState.CANCELLED: "was cancelled",
            RequestState.ENDED: "ended without a decision",
        }
        error = CallEndedBadlyError(f"request {view.id} {reasons[view.state]}")
        error.result = result
        raise error

    async def _hang_up(self, call: _Call) -> None:
        result = call.result
        if result.request_id is None or result.hung_up_by_us:
            return
        result.hung_up_by_us = True
        view = await asyncio.wait_for(call.client.hangup(result.request_id), HANGUP_TIMEOUT_S)
        if view is not None:
            self._absorb(view, result)

    async def _tear_down(self, call: _Call) -> None:
        result = call.result
        try:
            if (
                result.request_id is not None
                and not result.hung_up_by_us
                and result.state not in TERMINAL_STATES
            ):
                # Ctrl-C or an error mid-call: never leave a phantom call in the sergeant's queue.
                try:
                    await self._hang_up(call)
                except (FieldError, TimeoutError) as exc:
                    log.warning("could not hang up request %s: %s", result.request_id, exc)
        finally:
            for task in list(call.tasks):
                task.cancel()
            for task in list(call.tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if call.peer is not None:
                result.frames_sent += await call.peer.close()
            await call.client.aclose()
