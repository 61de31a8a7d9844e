"""Images rendered lazily and deterministically from a spec.

An image asset stores a :class:`ImageSpec` (a renderer name and its parameters), not pixels: generation
stays fast, the suite's content hash covers the spec, and the PNG is drawn the first time an agent opens
the file. Renderers are pure functions of their parameters (any randomness, such as noise, comes from a
seed inside the parameters), so the same spec always gives the same bytes with the same Pillow version.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field

from firstday.caching import IdentityCache
from firstday.errors import UnknownNameError

_RENDERERS: dict[str, Callable[[dict[str, Any]], Any]] = {}


class ImageSpec(BaseModel):
    renderer: str = Field(description="registered renderer name")
    params: dict[str, Any] = Field(default_factory=dict, description="everything the renderer draws (hidden)")


def register_renderer(name: str) -> Callable[[Callable[[dict[str, Any]], Any]], Callable[[dict[str, Any]], Any]]:
    """Register ``fn(params) -> PIL.Image.Image`` under ``name``."""

    def deco(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
        _RENDERERS[name] = fn
        return fn

    return deco


def renderers() -> list[str]:
    return sorted(_RENDERERS)


@lru_cache(maxsize=256)
def _render_png(renderer: str, params_json: str) -> bytes:
    if renderer not in _RENDERERS:
        raise UnknownNameError("image renderer", renderer, list(_RENDERERS))
    image = _RENDERERS[renderer](json.loads(params_json))
    buf = io.BytesIO()
    # no timestamps or metadata in the PNG, so bytes depend only on pixels
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def render_png(spec: ImageSpec) -> bytes:
    return _render_png(spec.renderer, json.dumps(spec.params, sort_keys=True, separators=(",", ":")))


@lru_cache(maxsize=256)
def _render_b64(renderer: str, params_json: str) -> str:
    return base64.b64encode(_render_png(renderer, params_json)).decode("ascii")


_b64_of_spec: IdentityCache[ImageSpec, str] = IdentityCache()


def render_b64(spec: ImageSpec) -> str:
    # by the spec's identity first: the cache key (sorted JSON of the params) costs tens of µs, and each
    # episode of a scenario opens the same specs
    return _b64_of_spec.get(spec, lambda s: _render_b64(
        s.renderer, json.dumps(s.params, sort_keys=True, separators=(",", ":"))))
