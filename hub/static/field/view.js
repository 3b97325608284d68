// Rendering helpers: the page's screens and text. No network, no WebRTC, no state decisions.

const SCREENS = ['loading', 'enrol', 'home', 'call', 'outcome', 'ended'];

export const $ = (id) => document.getElementById(id);

/** Show exactly one screen; `phase` is mirrored on <body data-phase> for styling and tests. */
export function showScreen(name, phase = name) {
  for (const screen of SCREENS) $(`screen-${screen}`).hidden = screen !== name;
  document.body.dataset.phase = phase;
}

export function setText(id, text) {
  $(id).textContent = text ?? '';
}

/** Show or clear an inline error paragraph. */
export function setError(id, message) {
  const element = $(id);
  element.textContent = message || '';
  element.hidden = !message;
}

/** The banner under the top bar: connection trouble that does not stop the flow. */
export function setBanner(message) {
  setError('banner', message);
}

/** 'PC John SMITH · 1001CW' */
export function officerLine(officer) {
  if (!officer) return '';
  const name = [officer.rank, officer.forenames, (officer.surname || '').toUpperCase()]
    .filter(Boolean).join(' ');
  return officer.collar_number ? `${name} · ${officer.collar_number}` : name;
}

export function formatDuration(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

/** '29 Nov 2026, 09:41:07' in the phone's own time zone. */
export function formatTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  if (Number.isNaN(date.getTime())) return '';
  return date.toLocaleString('en-GB', {
    day: 'numeric', month: 'short', year: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

export function ordinal(n) {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th'}`;
}
