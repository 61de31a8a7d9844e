"""The Ray executor: episodes on a Ray cluster, many in flight per worker; the driver writes results.

The executor starts one *episode actor* per CPU slot of the cluster (``num_cpus`` each). An actor is a
Ray worker process with its own asyncio loop that keeps many episodes in flight, exactly as one local
process does (an agent waiting for a model API costs no CPU), so ``max_in_flight`` (``--concurrency``)
episodes run at once over the whole cluster, not one per CPU. Each actor loads scenarios from the
suite path (which must be readable at the same path on every node: a shared file system, or the same
folder copied to each; the content hash is checked on load), builds the agent (from the factory's import
target the driver resolved: :class:`~firstday.agents.AgentSpec`), runs the episode under
the same guards as locally, and returns the episode summary and trace as JSON text. The driver (the
``firstday run`` process) hands each episode to the least-loaded actor, writes the run folder and the
SQLite index and shows progress, so resume, ``--retry-errors`` and the refusal of a changed
configuration work exactly as with the local executor. With memory on, the days of a scenario are
submitted one after the other, each with the memory the day before returned. An actor that dies (its
worker or node lost) is restarted by Ray, which retries its calls; a call that still fails becomes an
error episode, never a hang or a lost episode.

No process outlives the run: a local cluster the executor started (no ``address``, and Ray not
initialised by the caller) is shut down when the run ends (or the ``with`` block, for a kept executor),
on errors and Ctrl-C too, and the processes it started that Ray leaves behind (its dashboard and
runtime-env agents outlive the raylet) are stopped. Only that cluster's processes are touched (those
descended from this one since it started the cluster, and those carrying the mark it put in their
environment, ``OWNER_ENV``): a cluster given with ``address``, or one the caller connected to, is only
disconnected from (and its actors released), never stopped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib.util
import logging
import math
import os
import signal
import time
import uuid
from collections.abc import Sequence
from typing import Any

from firstday.errors import ConfigError
from firstday.run.episode import ScenarioCache
from firstday.run.runner import (
    EpisodeExecutor,
    EpisodeJob,
    EpisodeOutcome,
    EpisodeResult,
    RunEvents,
    default_tool_slots,
    error_outcome,
    gc_tuned,
    outcome_of,
    run_chain,
    run_job_serialised,
)
from firstday.suites.store import Suite

INSTALL_HINT = "the Ray executor needs Ray: pip install 'firstday[ray]' (or: pip install 'ray>=2.9')"
#: environment variable marking the processes of a local cluster a run started (value: unique per cluster)
OWNER_ENV = "FIRSTDAY_RAY_CLUSTER_OWNER"


class EpisodeActor:
    """The body of one episode actor (made a Ray actor by the executor): episodes of any suite, many at
    once on the actor's event loop."""

    def __init__(self, tool_slots: int) -> None:
        self._caches: dict[str, ScenarioCache] = {}
        self._slots = asyncio.Semaphore(tool_slots)
        # this process only runs episodes: the run's garbage-collector settings for its whole life
        gc_tuned().__enter__()

    async def run(self, job: EpisodeJob) -> EpisodeResult:
        return await run_job_serialised(job, self._caches, self._slots)


