"""Clearly synthetic officer portraits drawn with Pillow, deterministic by seed.

Each seed picks a skin tone, face shape, hair colour and style, eye colour, glasses, beard and a
background colour, so demo officers are easy to tell apart on the console. Every image carries a
"SYNTHETIC" tag: these are not photos of anyone.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 480, 600

SKIN_TONES = [
    (255, 224, 196),
    (241, 194, 160),
    (224, 172, 125),
    (198, 134, 90),
    (161, 102, 64),
    (120, 74, 45),
    (90, 56, 36),
    (234, 200, 170),
]
HAIR_COLOURS = [
    (20, 20, 22),
    (70, 45, 25),
    (120, 80, 40),
    (185, 140, 80),
    (220, 200, 140),
    (160, 60, 30),
    (140, 140, 140),
    (230, 230, 230),
]
EYE_COLOURS = [(60, 40, 20), (40, 90, 140), (60, 110, 60), (90, 70, 50), (30, 30, 30)]
BACKGROUNDS = [
    (140, 170, 200),
    (170, 200, 170),
    (210, 190, 150),
    (190, 160, 200),
    (160, 160, 170),
    (200, 150, 140),
    (130, 190, 190),
    (215, 215, 190),
]
SHIRTS = [(30, 40, 70), (240, 240, 245), (60, 60, 60), (110, 30, 40), (40, 80, 60), (90, 90, 120)]
HAIR_STYLES = ("short", "long", "bald", "curly", "bun", "side_part")


@dataclass(frozen=True)
class Features:
    """What a seed chose; handy for tests that check portraits differ."""

    skin: tuple[int, int, int]
    hair_colour: tuple[int, int, int]
    hair_style: str
    eyes: tuple[int, int, int]
    background: tuple[int, int, int]
    shirt: tuple[int, int, int]
    face_width: int
    face_height: int
    glasses: bool
    beard: bool


def features_for(seed: int) -> Features:
    """The deterministic feature choice for `seed`."""
    rng = random.Random(seed * 7919 + 17)
    return Features(
        skin=SKIN_TONES[rng.randrange(len(SKIN_TONES))],
        hair_colour=HAIR_COLOURS[rng.randrange(len(HAIR_COLOURS))],
        hair_style=HAIR_STYLES[rng.randrange(len(HAIR_STYLES))],
        eyes=EYE_COLOURS[rng.randrange(len(EYE_COLOURS))],
        background=BACKGROUNDS[rng.randrange(len(BACKGROUNDS))],
        shirt=SHIRTS[rng.randrange(len(SHIRTS))],
        face_width=rng.randrange(150, 200),
        face_height=rng.randrange(200, 250),
        glasses=rng.random() < 0.35,
        beard=rng.random() < 0.3,
    )


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    r, g, b = colour
    return (int(r * factor), int(g * factor), int(b * factor))


def draw_portrait(seed: int) -> Image.Image:
    """A 480x600 RGB head-and-shoulders drawing for `seed`."""
    f = features_for(seed)
    image = Image.new("RGB", (WIDTH, HEIGHT), f.background)
    draw = ImageDraw.Draw(image)
    cx, cy = WIDTH // 2, 270
    fw, fh = f.face_width, f.face_height
    # Shoulders and neck.
    draw.ellipse((cx - 230, 470, cx + 230, 760), fill=f.shirt)
    draw.rectangle((cx - 40, cy + fh // 2 - 30, cx + 40, 500), fill=_shade(f.skin, 0.92))
    # Hair behind the head (long / bun / curly).
    if f.hair_style == "long":
        draw.rounded_rectangle(
            (cx - fw // 2 - 25, cy - fh // 2 - 20, cx + fw // 2 + 25, cy + fh // 2 + 60),
            radius=70,
            fill=f.hair_colour,
        )
    elif f.hair_style == "curly":
        for dx in range(-fw // 2 - 10, fw // 2 + 20, 28):
            for dy in (-fh // 2 - 10, -fh // 2 + 20, -fh // 2 + 50):
                draw.ellipse(
                    (cx + dx - 26, cy + dy - 26, cx + dx + 26, cy + dy + 26), fill=f.hair_colour
                )
    elif f.hair_style == "bun":
        draw.ellipse((cx - 45, cy - fh // 2 - 75, cx + 45, cy - fh // 2 + 10), fill=f.hair_colour)
    # Ears and face.
    draw.ellipse(
        (cx - fw // 2 - 18, cy - 25, cx - fw // 2 + 18, cy + 35), fill=_shade(f.skin, 0.95)
    )
    draw.ellipse(
        (cx + fw // 2 - 18, cy - 25, cx + fw // 2 + 18, cy + 35), fill=_shade(f.skin, 0.95)
    )
    draw.ellipse((cx - fw // 2, cy - fh // 2, cx + fw // 2, cy + fh // 2), fill=f.skin)
    # Hair on top.
    if f.hair_style in ("short", "long", "bun", "side_part", "curly"):
        top = (cx - fw // 2 - 4, cy - fh // 2 - 14, cx + fw // 2 + 4, cy - fh // 2 + fh // 3)
        draw.chord(top, 180, 360, fill=f.hair_colour)
        if f.hair_style == "side_part":
            draw.polygon(
                [
                    (cx - fw // 2, cy - fh // 2 + 40),
                    (cx + 20, cy - fh // 2 - 5),
                    (cx - fw // 2 + 10, cy - fh // 2 + 80),
                ],
                fill=f.hair_colour,
            )
    # Eyes, brows, nose, mouth.
    eye_y = cy - fh // 10
    for side in (-1, 1):
        ex = cx + side * fw // 5
        draw.ellipse((ex - 17, eye_y - 10, ex + 17, eye_y + 10), fill=(250, 250, 250))
        draw.ellipse((ex - 8, eye_y - 8, ex + 8, eye_y + 8), fill=f.eyes)
        draw.ellipse((ex - 3, eye_y - 3, ex + 3, eye_y + 3), fill=(10, 10, 10))
        draw.line(
            (ex - 20, eye_y - 24, ex + 20, eye_y - 26 - side * 2),
            fill=_shade(f.hair_colour, 0.8),
            width=6,
        )
        if f.glasses:
            draw.rounded_rectangle(
                (ex - 30, eye_y - 20, ex + 30, eye_y + 20), radius=10, outline=(25, 25, 25), width=4
            )
    if f.glasses:
        draw.line((cx - fw // 5 + 30, eye_y, cx + fw // 5 - 30, eye_y), fill=(25, 25, 25), width=4)
    draw.polygon(
        [(cx, eye_y + 10), (cx - 14, cy + fh // 8), (cx + 10, cy + fh // 8)],
        fill=_shade(f.skin, 0.85),
    )
    mouth_y = cy + fh // 4
    if f.beard:
        draw.chord(
            (cx - fw // 2 + 8, cy - 10, cx + fw // 2 - 8, cy + fh // 2 + 12),
            0,
            180,
            fill=_shade(f.hair_colour, 0.9),
        )
    draw.arc((cx - 35, mouth_y - 18, cx + 35, mouth_y + 14), 20, 160, fill=(150, 60, 60), width=5)
    # The synthetic tag: nobody should mistake this for a photo.
    font = ImageFont.load_default(size=22)
    draw.rectangle((0, HEIGHT - 38, WIDTH, HEIGHT), fill=(20, 20, 20))
    draw.text(
        (WIDTH // 2, HEIGHT - 19),
        f"SYNTHETIC · DEMO #{seed}",
        fill=(255, 210, 0),
        font=font,
        anchor="mm",
    )
    return image


@lru_cache(maxsize=128)
def portrait_png(seed: int) -> bytes:
    """The portrait for `seed` as PNG bytes (cached: the demo hub may be started many times)."""
    buffer = io.BytesIO()
    draw_portrait(seed).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
