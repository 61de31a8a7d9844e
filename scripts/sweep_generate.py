"""Generate many scenarios across seeds and families and count failures (issue 17, item 7).

Generation must never fail: every family produces a valid instance for every seed. This sweep draws
scenarios from the presets' specs with fresh seeds (the loaded `standard` and `hard`, `reference` and the
multi-day `continual` ones), and from single-family specs of 2-6 tasks, so that every family is exercised
on days where its instances compete with each other for people, rooms and times; it prints every failure
with what reproduces it.

    python scripts/sweep_generate.py                  # >= 100,000 scenarios (long: run it in the background)
    python scripts/sweep_generate.py --total 2000     # a quicker look
    python scripts/sweep_generate.py --workers 2 --first 100000 --total 100000   # the next 100,000

Exits 1 if any scenario fails to generate. Tasks the day generator drew but left out (their day had no
room or time left for them: ``Day.dropped``, the manifest's ``n_dropped``) are not failures; they are
counted per spec and reason, as a share of the tasks drawn.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections import Counter
from functools import cache

from firstday.suites import generate_scenario, preset
from firstday.suites.spec import SuiteSpec
from firstday.tasks import families

SEED_BASE = 7_000_000  # seeds far from those of the presets and the tests


@cache
def _specs() -> list[SuiteSpec]:
    specs = [preset(name) for name in ("standard", "hard", "reference", "continual", "continual-mutable")]
    for fam in sorted(families()):
        specs.append(SuiteSpec(name=f"only-{fam}", scenarios=1, tasks_per_day=(2, 6), families=[fam],
                               difficulty={"easy": 1, "medium": 1, "hard": 1}))
    return specs


def _reason(dropped: str) -> str:
    """The kind of a ``Day.dropped`` entry ("t7 family/variant/difficulty (why)"): the family and a short why."""
    family = dropped.split()[1].split("/")[0]
    return f"{family}: {'no time left to finish it' if 'cannot be finished' in dropped else 'day full'}"


def _one(job: tuple[int, int, int]) -> tuple[str, str | None, int, list[str]]:
    spec_index, seed, index = job
    spec = _specs()[spec_index].model_copy(update={"seed": seed, "scenarios": index + 1})
    where = f"{spec.name} seed={seed} scenario={index}"
    try:
        scenario = generate_scenario(spec, index)
    except Exception as exc:  # every failure is reported, whatever its type
        return where, f"{type(exc).__name__}: {exc}", 0, []
    dropped = [d for day in scenario.days for d in day.dropped]
    return where, None, sum(len(d.tasks) for d in scenario.days) + len(dropped), dropped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total", type=int, default=100_000, help="scenarios to generate")
    ap.add_argument("--first", type=int, default=0, help="index of the first job (to continue a sweep)")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    n_specs = len(_specs())
    # every spec gets its share; scenario indices vary too (a scenario's seed derives from both)
    jobs = [(i % n_specs, SEED_BASE + i // n_specs % 97, i // n_specs // 97)
            for i in range(args.first, args.first + args.total)]
    t0 = time.perf_counter()
    failures: list[tuple[str, str]] = []
    drawn = Counter[str]()
    dropped = Counter[str]()
    reasons = Counter[str]()
    done = 0
    with multiprocessing.Pool(args.workers) as pool:
        for where, err, n_drawn, left_out in pool.imap_unordered(_one, jobs, chunksize=16):
            done += 1
            spec_name = where.split()[0]
            drawn[spec_name] += n_drawn
            if err is not None:
                failures.append((where, err))
                print(f"FAIL {where}: {err}", flush=True)
            dropped[spec_name] += len(left_out)
            reasons.update(_reason(d) for d in left_out)
            if done % 5000 == 0:
                print(f"... {done} scenarios, {len(failures)} failures, {time.perf_counter() - t0:.0f} s", flush=True)
    secs = time.perf_counter() - t0
    print(f"{done} scenarios (jobs {args.first}-{args.first + args.total - 1}) from {n_specs} specs in {secs:.0f} s "
          f"({done / secs:.0f}/s), {sum(drawn.values())} tasks drawn: {len(failures)} failed to generate; "
          f"{sum(dropped.values())} task(s) left out of a day with no room or time left "
          f"({100 * sum(dropped.values()) / max(1, sum(drawn.values())):.2f} % of those drawn)")
    for spec_name in sorted(dropped, key=lambda k: -dropped[k]):
        if dropped[spec_name]:
            print(f"  left out in {spec_name}: {dropped[spec_name]} of {drawn[spec_name]} drawn "
                  f"({100 * dropped[spec_name] / max(1, drawn[spec_name]):.2f} %)")
    for reason, n in reasons.most_common():
        print(f"  why: {reason}: {n}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
