"""The process executor: episodes spread over worker processes of this machine, each an asyncio loop.

One Python process runs on one core (the GIL), so with a fast model the CPU of the environment (tools,
traces, scoring) caps how many episodes one process keeps busy. ``ProcessExecutor`` starts ``workers``
processes (fresh interpreters, ``python -m firstday.run._worker``), each keeping its share of the
``concurrency`` episodes in flight exactly as :class:`~firstday.run.runner.LocalExecutor` does. This
process (the driver) plans the jobs, hands each to the least-loaded worker through a pipe, and writes
every outcome (trace, episode file, SQLite commit) as it comes back, so resume, ``--retry-errors``, the
refusal of a changed configuration and the progress display are those of the local executor, and the
files are byte for byte the same.

Failures end as recorded errors, never as a hang or a lost episode:

* a worker that dies (killed, out of memory, a crash in native code) turns the episodes it had in
  flight into error episodes (``WorkerCrash: ...``; ``--retry-errors`` reruns them) and is replaced;
  if workers keep dying (more than ``max_restarts`` replacements) the run stops with a clear message,
  its finished episodes saved;
* if the driver dies (even ``kill -9``), each worker sees its job pipe close and exits, so no process
  is left behind; rerunning the command resumes.

Agents are built in the workers, from the factory's import target the driver resolved
(:class:`~firstday.agents.AgentSpec`: the built-ins, a plug-in, ``module:factory``, or a registered factory
that has an importable name). A factory with no importable name (a lambda) is refused by the runner before
the run starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from firstday.errors import ConfigError
from firstday.run.runner import (
    EpisodeExecutor,
    EpisodeJob,
    EpisodeOutcome,
    RunEvents,
    default_tool_slots,
    error_outcome,
    event_loop_factory,
    outcome_of,
    run_chain,
)
from firstday.suites.store import Suite

# --- the driver -----------------------------------------------------------------------------------


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    jobs: Connection
    results: Connection
    in_flight: dict[int, tuple[EpisodeJob, asyncio.Future[EpisodeOutcome], float]] = field(default_factory=dict)
    closing: bool = False
    gone: bool = False  # its reader saw the pipe close: the process has ended or is ending

    @property
    def pid(self) -> int:
        return self.process.pid


class ProcessExecutor(EpisodeExecutor):
    """``concurrency`` episodes in flight over ``workers`` processes of this machine (see the module docstring).

    Use it for one run (``run_suite(..., executor=ProcessExecutor(2, 256))``: the workers start and stop
    with the run), or as a context manager to keep the same workers for several runs.
    """

    def __init__(self, workers: int | None = None, concurrency: int = 8, *, tool_slots: int | None = None,
                 max_restarts: int | None = None, event_loop: str = "asyncio") -> None:
        workers = (os.cpu_count() or 1) if workers is None else workers
        if workers < 1:
            raise ConfigError(f"workers must be at least 1, got {workers}")
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
        event_loop_factory(event_loop)  # an unknown or missing loop is a user error now, not in each worker
        self.workers = workers
        self.concurrency = concurrency
        self.event_loop = event_loop
        # run_python steps at once per worker: the machine's share, not a full share each
        self.tool_slots = tool_slots or max(1, default_tool_slots() // workers)
        self.max_restarts = max(4, 2 * workers) if max_restarts is None else max_restarts
        self._pool: list[_Worker] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._restarts = 0
        self._last_crash = ""

    # -- lifetime ----------------------------------------------------------------------------------
    def _spawn(self) -> _Worker:
        jobs_r, jobs_w = os.pipe()  # not inheritable: each worker gets exactly its own two ends
        results_r, results_w = os.pipe()
        try:
            # a fresh interpreter running the worker module (not multiprocessing's spawn, which re-imports
            # the caller's main module); stdout stays clean for --jsonl, stderr shows a worker's crash
            process = subprocess.Popen(
                [sys.executable, "-m", "firstday.run._worker", str(jobs_r), str(results_w), str(self.tool_slots),
                 self.event_loop],
                pass_fds=(jobs_r, results_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except BaseException:
            for fd in (jobs_r, jobs_w, results_r, results_w):
                os.close(fd)
            raise
        os.close(jobs_r)  # the worker's ends: with only the driver's kept, a dead peer shows as EOF
        os.close(results_w)
        worker = _Worker(process, Connection(jobs_w, readable=False), Connection(results_r, writable=False))
        threading.Thread(target=self._read, args=(worker,), name="firstday-results", daemon=True).start()
        return worker

    def _read(self, worker: _Worker) -> None:
        """The driver's reader thread of one worker: hand each message (None: the worker is gone) to the
        loop of the run in progress (kept workers serve runs on different loops, one after the other)."""
        while True:
            try:
                msg: Any = worker.results.recv()
            except (EOFError, OSError):
                msg = None
            except Exception as exc:  # an undecodable message: treat the worker as broken
                msg = ("broken", f"{type(exc).__name__}: {exc}")
            if msg is None or msg[0] == "broken":
                worker.gone = True  # before the loop is read: see run()
            loop = self._loop
            if loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop is closed: the run is over
                    loop.call_soon_threadsafe(self._on_message, worker, msg)
            if msg is None or msg[0] == "broken":
                return

    def _on_message(self, worker: _Worker, msg: Any) -> None:
        if msg is not None and msg[0] == "done":
            entry = worker.in_flight.pop(msg[1], None)
            if entry is not None and not entry[1].done():
                entry[1].set_result(outcome_of(msg[2:]))
            return
        if worker.closing or worker not in self._pool:
            return
        self._pool.remove(worker)
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.process.wait(timeout=2)
        code = worker.process.returncode
        how = (f"was killed by signal {-code}" if code is not None and code < 0 else
               f"exited with code {code}" if code is not None else "stopped answering")
        why = f": {msg[1]}" if msg is not None else ""
        self._last_crash = f"worker process {worker.pid} {how}{why}"
        for job, fut, t0 in worker.in_flight.values():
            if not fut.done():
                fut.set_result(error_outcome(
                    job, f"WorkerCrash: {self._last_crash} while running this episode; rerun with --retry-errors",
                    time.perf_counter() - t0))
        worker.in_flight.clear()
        self._shutdown(worker)
        if self._restarts < self.max_restarts:
            self._restarts += 1
            self._pool.append(self._spawn())

    def _shutdown(self, worker: _Worker, timeout: float = 0.0) -> None:
        worker.closing = True
        with contextlib.suppress(OSError):
            worker.jobs.close()  # EOF on the worker's side: it exits
        for stop in (None, worker.process.terminate, worker.process.kill):
            if stop is not None:
                stop()
            try:
                worker.process.wait(timeout if stop is None else 5)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(OSError):
            worker.results.close()

    def close(self) -> None:
        """Stop the workers (they finish nothing more: call when no run is in progress)."""
        pool, self._pool = self._pool, []
        for worker in pool:
            worker.closing = True
            with contextlib.suppress(OSError):
                worker.jobs.close()
        for worker in pool:
            self._shutdown(worker, timeout=10)
        self._loop = None

    # -- running -----------------------------------------------------------------------------------
    async def run(self, suite: Suite, chains: Sequence[Sequence[EpisodeJob]], events: RunEvents) -> None:
        if not chains:
            return
        loop = self._loop = asyncio.get_running_loop()
        # kept workers that died between runs (their news had no loop to go to; one that dies from now on
        # is reported to this loop, as `gone` is set before the reader reads `_loop`)
        for worker in [w for w in self._pool if w.gone or w.process.poll() is not None]:
            self._pool.remove(worker)
            self._shutdown(worker)
        self._restarts, self._last_crash = 0, ""
        while len(self._pool) < self.workers:
            self._pool.append(self._spawn())
        seq = 0
        todo = iter(chains)

        async def run_one(job: EpisodeJob) -> EpisodeOutcome:
            nonlocal seq
            if not self._pool:
                raise RuntimeError(
                    f"worker processes keep dying ({self._restarts} replaced; the last: {self._last_crash}); "
                    "finished episodes are saved: fix the cause and run the same command again to resume")
            worker = min(self._pool, key=lambda w: len(w.in_flight))
            seq += 1
            fut: asyncio.Future[EpisodeOutcome] = loop.create_future()
            worker.in_flight[seq] = (job, fut, time.perf_counter())
            # if the worker just died, its reader reports it and this episode becomes a WorkerCrash
            with contextlib.suppress(OSError):
                worker.jobs.send((seq, job))
            return await fut

        async def driver() -> None:
            for chain in todo:  # shared iterator: each chain is driven by exactly one coroutine
                await run_chain(chain, run_one, events)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, len(chains))):
                    group.create_task(driver())
        except ExceptionGroup as eg:
            raise eg.exceptions[0] from None
        finally:
            if not self.kept:
                self.close()

