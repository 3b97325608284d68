// The only persistent state of the page: the device token and who the device belongs to.
// localStorage (not cookies) so the token is never sent automatically with any request; it goes
// out only in the Authorization header the page sets itself.

const TOKEN_KEY = 'safe-connection.device-token';
const OFFICER_KEY = 'safe-connection.officer';
const OPEN_REQUEST_KEY = 'safe-connection.open-request';

export function loadToken() {
  return localStorage.getItem(TOKEN_KEY);
}

/** Keep the token and a display copy of the officer (for the outcome screen when offline). */
export function saveEnrolment(token, officer) {
  localStorage.setItem(TOKEN_KEY, token);
  saveOfficer(officer);
}

export function loadOfficer() {
  try {
    return JSON.parse(localStorage.getItem(OFFICER_KEY) || 'null');
  } catch {
    return null;
  }
}

export function saveOfficer(officer) {
  if (officer) localStorage.setItem(OFFICER_KEY, JSON.stringify(officer));
}

/** Forget everything: used when the hub says the token is revoked or unknown. */
export function clearEnrolment() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(OFFICER_KEY);
  localStorage.removeItem(OPEN_REQUEST_KEY);
}

// The id of a request still open on the hub, so that a reloaded page can hang it up: its media
// died with the old page, and the hub allows one active request per device.
export function loadOpenRequest() {
  const value = Number.parseInt(localStorage.getItem(OPEN_REQUEST_KEY) || '', 10);
  return Number.isFinite(value) ? value : null;
}

export function saveOpenRequest(requestId) {
  if (requestId === null) localStorage.removeItem(OPEN_REQUEST_KEY);
  else localStorage.setItem(OPEN_REQUEST_KEY, String(requestId));
}
