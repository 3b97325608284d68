"""Pure domain rules: wait colours, backoff with jitter, the SSE parser, the idle clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.domain.backoff import Backoff
from console.domain.idle import IdleClock
from console.domain.queue import QueueEntry, WaitLevel, WaitThresholds, format_wait
from console.domain.sse import SseMessage, SseParser


def test_wait_levels_turn_amber_then_red():
    thresholds = WaitThresholds(amber_seconds=10, red_seconds=20)
    assert thresholds.level(0) == WaitLevel.NORMAL
    assert thresholds.level(9.9) == WaitLevel.NORMAL
    assert thresholds.level(10) == WaitLevel.AMBER
    assert thresholds.level(19.9) == WaitLevel.AMBER
    assert thresholds.level(20) == WaitLevel.RED


def test_wait_thresholds_reject_red_before_amber():
    with pytest.raises(ValueError, match="amber <= red"):
        WaitThresholds(amber_seconds=30, red_seconds=20)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (7.9, "0:07"), (125, "2:05"), (3723, "1:02:03")]
)
def test_format_wait(seconds, text):
    assert format_wait(seconds) == text


def test_queue_entry_labels_and_clock_skew():
    created = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    entry = QueueEntry(1, created, "PC", "John SMITH", "1001CW", "", "reported_lost", False)
    assert entry.officer_label == "PC John SMITH"
    assert entry.warrant_label == "REPORTED LOST"
    # The hub's clock may be ahead of ours: never a negative wait.
    assert entry.waited_seconds(created - timedelta(seconds=3)) == 0.0
    assert entry.taken("PS Jones").taken_by == "PS Jones"


def test_backoff_grows_caps_and_resets():
    backoff = Backoff(initial=1, maximum=8, factor=2, jitter=0, random_unit=lambda: 0.5)
    assert [backoff.next_delay() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    backoff.reset()
    assert backoff.next_delay() == 1


@pytest.mark.parametrize("unit", [0.0, 0.999])
def test_backoff_jitter_stays_within_spread(unit):
    backoff = Backoff(initial=10, maximum=10, jitter=0.2, random_unit=lambda: unit)
    delay = backoff.next_delay()
    assert 8.0 <= delay <= 12.0
    assert delay != 10.0


def test_backoff_rejects_nonsense():
    with pytest.raises(ValueError, match="initial"):
        Backoff(initial=0)
    with pytest.raises(ValueError, match="jitter"):
        Backoff(jitter=1.5)


def test_sse_parser_handles_split_chunks_comments_and_ids():
    parser = SseParser()
    stream = ': heartbeat\n\nid: 7\nevent: request.created\ndata: {"a":\ndata: 1}\n\n'
    messages = []
    for i in range(0, len(stream), 5):  # arbitrary chunk boundaries, mid-line
        messages.extend(parser.feed(stream[i : i + 5]))
    assert messages == [SseMessage(event="request.created", data='{"a":\n1}', id="7")]


def test_sse_parser_crlf_and_default_event_name():
    parser = SseParser()
    assert parser.feed("data: x\r\n\r\n") == [SseMessage(event="message", data="x", id=None)]


def test_idle_clock():
    clock = IdleClock(limit_seconds=60, last_activity=100)
    assert clock.remaining(130) == 30
    assert not clock.is_due(159)
    assert clock.is_due(160)
    clock.record_activity(150)
    assert clock.remaining(160) == 50
    with pytest.raises(ValueError, match="positive"):
        IdleClock(limit_seconds=0)
