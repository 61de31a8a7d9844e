"""Runner throughput: episodes in flight in one process (1 -> 512), memory per episode, Ray with 1 vs 2 workers.

    python benchmarks/bench_throughput.py                  # latency 50 ms, concurrency 1..512, Ray 1 vs 2
    python benchmarks/bench_throughput.py --latency 0.2    # a slower simulated model
    python benchmarks/bench_throughput.py --quick          # a check that it runs (tiny, no Ray)
    python benchmarks/bench_throughput.py --workers 4      # process-executor rows with 4 worker processes
    python benchmarks/bench_throughput.py --profile 256    # that level under cProfile (slower: not a figure)

The agent is ``sim-oracle``: the oracle's calls, each after ``--latency`` seconds of waiting on the
event loop (a model API that costs no CPU while it thinks; one queue and timer per latency, not a timer
per call: ``firstday.run.simulated.LatencyQueue``). Each concurrency level runs in a fresh subprocess
through the real runner (run folder, traces, SQLite index), so its memory figure is clean:

* throughput in episodes/s and agent steps/s;
* efficiency = measured / ideal, where ideal = episodes / the makespan of the same jobs (same order,
  same step counts) with zero CPU per step and that many in flight (episodes differ in length, so the
  last wave is ragged even for an ideal runner);
* memory per in-flight episode = (peak RSS during the run - RSS before it) / concurrency;
* CPU stolen = the share of the machine's CPU time that other tenants of a shared VM took during the
  level (``/proc/stat``): with a few per cent of steal the high levels lose several points of efficiency.

Process executor: the levels of ``--process-levels`` again with ``--workers`` worker processes (warmed
up first; memory includes the workers' RSS).

Ray: the same episodes on a local cluster started with 1, then 2 CPUs (one episode actor per CPU with
``--ray-in-flight`` episodes in flight each, actors warmed up first); efficiency = throughput(2) /
(2 x throughput(1)). ``--ray-latency`` (default 50 ms) sets the simulated model's latency there; with 0
the episodes are CPU-bound.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import StolenCPU, machine, table


def _rss_bytes(pids: list[int] | None = None) -> int:
    """RSS of this process plus the processes ``pids`` (the process executor's workers)."""
    total = 0
    for pid in ["self", *(pids or [])]:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except FileNotFoundError:
            pass
    return total


def make_suite(folder: Path, scenarios: int) -> Path:
    from firstday.suites import generate_suite, preset, save_suite

    spec = preset("smoke", seed=0).model_copy(update={"scenarios": scenarios})
    save_suite(spec, generate_suite(spec), folder)
    return folder


def one_level(suite: str, concurrency: int, episodes_per_scenario: int, latency: float, executor: str,
              ray_cpus: int, profile_to: str | None = None, event_loop: str = "asyncio") -> dict[str, Any]:
    """Run in a fresh process: one measurement."""
    from firstday.run.runner import event_loop_factory

    runner = asyncio.Runner(loop_factory=event_loop_factory(event_loop))
    from firstday.run import LocalExecutor, ProcessExecutor, RunFolder, run_suite_async
    from firstday.run.runner import EpisodeExecutor

    ex: EpisodeExecutor
    workers: list[int] = []
    if executor == "processes":
        ex = ProcessExecutor(ray_cpus, concurrency, event_loop=event_loop).__enter__()  # kept: started, warmed up once
    elif executor == "ray":
        import ray

        from firstday.run.ray_executor import RayExecutor

        ray.init(num_cpus=ray_cpus, include_dashboard=False, log_to_driver=False)
        ex = RayExecutor(max_in_flight=concurrency).__enter__()  # kept: actors start (and warm up) once
    else:
        ex = LocalExecutor(concurrency)

    # warm-up (imports, tool schemas, first allocations; Ray: the workers' too): one pass, not timed
    runner.run(run_suite_async(suite, "sim-oracle", Path(tempfile.mkdtemp(prefix="bench-warm-")) / "run",
                                agent_options={"latency_s": 0.0}, executor=ex if executor != "local" else None,
                                concurrency=4))
    if isinstance(ex, ProcessExecutor):
        workers = [w.pid for w in ex._pool]
    peak = base = _rss_bytes(workers)

    async def main() -> tuple[float, int, list[int]]:
        nonlocal peak
        out = Path(tempfile.mkdtemp(prefix="bench-run-")) / "run"
        done = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _rss_bytes(workers))
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        t0 = time.perf_counter()
        summary = await run_suite_async(suite, "sim-oracle", out, agent_options={"latency_s": latency},
                                        trials=episodes_per_scenario, executor=ex)
        wall = time.perf_counter() - t0
        done.set()
        await sampler
        eps = sorted(RunFolder(out).read_episodes(), key=lambda e: (e.scenario_id, e.day_index, e.trial))
        assert summary.errors == 0, [e.error for e in summary.episodes if e.error][:3]
        return wall, summary.ran, [e.turns + 1 for e in eps]  # +1: the final observation is a model call too

    if profile_to:
        import cProfile

        with cProfile.Profile() as prof:
            wall, episodes, steps = runner.run(main())
        prof.dump_stats(profile_to)
    else:
        wall, episodes, steps = runner.run(main())
    runner.close()
    if executor != "local":
        ex.__exit__(None, None, None)
    return {"wall": wall, "episodes": episodes, "steps": sum(steps), "steps_list": steps, "rss_delta": peak - base}


