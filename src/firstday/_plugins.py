"""Plug-ins: what other packages declare in an entry point group, and ``"module:attribute"`` targets imported
on use (the registries of agents and model providers are built on these two)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PluginEntry:
    name: str
    target: str  # "module:attribute"
    package: str  # the distribution that declares it


def entry_point_targets(group: str) -> dict[str, PluginEntry]:
    """The entries of ``group`` in the installed packages, by name; nothing is imported."""
    from importlib.metadata import entry_points  # ~40 ms: only when a registry needs it

    return {ep.name: PluginEntry(ep.name, ep.value, ep.dist.name if ep.dist is not None else "an installed package")
            for ep in entry_points(group=group)}


def load_object(target: str) -> Any:
    """The object a ``"module:attribute"`` string names (``attribute`` may be dotted), imported now."""
    module, sep, attribute = target.partition(":")
    if not sep or not module or not attribute:
        raise ValueError(f"{target!r} is not of the form 'module:attribute'")
    obj: Any = importlib.import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj
