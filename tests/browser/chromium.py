"""Debian's Chromium as a real WebRTC peer, driven by Playwright (shared by tests and the bench).

Flags from shared/design/media.md: a fake camera and microphone, no first-run or background
networking (Chromium would otherwise keep trying to reach the internet), and real host candidates
instead of mDNS names so that aiortc on loopback can reach them.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"

# An iPhone-12-sized screen: the page is mobile first.
PHONE_VIEWPORT = {"width": 390, "height": 844}

BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    # Hidden pages keep rendering and decoding, as on a phone held in the hand.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
)

# A synthetic camera and microphone (a moving pattern and a beep) at 30 fps.
FAKE_DEVICE_ARG = "--use-fake-device-for-media-stream=fps=30"
# Auto-accepts the camera/microphone prompt. Leave it out to have the prompt refused.
FAKE_UI_ARG = "--use-fake-ui-for-media-stream"


def chromium_args(*, allow_camera: bool = True, has_camera: bool = True) -> list[str]:
    """Command-line flags for a headless Chromium peer.

    `allow_camera=False`: the permission prompt is refused. `has_camera=False`: the machine has
    no camera at all (headless Chromium on a server has none without the fake device).
    """
    args = list(BASE_ARGS)
    if has_camera:
        args.append(FAKE_DEVICE_ARG)
    if allow_camera:
        args.append(FAKE_UI_ARG)
    return args
