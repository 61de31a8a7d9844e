"""Fast, deterministic text drawing for the ads, resume and event renderers.

``ImageDraw.text`` with Pillow's embedded FreeType font costs one to a few milliseconds per call; a map
or a scanned page draws dozens of strings. Glyph masks are cached per (character, size) and pasted, so
a render stays within a few tens of milliseconds and its pixels depend only on the parameters.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont:
    f = ImageFont.load_default(size=size)
    assert isinstance(f, ImageFont.FreeTypeFont)
    return f


@lru_cache(maxsize=4096)
def _glyph(ch: str, size: int) -> tuple[Image.Image, float]:
    f = font(size)
    ascent, descent = f.getmetrics()
    adv = f.getlength(ch)
    mask = Image.new("L", (int(adv) + 4 + size // 3, ascent + descent + 2), 0)
    ImageDraw.Draw(mask).text((2, 0), ch, font=f, fill=255)
    return mask, adv


def width(text: str, size: int) -> float:
    return sum(_glyph(ch, size)[1] for ch in text)


def draw_text(img: Image.Image, xy: tuple[float, float], text: str, size: int, fill: tuple[int, int, int],
              bold: bool = False) -> float:
    """Draw ``text`` with its top-left at ``xy``; returns the x after the last glyph."""
    x, y = xy
    for ch in text:
        mask, adv = _glyph(ch, size)
        if not ch.isspace():
            for dx in (0, 1) if bold else (0,):
                img.paste(fill, (round(x) - 2 + dx, round(y)), mask)
        x += adv
    return x
