// The page's one door to the hub API: JSON requests with a timeout and typed errors, and the
// device event stream read with fetch() (see sse.js for why not EventSource).

import { SseParser } from './sse.js';

export const API = '/api/v1';

/** The hub answered with an error body {error, detail}. */
export class HubError extends Error {
  constructor(status, code, detail) {
    super(detail || `The control room hub refused the request (${status}).`);
    this.name = 'HubError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }

  get isAuthFailure() {
    return this.status === 401;
  }
}

/** No answer from the hub at all (network down, hub stopped, timeout). */
export class HubUnreachable extends Error {
  constructor(cause) {
    super('Cannot reach the control room. Check your mobile signal and try again.');
    this.name = 'HubUnreachable';
    this.cause = cause;
  }
}

function delay(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

async function errorFrom(response) {
  let code = 'http_' + response.status;
  let detail = '';
  try {
    const body = await response.json();
    code = body.error || code;
    detail = typeof body.detail === 'string' ? body.detail : '';
  } catch {
    // Not our JSON error body (a proxy page, say): keep the status-based code.
  }
  return new HubError(response.status, code, detail);
}

export class HubClient {
  /** @param {() => string|null} getToken returns the device token (or null before enrolment) */
  constructor(getToken) {
    this.getToken = getToken;
  }

  headers(extra = {}) {
    const headers = { Accept: 'application/json', ...extra };
    const token = this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    return headers;
  }

  /**
   * One JSON round trip. Resolves to the parsed body (or null for 204).
   * Throws HubUnreachable on network failure or timeout, HubError on any error status.
   */
  async json(method, path, body = undefined, { timeoutMs = 10000 } = {}) {
    const init = { method, headers: this.headers(), signal: AbortSignal.timeout(timeoutMs) };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API + path, init);
    } catch (error) {
      throw new HubUnreachable(error);
    }
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204) return null;
    try {
      return await response.json();
    } catch (error) {
      throw new HubUnreachable(error);
    }
  }

  /**
   * Follow `/requests/{id}/device-events` until `signal` aborts. Reconnects after network errors
   * with Last-Event-ID so no event is lost or repeated; a stream silent for longer than
   * `idleMs` (heartbeats included) is treated as dead and reopened.
   * Calls onEvent(deviceEvent) per message, onLink(true|false) when the link goes up or down.
   * Rejects with HubError when the hub refuses the stream (401/403/404): retrying cannot help.
   */
  async followDeviceEvents(requestId, { onEvent, onLink = () => {}, signal, idleMs = 35000 }) {
    let lastEventId = null;
    let backoffMs = 500;
    while (!signal.aborted) {
      const attempt = new AbortController();
      const abortAttempt = () => attempt.abort();
      signal.addEventListener('abort', abortAttempt, { once: true });
      let idleTimer = null;
      const touch = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => attempt.abort(), idleMs);
      };
      try {
        touch();
        const headers = this.headers({ Accept: 'text/event-stream' });
        if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
        const response = await fetch(`${API}/requests/${requestId}/device-events`, {
          headers, signal: attempt.signal, cache: 'no-store',
        });
        if (!response.ok) {
          const error = await errorFrom(response);
          if (error.code === 'cursor_ahead' && lastEventId !== null) {
            // The hub's database was restored: our position no longer exists there. Start
            // again from the request's first event (docs/protocol.md, cursor_ahead).
            lastEventId = null;
            continue;
          }
          if (response.status < 500) throw error;
          throw new HubUnreachable(error);
        }
        onLink(true);
        backoffMs = 500;
        const parser = new SseParser((message) => {
          lastEventId = message.id ?? lastEventId;
          let event;
          try {
            event = JSON.parse(message.data);
          } catch {
            return; // not one of ours; the stream itself is still fine
          }
          onEvent(event);
        }, touch);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          touch();
          parser.push(value);
        }
      } catch (error) {
        if (error instanceof HubError) throw error;
        // Network error, hub restart or idle timeout: fall through and reconnect.
      } finally {
        clearTimeout(idleTimer);
        signal.removeEventListener('abort', abortAttempt);
      }
      if (signal.aborted) break;
      onLink(false);
      await delay(backoffMs, signal);
      backoffMs = Math.min(backoffMs * 2, 5000);
    }
  }
}
