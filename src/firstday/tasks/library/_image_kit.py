"""Drawing helpers shared by every image family (charts, receipts, whiteboards, dashboards, shelves, forms,
maps, slides, floor plans, org charts, heatmaps, resumes).

Everything here is a pure function of its arguments: randomness comes only from the ``random.Random`` a
renderer builds from its own ``params["seed"]`` (or a seed passed in), and the only font is Pillow's
embedded one with the basic layout engine (no system fonts, no raqm), so the same parameters give the same
pixels on any machine with the same Pillow version.

Text is drawn two ways. :func:`text` (and :func:`centered`, :func:`hand_text`) pastes cached glyph masks
one by one: ``ImageDraw.text`` with the FreeType font costs one to a few milliseconds per call, and a map
or a scanned page draws dozens of strings; :func:`text_width` and :func:`advance` measure such text. A
renderer that draws with ``ImageDraw.text`` and :func:`font` measures with :func:`freetype_width` (the
whole line as FreeType lays it out, which differs from the sum of the glyph advances).

Convention for the image tests: a renderer's ``params`` may carry ``"deciding"``, the list of strings
drawn in the image that decide the task's answer. They must appear in no text the agent can read
(``tests/test_image_families.py`` checks it), only in the image and in its text alternative.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

RGB = tuple[int, int, int]
MIN_SIZE = 6  # the smallest font size drawn: below it the embedded font's glyphs are unreadable


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's embedded scalable font at ``size`` px (cached: building one costs ~0.5 ms)."""
    f = ImageFont.load_default(size=max(MIN_SIZE, int(size)))
    assert isinstance(f, ImageFont.FreeTypeFont)
    return f


def freetype_width(s: str, size: int) -> int:
    """The width of ``s`` drawn by ``ImageDraw.text`` with :func:`font` (``size``)."""
    return int(font(size).getlength(s))


