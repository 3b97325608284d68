// One verification call from the officer's side: camera → offer → POST /requests → follow the
// request (event stream, plus a slow poll for the queue position and as a safety net) → apply the
// answer → media → decision → end. The session owns every timer, stream and the peer connection,
// and releases all of them in finish().

import { CallError, CameraError, FieldCall, openCamera } from './call.js';
import { HubError, HubUnreachable } from './hub.js';

const TERMINAL = new Set(['ended', 'cancelled', 'expired', 'failed']);
const POLL_MS = 2000;
const LOCATION_TIMEOUT_MS = 4000;

/** Ask for the position with a short deadline; the call goes ahead without it. */
async function currentLocation() {
  if (!navigator.geolocation) return null;
  try {
    const permission = await navigator.permissions?.query({ name: 'geolocation' });
    if (permission?.state === 'denied') return null;
  } catch {
    // Permissions API missing: just ask.
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), LOCATION_TIMEOUT_MS);
    navigator.geolocation.getCurrentPosition(
      (position) => {
        clearTimeout(timer);
        const { latitude, longitude, accuracy } = position.coords;
        resolve({
          latitude, longitude,
          accuracy_m: Number.isFinite(accuracy) ? Math.min(accuracy, 1_000_000) : null,
        });
      },
      () => { clearTimeout(timer); resolve(null); },
      { enableHighAccuracy: true, timeout: LOCATION_TIMEOUT_MS, maximumAge: 60000 },
    );
  });
}

export class CallSession {
  /**
   * @param {import('./hub.js').HubClient} hub
   * @param {object} ui callbacks: phase(name, info), remoteStream(stream), localStream(stream),
   *   decided(view, at), finished(kind, message, view), revoked(message), banner(message|null),
   *   openRequest(id|null), restart(message)
   */
  constructor(hub, ui) {
    this.hub = hub;
    this.ui = ui;
    this.call = null;
    this.requestId = null;
    this.view = null;
    this.phase = 'starting';
    this.done = false;
    this.hungUp = false;
    this.startedAt = null;
    this.abort = new AbortController();
    this.pollTimer = null;
    this.tickTimer = null;
    this.idleMs = 35000;
    this.eventCount = 0;
    this.wakeLock = null;
    this.onVisible = null;
  }

  /** Run the set-up; failures end the session with a message instead of throwing. */
  async start() {
    try {
      await this.setUp();
    } catch (error) {
      this.fail(error);
    }
  }

