"""Seed derivation. All randomness flows from explicit seeds through these helpers.

A child seed is a hash of its parent seed and a path of labels, so adding a scenario or a task never
changes the seeds of the others, and nothing depends on ``PYTHONHASHSEED`` or the wall clock.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(*parts: object) -> int:
    """A 64-bit seed from any sequence of ints and strings (stable across processes)."""
    text = "\x1f".join(f"{type(p).__name__}:{p}" for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def make_rng(*parts: object) -> random.Random:
    """A private ``random.Random`` seeded from ``parts`` (never the global RNG)."""
    return random.Random(derive_seed(*parts))
