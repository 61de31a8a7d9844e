"""Deterministic: an instance is a pure function of its seed, in this process and in others.

In process: generating the same seed twice gives identical JSON, different seeds give different instances
and, across seeds, different answers; the global ``random`` module is never used. Across processes: fresh
interpreters with other ``PYTHONHASHSEED`` values (which also reorder set iteration) generate the very same
instances.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from firstday.checkers._days import MetaTask, meta_id, seeded_company
from firstday.errors import FirstdayError
from firstday.seeding import derive_seed
from firstday.suites import SuiteSpec, generate_day
from firstday.tasks import Family, get_family

# the spec of the determinism days (one task each; the spec's own settings do not matter here)
DETERMINISM_SPEC = SuiteSpec(name="determinism", scenarios=1)
HASH_SEEDS = ("1", "12345")
_GLOBAL_RANDOM = ("random", "uniform", "randint", "randrange", "choice", "choices", "sample", "shuffle", "gauss",
                  "getrandbits", "seed", "triangular", "normalvariate", "expovariate", "randbytes")


class GlobalRandomUsed(AssertionError):
    """Generation called the global ``random`` module."""


@contextlib.contextmanager
def global_random_forbidden() -> Iterator[None]:
    """While inside, every function of the global ``random`` module raises :class:`GlobalRandomUsed`."""
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise GlobalRandomUsed("generation used the global random module instead of ctx.rng")

    saved = {name: getattr(random, name) for name in _GLOBAL_RANDOM if hasattr(random, name)}
    try:
        for name in saved:
            setattr(random, name, forbidden)
        yield
    finally:
        for name, fn in saved.items():
            setattr(random, name, fn)


def _day_json(meta: MetaTask, seed: int) -> str:
    company = seeded_company("determinism")
    day, _ = generate_day(company, DETERMINISM_SPEC, derive_seed("determinism", seed), 0, meta=[meta])  # type: ignore[list-item]
    return day.model_dump_json()


def instance_problems(meta: MetaTask, seeds: int = 8) -> list[str]:
    """In-process determinism of one meta-task over ``seeds`` seeds (empty: none found)."""
    problems: list[str] = []
    jsons, answers = [], []
    with global_random_forbidden():
        for seed in range(seeds):
            try:
                first, again = _day_json(meta, seed), _day_json(meta, seed)
            except GlobalRandomUsed as exc:
                return [f"{meta_id(meta)} seed {seed}: {exc}"]
            except FirstdayError as exc:
                problems.append(f"{meta_id(meta)} seed {seed}: generation failed: {exc}")
                continue
            if first != again:
                problems.append(f"{meta_id(meta)} seed {seed}: two generations of the same seed differ")
            tasks = json.loads(first)["tasks"]
            if len(tasks) != 1:
                continue  # the day generator dropped the task: the oracle check reports it
            jsons.append(json.dumps(tasks[0], sort_keys=True))
            answers.append(json.dumps(tasks[0]["answers"], sort_keys=True))
    if len(set(jsons)) != len(jsons):
        problems.append(f"{meta_id(meta)}: two seeds gave the same instance")
    if len(answers) >= 2 and len(set(answers)) < 2:
        problems.append(f"{meta_id(meta)}: the answers never change with the seed")
    return problems


def instance_hashes(metas: Sequence[MetaTask], seeds: int) -> dict[str, str]:
    """``meta-id/seed`` -> SHA-256 of the generated day (generation failures hash their message)."""
    out: dict[str, str] = {}
    for meta in metas:
        for seed in range(seeds):
            try:
                text = _day_json(meta, seed)
            except FirstdayError as exc:
                text = f"error: {exc}"
            out[f"{meta_id(meta)}/{seed}"] = hashlib.sha256(text.encode()).hexdigest()
    return out


def importable(family: Family) -> str | None:
    """``module:QualifiedName`` of the family's class, if another process can import it by that name."""
    cls = type(family)
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        return None
    return f"{cls.__module__}:{cls.__qualname__}"


_CHILD = """
import importlib, json, sys
from firstday.checkers._determinism import instance_hashes
from firstday.tasks import families, register
job = json.loads(sys.stdin.read())
known = families()
for name, where in job["families"].items():
    if name not in known:  # registered in the parent process only: import it by its class
        module, _, qualname = where.partition(":")
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        register(obj)
print(json.dumps(instance_hashes([tuple(m) for m in job["metas"]], job["seeds"])))
"""


def cross_process_problems(metas: Sequence[MetaTask], seeds: int = 4,
                           hash_seeds: Sequence[str] = HASH_SEEDS) -> list[str] | None:
    """Generate every (meta-task, seed) here and in fresh interpreters with other ``PYTHONHASHSEED``
    values; the instances that differ (empty: none). ``None`` if a family is not importable by module
    path (defined in ``__main__`` or inside a function), so another process cannot build it."""
    where: dict[str, str] = {}
    for name in sorted({m[0] for m in metas}):
        path = importable(get_family(name))
        if path is None:
            return None
        where[name] = path
    job = json.dumps({"families": where, "metas": [list(m) for m in metas], "seeds": seeds})
    # the child sees what this process sees (e.g. a test folder on sys.path)
    env_path = os.pathsep.join(p for p in sys.path if p)
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONHASHSEED": hs, "PYTHONPATH": env_path})
             for hs in hash_seeds]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(job)
        p.stdin.close()
    here = instance_hashes(metas, seeds)
    problems: list[str] = []
    for hs, p in zip(hash_seeds, procs, strict=True):
        assert p.stdout is not None and p.stderr is not None
        out, err = p.stdout.read(), p.stderr.read()
        if p.wait() != 0:
            problems.append(f"PYTHONHASHSEED={hs}: the other process failed: {err.strip()[-500:]}")
            continue
        there = json.loads(out)
        problems += [f"{key}: PYTHONHASHSEED={hs} generated another instance" for key in here
                     if there.get(key) != here[key]]
    return problems