  async setUp() {
    this.setPhase('starting', {});
    const locationPromise = currentLocation();
    const config = await this.hub.json('GET', '/config');
    const stream = await openCamera();
    if (this.done) {
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    this.ui.localStream(stream);
    this.keepScreenOn();
    // Heartbeats arrive every heartbeat_seconds: three missed ones mean a dead stream.
    this.idleMs = Math.max(15000, (config.heartbeat_seconds || 10) * 3000);
    this.call = new FieldCall(stream, config.ice_servers || [], {
      onRemoteStream: (remote) => this.ui.remoteStream(remote),
      onConnectionState: (state) => this.onConnectionState(state),
    });
    const sdp = await this.call.createOffer();
    const location = await locationPromise;
    if (this.done) {
      this.call.close(); // hung up while the offer was being prepared
      return;
    }
    this.setPhase('calling', {});
    const body = { sdp_offer: sdp };
    if (location) body.location = location;
    const view = await this.hub.json('POST', '/requests', body);
    this.requestId = view.id;
    this.startedAt = Date.now();
    this.ui.openRequest(view.id);
    if (this.done) {
      // Hung up while the POST was in flight: cancel what was just created.
      if (await this.sendHangup()) this.ui.openRequest(null);
      return;
    }
    this.apply(view, null, null);
    this.followEvents();
    this.pollTimer = setInterval(() => this.poll(), POLL_MS);
    this.tickTimer = setInterval(() => this.tick(), 1000);
  }

  followEvents() {
    this.hub.followDeviceEvents(this.requestId, {
      signal: this.abort.signal,
      onEvent: (event) => {
        if (!event?.request) return;
        this.eventCount += 1;
        this.apply(event.request, event.at, event.type);
      },
      onLink: (up) => this.ui.banner(up ? null : 'Connection to the control room lost — retrying…'),
      idleMs: this.idleMs,
    }).catch((error) => this.fail(error));
  }

  /**
   * Keep the phone's screen on for the call: the person stopped is watching the sergeant, and a
   * screen that dims after 30 s would cut her off. Re-taken when the page becomes visible again,
   * since the browser drops the lock whenever the page is hidden.
   */
  keepScreenOn() {
    if (!navigator.wakeLock) return;
    const acquire = () => {
      if (this.done || document.visibilityState !== 'visible') return;
      navigator.wakeLock.request('screen')
        .then((lock) => {
          if (this.done) lock.release();
          else this.wakeLock = lock;
        })
        .catch(() => {}); // refused (battery saver): the call works without it
    };
    this.onVisible = acquire;
    document.addEventListener('visibilitychange', acquire);
    acquire();
  }

  async poll() {
    if (this.done || this.requestId === null) return;
    const eventsBefore = this.eventCount;
    try {
      const view = await this.hub.json('GET', `/requests/${this.requestId}/device`,
        undefined, { timeoutMs: 5000 });
      // An event that arrived meanwhile is at least as fresh as this answer: keep the event's.
      if (this.eventCount === eventsBefore) this.apply(view, null, null);
    } catch (error) {
      if (error instanceof HubError && error.isAuthFailure) this.fail(error);
      // Otherwise the event stream's banner already tells the officer; keep trying.
    }
  }

  /**
   * Take in the request as the hub sees it. `eventType` is set for event-stream messages, which
   * arrive in hub order (from the request's start on the first connection); it is null for a
   * poll. Only the ordered stream applies the SDP answer and reacts to a release, so neither a
   * poll nor a replayed early event can be mistaken for something that happened later.
   */
  apply(view, at, eventType) {
    if (this.done || !view) return;
    this.view = view;
    if (eventType === 'request.released' && this.call?.answerApplied) {
      // The sergeant gave the call back after media was set up. The hub keeps only our first
      // offer, which this connection cannot take a second answer for: start over.
      this.restart('The sergeant passed your call back to the queue. Calling again…');
      return;
    }
    if (eventType && view.sdp_answer && this.call && !this.call.answerApplied
        && view.state !== 'queued') {
      this.call.applyAnswer(view.sdp_answer).catch((error) => this.fail(error));
    }
    switch (view.state) {
      case 'queued':
        this.setPhase('queued', { position: view.queue_position });
        break;
      case 'claimed':
        this.setPhase(this.call?.pc.connectionState === 'connected' ? 'connected' : 'claimed',
          { by: view.answered_by });
        break;
      case 'connected':
        this.setPhase('connected', { by: view.answered_by });
        break;
      case 'decided':
        this.setPhase('decided', { by: view.answered_by });
        this.ui.decided(view, at);
        break;
      default:
        if (TERMINAL.has(view.state)) this.finishFromHub(view, at);
    }
  }

  setPhase(phase, info) {
    this.phase = phase;
    this.info = info;
    this.ui.phase(phase, { ...info, waitedSeconds: this.waitedSeconds() });
  }

  tick() {
    if (this.phase === 'queued' || this.phase === 'claimed') {
      this.ui.phase(this.phase, { ...this.info, waitedSeconds: this.waitedSeconds() });
    }
  }

  waitedSeconds() {
    return this.startedAt === null ? 0 : (Date.now() - this.startedAt) / 1000;
  }

  onConnectionState(state) {
    if (this.done) return;
    if (state === 'connected' && this.phase === 'claimed') {
      this.setPhase('connected', this.info);
    } else if (state === 'failed' && this.phase !== 'decided') {
      this.fail(new CallError('The video connection failed. Move to better signal and try again.'));
    } else if (state === 'disconnected') {
      this.ui.banner('Video connection interrupted — reconnecting…');
    } else if (state === 'connected') {
      this.ui.banner(null);
    }
  }

  /** The officer tapped Hang up (or End call). */
  async hangUp() {
    if (this.done) return;
    const decided = this.view?.state === 'decided';
    const wasQueued = !this.view || ['queued', 'claimed'].includes(this.view.state);
    this.hungUp = true;
    const sent = await this.sendHangup();
    const note = sent ? '' : ' The control room could not be told; it will time out.';
    if (decided) this.finish('ended', 'Call ended.' + note);
    else if (wasQueued) this.finish('cancelled', 'You hung up. The request was cancelled.' + note);
    else this.finish('left', 'You left the call. The sergeant will record the outcome.' + note);
  }

  async sendHangup() {
    if (this.requestId === null) return true;
    try {
      await this.hub.json('POST', `/requests/${this.requestId}/hangup`, undefined,
        { timeoutMs: 5000 });
      return true;
    } catch (error) {
      // 409: the request already ended on the hub — nothing left to cancel.
      return error instanceof HubError && error.status === 409;
    }
  }

  /** Close this call (and its request on the hub), then let the page start a fresh one. */
  async restart(message) {
    this.finish('restart', message); // first, so that no event races the hang-up below
    await this.sendHangup();
    this.ui.restart(message);
  }

  finishFromHub(view, at) {
    const messages = {
      ended: 'Call ended.',
      cancelled: 'The request was cancelled.',
      expired: 'No sergeant was free to answer in time. Try again, or use your radio.',
      failed: 'The video call failed. Try again, or use your radio.',
    };
    if (view.outcome) this.ui.decided(view, at);
    this.finish(view.state, messages[view.state], view);
  }

  /** End the session because of an error, with a message the officer can act on. */
  fail(error) {
    if (this.done) return;
    if (error instanceof HubError && error.isAuthFailure) {
      this.finish('revoked', '');
      this.ui.revoked(error.detail);
      return;
    }
    let message;
    if (error instanceof CameraError || error instanceof CallError
        || error instanceof HubUnreachable) {
      message = error.message;
    } else if (error instanceof HubError && error.status === 409 && this.requestId === null) {
      message = 'This device already has a request open. Wait a moment and try again.';
    } else if (error instanceof HubError) {
      message = error.detail || 'The control room refused the call.';
    } else {
      message = `The call failed: ${error?.message || error}`;
    }
    let kind = 'error';
    if (error instanceof CameraError) kind = `camera-${error.kind}`;
    else if (error instanceof HubUnreachable) kind = 'unreachable';
    else if (error instanceof CallError) kind = 'call-failed';
    if (this.requestId !== null && !this.hungUp) this.sendHangup();
    this.finish(kind, message);
  }

  /** Release everything. Idempotent. */
  finish(kind, message, view = null) {
    if (this.done) return;
    this.done = true;
    this.abort.abort();
    clearInterval(this.pollTimer);
    clearInterval(this.tickTimer);
    this.call?.close();
    if (this.onVisible) document.removeEventListener('visibilitychange', this.onVisible);
    this.wakeLock?.release().catch(() => {});
    this.ui.banner(null);
    this.ui.openRequest(null);
    this.ui.finished(kind, message, view ?? this.view);
  }

  /** For tests and the benchmark: a compact getStats() view. */
  async stats() {
    return this.call ? this.call.stats() : null;
  }
}
