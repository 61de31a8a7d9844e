"""The on-disk response cache: one JSON file per request, named by the hash of the full request.

Identical requests (same provider kind, model, messages, tools, temperature, seed, limits, extra
parameters) get the saved response, so an identical rerun makes no model call. Any change to the
request changes the key; there is nothing to invalidate by hand (delete the folder to start over).
Errors are never cached.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ValidationError

from firstday.models.base import CACHE_FORMAT, ModelRequest, ModelResponse


def default_cache_dir() -> Path:
    env = os.environ.get("FIRSTDAY_CACHE_DIR")
    if env:
        return Path(env) / "models"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "firstday" / "models"


class CacheEntry(BaseModel):
    format: str = CACHE_FORMAT
    key: str
    request: ModelRequest
    response: ModelResponse


class ResponseCache:
    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> ModelResponse | None:
        p = self.path(key)
        try:
            entry = CacheEntry.model_validate_json(p.read_bytes())
        except (OSError, ValidationError):
            # missing, or unreadable (e.g. written by another version): treat as a miss
            self.misses += 1
            return None
        if entry.format != CACHE_FORMAT or entry.key != key:
            self.misses += 1
            return None
        self.hits += 1
        return entry.response

    def put(self, key: str, request: ModelRequest, response: ModelResponse) -> None:
        p = self.path(key)
        stored = response.model_copy(update={"cached": False})
        data = CacheEntry(key=key, request=request, response=stored).model_dump_json()
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            # atomic: concurrent episodes writing the same key never leave a torn file
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
            os.replace(tmp, p)
        except OSError:
            return  # a cache that cannot be written only costs a rerun its savings