class RayExecutor(EpisodeExecutor):
    """Episodes on the Ray cluster at ``address`` (None: a local cluster started here, or the one this
    process is already connected to).

    ``max_in_flight`` episodes run at once over the cluster (default: twice its task slots), spread over
    one episode actor per slot; ``num_cpus`` is reserved per actor (a fraction starts more actors per
    core, for agents whose own CPU work is heavy). The actors live for one run, or, with the executor
    used as a context manager, for every run inside the ``with`` block (their caches stay warm).
    """

    def __init__(self, address: str | None = None, *, max_in_flight: int | None = None, num_cpus: float = 1.0,
                 init_kwargs: dict[str, Any] | None = None) -> None:
        if max_in_flight is not None and max_in_flight < 1:
            raise ConfigError(f"max_in_flight must be at least 1, got {max_in_flight}")
        if num_cpus <= 0:
            raise ConfigError(f"num_cpus must be positive, got {num_cpus}")
        # Ray is imported only when the first run connects; without it, say so now, before a run folder is made
        if importlib.util.find_spec("ray") is None:
            raise ConfigError(INSTALL_HINT)
        self.address = address
        self.max_in_flight = max_in_flight
        self.num_cpus = num_cpus
        self.init_kwargs = dict(init_kwargs or {})
        self._actors: list[Any] = []
        self._actor_shape: tuple[int, int] | None = None  # (actors, episodes in flight per actor)
        self._connected = False  # this executor called ray.init (so it calls ray.shutdown)
        self._preexisting: set[ProcessId] | None = None  # with a local cluster started here: processes before it
        self._tag: str | None = None  # with a local cluster started here: the mark in its processes' environment
        self._init_thread: concurrent.futures.ThreadPoolExecutor | None = None  # where ray.init runs

    def close(self) -> None:
        """Release the episode actors (their processes go back to the cluster); if this executor started a
        local cluster, stop it and every process it started."""
        self._release_actors()
        if self._connected:
            import ray

            self._connected = False
            preexisting, self._preexisting = self._preexisting, None
            tag, self._tag = self._tag, None
            # the cluster's processes: those descended from this one (found while the raylet still lives: the
            # agents it started are re-parented once it is gone), and those carrying the mark this process put
            # in their environment (an agent the raylet was still starting is found after the raylet is gone)
            ours = _descendants(os.getpid()) - preexisting if preexisting is not None else set()
            with contextlib.suppress(Exception):
                ray.shutdown()
            _stop_processes(ours | (_marked(tag) if tag else set()))
        if self._init_thread is not None:
            self._init_thread.shutdown(wait=False)
            self._init_thread = None

    def _release_actors(self) -> None:
        actors, self._actors, self._actor_shape = self._actors, [], None
        if actors:
            import ray

            for actor in actors:
                with contextlib.suppress(Exception):  # the cluster may be going away already
                    ray.kill(actor)

    def _ensure_actors(self, ray: Any, n_actors: int, per_actor: int) -> list[Any]:
        if self._actor_shape != (n_actors, per_actor):
            self._release_actors()
            actor_class = ray.remote(num_cpus=self.num_cpus, max_restarts=2, max_task_retries=2,
                                     max_concurrency=per_actor)(EpisodeActor)
            tool_slots = max(1, default_tool_slots() // n_actors)
            self._actors = [actor_class.remote(tool_slots) for _ in range(n_actors)]
            self._actor_shape = (n_actors, per_actor)
        return self._actors

    def _connect(self) -> Any:
        try:
            import ray
        except ImportError:
            raise ConfigError(INSTALL_HINT) from None
        if not ray.is_initialized():
            # a local cluster is started by ray.init unless an address is given (argument or RAY_ADDRESS)
            local = self.address is None and not os.environ.get("RAY_ADDRESS")
            before = _descendants(os.getpid()) if local else None
            tag = f"{os.getpid()}-{uuid.uuid4().hex}" if local else None
            if tag:  # inherited by every process of the local cluster (raylet, agents, workers): see close()
                os.environ[OWNER_ENV] = tag
            try:
                # the terminal is the run's: no worker logs (log_to_driver), and Ray's own start-up lines (a
                # local instance started, an auth token made, no SIGTERM handler in this thread) only if errors
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                         **{"logging_level": logging.ERROR, **self.init_kwargs})
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise ConfigError(f"cannot connect to the Ray cluster at {self.address or 'local'}: {exc}") from None
            finally:
                if tag:
                    os.environ.pop(OWNER_ENV, None)
            self._connected, self._preexisting, self._tag = True, before, tag
        return ray

    async def run(self, suite: Suite, chains: Sequence[Sequence[EpisodeJob]], events: RunEvents) -> None:
        if not chains:
            return
        # in a thread (starting a local cluster takes seconds) that outlives the cluster: Linux stops the
        # cluster's processes when the thread that started them exits (Ray sets PR_SET_PDEATHSIG)
        if self._init_thread is None:
            self._init_thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="firstday-ray")
        started = self._init_thread.submit(self._connect)
        try:
            ray = await asyncio.wrap_future(started)
            await self._run(ray, chains, events)
        finally:  # errors and Ctrl-C (the task is cancelled) included
            if not started.done():  # cancelled while the cluster was starting: let it start, then stop it
                with contextlib.suppress(Exception):
                    started.result()
            if not self.kept:
                self.close()

    async def _run(self, ray: Any, chains: Sequence[Sequence[EpisodeJob]], events: RunEvents) -> None:
        slots = max(1, int(ray.cluster_resources().get("CPU", 1) / self.num_cpus))
        window = self.max_in_flight or 2 * slots
        n_actors = min(slots, window)
        per_actor = math.ceil(window / n_actors)
        actors = self._ensure_actors(ray, n_actors, per_actor)
        load = [0] * n_actors  # episodes in flight per actor
        todo = iter(chains)

        async def run_one(job: EpisodeJob) -> EpisodeOutcome:
            i = min(range(n_actors), key=load.__getitem__)
            load[i] += 1
            t0 = time.perf_counter()
            try:
                result: EpisodeResult = await actors[i].run.remote(job)
                return outcome_of(result)
            except Exception as exc:  # the call failed in Ray (actor or node lost, after Ray's retries)
                return error_outcome(job, f"RayTaskError: {type(exc).__name__}: {str(exc)[:500]}",
                                     time.perf_counter() - t0)
            finally:
                load[i] -= 1

        async def driver() -> None:
            for chain in todo:  # shared iterator: each chain is driven by exactly one coroutine
                await run_chain(chain, run_one, events)

        # one driver coroutine per episode in flight: each keeps one chain's current day running
        async with asyncio.TaskGroup() as group:
            for _ in range(min(window, len(chains))):
                group.create_task(driver())


