"""Demo portraits: right size, deterministic, tagged synthetic, and visibly different."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from hub.demo.portraits import HEIGHT, WIDTH, draw_portrait, features_for, portrait_png

SEEDS = range(1, 31)


def test_portraits_are_480_by_600_png() -> None:
    image = Image.open(io.BytesIO(portrait_png(1)))
    assert image.format == "PNG"
    assert image.size == (WIDTH, HEIGHT) == (480, 600)


def test_portraits_are_deterministic() -> None:
    assert np.array_equal(np.asarray(draw_portrait(7)), np.asarray(draw_portrait(7)))


def test_thirty_portraits_are_all_distinct() -> None:
    pixels = [np.asarray(draw_portrait(seed), dtype=np.int16) for seed in SEEDS]
    for i, a in enumerate(pixels):
        for b in pixels[i + 1 :]:
            # Mean absolute difference well above JPEG noise: a person would tell them apart.
            assert np.abs(a - b).mean() > 3.0


def test_features_vary_across_the_demo_set() -> None:
    features = [features_for(seed) for seed in SEEDS]
    assert len({f.skin for f in features}) >= 5
    assert len({f.hair_style for f in features}) >= 4
    assert len({f.hair_colour for f in features}) >= 5
    assert len({f.background for f in features}) >= 5
    assert any(f.glasses for f in features)
    assert not all(f.glasses for f in features)
    assert any(f.beard for f in features)
    assert not all(f.beard for f in features)


def test_portraits_carry_the_synthetic_tag_band() -> None:
    pixels = np.asarray(draw_portrait(3))
    band = pixels[HEIGHT - 30 : HEIGHT - 8]
    yellow = (band[..., 0] > 200) & (band[..., 1] > 170) & (band[..., 2] < 80)
    assert yellow.sum() > 200  # the yellow "SYNTHETIC" lettering on the dark band
    assert (pixels[HEIGHT - 36 : HEIGHT, :10] < 40).all()  # the dark band itself


def test_face_is_drawn_in_skin_tone() -> None:
    seed = 5
    pixels = np.asarray(draw_portrait(seed))
    skin = np.array(features_for(seed).skin)
    centre = pixels[260:280, 200:280].reshape(-1, 3)
    assert (np.abs(centre.astype(int) - skin).sum(axis=1) < 10).mean() > 0.3
