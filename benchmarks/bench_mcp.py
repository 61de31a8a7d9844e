"""MCP serving speed (issue 19, item 7): what a tool call costs over MCP, and many sessions in one server.

    python benchmarks/bench_mcp.py            # round trips (300 calls each) and 64 sessions x 40 calls at 50 ms
    python benchmarks/bench_mcp.py --quick    # a check that it runs (few calls, 4 sessions)

* **Round trip**: the median time of one ``list_tasks`` call as the agent sees it, three ways: in-process
  (the interval between two ``act`` calls of an agent that always calls ``list_tasks``: the environment's step,
  the observation and the loop), over MCP stdio and over MCP streamable HTTP (``ClientSession.call_tool`` in
  this process against ``firstday serve`` in a subprocess). *Added* = MCP median - in-process median.
* **Sessions**: ``firstday serve --transport http`` in one subprocess serves ``--sessions`` episodes at once;
  the clients (asyncio, official MCP client, ``--client-procs`` processes) each wait ``--latency`` seconds (a
  simulated model) before each of ``--session-calls`` calls. Ideal makespan = calls x (latency + the
  in-process step: no transport cost and a core for everyone); efficiency = ideal / measured makespan, from the
  moment every session has its episode to the last call. Beside it, the CPU per call of the server and of the
  clients: on a machine with few cores the clients' share is the limit, and it is not the server's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import StolenCPU, machine, table

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}


def make_suite(folder: Path) -> Path:
    from firstday.suites import generate_suite, preset, save_suite

    spec = preset("smoke", seed=3).model_copy(update={"scenarios": 1})  # one episode per trial
    save_suite(spec, generate_suite(spec), folder)
    return folder


def in_process(suite: Path, calls: int) -> list[float]:
    """Seconds between two ``act`` calls of an agent that calls ``list_tasks`` every turn."""
    from firstday.env import DayEnv, run_episode
    from firstday.env.episode import Briefing, Observation
    from firstday.suites import load_suite
    from firstday.world.tools import ToolCall

    loaded = load_suite(suite)
    scenario = loaded.scenario(loaded.scenario_ids[0])
    marks: list[float] = []

    class Caller:
        name = "caller"

        async def reset(self, briefing: Briefing) -> None:
            pass

        async def act(self, observation: Observation) -> list[ToolCall]:
            marks.append(time.perf_counter())
            return [ToolCall(name="list_tasks" if len(marks) <= calls else "end_day", id=str(len(marks)))]

    asyncio.run(run_episode(DayEnv(scenario, scenario.days[0]), Caller()))
    return [b - a for a, b in itertools.pairwise(marks[1:calls + 1])]  # the first turn warms up


def _serve_argv(suite: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "firstday", "serve", str(suite), "--out", str(out), "-q", *extra]


def _start_http(suite: Path, out: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    log = (out.parent / f"{out.name}.serve.log").open("w")  # the server's stderr, printed if it fails
    proc = subprocess.Popen(_serve_argv(suite, out, "--transport", "http", *extra), stdout=subprocess.PIPE,
                            stderr=log, text=True, env=_env())
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url:
        raise RuntimeError(f"firstday serve did not start: {(out.parent / f'{out.name}.serve.log').read_text()}")
    return proc, url


def _cpu_of(pid: int | str) -> float:
    """CPU seconds (user + system) used so far by process ``pid``; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    """CPU seconds used so far by this process's children (the server)."""
    return sum(_cpu_of(pid) for children in Path("/proc/self/task").glob("*/children")
               for pid in children.read_text().split())


#: CPU per call of the last timed loop: transport name -> (server ms, client ms)
CPU_PER_CALL: dict[str, tuple[float, float]] = {}


async def _timed_calls(session: Any, calls: int, name: str = "") -> list[float]:
    await session.initialize()
    await session.call_tool("notifications", {})  # the episode starts
    await session.call_tool("list_tasks", {})  # warm-up
    times = []
    server0, client0 = _children_cpu(), time.process_time()
    for _ in range(calls):
        t0 = time.perf_counter()
        await session.call_tool("list_tasks", {})
        times.append(time.perf_counter() - t0)
    CPU_PER_CALL[name] = ((_children_cpu() - server0) / calls * 1000, (time.process_time() - client0) / calls * 1000)
    await session.call_tool("end_day", {})
    return times


async def over_stdio(suite: Path, out: Path, calls: int) -> list[float]:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    argv = _serve_argv(suite, out)
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=_env())
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        return await _timed_calls(session, calls, "MCP stdio")


async def _http_session(url: str, body: Any) -> Any:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
        return await body(session)


def over_http(suite: Path, out: Path, calls: int) -> list[float]:
    proc, url = _start_http(suite, out)
    try:
        times: list[float] = asyncio.run(_http_session(url, lambda s: _timed_calls(s, calls, "MCP HTTP")))
        return times
    finally:
        proc.wait(timeout=120)  # its one episode is done: the server ends by itself


