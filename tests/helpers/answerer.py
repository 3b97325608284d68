"""A headless stand-in for the sergeant's console, for tests that need the far end of a call.

It does over real HTTP and real WebRTC what the console does: signs in, follows `/events`, claims a
request, answers the device's offer with aiortc (ICE servers from `/config`), sends its own
synthetic video + tone, counts what it receives, posts `/connected` once video flows, renews the
claim lease, posts the decision with an `Idempotency-Key` and `/end`s the call.

    async with HeadlessAnswerer(hub_url) as sergeant:
        queued = await sergeant.wait_for_request(lambda r: r.state == "queued")
        call = await sergeant.claim_and_answer(queued.id)
        view = await sergeant.decide(call)          # view.decision.reference
        await sergeant.end(call)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiortc import MediaStreamTrack, RTCPeerConnection
from httpx_sse import aconnect_sse

from field.media import (
    SIZE_480P,
    PortraitVideoTrack,
    SyntheticVideo,
    ToneTrack,
    TrackConsumer,
    placeholder_portrait,
)
from field.rtc import apply_offer, create_answer, new_peer_connection
from protocol.schemas import (
    API_PREFIX,
    ClaimResult,
    ConsoleEvent,
    HubConfig,
    LoginResult,
    Outcome,
    ReasonCode,
    RequestState,
    RequestView,
)

log = logging.getLogger(__name__)

HTTP_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class AnswererError(AssertionError):
    """The hub or the media did not behave as the test expected (an AssertionError on purpose)."""


@dataclass
class AnsweredCall:
    """One call the answerer claimed and answered."""

    request_id: int
    claim: ClaimResult
    pc: RTCPeerConnection
    answered_at: float  # time.monotonic() when our SDP answer was posted
    consumers: dict[str, TrackConsumer] = field(default_factory=dict)
    video_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    sent_video: PortraitVideoTrack | None = None
    lease_task: asyncio.Task[None] | None = None
    connected_at: float | None = None
    decision: RequestView | None = None

    def frames(self, kind: str) -> int:
        """Frames received so far on the remote track of that kind."""
        consumer = self.consumers.get(kind)
        return consumer.stats.frames if consumer else 0

    @property
    def answer_to_first_frame_s(self) -> float | None:
        consumer = self.consumers.get("video")
        if consumer is None or consumer.stats.first_frame_at is None:
            return None
        return consumer.stats.first_frame_at - self.answered_at

    async def wait_for_frames(self, kind: str, count: int, timeout_s: float = 60.0) -> None:
        """Wait until `count` frames of `kind` arrived, or fail the test with the numbers."""
        deadline = time.monotonic() + timeout_s
        if kind == "video":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.video_arrived.wait(), timeout_s)
        while kind not in self.consumers and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # polling with a deadline: the audio track lands with video
        consumer = self.consumers.get(kind)
        if consumer is None or not await consumer.wait_for_frames(
            count, max(0.0, deadline - time.monotonic())
        ):
            raise AnswererError(
                f"request {self.request_id}: only {self.frames(kind)} {kind} "
                f"frames after {timeout_s:g} s (wanted {count}); "
                f"connection {self.pc.connectionState}"
            )


class HeadlessAnswerer:
    """A signed-in sergeant without a screen. Use as an async context manager."""

    def __init__(
        self,
        hub_url: str,
        username: str = "smith",
        password: str = "smith-demo",
        *,
        video_size: tuple[int, int] = SIZE_480P,
    ) -> None:
        self.hub_url = hub_url.rstrip("/")
        self.username = username
        self.password = password
        self.video_size = video_size
        self.http = httpx.AsyncClient(base_url=self.hub_url + API_PREFIX, timeout=HTTP_TIMEOUT)
        self.token: str | None = None
        self.config: HubConfig | None = None
        self.requests: dict[int, RequestView] = {}  # newest view of every request seen
        self.events: list[ConsoleEvent] = []
        self._changed = asyncio.Condition()
        self._events_task: asyncio.Task[None] | None = None
        self._stream_open = asyncio.Event()
        self._calls: list[AnsweredCall] = []

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> HeadlessAnswerer:
        response = await self.http.post(
            "/auth/login", json={"username": self.username, "password": self.password}
        )
        self._expect(response, 200)
        self.token = LoginResult.model_validate_json(response.content).token
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.config = HubConfig.model_validate_json(
            self._expect(await self.http.get("/config"), 200).content
        )
        self._events_task = asyncio.get_running_loop().create_task(
            self._follow_events(), name="answerer-events"
        )
        opened = asyncio.get_running_loop().create_task(self._stream_open.wait())
        try:
            await asyncio.wait(
                {opened, self._events_task}, timeout=30, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            opened.cancel()
        if self._events_task.done():
            self._events_task.result()  # re-raise why the event stream could not start
        if not self._stream_open.is_set():
            raise AnswererError("the /events stream did not open within 10 s")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every call, stop following events, and close the HTTP client."""
        for call in list(self._calls):
            await self.close_media(call)
        if self._events_task is not None:
            self._events_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._events_task
        await self.http.aclose()

    # ------------------------------------------------------------------ events

    async def _record(self, view: RequestView) -> None:
        async with self._changed:
            self.requests[view.id] = view
            self._changed.notify_all()

    async def _follow_events(self) -> None:
        last_id: str | None = None
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            timeout = httpx.Timeout(connect=5.0, read=30.0, write=5.0, pool=5.0)
            try:
                async with aconnect_sse(
                    self.http, "GET", "/events", headers=headers, timeout=timeout
                ) as source:
                    if source.response.status_code != 200:
                        await source.response.aread()
                        self._expect(source.response, 200)
                    # The queue as it is now; the stream brings every later change.
                    listing = self._expect(
                        await self.http.get("/requests", params={"active": "true"}), 200
                    )
                    for item in listing.json():
                        await self._record(RequestView.model_validate(item))
                    self._stream_open.set()
                    async for message in source.aiter_sse():
                        if not message.data:
                            continue
                        last_id = message.id or last_id
                        event = ConsoleEvent.model_validate_json(message.data)
                        self.events.append(event)
                        await self._record(event.request)
            except (httpx.TransportError, httpx.StreamError) as exc:
                log.info("answerer event stream dropped (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(0.2)  # reconnect backoff, not synchronisation

    async def wait_for_request(
        self, predicate: Callable[[RequestView], bool], timeout_s: float = 60.0
    ) -> RequestView:
        """The oldest request (by id) whose newest view satisfies `predicate`."""

        async def first_match() -> RequestView:
            async with self._changed:
                while True:
                    matches = [v for _, v in sorted(self.requests.items()) if predicate(v)]
                    if matches:
                        return matches[0]
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(first_match(), timeout_s)
        except TimeoutError:
            states = {rid: v.state.value for rid, v in self.requests.items()}
            raise AnswererError(
                f"no matching request within {timeout_s:g} s; seen {states}"
            ) from None

    async def wait_for_state(
        self, request_id: int, *states: RequestState, timeout_s: float = 60.0
    ) -> RequestView:
        """Wait until the request reaches one of `states` (as seen on the event stream)."""
        return await self.wait_for_request(
            lambda v: v.id == request_id and v.state in states, timeout_s
        )

    # ------------------------------------------------------------------ one call

    async def claim_and_answer(
        self,
        request_id: int,
        *,
        connect_timeout_s: float = 60.0,
    ) -> AnsweredCall:
        """Claim, answer with media, wait for the device's video, then post /connected."""
        response = self._expect(await self.http.post(f"/requests/{request_id}/claim"), 200)
        claim = ClaimResult.model_validate_json(response.content)
        pc = new_peer_connection(claim.ice_servers)
        call = AnsweredCall(request_id=request_id, claim=claim, pc=pc, answered_at=0.0)
        self._calls.append(call)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            consumer = TrackConsumer(track)  # its own task: never recv() in this handler
            call.consumers[track.kind] = consumer
            consumer.start()
            if track.kind == "video":
                call.video_arrived.set()

        call.lease_task = asyncio.get_running_loop().create_task(
            self._renew_lease(request_id), name=f"answerer-lease-{request_id}"
        )
        officer = claim.request.officer
        video = SyntheticVideo(
            placeholder_portrait(), f"PS {self.username.upper()} control", self.video_size
        )
        call.sent_video = PortraitVideoTrack(video)
        await apply_offer(pc, claim.sdp_offer)
        # addTrack after the offer reuses the device's m-lines, making our answer sendrecv.
        pc.addTrack(call.sent_video)
        pc.addTrack(ToneTrack(frequency_hz=660.0))
        sdp_answer = await create_answer(pc)
        self._expect(
            await self.http.post(f"/requests/{request_id}/answer", json={"sdp_answer": sdp_answer}),
            200,
        )
        call.answered_at = time.monotonic()
        log.info("answered request %s for %s", request_id, officer.collar_number)
        await call.wait_for_frames("video", 1, connect_timeout_s)
        self._expect(await self.http.post(f"/requests/{request_id}/connected"), 200)
        call.connected_at = time.monotonic()
        return call

    async def claim_and_answer_without_media(self, request_id: int) -> AnsweredCall:
        """Claim (and keep renewing the lease), then post a well-formed answer from a connection
        we close at once: the device applies it and waits for media that can never come.
        """
        response = self._expect(await self.http.post(f"/requests/{request_id}/claim"), 200)
        claim = ClaimResult.model_validate_json(response.content)
        pc = new_peer_connection(claim.ice_servers)
        call = AnsweredCall(request_id=request_id, claim=claim, pc=pc, answered_at=0.0)
        self._calls.append(call)
        call.lease_task = asyncio.get_running_loop().create_task(
            self._renew_lease(request_id), name=f"answerer-lease-{request_id}"
        )
        try:
            await apply_offer(pc, claim.sdp_offer)
            sdp_answer = await create_answer(pc)
        finally:
            await pc.close()
        self._expect(
            await self.http.post(f"/requests/{request_id}/answer", json={"sdp_answer": sdp_answer}),
            200,
        )
        call.answered_at = time.monotonic()
        return call

    async def _renew_lease(self, request_id: int) -> None:
        assert self.config is not None
        period = max(0.2, self.config.lease_seconds / 3)
        while True:
            await asyncio.sleep(period)  # a renewal schedule, not synchronisation
            try:
                response = await self.http.post(f"/requests/{request_id}/lease")
            except httpx.TransportError as exc:
                log.warning("lease renewal for %s failed: %s", request_id, exc)
                continue
            if response.status_code != 200:
                log.info("lease renewal for %s stopped: %s", request_id, response.text)
                return

    async def decide(
        self,
        call: AnsweredCall,
        outcome: Outcome = Outcome.CONFIRMED,
        reason: ReasonCode = ReasonCode.IDENTITY_CONFIRMED,
        notes: str = "",
    ) -> RequestView:
        """Post the decision (with a fresh Idempotency-Key); return the hub's view."""
        body: dict[str, Any] = {
            "outcome": outcome.value,
            "reason_code": reason.value,
            "notes": notes,
            "checklist": {"face_matches_photo": True, "gave_name_and_number": True},
        }
        response = await self.http.post(
            f"/requests/{call.request_id}/decision",
            json=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        self._expect(response, 200)
        call.decision = RequestView.model_validate_json(response.content)
        return call.decision

    async def end(self, call: AnsweredCall) -> None:
        """Post /end (decided → ended); a 409 means the device hung up first, which is fine."""
        response = await self.http.post(f"/requests/{call.request_id}/end")
        if response.status_code not in (200, 409):
            self._expect(response, 200)
        await self.close_media(call)

    async def release(self, call: AnsweredCall) -> RequestView:
        """Give the request back to the queue (POST /release) and drop our media."""
        response = self._expect(await self.http.post(f"/requests/{call.request_id}/release"), 200)
        await self.close_media(call)
        return RequestView.model_validate_json(response.content)

    async def close_media(self, call: AnsweredCall) -> None:
        """Stop the lease renewal, the consumers and the peer connection of one call."""
        if call.lease_task is not None:
            call.lease_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await call.lease_task
        for consumer in call.consumers.values():
            await consumer.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(call.pc.close(), 5)
        if call in self._calls:
            self._calls.remove(call)

    async def get_request(self, request_id: int) -> RequestView:
        """GET /requests/{id} (operator view) → the request part of the detail."""
        response = self._expect(await self.http.get(f"/requests/{request_id}"), 200)
        return RequestView.model_validate(response.json()["request"])

    # ------------------------------------------------------------------ serve many

    async def serve(
        self, count: int, *, min_frames: int = 10, timeout_per_call_s: float = 60.0
    ) -> list[AnsweredCall]:
        """Answer `count` calls one after another: claim, media both ways, confirm, end."""
        served: list[AnsweredCall] = []
        done: set[int] = set()
        for _ in range(count):
            queued = await self.wait_for_request(
                lambda v: v.state == RequestState.QUEUED and v.id not in done, timeout_per_call_s
            )
            call = await self.claim_and_answer(queued.id)
            await call.wait_for_frames("video", min_frames, timeout_per_call_s)
            await call.wait_for_frames("audio", min_frames, timeout_per_call_s)
            await self.decide(call)
            await self.end(call)
            done.add(queued.id)
            served.append(call)
        return served

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _expect(response: httpx.Response, status: int) -> httpx.Response:
        if response.status_code != status:
            body = response.text
            raise AnswererError(
                f"{response.request.method} {response.request.url.path}: "
                f"expected {status}, got {response.status_code}: {body[:300]}"
            )
        return response