# --- glyph by glyph --------------------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _glyph(ch: str, size: int) -> tuple[Image.Image, float]:
    """One character's anti-aliased mask and advance. Drawing text glyph by glyph from this cache is ~50x
    faster than ``ImageDraw.text``, and the pixels are the same on every run."""
    f = font(size)
    ascent, descent = f.getmetrics()
    adv = f.getlength(ch)
    mask = Image.new("L", (int(adv) + 4 + size // 3, ascent + descent + 2), 0)
    ImageDraw.Draw(mask).text((2, 0), ch, font=f, fill=255)
    return mask, adv


def advance(s: str, size: int) -> float:
    """How far :func:`text` moves drawing ``s`` (not bold)."""
    size = max(MIN_SIZE, int(size))
    return sum(_glyph(ch, size)[1] for ch in s)


def text_width(s: str, size: int) -> int:
    """:func:`advance`, in whole pixels."""
    return int(advance(s, size))


def text(img: Image.Image, xy: tuple[float, float], s: str, size: int, fill: RGB, bold: bool = False,
         bold_spacing: int = 1) -> float:
    """Draw ``s`` with its top-left at ``xy`` (like ``ImageDraw.text``); returns the end x. Bold text is
    drawn twice, a pixel apart, and each glyph advances ``bold_spacing`` pixels more."""
    size = max(MIN_SIZE, int(size))
    x, y = xy
    for ch in s:
        mask, adv = _glyph(ch, size)
        if not ch.isspace():
            img.paste(fill, (round(x) - 2, round(y)), mask)
            if bold:
                img.paste(fill, (round(x) - 1, round(y)), mask)
        x += adv + (bold_spacing if bold else 0)
    return x


def centered(img: Image.Image, box: tuple[float, float, float, float], s: str, size: int, fill: RGB,
             bold: bool = False) -> None:
    """Draw ``s`` centred in ``box``."""
    x0, y0, x1, y1 = box
    w = text_width(s, size) + (len(s) if bold else 0)
    text(img, ((x0 + x1 - w) / 2, (y0 + y1 - size * 1.2) / 2), s, size, fill, bold)


def hand_text(img: Image.Image, xy: tuple[float, float], s: str, size: int, ink: RGB, rng: random.Random) -> float:
    """Handwriting-ish text (a pen on a form): glyph by glyph with wobbling baseline, size, ink and spacing.
    Returns the end x."""
    x, y = xy
    for ch in s:
        sz = size + rng.randint(-2, 1)
        mask, adv = _glyph(ch, sz)
        if not ch.isspace():
            img.paste(jitter(ink, rng, 18), (round(x) - 2, round(y + rng.uniform(-1.6, 1.6) + size - sz)),
                      mask)
            if rng.random() < 0.3:  # a heavier stroke now and then
                img.paste(ink, (round(x) - 1, round(y + size - sz)), mask)
        x += adv + rng.uniform(-0.4, 1.4)
    return x


def handwrite(canvas: Image.Image, xy: tuple[int, int], s: str, size: int, colour: RGB,
              rng: random.Random, slant: float = 0.0) -> int:
    """Draw ``s`` like a marker on a whiteboard: words bobbing and unevenly spaced, the line a little tilted.

    (One rotation per line, not per word: rotations are most of the cost of a whiteboard.)
    Returns the x coordinate after the text.
    """
    x, y = xy
    f = font(size)
    words = [w for w in s.split(" ") if w]
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


# --- colour, wear and noise ------------------------------------------------------------------------------

def jitter(colour: RGB, rng: random.Random, amount: int = 12) -> RGB:
    """``colour`` with each channel moved by up to ``amount``."""
    r, g, b = (max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)
    return (r, g, b)


def speckle(draw: ImageDraw.ImageDraw, rng: random.Random, size: tuple[int, int], n: int, colours: Sequence[RGB],
            radii: Sequence[int] = (0, 0, 1, 1, 2)) -> None:
    """Dust and specks, as on a scan or a photo: ``n`` dots of a radius from ``radii`` and a colour from
    ``colours`` (drawn from ``rng`` per speck when there are several)."""
    w, h = size
    for _ in range(n):
        x, y, r = rng.randrange(w), rng.randrange(h), rng.choice(radii)
        fill = colours[0] if len(colours) == 1 else rng.choice(colours)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def grain(img: Image.Image, rng: random.Random, strength: float, cell: int = 3) -> Image.Image:
    """Blend seeded grey noise (drawn at 1/cell resolution) into ``img``; ``strength`` in [0, 1]."""
    if strength <= 0:
        return img
    w, h = img.size
    sw, sh = max(1, w // cell), max(1, h // cell)
    noise = Image.frombytes("L", (sw, sh), rng.randbytes(sw * sh)).resize((w, h), Image.Resampling.NEAREST)
    return Image.blend(img, Image.merge("RGB", (noise, noise, noise)), strength)


def add_noise(image: Image.Image, seed: int, sigma: float) -> Image.Image:
    """Grainy sensor noise added to ``image``, from a seeded generator (numpy's PCG64 is stable across
    platforms): a photo's, where :func:`grain` fades a scan towards grey.

    The grain is 3-pixel blocks quantised to steps of 3, tiled from a 162-pixel square and added in C
    (``ImageChops``): per-pixel Gaussian noise looks no more real but makes the PNG incompressible, and
    encoding it then costs three times the drawing.
    """
    if sigma <= 0:
        return image
    side, block = 162, 3
    noise = np.round(np.random.default_rng(seed).standard_normal((side // block, side // block)) * sigma / 3) * 3
    tile = Image.fromarray(np.clip(noise + 128.0, 0, 255).astype(np.uint8), "L").resize(
        (side, side), Image.Resampling.NEAREST)
    rgb = image.convert("RGB")
    w, h = rgb.size
    layer = Image.new("L", (w, h), 128)
    for y in range(0, h, side):
        for x in range(0, w, side):
            layer.paste(tile, (x, y))
    return ImageChops.add(rgb, Image.merge("RGB", (layer, layer, layer)), scale=1.0, offset=-128)


# --- geometry --------------------------------------------------------------------------------------------

def tilt(img: Image.Image, degrees: float, fill: RGB) -> Image.Image:
    """Rotate by a small angle about the centre, keeping the size (a slightly crooked scan or photo)."""
    if abs(degrees) < 0.05:
        return img
    # nearest-neighbour: 5x faster than bilinear, and the jaggies pass for scan artefacts
    return img.rotate(degrees, resample=Image.Resampling.NEAREST, expand=False, fillcolor=fill)


def rotate(image: Image.Image, angle: float, fill: RGB) -> Image.Image:
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
