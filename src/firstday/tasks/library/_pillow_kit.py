"""Drawing helpers shared by the image families (receipts, charts, whiteboards, plans, org charts).

Everything here is a pure function of its arguments: randomness comes from the ``random.Random`` a
renderer builds from its own ``params["seed"]``, the font is Pillow's embedded one with the basic layout
engine (no system fonts, no raqm), so the same parameters give the same pixels on any machine with the
same Pillow version.

Convention for the image tests: a renderer's ``params`` may carry ``"deciding"``, the list of strings
drawn in the image that decide the task's answer. They must appear in no text the agent can read
(``tests/test_image_families.py`` checks it), only in the image and in its text alternative.
"""

from __future__ import annotations

import random
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont

Colour = tuple[int, int, int]


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's embedded font at ``size`` pixels (basic layout: identical everywhere)."""
    f = ImageFont.load_default(size=size)
    assert isinstance(f, ImageFont.FreeTypeFont)
    return f


def text_width(text: str, size: int) -> int:
    return int(font(size).getlength(text))


def add_noise(image: Image.Image, seed: int, sigma: float) -> Image.Image:
    """Gaussian sensor noise from a seeded generator (numpy's PCG64 is stable across platforms).

    A 160-pixel tile of noise is repeated over the image and added in C (``ImageChops``): drawing fresh
    noise for every pixel costs more than the rest of a render, and a repeat that large is not visible.
    """
    if sigma <= 0:
        return image
    side = 160
    tile = np.random.default_rng(seed).standard_normal(size=(side, side)) * sigma + 128.0
    tile_img = Image.fromarray(np.clip(tile, 0, 255).astype(np.uint8), "L")
    rgb = image.convert("RGB")
    w, h = rgb.size
    layer = Image.new("L", (w, h), 128)
    for y in range(0, h, side):
        for x in range(0, w, side):
            layer.paste(tile_img, (x, y))
    return ImageChops.add(rgb, Image.merge("RGB", (layer, layer, layer)), scale=1.0, offset=-128)


def speckle(draw: ImageDraw.ImageDraw, rng: random.Random, width: int, height: int, n: int, colour: Colour) -> None:
    """Dust and scanner specks."""
    for _ in range(n):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.choice((0, 0, 1))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def rotate(image: Image.Image, angle: float, fill: Colour) -> Image.Image:
    """Rotate about the centre, keeping the whole image (the corners filled with ``fill``)."""
    if abs(angle) < 0.05:
        return image
    return image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=fill)


def fit(image: Image.Image, max_w: int = 800, max_h: int = 600) -> Image.Image:
    """Scale down (never up) to fit ``max_w`` x ``max_h``."""
    w, h = image.size
    k = min(max_w / w, max_h / h, 1.0)
    if k >= 1.0:
        return image
    return image.resize((max(1, int(w * k)), max(1, int(h * k))), Image.Resampling.LANCZOS)


def jitter(colour: Colour, rng: random.Random, amount: int) -> Colour:
    r, g, b = (max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)
    return (r, g, b)


def handwrite(canvas: Image.Image, xy: tuple[int, int], text: str, size: int, colour: Colour,
              rng: random.Random, slant: float = 0.0) -> int:
    """Draw ``text`` like a marker: each word a little rotated and bobbing, letters unevenly spaced.

    Returns the x coordinate after the text.
    """
    x, y = xy
    f = font(size)
    stroke = 1 if size >= 18 else 0
    for word in text.split(" "):
        if not word:
            x += size // 3
            continue
        w = int(f.getlength(word)) + 2 * size
        tile = Image.new("L", (w, size * 2), 0)
        d = ImageDraw.Draw(tile)
        cx = size // 2
        for ch in word:
            d.text((cx, size // 2 + rng.randint(-1, 1)), ch, font=f, fill=255, stroke_width=stroke, stroke_fill=255)
            cx += int(f.getlength(ch)) + rng.choice((0, 0, 1))
        tile = tile.crop((0, 0, cx + size // 2, size * 2))
        tile = tile.rotate(slant + rng.uniform(-2.5, 2.5), resample=Image.Resampling.BICUBIC, expand=True)
        ink = Image.new("RGB", tile.size, colour)
        canvas.paste(ink, (x - size // 2, y - size // 2 + rng.randint(-1, 1)), tile)
        x += cx - size // 2 + int(size * 0.45) + rng.randint(0, 2)
    return x
