"""Sweep the oracle over many generated instances of every registered family (DESIGN.md §6, issue 3).

Each instance is a single-task day (the task plus the usual team meeting) in its own seeded company,
exactly as in ``tests/test_invariants_solvable.py`` but with a different seed label, so the sweep
draws instances the tests never saw. A dependent meta-task (one that builds on an earlier task) is swept on
its day with the earlier task the generator places first; both must be solved. The oracle must be perfect
on every one: score 1.0, on time, no refused call, no missed or late meeting, no unsupported answer, every
needed clue observed, and the task not dropped by the day generator as infeasible.

    python scripts/sweep_oracle.py                  # >= 10,000 instances across all families
    python scripts/sweep_oracle.py --quick          # 5 seeds per meta-task (a smoke run)
    python scripts/sweep_oracle.py --total 20000 --workers 2
    python scripts/sweep_oracle.py --write-docs     # also record it in docs/invariants.md and docs/library.md

Prints instances per family, the success and unsupported-answer figures, every failure with its meta-task
and seed (rerun one with ``--only family/variant/difficulty --seeds-from N --per-meta 1``), and instances
per second. Exits 1 if any instance fails (not 100 % success, or any unsupported answer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import platform
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from firstday.agents import AgentContext, make_agent
from firstday.env import DayEnv, events_of, run_episode
from firstday.env.trace import ToolResultEvent
from firstday.seeding import derive_seed, make_rng
from firstday.suites import Scenario, SuiteSpec, generate_day
from firstday.tasks import dependent_meta_tasks, families, meta_tasks
from firstday.world import generate_company

SPEC = SuiteSpec(name="single-task", scenarios=1)
LABEL = "sweep"
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
DOCS = (DOCS_DIR / "invariants.md", DOCS_DIR / "library.md")  # the invariant's page and the library's
BEGIN, END = "<!-- sweep:begin -->", "<!-- sweep:end -->"
MAX_FAILURES_KEPT = 5  # per meta-task


@dataclass
class MetaResult:
    meta: str
    instances: int = 0
    failures: list[str] = field(default_factory=list)
    failed: int = 0
    unsupported: int = 0  # instances where the oracle had an unsupported answer (also counted as failed)
    seconds: float = 0.0


def check_instance(meta: tuple[str, str, str], seed: int, loop: asyncio.AbstractEventLoop) -> str | None:
    """``None`` if the oracle is perfect on this instance, else what went wrong."""
    company = generate_company(make_rng(LABEL, "/".join(meta), seed, "company"))
    scenario_seed = derive_seed(LABEL, "/".join(meta), seed)
    try:
        day, _ = generate_day(company, SPEC, scenario_seed, 0, meta=[meta])  # type: ignore[list-item]
    except Exception as exc:  # a generation bug is a failure of this instance, not of the sweep
        return f"generation failed: {type(exc).__name__}: {exc}"
    # a dependent meta-task's day also holds the earlier task it builds on (placed first by the generator)
    dependent = meta[1] in {v for v, _ in dependent_meta_tasks(families()[meta[0]])}
    if len(day.tasks) != 1 + dependent:
        return "the day generator dropped the task (deadline infeasible)"
    scenario = Scenario(scenario_id=f"{LABEL}-{seed}", seed=scenario_seed, company=company, days=[day])
    agent = make_agent("oracle", AgentContext(scenario=scenario, day=day))
    result = loop.run_until_complete(run_episode(DayEnv(scenario, day), agent))
    m = result.score.metrics
    problems = []
    if result.status != "ok":
        problems.append(f"episode {result.status}: {result.error}")
    for ts in result.score.tasks:
        if ts.score != 1.0 or not ts.success or not ts.on_time:
            failing = [c.cp_id for c in ts.checkpoints if not c.passed]
            problems.append(f"score {ts.score} on_time={ts.on_time} failing={failing}")
    if m.meetings_missed or m.meetings_late:
        problems.append(f"meetings missed {m.meetings_missed} late {m.meetings_late}")
    if m.unsupported_rate:
        problems.append(f"unsupported answers (rate {m.unsupported_rate:.2f})")
    if m.clue_discovery not in (None, 1.0):
        problems.append(f"clue discovery {m.clue_discovery:.2f}")
    refused = [e.data.name for e in events_of(result.trace, ToolResultEvent) if not e.data.ok]
    if refused:
        problems.append(f"refused calls: {refused[:5]}")
    return "; ".join(problems) or None


def sweep_meta(job: tuple[tuple[str, str, str], int, int]) -> MetaResult:
    meta, first_seed, n = job
    out = MetaResult(meta="/".join(meta))
    loop = asyncio.new_event_loop()
    started = time.perf_counter()
    try:
        for seed in range(first_seed, first_seed + n):
            problem = check_instance(meta, seed, loop)
            out.instances += 1
            if problem:
                out.failed += 1
                out.unsupported += "unsupported answers" in problem
                if len(out.failures) < MAX_FAILURES_KEPT:
                    out.failures.append(f"seed {seed}: {problem}")
    finally:
        loop.close()
    out.seconds = time.perf_counter() - started
    return out


def run(per_meta: int, first_seed: int, workers: int, only: list[str]) -> tuple[list[MetaResult], float]:
    metas = [(name, v, d) for name, fam in families().items()
             for v, d in [*meta_tasks(fam), *dependent_meta_tasks(fam)]]
    if only:
        metas = [m for m in metas if any("/".join(m).startswith(o) for o in only)]
    jobs = [(m, first_seed, per_meta) for m in metas]
    started = time.perf_counter()
    results: list[MetaResult] = []
    if workers <= 1:
        for i, job in enumerate(jobs, 1):
            results.append(sweep_meta(job))
            _progress(i, len(jobs), started)
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for i, res in enumerate(pool.imap_unordered(sweep_meta, jobs), 1):
                results.append(res)
                _progress(i, len(jobs), started)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    results.sort(key=lambda r: r.meta)
    return results, time.perf_counter() - started


def _progress(done: int, total: int, started: float) -> None:
    msg = f"{done}/{total} meta-tasks swept ({time.perf_counter() - started:.0f} s)"
    if sys.stderr.isatty():
        print(f"\r{msg}", end="", file=sys.stderr, flush=True)
    elif done == total or done % max(1, total // 10) == 0:  # a log file gets a line every tenth
        print(msg, file=sys.stderr, flush=True)


def summarise(results: list[MetaResult], wall: float, workers: int) -> dict[str, object]:
    by_family: dict[str, dict[str, float]] = defaultdict(lambda: {"meta_tasks": 0, "instances": 0, "failed": 0,
                                                                  "seconds": 0.0})
    for r in results:
        fam = by_family[r.meta.split("/")[0]]
        fam["meta_tasks"] += 1
        fam["instances"] += r.instances
        fam["failed"] += r.failed
        fam["seconds"] += r.seconds
    total = sum(r.instances for r in results)
    failed = sum(r.failed for r in results)
    unsupported = sum(r.unsupported for r in results)
    return {
        "instances": total, "failed": failed, "meta_tasks": len(results),
        "success_percent": round(100 * (total - failed) / total, 3) if total else None,
        "unsupported_percent": round(100 * unsupported / total, 3) if total else None,
        "families": len(by_family), "wall_seconds": round(wall, 1),
        "instances_per_second": round(total / wall, 1) if wall else None, "workers": workers,
        "per_family": {k: {**v, "seconds": round(v["seconds"], 1)} for k, v in sorted(by_family.items())},
        "failures": {r.meta: r.failures for r in results if r.failures},
        "python": platform.python_version(),
    }


def render_markdown(summary: dict[str, object], per_meta: int, first_seed: int = 0) -> str:
    per_family = summary["per_family"]
    assert isinstance(per_family, dict)
    lines = [BEGIN, "",
             f"Last sweep (`python scripts/sweep_oracle.py`, {per_meta} seeds per meta-task from seed "
             f"{first_seed}, seed label `{LABEL}`, {summary['workers']} worker process(es)): "
             f"**{summary['instances']:,} instances** of "
             f"{summary['meta_tasks']} meta-tasks in {summary['families']} families, **{summary['failed']} "
             f"failed** (success {summary['success_percent']} %, unsupported {summary['unsupported_percent']} %); "
             f"{summary['wall_seconds']} s wall clock, {summary['instances_per_second']} instances/s.",
             "", "| family | meta-tasks | instances | failed | worker seconds |", "|---|---:|---:|---:|---:|"]
    for name, row in per_family.items():
        lines.append(f"| `{name}` | {int(row['meta_tasks'])} | {int(row['instances'])} | {int(row['failed'])} | "
                     f"{row['seconds']} |")
    failures = summary["failures"]
    assert isinstance(failures, dict)
    if failures:
        lines += ["", "Failures (meta-task: first seeds):", ""]
        lines += [f"- `{meta}`: " + "; ".join(f) for meta, f in failures.items()]
    lines += ["", END]
    return "\n".join(lines)


def write_docs(block: str) -> None:
    for doc in DOCS:
        text = doc.read_text() if doc.exists() else ""
        if BEGIN in text and END in text:
            text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n## Oracle sweep\n\n" + block + "\n"
        doc.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--total", type=int, default=10_000, help="at least this many instances (default 10000)")
    ap.add_argument("--per-meta", type=int, default=None, help="seeds per meta-task (overrides --total)")
    ap.add_argument("--quick", action="store_true", help="5 seeds per meta-task")
    ap.add_argument("--seeds-from", type=int, default=0, help="first seed")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--only", action="append", default=[], help="meta-task prefix, e.g. 'status_watch/trend'")
    ap.add_argument("--json", type=Path, default=None, help="also write the summary as JSON here")
    ap.add_argument("--write-docs", action="store_true",
                    help="record the result in docs/invariants.md and docs/library.md")
    args = ap.parse_args(argv)
    n_meta = sum(len(meta_tasks(f)) for f in families().values())
    per_meta = args.per_meta or (5 if args.quick else math.ceil(args.total / max(1, n_meta)))
    results, wall = run(per_meta, args.seeds_from, max(1, args.workers), args.only)
    summary = summarise(results, wall, max(1, args.workers))
    print(f"{'family':<24} {'meta':>5} {'instances':>10} {'failed':>7} {'worker s':>8}")
    per_family = summary["per_family"]
    assert isinstance(per_family, dict)
    for name, row in per_family.items():
        print(f"{name:<24} {int(row['meta_tasks']):>5} {int(row['instances']):>10} {int(row['failed']):>7} "
              f"{row['seconds']:>8}")
    print(f"oracle success {summary['success_percent']} %, unsupported {summary['unsupported_percent']} %")
    print(f"total: {summary['instances']} instances, {summary['failed']} failed, {summary['wall_seconds']} s, "
          f"{summary['instances_per_second']} instances/s with {summary['workers']} worker(s)")
    failures = summary["failures"]
    assert isinstance(failures, dict)
    for meta, fails in failures.items():
        for f in fails:
            print(f"FAIL {meta} {f}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    if args.write_docs:
        write_docs(render_markdown(summary, per_meta, args.seeds_from))
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
