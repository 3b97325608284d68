// The field page's composition root: enrolment, the home screen, and wiring a CallSession to the
// screens. State lives in the session and in localStorage (store.js); this file only routes.

import { HubClient, HubError, HubUnreachable } from './hub.js';
import { CallSession } from './session.js';
import * as store from './store.js';
import {
  $, formatDuration, formatTime, officerLine, ordinal, setBanner, setError, setText, showScreen,
} from './view.js';

const hub = new HubClient(() => store.loadToken());
let session = null;

const REVOKED_MESSAGE = 'This device has been revoked — contact your control room.';
const BAD_CODE_MESSAGE = 'Warrant number or code not recognised. A code works once and expires '
  + 'after 10 minutes — ask your control room for a new one.';

// ------------------------------------------------------------------ enrolment and home

function showEnrol(message = '') {
  setText('officer-badge', '');
  showScreen('enrol');
  setError('enrol-error', message);
}

function showHome(message = '') {
  const officer = store.loadOfficer();
  setText('officer-badge', officer?.collar_number || '');
  setText('home-officer', officerLine(officer) || 'Enrolled officer');
  showScreen('home');
  setError('home-error', message);
  $('verify').disabled = false;
}

/** The hub refused the device token: forget it and say why. */
function onRevoked(detail) {
  store.clearEnrolment();
  const revoked = /revoked/i.test(detail || '');
  showEnrol(revoked || !detail ? REVOKED_MESSAGE
    : `${detail} This device needs to be enrolled again — contact your control room.`);
}

async function enrol(event) {
  event.preventDefault();
  const warrantNumber = $('enrol-warrant').value.trim();
  const code = $('enrol-code').value.trim();
  if (!warrantNumber || !code) {
    setError('enrol-error', 'Enter both your warrant card number and the one-time code.');
    return;
  }
  setError('enrol-error', '');
  $('enrol-submit').disabled = true;
  try {
    const result = await hub.json('POST', '/devices/enrol',
      { warrant_number: warrantNumber, code, label: deviceLabel() });
    store.saveEnrolment(result.device_token, result.officer);
    $('enrol-code').value = '';
    showHome();
  } catch (error) {
    if (error instanceof HubUnreachable) setError('enrol-error', error.message);
    else if (error instanceof HubError && error.status === 429) {
      setError('enrol-error', error.detail || 'Too many attempts. Wait a minute and try again.');
    } else setError('enrol-error', error instanceof HubError && error.status === 401
      && /revoked/i.test(error.detail) ? REVOKED_MESSAGE : BAD_CODE_MESSAGE);
  } finally {
    $('enrol-submit').disabled = false;
  }
}

/** A name for this device in the hub's records, e.g. 'Field page (Android)'. */
function deviceLabel() {
  const platform = navigator.userAgentData?.platform || navigator.platform || 'browser';
  return `Field page (${platform})`.slice(0, 200);
}

/** On load: is the stored token still good? Tidy up a request a previous page left open. */
async function boot() {
  if (!store.loadToken()) {
    showEnrol();
    return;
  }
  // A request a previous page left open: its media died with that page, and the hub allows one
  // open request per device, so hang it up before the officer can tap Verify me again.
  const leftOpen = store.loadOpenRequest();
  const tidied = leftOpen === null ? Promise.resolve()
    : hub.json('POST', `/requests/${leftOpen}/hangup`, undefined, { timeoutMs: 5000 })
      .then(() => store.saveOpenRequest(null))
      .catch((error) => {
        if (error instanceof HubError) store.saveOpenRequest(null); // already over on the hub
      });
  try {
    const officer = await hub.json('GET', '/device/me', undefined, { timeoutMs: 8000 });
    store.saveOfficer(officer);
    await tidied;
    showHome();
  } catch (error) {
    if (error instanceof HubError && error.isAuthFailure) onRevoked(error.detail);
    else if (error instanceof HubUnreachable) showHome(error.message);
    else showHome(`Could not check this device with the control room: ${error.message || error}`);
  }
}

// ------------------------------------------------------------------ the call

const PHASE_TEXT = {
  starting: ['Starting camera…', 'Allow the camera and microphone if your phone asks.'],
  calling: ['Calling the control room…', ''],
};

function renderPhase(phase, info) {
  const remote = $('remote-video');
  document.body.dataset.phase = phase;
  let title;
  let detail;
  if (PHASE_TEXT[phase]) {
    [title, detail] = PHASE_TEXT[phase];
    detail = restartNotice || detail;
  } else if (phase === 'queued') {
    const position = info.position ? `${ordinal(info.position)} in the queue` : 'In the queue';
    title = 'Waiting for a sergeant';
    detail = `${position} · waiting ${formatDuration(info.waitedSeconds)}`;
  } else if (phase === 'claimed') {
    title = `Answered by ${info.by || 'a sergeant'}`;
    detail = 'Connecting video…';
  } else if (phase === 'connected') {
    title = `Connected to ${info.by || 'the control room'}`;
    detail = 'Show the sergeant your face and warrant card.';
  } else {
    return; // 'decided' renders the outcome screen
  }
  $('screen-call').classList.toggle('in-call', phase === 'connected');
  remote.hidden = phase !== 'connected';
  setText('call-title', title);
  setText('call-detail', detail);
}

