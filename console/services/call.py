"""The sergeant's side of one verification call: answer, media, lease, decision, hang-up.

`CallService` is Qt-free and holds at most one call at a time. It talks to the hub through the
`CallApi` port, to the media thread through `MediaEngine` (console/services/media_port.py), and
records decisions through `DecisionDelivery`. It reports to observers (the call view-model) with
`CallState` snapshots and short notices for the message bar. Errors from a direct action (answer,
decide, release...) are raised as `UserFacingError`; facts that arrive on their own (the officer
hung up, the claim was lost, media failed) come as notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any, Protocol

from console.domain.call import CallPhase
from console.domain.errors import (
    HubUnreachableError,
    IllegalTransitionError,
    MediaError,
    UserFacingError,
)
from console.services.decision import (
    DEFAULT_BACKOFF_SECONDS,
    DecisionDelivery,
    DecisionDraft,
    DecisionJournal,
    DeliveryUpdate,
    decision_problems,
)
from console.services.lease import Clock, LeaseKeeper
from console.services.media_port import CallMedia, MediaEngine, MediaEvent, MediaState
from protocol import (
    ClaimResult,
    ConsoleEvent,
    DecisionBody,
    DecisionView,
    HubConfig,
    OfficerView,
    OperatorView,
    RequestState,
    RequestView,
    SnapshotView,
)

__all__ = ["CallApi", "CallObserver", "CallPhase", "CallService", "CallState", "LastCall"]

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 15.0


class CallApi(Protocol):
    """Hub endpoints the call flow uses (implemented by `console/adapters/call_api.py`)."""

    async def me(self) -> OperatorView: ...

    async def config(self) -> HubConfig: ...

    async def claim(self, request_id: int) -> ClaimResult: ...

    async def officer(self, officer_id: int) -> OfficerView: ...

    async def officer_photo(self, officer_id: int) -> bytes | None: ...

    async def post_answer(self, request_id: int, sdp_answer: str) -> None: ...

    async def mark_connected(self, request_id: int) -> RequestView: ...

    async def renew_lease(self, request_id: int) -> RequestView: ...

    async def release(self, request_id: int) -> RequestView: ...

    async def fail(self, request_id: int, detail: str) -> RequestView: ...

    async def end(self, request_id: int) -> RequestView: ...

    async def decide(
        self, request_id: int, body: DecisionBody, idempotency_key: str
    ) -> RequestView: ...

    async def post_snapshot(
        self, request_id: int, image: bytes, content_type: str
    ) -> SnapshotView: ...


@dataclass(frozen=True, slots=True)
class LastCall:
    """The previous call's result, kept on screen after the panel resets."""

    request_id: int
    officer: str
    summary: str  # e.g. "CONFIRMED — SC-4K7Q-2M" or "Released to the queue"
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class CallState:
    """An immutable snapshot of the current call, for the view-model to render."""

    phase: CallPhase = CallPhase.IDLE
    request_id: int | None = None
    request: RequestView | None = None
    officer: OfficerView | None = None
    photo: bytes | None = None
    detail: str = ""  # a sentence under the phase, e.g. why media failed
    media_live: bool = False  # the call's media object is open (hang-up still meaningful)
    device_left: bool = False
    decision: DecisionView | None = None
    pending_key: str | None = None
    last_call: LastCall | None = None


class CallObserver(Protocol):
    def call_state_changed(self, state: CallState) -> None: ...

    def notice_posted(self, level: str, text: str) -> None: ...


