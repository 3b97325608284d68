// Server-sent events over fetch(): EventSource cannot send an Authorization header, so the page
// reads the response body itself and parses the text/event-stream format (WHATWG HTML §9.2).

/** Incremental text/event-stream parser: feed it decoded text, it calls back per message. */
export class SseParser {
  /**
   * @param {(msg: {id: string|null, event: string, data: string}) => void} onMessage
   * @param {() => void} [onComment] called for comment lines such as `: heartbeat`
   */
  constructor(onMessage, onComment = () => {}) {
    this.onMessage = onMessage;
    this.onComment = onComment;
    this.buffer = '';
    this.lastEventId = null;
    this.resetMessage();
  }

  resetMessage() {
    this.data = [];
    this.event = '';
    this.id = null;
  }

  /** Feed a chunk of decoded text; complete lines are processed, the rest is kept. */
  push(text) {
    this.buffer += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (match === null) return;
      // A lone "\r" at the very end may be the first half of "\r\n" split across chunks.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) return;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) {
      this.onComment(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    // "retry" and unknown fields are ignored: the page has its own reconnect policy.
  }

  dispatch() {
    if (this.id !== null) this.lastEventId = this.id;
    if (this.data.length > 0) {
      this.onMessage({
        id: this.lastEventId,
        event: this.event || 'message',
        data: this.data.join('\n'),
      });
    }
    this.resetMessage();
  }
}
