"""The generated picture the console sends when it has no camera (always the case on CI).

A dark card reading "CONTROL ROOM — NO CAMERA" with a running clock, so the officer sees plainly
that the sergeant has no camera and that the picture is live, not frozen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import av
from PIL import Image, ImageDraw, ImageFont

BACKGROUND_RGB = (22, 27, 34)
TEXT_RGB = (235, 235, 235)
ACCENT_RGB = (230, 160, 40)


@dataclass(frozen=True, slots=True)
class CardStyle:
    """What the card says and how big it is."""

    width: int = 1280
    height: int = 720
    title: str = "CONTROL ROOM \u2014 NO CAMERA"
    subtitle: str = "The sergeant can see and hear you"


def _font(
    size: int, bold: bool = False
) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """DejaVu (has the em dash) when installed, else Pillow's bundled font (which lacks it).

    Returns the font and whether it can draw "\u2014".
    """
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(name, size), True
    except OSError:
        return ImageFont.load_default(size=size), False


class CardRenderer:
    """Renders the card for a given second; caches it because the clock changes once a second."""

    def __init__(self, style: CardStyle | None = None) -> None:
        self.style = style or CardStyle()
        scale = self.style.height / 720
        self._title_font, self._has_dash = _font(max(12, int(56 * scale)), bold=True)
        self._small_font, _ = _font(max(10, int(30 * scale)))
        self._clock_font, _ = _font(max(12, int(72 * scale)), bold=True)
        self._cached_key: str | None = None
        self._cached: av.VideoFrame | None = None

    def frame_at(self, now: dt.datetime) -> av.VideoFrame:
        """The YUV420P card showing `now` (HH:MM:SS); the same object until the second changes."""
        key = now.strftime("%H:%M:%S")
        if key != self._cached_key or self._cached is None:
            self._cached = av.VideoFrame.from_image(self._draw(key)).reformat(format="yuv420p")
            self._cached_key = key
        return self._cached

    def _draw(self, clock_text: str) -> Image.Image:
        style = self.style
        image = Image.new("RGB", (style.width, style.height), BACKGROUND_RGB)
        draw = ImageDraw.Draw(image)
        centre_x = style.width // 2
        # An amber band marks the card as generated, unmistakable for a real camera picture.
        band = max(4, style.height // 60)
        draw.rectangle((0, 0, style.width, band), fill=ACCENT_RGB)
        draw.rectangle((0, style.height - band, style.width, style.height), fill=ACCENT_RGB)
        title = style.title if self._has_dash else style.title.replace("\u2014", "-")
        draw.text(
            (centre_x, int(style.height * 0.36)),
            title,
            font=self._title_font,
            fill=TEXT_RGB,
            anchor="mm",
        )
        draw.text(
            (centre_x, int(style.height * 0.50)),
            style.subtitle,
            font=self._small_font,
            fill=TEXT_RGB,
            anchor="mm",
        )
        draw.text(
            (centre_x, int(style.height * 0.68)),
            clock_text,
            font=self._clock_font,
            fill=ACCENT_RGB,
            anchor="mm",
        )
        return image
