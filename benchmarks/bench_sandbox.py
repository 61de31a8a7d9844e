"""Cost of one ``run_python`` call per sandbox backend: the audit-hook runner against the kernel (landlock) runner.

    python benchmarks/bench_sandbox.py             # 20 rounds
    python benchmarks/bench_sandbox.py --quick     # 3 rounds (a check that it runs)

Two programs: a tiny script (``print(1 + 1)``: interpreter start-up, the bootstrap, copy in and out) and
one that imports pandas (what data work pays). Each round runs every (program, backend) pair once, the
backends alternating in ABBA order within the same process, so that drift and other load on the machine
hit both alike. The figures are the median wall-clock seconds per call, the median CPU seconds of the
child per call (less sensitive to other tenants: ``RUSAGE_CHILDREN``), and the ratio landlock / audit.

Then the start-up of an external agent process (``firstday.sandbox.agent_process``): ``python -I -c pass``
started plainly in a new session against the same command under ``start_sealed_process`` (the launcher seals
itself, then execs it), alternating, from start to exit; the difference is the seal's overhead per episode.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, median, table
from firstday.sandbox import BACKENDS, Limits, SandboxBackend
from firstday.sandbox.agent_process import AgentProcessPolicy, seal_unavailable_reason, start_sealed_process

PROGRAMS = {
    "tiny script": "print(1 + 1)",
    "import pandas": "import pandas as pd\nprint(int(pd.DataFrame({'a': [1, 2]})['a'].sum()))",
}
EXPECTED = {"tiny script": "2", "import pandas": "3"}


def one_call(backend: SandboxBackend, code: str, expected: str) -> tuple[float, float]:
    """Wall-clock and child CPU seconds of one call."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = backend.run(code, {"notes.txt": "hello\n"}, {"data.csv": ("a,b\n1,2\n", False)}, Limits(timeout_s=60))
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.output.strip() != expected:
        raise SystemExit(f"{backend.name}: unexpected output {res.output!r}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="3 rounds")
    args = ap.parse_args()
    rounds = 3 if args.quick else args.rounds
    names = ["audit", "landlock"]
    reason = BACKENDS["landlock"].available()
    if reason is not None:
        print(f"landlock unavailable here ({reason}): measuring audit only")
        names = ["audit"]
    print(machine())
    print(f"{rounds} rounds, backends alternating (ABBA)\n")
    walls: dict[tuple[str, str], list[float]] = {(p, b): [] for p in PROGRAMS for b in names}
    cpus: dict[tuple[str, str], list[float]] = {(p, b): [] for p in PROGRAMS for b in names}
    for program, code in PROGRAMS.items():
        one_call(BACKENDS["audit"], code, EXPECTED[program])  # warm the page cache outside the timing
        for r in range(rounds):
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                wall, cpu = one_call(BACKENDS[name], code, EXPECTED[program])
                walls[(program, name)].append(wall)
                cpus[(program, name)].append(cpu)
    rows: list[list[object]] = []
    for program in PROGRAMS:
        for name in names:
            rows.append([program, name, median(walls[(program, name)]) * 1000, median(cpus[(program, name)]) * 1000])
    print(table(["program", "backend", "wall ms/call", "child CPU ms/call"], rows))
    if len(names) == 2:
        print()
        ratio_rows: list[list[object]] = []
        for program in PROGRAMS:
            w = median(walls[(program, "landlock")]) / median(walls[(program, "audit")])
            c = median(cpus[(program, "landlock")]) / median(cpus[(program, "audit")])
            ratio_rows.append([program, w, c, f"{(w - 1) * 100:+.0f} %"])
        print(table(["program", "wall ratio landlock/audit", "CPU ratio", "landlock adds (wall)"], ratio_rows))
    agent_process_startup(rounds)


async def _agent_start(sealed: bool) -> tuple[float, float]:
    """Wall-clock and child CPU seconds from starting ``python -I -c pass`` to its exit."""
    argv = [sys.executable, "-I", "-c", "pass"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    if sealed:
        proc, backend = await start_sealed_process(argv, env={"PATH": "/usr/bin:/bin"}, cwd=Path(tempfile.gettempdir()),
                                                   policy=AgentProcessPolicy(connect_ports=()),
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, require=True)
        assert backend == "landlock"
    else:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                    stderr=subprocess.DEVNULL, start_new_session=True)
    status = await proc.wait()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if status != 0:
        raise SystemExit(f"agent process start-up: exit status {status}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def agent_process_startup(rounds: int) -> None:
    reason = seal_unavailable_reason()  # the probe, once per process: outside the timing
    if reason is not None:
        print(f"\nagent-process seal unavailable here ({reason}): not measured")
        return
    walls: dict[str, list[float]] = {"plain": [], "sealed": []}
    cpus: dict[str, list[float]] = {"plain": [], "sealed": []}

    async def go() -> None:
        await _agent_start(True)  # warm the page cache
        for r in range(rounds):
            for name in (["plain", "sealed"] if r % 2 == 0 else ["sealed", "plain"]):
                wall, cpu = await _agent_start(name == "sealed")
                walls[name].append(wall)
                cpus[name].append(cpu)

    asyncio.run(go())
    print(f"\nagent process start-up (python -I -c pass, start to exit), {rounds} rounds alternating\n")
    rows: list[list[object]] = [[name, median(walls[name]) * 1000, median(cpus[name]) * 1000] for name in walls]
    rows.append(["sealed - plain", (median(walls["sealed"]) - median(walls["plain"])) * 1000,
                 (median(cpus["sealed"]) - median(cpus["plain"])) * 1000])
    print(table(["agent process", "wall ms", "CPU ms (children)"], rows))


if __name__ == "__main__":
    main()
