"""Virtual time: integer minutes since midnight of the working day."""

from __future__ import annotations

import re

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


_DAY = [_fmt(m) for m in range(24 * 60)]  # formatted once: fmt runs several times per agent step


def fmt(minute: int) -> str:
    """``570`` -> ``"09:30"``."""
    return _DAY[minute] if type(minute) is int and 0 <= minute < 1440 else _fmt(minute)


def parse(text: str) -> int:
    """``"09:30"`` -> ``570``. Raises ``ValueError`` with a readable message."""
    m = _HHMM.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"time {text!r} is not in HH:MM form (e.g. '14:30')")
    h, mi = int(m.group(1)), int(m.group(2))
    if h > 23 or mi > 59:
        raise ValueError(f"time {text!r} is not a valid clock time")
    return h * 60 + mi
