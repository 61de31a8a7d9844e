"""Generate many scenarios across seeds and families and count failures (issue 17, item 7).

Generation must never fail: every family produces a valid instance for every seed. This sweep draws
scenarios from the presets' specs with fresh seeds, and from single-family specs so that every family
is exercised on busy days, and prints every failure with what reproduces it.

    python scripts/sweep_generate.py                  # >= 100,000 scenarios (long: run it in the background)
    python scripts/sweep_generate.py --total 2000     # a quicker look
    python scripts/sweep_generate.py --workers 2

Exits 1 if any scenario fails to generate, or if the day generator dropped a task it could not schedule.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections import Counter

from firstday.suites import generate_scenario, preset
from firstday.suites.spec import SuiteSpec
from firstday.tasks import families

SEED_BASE = 7_000_000  # seeds far from those of the presets and the tests


def _specs() -> list[SuiteSpec]:
    specs = [preset(name) for name in ("standard", "hard", "continual", "continual-mutable")]
    for fam in sorted(families()):
        specs.append(SuiteSpec(name=f"only-{fam}", scenarios=1, tasks_per_day=(2, 6), families=[fam],
                               difficulty={"easy": 1, "medium": 1, "hard": 1}))
    return specs


def _one(job: tuple[int, int, int]) -> tuple[str, str | None, int]:
    spec_index, seed, index = job
    spec = _specs()[spec_index].model_copy(update={"seed": seed, "scenarios": index + 1})
    where = f"{spec.name} seed={seed} scenario={index}"
    try:
        scenario = generate_scenario(spec, index)
    except Exception as exc:  # every failure is reported, whatever its type
        return where, f"{type(exc).__name__}: {exc}", 0
    return where, None, sum(len(d.dropped) for d in scenario.days)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total", type=int, default=100_000, help="scenarios to generate")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    n_specs = len(_specs())
    # every spec gets its share; scenario indices vary too (a scenario's seed derives from both)
    jobs = [(i % n_specs, SEED_BASE + i // n_specs % 97, i // n_specs // 97) for i in range(args.total)]
    t0 = time.perf_counter()
    failures: list[tuple[str, str]] = []
    dropped = Counter[str]()
    done = 0
    with multiprocessing.Pool(args.workers) as pool:
        for where, err, n_dropped in pool.imap_unordered(_one, jobs, chunksize=16):
            done += 1
            if err is not None:
                failures.append((where, err))
                print(f"FAIL {where}: {err}", flush=True)
            if n_dropped:
                dropped[where.split()[0]] += n_dropped
            if done % 5000 == 0:
                print(f"... {done} scenarios, {len(failures)} failures, {time.perf_counter() - t0:.0f} s", flush=True)
    secs = time.perf_counter() - t0
    print(f"{done} scenarios from {n_specs} specs in {secs:.0f} s ({done / secs:.0f}/s): "
          f"{len(failures)} failed to generate, {sum(dropped.values())} task(s) dropped as unschedulable")
    for spec_name, n in sorted(dropped.items()):
        print(f"  dropped in {spec_name}: {n}")
    return 1 if failures or dropped else 0


if __name__ == "__main__":
    sys.exit(main())