#: a process, told apart from a later one that reuses its pid by its start time (clock ticks since boot)
ProcessId = tuple[int, int]


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses): the
    state (field 3) first, the start time (field 22) at index 19; None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2:].split()


def _start_time(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields is not None and len(fields) > 19 else None


def _descendants(root: int) -> set[ProcessId]:
    """Every live descendant of process ``root`` (Linux: /proc; elsewhere psutil if installed, else none)."""
    if not os.path.isdir("/proc/self"):
        try:
            import psutil  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            return set()
        with contextlib.suppress(psutil.Error):
            return {(p.pid, int(p.create_time() * 100)) for p in psutil.Process(root).children(recursive=True)}
        return set()
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    out: set[ProcessId] = set()
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        started = _start_time(pid)
        if started is not None:
            out.add((pid, started))
            todo += children.get(pid, [])
    return out


def _marked(tag: str) -> set[ProcessId]:
    """Live processes (other than this one) whose environment holds ``OWNER_ENV=tag`` (Linux: /proc)."""
    if not os.path.isdir("/proc/self"):
        return set()
    needle, out = f"{OWNER_ENV}={tag}".encode(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
        except OSError:  # gone, or another user's
            continue
        started = _start_time(int(entry))
        if started is not None:
            out.add((int(entry), started))
    return out


def _alive(proc: ProcessId) -> bool:
    """The same process (pid and start time) still runs (a zombie has ended: it only awaits its reaping)."""
    if os.path.isdir("/proc/self"):
        fields = _stat_fields(proc[0])
        if fields is None:
            return False
        return fields[0] != b"Z" and len(fields) > 19 and int(fields[19]) == proc[1]
    try:
        import psutil  # type: ignore[import-untyped,unused-ignore]

        p = psutil.Process(proc[0])
        return int(p.create_time() * 100) == proc[1] and p.status() != psutil.STATUS_ZOMBIE
    except Exception:
        return False


def _stop_processes(procs: set[ProcessId], grace_s: float = 5.0) -> None:
    """Wait up to ``grace_s`` for ``procs`` to exit, then SIGTERM the survivors, then SIGKILL (each one
    checked to be the same process first, so a reused pid is never signalled)."""
    for sig in (0, signal.SIGTERM, signal.SIGKILL):
        alive = {p for p in procs if _alive(p)}
        if not alive:
            return
        for pid, _ in alive if sig else ():
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(_alive(p) for p in alive):
            time.sleep(0.05)  # polling an unrelated process: no exit notification exists for it
        procs = alive
