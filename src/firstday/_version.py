"""The installed version of firstday, read from the package metadata (pyproject.toml is where it is written)."""

from __future__ import annotations

import functools


@functools.cache
def package_version() -> str:
    """``firstday``'s version from its installed metadata (an editable install has it too); ``0+unknown``
    for a source tree on ``PYTHONPATH`` that was never installed."""
    from importlib.metadata import PackageNotFoundError, version  # ~40 ms: only when asked

    try:
        return version("firstday")
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> str:
    # ``from firstday._version import __version__`` keeps working; the metadata is read on first use
    if name == "__version__":
        return package_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
