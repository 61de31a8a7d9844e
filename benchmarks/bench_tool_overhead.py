"""Environment overhead per in-memory tool call (``Toolbox.execute``), against a bare Python call.

    python benchmarks/bench_tool_overhead.py            # 20,000 calls per tool
    python benchmarks/bench_tool_overhead.py --quick    # 300 calls per tool (a check that it runs)
    python benchmarks/bench_tool_overhead.py --profile  # also print cProfile hotspots per tool

Each call is timed alone with ``time.perf_counter_ns``; the baseline is a call of a one-line Python
function timed the same way in the same process, so both include the timer's own cost. Calls advance
the virtual clock like any other action; when the day ends a fresh day is built (outside the timing).
Pending notifications are handed over after every call (outside the timing), as the episode loop does.
Target: median at most 50 µs per call for the cheap tools below.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import time
from collections.abc import Callable
from typing import Any

from _common import machine, median, percentile, table
from firstday.env import DayEnv
from firstday.suites import Day, Scenario, generate_scenario, preset
from firstday.world.tools import ToolCall

TARGET_US = 50.0


def _bare(call: ToolCall) -> ToolCall:
    return call


def _pick_day(scenario: Scenario) -> Day:
    return max(scenario.days, key=lambda d: len(d.tasks))


def cheap_calls(scenario: Scenario, day: Day) -> list[tuple[str, dict[str, Any]]]:
    """The measured calls: cheap tools with arguments that succeed on this day."""
    env = DayEnv(scenario, day)
    assets = env.world.file_assets
    text_file = next(p for p in env.world.listing() if p in assets and not assets[p].is_image)
    colleague = next(e.handle for e in scenario.company.employees if e.department == "Finance")
    return [
        ("list_tasks", {}),
        ("read_file", {"path": text_file}),
        ("calculator", {"expression": "(1200 + 350) * 0.2"}),
        ("send_message", {"to": colleague, "text": "Hello, could you share the transaction review manual?"}),
        ("list_files", {"path": "/shared"}),
        ("wait", {"minutes": 1}),
    ]


def _content(scenario: Scenario, day: Day, path: str) -> str:
    return DayEnv(scenario, day).world.read(path)[0]


def image_call(scenario: Scenario, day: Day) -> tuple[str, dict[str, Any]] | None:
    """Opening an image, if the day has a visible one: shown for comparison, not a cheap call."""
    env = DayEnv(scenario, day)
    assets = env.world.file_assets
    path = next((p for p in env.world.listing() if p in assets and assets[p].is_image), None)
    return None if path is None else ("read_file", {"path": path})


def time_calls(scenario: Scenario, day: Day, name: str, arguments: dict[str, Any], n: int) -> tuple[list[int], int]:
    """Per-call nanoseconds of ``n`` successful calls, and how many fresh days were needed."""
    samples: list[int] = []
    days = 0
    env: DayEnv | None = None
    clock = time.perf_counter_ns
    while len(samples) < n:
        if env is None or env.world.ended:
            env = DayEnv(scenario, day)
            env.reset()
            days += 1
        execute = env.tools.execute
        call = ToolCall(name=name, arguments=arguments)
        t0 = clock()
        res = execute(call)
        t1 = clock()
        if not res.ok:
            if env.world.ended:
                continue  # the call that hit the end of the day: not a representative sample
            raise RuntimeError(f"{name} failed in the benchmark: {res.content}")
        samples.append(t1 - t0)
        env.world.take_observation()
    return samples, days


def time_baseline(n: int) -> list[int]:
    samples: list[int] = []
    clock = time.perf_counter_ns
    fn: Callable[[ToolCall], ToolCall] = _bare
    call = ToolCall(name="noop", arguments={})
    for _ in range(n):
        t0 = clock()
        fn(call)
        t1 = clock()
        samples.append(t1 - t0)
    return samples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=None, help="calls per tool (default 20000; 300 with --quick)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds the calls are split into")
    ap.add_argument("--quick", action="store_true", help="tiny run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", action="store_true", help="print cProfile hotspots of each tool's calls")
    args = ap.parse_args(argv)
    n = args.calls or (300 if args.quick else 20_000)
    rounds = max(1, min(args.rounds, n))
    per_round = max(1, n // rounds)

    # the first scenario whose day opens with a readable text file (a task's files enter the world only when
    # it arrives, and the measured calls start at 09:00); the reference preset's light days, as measured so far
    spec = preset("reference", seed=args.seed)
    for index in range(spec.scenarios):
        scenario = generate_scenario(spec, index)
        day = _pick_day(scenario)
        world = DayEnv(scenario, day).world
        if any(p in world.file_assets and not world.file_assets[p].is_image for p in world.listing()):
            break
    calls = cheap_calls(scenario, day)
    image = image_call(scenario, day)
    extra = [image] if image is not None else []
    measured = calls + extra
    for name, arguments in measured:  # warm-up
        time_calls(scenario, day, name, arguments, min(n, 200))

    # the calls are split into rounds that interleave the tools, so a burst of load from elsewhere on
    # the machine spreads over every tool instead of landing on one
    base: list[int] = []
    samples: list[list[int]] = [[] for _ in measured]
    days_built = 0
    for _ in range(rounds):
        gc.collect()
        base += time_baseline(per_round)
        for i, (name, arguments) in enumerate(measured):
            gc.collect()
            got, days = time_calls(scenario, day, name, arguments, per_round)
            samples[i] += got
            days_built += days

    base_med = median(base)
    rows: list[list[object]] = [["bare Python call (baseline)", base_med / 1000, percentile(base, 0.9) / 1000, 1.0, ""]]
    worst = 0.0
    for i, (name, arguments) in enumerate(measured):
        med = median(samples[i])
        label = name + ("(minutes=1)" if name == "wait" else "")
        if name == "read_file":
            label += (
                f" ({arguments['path'].rsplit('.', 1)[-1]}, {len(_content(scenario, day, arguments['path'])):,} chars)"
            )
        if i < len(calls):
            worst = max(worst, med / 1000)
            verdict = "ok" if med / 1000 <= TARGET_US else "above target"
        else:
            verdict = "(not a cheap call)"
        rows.append([label, med / 1000, percentile(samples[i], 0.9) / 1000, med / base_med, verdict])

    print(
        f"firstday tool-call overhead: {per_round * rounds:,} calls per tool in {rounds} interleaved round(s); "
        f"scenario {scenario.scenario_id} (standard preset, seed {args.seed}), "
        f"{len(scenario.company.employees)} colleagues, {len(day.tasks)} tasks; "
        f"{days_built} fresh days built outside the timing"
    )
    print(machine())
    print()
    print(table(["call", "median µs", "p90 µs", "x baseline", f"≤ {TARGET_US:.0f} µs"], rows))
    print(
        f"\ntarget: median <= {TARGET_US:.0f} µs for every cheap call: {'met' if worst <= TARGET_US else 'MISSED'} "
        f"(slowest median {worst:.1f} µs)"
    )

    if args.profile:
        for name, arguments in measured:
            prof = cProfile.Profile()
            prof.enable()
            time_calls(scenario, day, name, arguments, min(n, 5000))
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
            print(f"\n--- hotspots: {name} ---")
            print(buf.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
