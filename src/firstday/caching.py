"""Values derived from an object, cached by the object's identity for as long as it lives.

Loaded scenarios are shared, unchanged, by the episodes that run on them (every trial and every day of
a scenario); what is derived from their parts (content hashes, rendered images) need not be derived
again for each episode. Models are not hashable, and an ``id`` alone may be reused by a later object:
entries hold a weak reference to their object and go when it is freed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityCache(Generic[K, V]):
    """Values computed from an object, keyed by the object's identity and dropped when it is freed (a
    weak reference: models are unhashable, and an id alone could be reused by a later object)."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[Any], V]] = {}

    def get(self, obj: K, compute: Callable[[K], V]) -> V:
        entry = self._entries.get(id(obj))
        if entry is not None and entry[0]() is obj:
            return entry[1]
        value = compute(obj)
        key = id(obj)

        def drop(ref: weakref.ref[Any], entries: dict[int, tuple[weakref.ref[Any], V]] = self._entries) -> None:
            if entries.get(key, (None,))[0] is ref:  # not a newer entry for a new object at that address
                del entries[key]

        self._entries[key] = (weakref.ref(obj, drop), value)
        return value