class CallService:
    """Use cases of one sergeant's call; one call at a time."""

    def __init__(
        self,
        call_api: CallApi,
        media_engine: MediaEngine,
        journal: DecisionJournal,
        clock: Clock,
        *,
        media_answer_timeout: float = 15.0,
        connect_timeout: float = 20.0,
        decision_backoff_seconds: tuple[float, ...] = DEFAULT_BACKOFF_SECONDS,
    ) -> None:
        self._api = call_api
        self._engine = media_engine
        self._clock = clock
        self._media_answer_timeout = media_answer_timeout
        self._connect_timeout = connect_timeout
        self._decision_backoff = decision_backoff_seconds
        self.delivery = DecisionDelivery(call_api, journal, clock, decision_backoff_seconds)
        self.delivery.add_listener(self._on_delivery_update)
        self._state = CallState()
        self._observers: list[CallObserver] = []
        self._media: CallMedia | None = None
        self._lease: LeaseKeeper | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lease_seconds: float | None = None
        self._closed = False
        # Event types our own in-flight action will cause; the hub's echo of them may arrive
        # before the POST's response and must not be mistaken for someone else's doing.
        self._own_events: set[str] = set()
        self._finishing: int | None = None
        # Media events that arrive while the answer is still being posted (CLAIMING).
        self._early_media: MediaEvent | None = None

    # ------------------------------------------------------------------ observing

    @property
    def state(self) -> CallState:
        return self._state

    def add_observer(self, observer: CallObserver) -> None:
        self._observers.append(observer)

    def _set(self, **changes: Any) -> None:
        self._state = replace(self._state, **changes)
        log.debug("call state: %s request=%s", self._state.phase, self._state.request_id)
        for observer in list(self._observers):
            observer.call_state_changed(self._state)

    def _notice(self, level: str, text: str) -> None:
        for observer in list(self._observers):
            observer.notice_posted(level, text)

    # ------------------------------------------------------------------ answer

    async def answer(self, request_id: int) -> None:
        """Claim the request, load the officer's record and answer the device's video call."""
        if self._closed:
            raise UserFacingError("The console is closing.", code="closing")
        if self._state.phase == CallPhase.DECIDED:
            # The previous call is decided and delivered: answering the next one ends it.
            await self.hang_up()
        if self._state.phase != CallPhase.IDLE:
            raise UserFacingError("Finish the current call before answering another.", code="busy")
        self._set(
            phase=CallPhase.CLAIMING,
            request_id=request_id,
            request=None,
            officer=None,
            photo=None,
            detail="Answering…",
            media_live=False,
            device_left=False,
            decision=None,
            pending_key=None,
        )
        try:
            claim = await self._api.claim(request_id)
        except BaseException:
            self._set(phase=CallPhase.IDLE, request_id=None, detail="")
            raise
        log.info("[req %s] claimed", request_id)
        try:
            await self._after_claim(claim)
        except BaseException:
            # Anything unexpected after the claim: give the request back rather than sit on it.
            if self._state.request_id == request_id and self._state.phase == CallPhase.CLAIMING:
                await self._teardown()
                with contextlib.suppress(UserFacingError):
                    await self._api.release(request_id)
                self._set(
                    phase=CallPhase.IDLE,
                    request_id=None,
                    request=None,
                    officer=None,
                    photo=None,
                    detail="",
                )
            raise

    async def _after_claim(self, claim: ClaimResult) -> None:
        request_id = claim.request.id
        self._set(request=claim.request)
        await self._start_lease(request_id)
        media = self._engine.new_call(self._on_media_event)
        self._media = media
        self._early_media = None
        self._set(media_live=True)
        # The media answer (ICE gathering, DTLS set-up) runs while the record and photo load:
        # both are on the path to the sergeant seeing the officer, so neither waits for the other.
        answering = asyncio.get_running_loop().create_task(
            asyncio.wait_for(
                media.answer(claim.sdp_offer, list(claim.ice_servers)), self._media_answer_timeout
            ),
            name=f"media-answer-{request_id}",
        )
        try:
            officer, photo = await self._load_record(claim.request.officer)
        except BaseException:
            answering.cancel()
            raise
        self._set(officer=officer, photo=photo, detail="Connecting video…")
        await self._send_answer(request_id, answering)

    async def _send_answer(self, request_id: int, answering: asyncio.Task[str]) -> None:
        """Await the media engine's SDP answer and post it; then wait for media to connect."""
        try:
            answer_sdp = await answering
        except Exception as exc:
            # aiortc raises plain exceptions of many kinds; the sergeant needs a choice (fail,
            # release, refuse for poor video), not a traceback. The log keeps the detail.
            log.warning("[req %s] media answer failed: %r", request_id, exc)
            self._media_failed("The video call could not be set up on this workstation.")
            return
        if self._state.request_id != request_id or self._state.phase != CallPhase.CLAIMING:
            return  # cancelled while we were preparing the answer
        try:
            await self._api.post_answer(request_id, answer_sdp)
        except IllegalTransitionError:
            await self._finish(
                "The officer hung up before the call connected.",
                "info",
                summary="Officer hung up before answer",
            )
            return
        except HubUnreachableError:
            self._media_failed(
                "The hub did not take the video answer. Release the request or mark it failed."
            )
            return
        if self._state.request_id != request_id or self._state.phase != CallPhase.CLAIMING:
            return
        self._set(phase=CallPhase.CONNECTING, detail="Connecting video…")
        self._watchdog = self._spawn(self._connect_watchdog(request_id), "connect-watchdog")
        early, self._early_media = self._early_media, None
        if early is not None:
            # The device applied our answer from its event stream and connected (or failed)
            # before the hub's response to the POST reached us: handle it as if it came now.
            self._on_media_event(early)

    async def _load_record(self, officer: OfficerView) -> tuple[OfficerView, bytes | None]:
        """The officer's fresh record and photo, fetched in parallel (one round trip, not two)."""
        async with asyncio.TaskGroup() as group:
            fresh = group.create_task(self._fresh_officer(officer))
            photo = group.create_task(self._photo(officer))
        return fresh.result(), photo.result()

    async def _start_lease(self, request_id: int) -> None:
        lease_seconds = self._lease_seconds
        if lease_seconds is None:
            try:
                lease_seconds = self._lease_seconds = (await self._api.config()).lease_seconds
            except UserFacingError:
                # Renew at the protocol's default pace; the config is re-read on the next call.
                log.warning(
                    "could not read the hub config; assuming a %.0f s lease", DEFAULT_LEASE_SECONDS
                )
                lease_seconds = DEFAULT_LEASE_SECONDS

        async def renew() -> RequestView:
            return await self._api.renew_lease(request_id)

        self._lease = LeaseKeeper(
            renew, lease_seconds / 3, self._clock, lambda exc: self._on_lease_lost(request_id, exc)
        )
        self._lease.start()

    async def _fresh_officer(self, officer: OfficerView) -> OfficerView:
        try:
            return await self._api.officer(officer.id)
        except UserFacingError as exc:
            log.info("officer record refresh failed (%s); using the request's copy", exc.code)
            return officer

    async def _photo(self, officer: OfficerView) -> bytes | None:
        try:
            photo = await self._api.officer_photo(officer.id)
        except UserFacingError as exc:
            log.info("photo fetch failed: %s", exc.code)
            photo = None
        if photo is None:
            self._notice(
                "warning",
                "No photo on file could be loaded for this officer: "
                "verify identity by other means or refuse.",
            )
        return photo

    async def _connect_watchdog(self, request_id: int) -> None:
        await self._clock.sleep(self._connect_timeout)
        if self._state.request_id == request_id and self._state.phase == CallPhase.CONNECTING:
            self._media_failed("The video did not connect in time.")

    # ------------------------------------------------------------------ media events

    def _on_media_event(self, event: MediaEvent) -> None:
        """Called by the media engine on the GUI loop."""
        phase = self._state.phase
        if phase == CallPhase.CLAIMING and event.state in (MediaState.CONNECTED, MediaState.FAILED):
            self._early_media = event  # acted on once the hub has taken our answer
        elif event.state == MediaState.CONNECTED and phase == CallPhase.CONNECTING:
            request_id = self._state.request_id
            assert request_id is not None
            self._cancel_watchdog()
            self._set(phase=CallPhase.CONNECTED, detail="")
            self._spawn(self._report_connected(request_id), "report-connected")
        elif event.state == MediaState.FAILED and phase in (
            CallPhase.CONNECTING,
            CallPhase.CONNECTED,
        ):
            self._media_failed(f"The video connection was lost. {event.detail}".strip())

    async def _report_connected(self, request_id: int) -> None:
        try:
            await self._api.mark_connected(request_id)
        except UserFacingError as exc:
            # The hub's own event (device hung up, released) will explain what happened.
            log.info("[req %s] /connected refused: %s", request_id, exc.code)

    def _media_failed(self, why: str) -> None:
        self._cancel_watchdog()
        self._set(phase=CallPhase.MEDIA_FAILED, detail=why)
        self._notice(
            "error",
            f"{why} Choose 'Mark failed' or 'Release to queue' — or refuse "
            "with 'Poor video or audio'.",
        )

    # ------------------------------------------------------------------ sergeant actions

    async def hang_up(self) -> None:
        """End the video. After a decision this ends the call; before one, a decision remains."""
        phase = self._state.phase
        request_id = self._state.request_id
        if request_id is None or not phase.holds_claim:
            return
        if phase == CallPhase.DECIDED:
            # IllegalTransition: already ended by the officer hanging up.
            self._own_events.add("request.ended")
            with contextlib.suppress(IllegalTransitionError):
                await self._api.end(request_id)
            await self._finish("", "info", summary=self._decided_summary())
            return
        await self._close_media()
        if phase == CallPhase.DELIVERING:
            self._set(media_live=False)
            return
        self._cancel_watchdog()
        self._set(
            phase=CallPhase.AWAITING_DECISION,
            media_live=False,
            detail="Video ended — record your decision, or release the request.",
        )

    async def release(self) -> None:
        """Give the request back to the queue for another sergeant."""
        request_id = self._require_undecided()
        self._own_events.add("request.released")
        try:
            await self._api.release(request_id)
        except IllegalTransitionError as exc:
            await self._finish(exc.message, "warning", summary="Could not release")
            return
        await self._finish(
            "Request released to the queue.", "info", summary="Released to the queue"
        )

    async def mark_failed(self, detail: str = "") -> None:
        """Record that the call could not be completed (media never connected or dropped)."""
        request_id = self._require_undecided()
        self._own_events.add("request.failed")
        try:
            await self._api.fail(request_id, detail or self._state.detail[:500])
        except IllegalTransitionError as exc:
            await self._finish(exc.message, "warning", summary="Could not mark failed")
            return
        await self._finish("Call marked failed.", "info", summary="Marked failed")

    async def decide(self, draft: DecisionDraft) -> None:
        """Validate, journal and deliver the decision (see DecisionDelivery)."""
        request_id = self._state.request_id
        if request_id is None or not self._state.phase.can_decide:
            raise UserFacingError("There is no call to decide.", code="no_call")
        problems = decision_problems(draft, self._state.officer)
        if problems:
            raise UserFacingError(" ".join(problems), code="invalid_decision")
        holder_id = self._state.request.holder_id if self._state.request else None
        submitted = await self.delivery.submit(request_id, draft.to_body(), holder_id)
        if self._state.request_id != request_id:
            return
        if submitted.request is None:
            self._set(
                phase=CallPhase.DELIVERING,
                pending_key=submitted.key,
                detail="Decision saved on this workstation; the hub is not reachable. "
                "Delivering automatically — do not enter it again.",
            )
            self._notice(
                "warning",
                "Decision saved and pending delivery: the hub is not "
                "reachable. It will be delivered automatically.",
            )
            return
        await self._decided(submitted.request)

    async def take_snapshot(self) -> SnapshotView:
        """Add the newest frame of the officer's video to the record."""
        request_id = self._state.request_id
        if self._media is None or request_id is None:
            raise MediaError("There is no live video to capture.", code="no_video")
        image = self._media.snapshot_jpeg()
        if image is None:
            raise MediaError("No video frame has arrived yet.", code="no_video")
        snapshot = await self._api.post_snapshot(request_id, image, "image/jpeg")
        self._notice("info", "Snapshot added to the record.")
        return snapshot

    def set_microphone_muted(self, muted: bool) -> None:
        if self._media is not None:
            self._media.set_microphone_muted(muted)

    def set_camera_enabled(self, enabled: bool) -> None:
        if self._media is not None:
            self._media.set_camera_enabled(enabled)

    def media(self) -> CallMedia | None:
        """The current call's media (for quality polling), or None."""
        return self._media

    def _require_undecided(self) -> int:
        request_id = self._state.request_id
        if request_id is None or not self._state.phase.can_decide:
            raise UserFacingError("There is no undecided call to act on.", code="no_call")
        return request_id

    # ------------------------------------------------------------------ outcomes

    async def _decided(self, view: RequestView) -> None:
        self._set(
            phase=CallPhase.DECIDED,
            decision=view.decision,
            request=view,
            pending_key=None,
            detail="Tell the officer and the member of the public the outcome, then hang up.",
        )
        if view.state == RequestState.ENDED or not self._state.media_live:
            # The officer had already left (the hub ended the request at once), or we hung up.
            if view.state != RequestState.ENDED:
                self._own_events.add("request.ended")
                with contextlib.suppress(UserFacingError):
                    await self._api.end(view.id)
            await self._finish("", "info", summary=self._decided_summary())

    def _decided_summary(self) -> str:
        decision = self._state.decision
        if decision is None:
            return "Decided"
        return f"{decision.outcome.value.upper()} — {decision.reference}"

    def _on_delivery_update(self, update: DeliveryUpdate) -> None:
        entry = update.entry
        current = self._state.request_id == entry.request_id
        if update.request is not None:
            if current and self._state.phase == CallPhase.DELIVERING:
                self._notice(
                    "info",
                    f"Decision delivered: {update.request.decision.reference}"
                    if update.request.decision
                    else "Decision delivered.",
                )
                self._spawn(self._decided(update.request), "decided")
            elif not current and update.request.decision is not None:
                self._notice(
                    "info",
                    f"Pending decision for request {entry.request_id} "
                    f"delivered: {update.request.decision.reference}",
                )
        elif update.error is not None and (
            not current or self._state.phase == CallPhase.DELIVERING
        ):
            self._notice(
                "error",
                f"The hub refused the decision for request {entry.request_id}: {update.error}",
            )
            if current:
                self._spawn(
                    self._finish("", "error", summary="Decision refused by the hub"), "finish"
                )

    # ------------------------------------------------------------------ hub events

    async def resume_pending_deliveries(self) -> int:
        """After sign-in: retry the signed-in operator's decisions left pending by a past run.

        Asks the hub who we are first (retrying while it is unreachable), because only the
        operator who decided may deliver a decision.
        """
        attempt = 0
        while True:
            try:
                me = await self._api.me()
                break
            except HubUnreachableError:
                await self._clock.sleep(
                    self._decision_backoff[min(attempt, len(self._decision_backoff) - 1)]
                )
                attempt += 1
        return self.delivery.resume_pending(me.id)

    def handle_hub_event(self, event: ConsoleEvent) -> None:
        """React to the hub's event stream for the request we hold."""
        if event.request.id != self._state.request_id or self._state.phase == CallPhase.CLAIMING:
            return
        kind = event.type
        if kind in self._own_events:
            return  # the echo of our own release / fail / end
        phase = self._state.phase
        if kind == "request.device_left" and phase.can_decide:
            self._cancel_watchdog()
            self._spawn(self._close_media(), "close-media")
            self._set(
                phase=CallPhase.AWAITING_DECISION,
                device_left=True,
                media_live=False,
                detail="Officer hung up — record your decision.",
            )
            self._notice("warning", "Officer hung up — record your decision.")
        elif kind == "request.cancelled":
            self._spawn(
                self._finish(
                    "The officer hung up before the call connected.",
                    "info",
                    summary="Officer hung up",
                ),
                "finish",
            )
        elif kind == "request.released" and phase != CallPhase.DELIVERING:
            self._spawn(
                self._finish(
                    "Claim lost: the hub returned the request to the queue.",
                    "error",
                    summary="Claim lost",
                ),
                "finish",
            )
        elif kind in ("request.failed", "request.expired"):
            reason = event.request.end_reason or kind.removeprefix("request.")
            self._spawn(
                self._finish(
                    f"The hub closed the request: {reason}.", "warning", summary="Closed by the hub"
                ),
                "finish",
            )
        elif kind == "request.ended" and phase == CallPhase.DECIDED:
            self._spawn(
                self._finish(
                    "The officer ended the call.", "info", summary=self._decided_summary()
                ),
                "finish",
            )

    def _on_lease_lost(self, request_id: int, exc: UserFacingError) -> None:
        if self._state.request_id != request_id or self._state.phase in (
            CallPhase.DECIDED,
            CallPhase.DELIVERING,
        ):
            return  # after a decision the hub no longer needs the lease
        self._spawn(
            self._finish(f"Claim lost: {exc.message}", "error", summary="Claim lost"), "finish"
        )

    # ------------------------------------------------------------------ teardown

    async def _finish(self, message: str, level: str, *, summary: str) -> None:
        """Close everything about the current call and reset the panel for the next one."""
        state = self._state
        if state.request_id is None or self._finishing == state.request_id:
            return  # nothing to finish, or another path is already finishing this call
        self._finishing = state.request_id
        try:
            await self._teardown()
        finally:
            self._finishing = None
        self._own_events.clear()
        officer = state.officer.display if state.officer else ""
        reference = state.decision.reference if state.decision else None
        self._state = CallState(last_call=LastCall(state.request_id, officer, summary, reference))
        for observer in list(self._observers):
            observer.call_state_changed(self._state)
        if message:
            self._notice(level, message)

    async def _teardown(self) -> None:
        self._cancel_watchdog()
        lease, self._lease = self._lease, None
        if lease is not None:
            await lease.stop()
        await self._close_media()

    async def _close_media(self) -> None:
        media, self._media = self._media, None
        if media is None:
            return
        try:
            await asyncio.wait_for(media.close(), 5.0)
        except (TimeoutError, MediaError, OSError, RuntimeError) as exc:
            log.warning("closing the call's media failed: %r", exc)

    def _cancel_watchdog(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog is not asyncio.current_task():
            watchdog.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, UserFacingError):
            self._notice("error", exc.message)
        elif exc is not None:
            log.error("call task %s failed", task.get_name(), exc_info=exc)

    async def close(self) -> None:
        """Shut down: stop the lease, hang up media, stop delivery retries (journal keeps them)."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._teardown()
        await self.delivery.close()
