"""Episode throughput: built-in agents over every day of a suite, in process, one episode at a time.

    python benchmarks/bench_oracle.py            # reference preset (50 light days, 2-6 tasks), 3 repeats
    python benchmarks/bench_oracle.py --preset standard   # days filled to a load of 0.7-0.9
    python benchmarks/bench_oracle.py --quick    # smoke preset, 1 repeat (a check that it runs)

The suite is generated once, outside the timing. Each timed episode includes building the day
(``DayEnv``), the agent, every turn, scoring and the trace, exactly as ``run_episode`` does them.
The figures are episodes, turns (agent steps) and tool calls per second of wall-clock time; the CPU
time of this process per episode, which is less sensitive to other load on the machine (it excludes
``run_python`` subprocesses); and the number of ``run_python`` calls, because each starts a Python
subprocess (tens of milliseconds) and dominates the time of agents that use it. The mean score is a
sanity check (oracle 1.0, noop 0.0).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _common import machine, median, table
from firstday.agents import AgentContext, make_agent
from firstday.env import DayEnv, EpisodeResult, events_of, run_episode
from firstday.env.trace import ToolCallEvent
from firstday.suites import Scenario, generate_suite, preset

AGENTS = ("oracle", "heuristic", "guess", "noop")


async def run_all(suite: list[Scenario], agent: str) -> list[EpisodeResult]:
    results = []
    for scenario in suite:
        for day in scenario.days:
            env = DayEnv(scenario, day)
            results.append(await run_episode(env, make_agent(agent, AgentContext(scenario=scenario, day=day))))
    return results


def time_day_start(suite: list[Scenario], repeats: int) -> float:
    """Median seconds to build one day's environment (world, services, tools) and reset it."""
    samples = []
    for _ in range(repeats):
        for scenario in suite:
            for day in scenario.days:
                t0 = time.perf_counter()
                DayEnv(scenario, day).reset()
                samples.append(time.perf_counter() - t0)
    return median(samples)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default=None, help="suite preset (default: reference; smoke with --quick)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (default 3; 1 with --quick)")
    ap.add_argument("--agents", default=",".join(AGENTS), help="comma-separated agent names")
    ap.add_argument("--quick", action="store_true", help="tiny run: smoke preset, one repeat")
    args = ap.parse_args(argv)
    name = args.preset or ("smoke" if args.quick else "reference")
    repeats = args.repeats or (1 if args.quick else 3)
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]

    suite = generate_suite(preset(name, seed=args.seed))
    n_days = sum(len(s.days) for s in suite)
    n_tasks = sum(len(d.tasks) for s in suite for d in s.days)
    asyncio.run(run_all(suite[:2], agents[0]))  # warm-up: imports and caches

    rows: list[list[object]] = []
    for agent in agents:
        seconds: list[float] = []
        cpu: list[float] = []  # CPU seconds of this process (run_python subprocesses not included)
        results: list[EpisodeResult] = []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            results = asyncio.run(run_all(suite, agent))
            seconds.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        s = median(seconds)
        turns = sum(r.turns for r in results)
        calls = sum(r.score.metrics.tool_calls for r in results)
        scores = [r.score.metrics.score for r in results if r.score.metrics.score is not None]
        errors = sum(1 for r in results if r.status != "ok")
        # run_python starts a subprocess (tens of ms each): count it so slow rows can be explained
        runs = sum(1 for r in results for e in events_of(r.trace, ToolCallEvent) if e.data.name == "run_python")
        rows.append(
            [
                agent,
                len(results) / s,
                turns / s,
                calls / s,
                1000 * s / len(results),
                1000 * median(cpu) / len(results),
                turns / len(results),
                runs,
                sum(scores) / len(scores) if scores else float("nan"),
                errors,
            ]
        )

    print(
        f"firstday episode throughput: preset {name!r}, seed {args.seed}, {len(suite)} scenarios, {n_days} days, "
        f"{n_tasks} tasks; sequential, in process; median of {repeats} repeat(s)"
    )
    print(machine())
    print()
    print(
        table(
            [
                "agent",
                "episodes/s",
                "turns/s",
                "tool calls/s",
                "ms/episode",
                "CPU ms/episode",
                "turns/episode",
                "run_python",
                "mean score",
                "errors",
            ],
            rows,
        )
    )
    print(f"\nday start (build DayEnv + reset), median: {1000 * time_day_start(suite, repeats):.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
