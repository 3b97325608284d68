"""An incremental server-sent-events parser (WHATWG rules) that also reports every line seen.

The event-stream adapter needs to know when *any* bytes arrive, including `: heartbeat` comment
lines that httpx-sse swallows, to run its heartbeat watchdog; so parsing lives here, pure.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseMessage:
    """One dispatched event."""

    event: str
    data: str
    id: str | None


class SseParser:
    """Feed text chunks; get complete messages back."""

    def __init__(self) -> None:
        self._buffer = ""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: str) -> list[SseMessage]:
        """Parse `chunk` (any size, may split lines) and return the messages it completed."""
        self._buffer += chunk.replace("\r\n", "\n").replace("\r", "\n")
        messages: list[SseMessage] = []
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            message = self._line(line)
            if message is not None:
                messages.append(message)
        return messages

    def _line(self, line: str) -> SseMessage | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # comment, e.g. the hub's heartbeat
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> SseMessage | None:
        if not self._data:
            self._event = ""
            return None
        message = SseMessage(
            event=self._event or "message", data="\n".join(self._data), id=self._id
        )
        self._event = ""
        self._data = []
        return message