function renderOutcome(view, at) {
  const confirmed = view.outcome === 'confirmed';
  const banner = $('outcome-banner');
  banner.textContent = confirmed ? 'CONFIRMED' : 'REFUSED';
  banner.className = `outcome-banner ${confirmed ? 'confirmed' : 'refused'}`;
  $('screen-outcome').classList.toggle('refused', !confirmed);
  setText('outcome-reason', confirmed
    ? 'A serving police officer: identity checked on video by the control room.'
    : `NOT verified: ${view.reason_label || view.reason_code || 'refused'}`);
  $('outcome-advice').hidden = confirmed;
  setText('outcome-reference', view.reference || '—');
  setText('outcome-officer', officerLine(store.loadOfficer()));
  setText('outcome-sergeant', view.answered_by || 'Control room');
  setText('outcome-time', formatTime(at || view.decided_at));
  setText('outcome-done', 'End call');
  showScreen('outcome', `decided-${view.outcome}`);
}

// Why a call is being made again automatically (shown until the new call is queued).
let restartNotice = '';

function startCall(notice = '') {
  if (session && !session.done) return;
  restartNotice = notice;
  $('verify').disabled = true;
  setError('home-error', '');
  setBanner(null);
  showScreen('call', 'starting');
  $('screen-call').classList.remove('in-call');
  $('remote-video').hidden = true;
  $('remote-video').srcObject = null;
  const current = new CallSession(hub, {
    phase: (phase, info) => { if (session === current) renderPhase(phase, info); },
    localStream: (stream) => { $('local-video').srcObject = stream; },
    remoteStream: (stream) => {
      const remote = $('remote-video');
      if (remote.srcObject !== stream) remote.srcObject = stream;
      // Autoplay with sound is allowed: the officer's tap on Verify me was the user gesture.
      remote.play().catch(() => {});
    },
    decided: (view, at) => { if (session === current) renderOutcome(view, at); },
    finished: (kind, message, view) => { if (session === current) onFinished(kind, message, view); },
    revoked: (detail) => onRevoked(detail),
    banner: (message) => setBanner(message),
    openRequest: (id) => store.saveOpenRequest(id),
    restart: (message) => startCall(message),
  });
  session = current;
  window.safeConnection.session = current;
  current.start();
}

function onFinished(kind, message, view) {
  $('local-video').srcObject = null;
  $('remote-video').srcObject = null;
  if (kind === 'revoked' || kind === 'restart') return;
  if (view?.outcome) {
    // Keep the outcome on screen: the woman may still be photographing it.
    setText('outcome-done', 'Done');
    document.body.dataset.phase = `ended-${view.outcome}`;
    return;
  }
  const titles = {
    cancelled: 'Request cancelled',
    left: 'You left the call',
    ended: 'Call ended',
    expired: 'Nobody answered',
    failed: 'Call failed',
    'camera-denied': 'Camera blocked',
    'camera-missing': 'No camera',
    'camera-busy': 'Camera unavailable',
    'camera-insecure': 'Camera unavailable',
    'camera-failed': 'Camera unavailable',
    unreachable: 'No connection',
    'call-failed': 'Call failed',
    error: 'Call not made',
  };
  setText('ended-title', titles[kind] || 'Call ended');
  setText('ended-detail', message);
  showScreen('ended', `ended-${kind}`);
}

function onOutcomeButton() {
  if (session && !session.done) session.hangUp();
  else showHome();
}

// ------------------------------------------------------------------ wiring

// For tests and bench/bench_browser.py: read-only access to the live call.
window.safeConnection = {
  session: null,
  phase: () => document.body.dataset.phase,
  stats: async () => (window.safeConnection.session ? window.safeConnection.session.stats() : null),
};

$('enrol-form').addEventListener('submit', enrol);
$('verify').addEventListener('click', () => startCall());
$('hangup').addEventListener('click', () => session?.hangUp());
$('remote-video').addEventListener('click', () => $('remote-video').classList.toggle('whole'));
$('outcome-done').addEventListener('click', onOutcomeButton);
$('ended-again').addEventListener('click', () => showHome());
window.addEventListener('pagehide', () => {
  // Leaving the page mid-call: tell the hub now rather than leaving a dead request queued.
  const id = store.loadOpenRequest();
  const token = store.loadToken();
  if (id !== null && token) {
    fetch(`/api/v1/requests/${id}/hangup`, {
      method: 'POST', keepalive: true, headers: { Authorization: `Bearer ${token}` },
    }).catch(() => {});
  }
});

boot();
