"""Sweep the oracle over many generated instances of every registered family (DESIGN.md §6, issues 3 and 17).

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

With ``--preset NAME`` (optionally ``--load MIN,MAX`` to override its load) the sweep runs the oracle on
the preset's mixed days instead: whole suites of seeds ``--seeds-from``, ``--seeds-from + 1``, ... until
``--total`` tasks. On every day the oracle must reach exactly the day's best achievable priority-weighted
score (``Day.best_score``: 1, every task solved, where the day fits): every task the best schedule keeps
fully solved on time and cleanly (as above), none of the skipped ones. It also reports the share of days
whose best score is proven optimal, the tasks the generator dropped, and how soon after the refresh that
shows a breach the oracle's ``status_watch`` alerts went out.

    python scripts/sweep_oracle.py --preset standard --seeds-from 5000 --total 10000
    python scripts/sweep_oracle.py --preset hard --seeds-from 5000 --total 10000 --json hard.json
    python scripts/sweep_oracle.py --preset hard --total 10000 --compare oracle-fifo   # best is an upper bound

``--compare AGENT`` also runs that agent on every day: a day where it scores above the best achievable fails
(the best is an upper bound for agents that attend the required meetings), and its mean share of the best is
reported (schedule efficiency).
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
from firstday.suites import Day, Scenario, SuiteSpec, generate_day, generate_scenario, preset
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


def _progress(done: int, total: int, started: float, what: str = "meta-tasks") -> None:
    msg = f"{done}/{total} {what} swept ({time.perf_counter() - started:.0f} s)"
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

# ---- mixed days of a preset ------------------------------------------------------------------------------

@dataclass
class DayResult:
    where: str  # suite seed and scenario: what reproduces the day
    tasks: int
    load: float
    best_score: float
    best_proven: bool
    oracle_score: float  # the oracle's priority-weighted score
    skipped: int
    dropped: int
    alert_delays: list[int]  # status_watch: minutes from the refresh showing a breach to the owner's alert
    problem: str | None
    others: dict[str, float] = field(default_factory=dict)  # --compare agent -> its priority-weighted score


def check_day(where: str, scenario: Scenario, day: Day, loop: asyncio.AbstractEventLoop,
              compare: tuple[str, ...] = ()) -> DayResult:
    """The oracle on one mixed day: exactly the best achievable score, every kept task solved cleanly; each agent
    of ``compare`` at most the best achievable score (the best is an upper bound)."""
    agent = make_agent("oracle", AgentContext(scenario=scenario, day=day))
    result = loop.run_until_complete(run_episode(DayEnv(scenario, day), agent))
    m = result.score.metrics
    problems = []
    if result.status != "ok":
        problems.append(f"episode {result.status}: {result.error}")
    score = m.priority_weighted_score if m.priority_weighted_score is not None else 0.0
    if not math.isclose(score, day.best_score, abs_tol=1e-9):
        problems.append(f"priority-weighted score {score:.4f}, best achievable {day.best_score:.4f}")
    delays: list[int] = []
    by_id = {t.task_id: t for t in day.tasks}
    for ts in result.score.tasks:
        kept = ts.task_id not in day.skipped
        if kept and (ts.score != 1.0 or not ts.success or not ts.on_time or ts.clues_observed < ts.clues_required):
            failing = [c.cp_id for c in ts.checkpoints if not c.passed]
            problems.append(f"{ts.task_id} {ts.meta_task} score {ts.score} on_time={ts.on_time} failing={failing}")
        elif not kept and ts.success:
            problems.append(f"{ts.task_id} {ts.meta_task} solved though the best schedule skips it")
        if ts.family == "status_watch" and kept:
            checks = {c.cp_id: c.check for c in by_id[ts.task_id].checkpoints}
            for c in ts.checkpoints:
                start = getattr(checks.get(c.cp_id), "visible_from", None)
                if c.cp_id.startswith("notify-") and c.attempted_at is not None and start is not None:
                    delays.append(c.attempted_at - start)
    if m.meetings_missed or m.meetings_late:
        problems.append(f"meetings missed {m.meetings_missed} late {m.meetings_late}")
    if m.unsupported_rate:
        problems.append(f"unsupported answers (rate {m.unsupported_rate:.2f})")
    refused = [e.data.name for e in events_of(result.trace, ToolResultEvent) if not e.data.ok]
    if refused:
        problems.append(f"refused calls: {refused[:5]}")
    others: dict[str, float] = {}
    for name in compare:
        other = loop.run_until_complete(run_episode(DayEnv(scenario, day),
                                                    make_agent(name, AgentContext(scenario=scenario, day=day))))
        got = others[name] = other.score.metrics.priority_weighted_score or 0.0
        if got > day.best_score + 1e-9:
            problems.append(f"{name} scores {got:.4f}, above the best achievable {day.best_score:.4f}")
    return DayResult(where=where, tasks=len(day.tasks), load=day.load or 0.0, best_score=day.best_score,
                     best_proven=day.best_proven, oracle_score=score, skipped=len(day.skipped),
                     dropped=len(day.dropped), alert_delays=delays, problem="; ".join(problems) or None,
                     others=others)


def sweep_suite(job: tuple[SuiteSpec, int, tuple[str, ...]]) -> list[DayResult]:
    """Every day of the suite of ``spec`` with seed ``seed`` (and the agents to compare with the best)."""
    spec, seed, compare = job
    spec = spec.model_copy(update={"seed": seed})
    loop = asyncio.new_event_loop()
    out: list[DayResult] = []
    try:
        for i in range(spec.scenarios):
            scenario = generate_scenario(spec, i)
            for day in scenario.days:
                where = f"{spec.name} seed {seed} scenario s{i:03d} day {day.day_index}"
                out.append(check_day(where, scenario, day, loop, compare))
    finally:
        loop.close()
    return out


def run_preset(spec: SuiteSpec, total: int, first_seed: int, workers: int,
               compare: tuple[str, ...] = ()) -> tuple[list[DayResult], float]:
    """Whole suites of consecutive seeds until ``total`` tasks (estimated from the first suite)."""
    started = time.perf_counter()
    results = sweep_suite((spec, first_seed, compare))
    per_suite = max(1, sum(r.tasks for r in results))
    seeds = list(range(first_seed + 1, first_seed + max(1, math.ceil(total / per_suite))))
    jobs = [(spec, seed, compare) for seed in seeds]
    _progress(1, len(jobs) + 1, started, "suites")
    if workers <= 1:
        for i, job in enumerate(jobs, 2):
            results += sweep_suite(job)
            _progress(i, len(jobs) + 1, started, "suites")
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for i, res in enumerate(pool.imap_unordered(sweep_suite, jobs), 2):
                results += res
                _progress(i, len(jobs) + 1, started, "suites")
    while sum(r.tasks for r in results) < total:  # the first suite was smaller than the average
        seeds.append(seeds[-1] + 1 if seeds else first_seed + 1)
        results += sweep_suite((spec, seeds[-1], compare))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return results, time.perf_counter() - started


def summarise_preset(spec: SuiteSpec, results: list[DayResult], wall: float, first_seed: int,
                     workers: int) -> dict[str, object]:
    days = len(results)
    fits = [r for r in results if r.best_score >= 1.0]
    over = [r for r in results if r.best_score < 1.0]
    loads = sorted(r.load for r in results)
    delays = sorted(d for r in results for d in r.alert_delays)
    failed = [r for r in results if r.problem]
    tasks = sum(r.tasks for r in results)

    def pct(part: float, whole: float) -> float | None:
        return round(100 * part / whole, 3) if whole else None

    return {
        "preset": spec.name, "load": spec.load, "seeds": [first_seed, first_seed + len({r.where.split(' scenario')[0]
                                                                                          for r in results}) - 1],
        "days": days, "tasks": tasks, "failed_days": len(failed),
        "load_min": loads[0] if loads else None, "load_median": loads[len(loads) // 2] if loads else None,
        "load_max": loads[-1] if loads else None,
        "days_everything_fits": len(fits),
        "tasks_solved_percent_where_fits": pct(sum(r.tasks for r in fits if not r.problem), sum(r.tasks for r in fits)),
        "days_overloaded": len(over),
        "oracle_reaches_best_percent": pct(sum(1 for r in results if not r.problem), days),
        "oracle_share_of_best_percent": round(100 * sum(r.oracle_score / r.best_score for r in results) / days, 3)
        if days else None,
        "mean_best_score_overloaded": round(sum(r.best_score for r in over) / len(over), 4) if over else None,
        "best_proven_percent": pct(sum(r.best_proven for r in results), days),
        "best_proven_percent_overloaded": pct(sum(r.best_proven for r in over), len(over)),
        "tasks_skipped_by_best_schedule": sum(r.skipped for r in results),
        "tasks_dropped_by_generator": sum(r.dropped for r in results),
        "dropped_percent_of_drawn": pct(sum(r.dropped for r in results), tasks + sum(r.dropped for r in results)),
        "compared": {name: {"mean_share_of_best_percent": round(100 * sum(r.others[name] / r.best_score
                                                                             for r in results) / days, 2),
                            "days_above_best": sum(1 for r in results if r.others[name] > r.best_score + 1e-9)}
                     for name in (results[0].others if results else {})},
        "status_watch_alerts": len(delays),
        "alert_minutes_median": delays[len(delays) // 2] if delays else None,
        "alert_minutes_max": delays[-1] if delays else None,
        "wall_seconds": round(wall, 1), "tasks_per_second": round(tasks / wall, 1) if wall else None,
        "workers": workers, "failures": [f"{r.where}: {r.problem}" for r in failed[:20]],
        "python": platform.python_version(),
    }


def main_preset(args: argparse.Namespace) -> int:
    spec = preset(args.preset)
    if args.load:
        lo, hi = (float(x) for x in args.load.split(","))
        spec = spec.model_copy(update={"load": (lo, hi), "name": f"{spec.name}@{lo}-{hi}"})
        spec = SuiteSpec.model_validate(spec.model_dump())  # validated like any spec
    results, wall = run_preset(spec, args.total, args.seeds_from, max(1, args.workers), tuple(args.compare))
    summary = summarise_preset(spec, results, wall, args.seeds_from, max(1, args.workers))
    for key, value in summary.items():
        if key != "failures":
            print(f"{key:<34} {value}")
    for f in summary["failures"]:  # type: ignore[attr-defined]
        print(f"FAIL {f}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if summary["failed_days"] else 0


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
    ap.add_argument("--preset", default=None, help="sweep this preset's mixed days instead of single-task days "
                    "(--total counts tasks)")
    ap.add_argument("--load", default=None, help="with --preset: override its load target, as MIN,MAX")
    ap.add_argument("--compare", action="append", default=[], help="with --preset: also run this agent on every "
                    "day (e.g. oracle-fifo); a day it scores above the best achievable fails, and its mean share "
                    "of the best is reported")
    args = ap.parse_args(argv)
    if args.preset:
        if args.write_docs or args.only or args.per_meta or args.quick:
            ap.error("--preset takes --total, --seeds-from, --workers, --load, --compare and --json only")
        return main_preset(args)
    if args.load or args.compare:
        ap.error("--load and --compare need --preset")
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
