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
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

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
    """Grainy sensor noise from a seeded generator (numpy's PCG64 is stable across platforms).

    The grain is 3-pixel blocks quantised to steps of 3, tiled from a 162-pixel square and added in C
    (``ImageChops``): per-pixel Gaussian noise looks no more real but makes the PNG incompressible, and
    encoding it then costs three times the drawing.
    """
    if sigma <= 0:
        return image
    side, block = 162, 3
    grain = np.round(np.random.default_rng(seed).standard_normal((side // block, side // block)) * sigma / 3) * 3
    tile = Image.fromarray(np.clip(grain + 128.0, 0, 255).astype(np.uint8), "L").resize(
        (side, side), Image.Resampling.NEAREST)
    rgb = image.convert("RGB")
    w, h = rgb.size
    layer = Image.new("L", (w, h), 128)
    for y in range(0, h, side):
        for x in range(0, w, side):
            layer.paste(tile, (x, y))
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
    """Draw ``text`` like a marker: words bobbing and unevenly spaced, the line a little tilted.

    (One rotation per line, not per word: rotations are most of the cost of a whiteboard.)
    Returns the x coordinate after the text.
    """
    x, y = xy
    f = font(size)
    words = [w for w in text.split(" ") if w]
    widths = [int(f.getlength(w)) for w in words]
    tile = Image.new("L", (sum(widths) + len(words) * (size // 2 + 4) + 2 * size, 3 * size), 0)
    d = ImageDraw.Draw(tile)
    cx = size
    for word, w in zip(words, widths, strict=True):
        d.text((cx, size + rng.randint(-3, 3)), word, font=f, fill=255)
        cx += w + int(size * 0.4) + rng.randint(0, 4)
    if size >= 18:  # a marker's thick line: dilate (FreeType strokes cost ten times more)
        tile = tile.filter(ImageFilter.MaxFilter(3))
    tile = tile.rotate(slant + rng.uniform(-1.5, 1.5), resample=Image.Resampling.BILINEAR, expand=True)
    ink = Image.new("RGB", tile.size, colour)
    dy = (tile.height - 3 * size) // 2
    canvas.paste(ink, (x - size, y - size - dy), tile)
    return x + cx - size