async def _client_sessions(url: str, sessions: int, calls: int, latency: float) -> list[float]:
    """``sessions`` episodes; each waits ``latency`` before each call. Prints ``ready`` once every session has its
    episode, starts calling when a line arrives on stdin; returns each session's end time (``time.time()``)."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    ready = 0
    go = asyncio.Event()

    async def one() -> float:
        nonlocal ready
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            await s.call_tool("notifications", {})  # the episode starts
            ready += 1
            if ready == sessions:
                print("ready", flush=True)
                await asyncio.to_thread(sys.stdin.readline)
                go.set()
            await go.wait()
            for _ in range(calls):
                await asyncio.sleep(latency)
                await s.call_tool("list_tasks", {})
            ended = time.time()
            await s.call_tool("end_day", {})
            return ended

    return list(await asyncio.gather(*(one() for _ in range(sessions))))


def client_main(args: argparse.Namespace) -> None:
    ends = asyncio.run(_client_sessions(args.url, args.sessions, args.session_calls, args.latency))
    print(json.dumps(ends), flush=True)


def sessions_level(suite: Path, out: Path, sessions: int, calls: int, latency: float, step: float,
                   client_procs: int) -> dict[str, Any]:
    proc, url = _start_http(suite, out, "--trials", str(sessions))
    per = [sessions // client_procs + (i < sessions % client_procs) for i in range(client_procs)]
    clients = [subprocess.Popen([sys.executable, __file__, "--client", "--url", url, "--sessions", str(n),
                                 "--session-calls", str(calls), "--latency", str(latency)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env())
               for n in per if n]
    for c in clients:  # every session has its episode
        assert c.stdout is not None and c.stdout.readline().strip() == "ready"
    stolen = StolenCPU()
    server0, clients0 = _cpu_of(proc.pid), sum(_cpu_of(c.pid) for c in clients)
    started = time.time()
    for c in clients:
        assert c.stdin is not None
        c.stdin.write("go\n")
        c.stdin.flush()
    # each client's CPU just before it ends (its last line is its answer; /proc is gone once it is reaped)
    clients_cpu = 0.0
    ends: list[float] = []
    for c in clients:
        assert c.stdout is not None
        line = c.stdout.readline()
        clients_cpu += _cpu_of(c.pid)
        ends += json.loads(line)
        c.wait()
    server_cpu = _cpu_of(proc.pid) - server0  # includes the end_day calls and the episodes' saving after the end
    proc.wait(timeout=300)
    makespan = max(ends) - started
    ideal = calls * (latency + step)  # every session: calls x (the model's wait + the step in process)
    total = sessions * calls
    return {"sessions": sessions, "calls": calls, "latency_ms": latency * 1000, "makespan_s": makespan,
            "ideal_s": ideal, "efficiency": ideal / makespan, "calls_per_s": total / makespan,
            "server_cpu_ms_call": server_cpu / total * 1000,
            "client_cpu_ms_call": (clients_cpu - clients0) / total * 1000,
            "steal": stolen.share()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--calls", type=int, default=300, help="round trips per transport")
    ap.add_argument("--sessions", type=int, default=64)
    ap.add_argument("--session-calls", type=int, default=40)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--client-procs", type=int, default=1)
    # the client side of the sessions level (run in subprocesses)
    ap.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        client_main(args)
        return
    if args.quick:
        args.calls, args.sessions, args.session_calls = 20, 4, 5
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        suite = make_suite(Path(tmp) / "suite")
        base = in_process(suite, args.calls)
        stdio = asyncio.run(over_stdio(suite, Path(tmp) / "stdio", args.calls))
        http = over_http(suite, Path(tmp) / "http", args.calls)
        ms = 1000.0
        rows = [[name, statistics.median(xs) * ms, (statistics.median(xs) - statistics.median(base)) * ms,
                 sorted(xs)[int(0.9 * (len(xs) - 1))] * ms, *CPU_PER_CALL.get(name, ("", ""))]
                for name, xs in (("in-process", base), ("MCP stdio", stdio), ("MCP HTTP", http))]
        print(f"\nround trip of one list_tasks call ({args.calls} calls)")
        print(table(["path", "median ms", "added ms", "p90 ms", "server CPU ms", "client CPU ms"], rows))
        level = sessions_level(suite, Path(tmp) / "sessions", args.sessions, args.session_calls, args.latency,
                               statistics.median(base), args.client_procs)
        print(f"\n{args.sessions} sessions in one server, {args.latency * 1000:g} ms simulated model, "
              f"{args.client_procs} client process(es)")
        print(table(list(level), [list(level.values())]))


if __name__ == "__main__":
    main()