def ideal_makespan(steps: list[int], slots: int, latency: float) -> float:
    """Seconds the runner would take with zero CPU per step: jobs in plan order, each to the first free slot."""
    free = [0.0] * slots
    for n in steps:
        start = heapq.heappop(free)
        heapq.heappush(free, start + n * latency)
    return max(free)


def _spawn(args: list[str], extra: list[str] | None = None) -> dict[str, Any]:
    here = Path(__file__).resolve()
    proc = subprocess.run([sys.executable, str(here), "--one", *args, *(extra or [])], capture_output=True, text=True,
                          cwd=here.parent, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"level {args} failed:\n{proc.stdout}\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.0f}%"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency", type=float, default=0.05, help="simulated model latency per step (s)")
    ap.add_argument("--levels", default="1,8,32,64,128,256,512", help="concurrency levels")
    ap.add_argument("--scenarios", type=int, default=16)
    ap.add_argument("--max-episodes", type=int, default=1024, help="episodes per level at most")
    ap.add_argument("--ray", action=argparse.BooleanOptionalAction, default=True, help="measure Ray 1 vs 2 workers")
    ap.add_argument("--ray-latency", type=float, default=0.05)
    ap.add_argument("--ray-episodes", type=int, default=256)
    ap.add_argument("--ray-in-flight", type=int, default=32, help="episodes in flight per Ray worker (CPU)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="worker processes of the process-executor rows (default: the CPU count)")
    ap.add_argument("--process-levels", default="128,256,512",
                    help="concurrency levels measured with the process executor too ('' for none)")
    ap.add_argument("--quick", action="store_true", help="tiny run: levels 1,4; 2 scenarios; no Ray")
    ap.add_argument("--profile", type=int, metavar="LEVEL",
                    help="run only this concurrency level, under cProfile (the event loop's thread); print the "
                         "top functions and save the stats to bench_throughput-LEVEL.prof")
    ap.add_argument("--event-loop", default="asyncio", choices=["asyncio", "uvloop"],
                    help="the event loop of the local and process-executor levels")
    ap.add_argument("--one", nargs=7, help=argparse.SUPPRESS)
    ap.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        suite, conc, per, lat, executor, cpus, loop = args.one
        print(json.dumps(one_level(suite, int(conc), int(per), float(lat), executor, int(cpus), args.profile_to,
                                   loop)))
        return 0
    if args.profile:
        args.levels, args.ray, args.process_levels = str(args.profile), False, ""
    if args.quick:
        args.levels, args.scenarios, args.max_episodes, args.ray, args.process_levels = "1,4", 2, 8, False, "4"
    levels = [("local", 1, int(x)) for x in args.levels.split(",") if x]
    levels += [("processes", args.workers, int(x)) for x in args.process_levels.split(",") if x]
    print(f"firstday runner throughput: sim-oracle (latency {args.latency * 1000:.0f} ms per step), smoke preset, "
          f"{args.scenarios} scenarios; one fresh process per level; event loop {args.event_loop}")
    print(machine())
    print()
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        suite = make_suite(Path(tmp) / "suite", args.scenarios)
        rows = []
        for executor, workers, c in levels:
            episodes = min(max(4 * c, 2 * args.scenarios), max(args.max_episodes, c))
            per = max(1, math.ceil(episodes / args.scenarios))
            prof = str(Path.cwd() / f"bench_throughput-{c}.prof") if args.profile else None
            steal = StolenCPU()
            r = _spawn([str(suite), str(c), str(per), str(args.latency), executor, str(workers), args.event_loop],
                       ["--profile-to", prof] if prof else [])
            stolen = steal.share()
            if prof:
                import pstats

                pstats.Stats(prof).sort_stats("tottime").print_stats(30)
                print(f"profile saved to {prof} (figures below are slowed down by the profiler)")
            steps_per_ep = r["steps"] / r["episodes"]
            ideal = (r["episodes"] / ideal_makespan(r["steps_list"], c, args.latency) if args.latency > 0
                     else float("nan"))
            eps = r["episodes"] / r["wall"]
            where = "one process" if executor == "local" else f"{workers} workers"
            rows.append([where, c, int(r["episodes"]), round(steps_per_ep, 1), eps, r["steps"] / r["wall"], ideal,
                         f"{100 * eps / ideal:.0f}%" if args.latency > 0 else "n/a",
                         r["rss_delta"] / c / 1e6, _percent(stolen)])
        print(table(["executor", "in flight", "episodes", "steps/ep", "episodes/s", "steps/s", "ideal ep/s",
                     "efficiency", "MB/episode", "CPU stolen"], rows))
        if args.ray:
            print()
            per = max(1, math.ceil(args.ray_episodes / args.scenarios))
            ray_rows = []
            for cpus in (1, 2):
                steal = StolenCPU()
                r = _spawn([str(suite), str(args.ray_in_flight * cpus), str(per), str(args.ray_latency), "ray",
                            str(cpus), "asyncio"])
                ray_rows.append([cpus, int(r["episodes"]), r["episodes"] / r["wall"], r["steps"] / r["wall"],
                                 _percent(steal.share())])
            eff = ray_rows[1][2] / (2 * ray_rows[0][2])
            print(table(["Ray workers", "episodes", "episodes/s", "steps/s", "CPU stolen"], ray_rows))
            print(f"({args.ray_in_flight} episodes in flight per worker)")
            print(f"Ray scaling efficiency 1 -> 2 workers: {100 * eff:.0f}% "
                  f"(latency {args.ray_latency * 1000:.0f} ms per step)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
