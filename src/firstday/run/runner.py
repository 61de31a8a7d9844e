"""The runner: every (scenario, day, trial) of a suite through one agent, saved as it goes, resumable.

The run is split into *jobs* (one episode each, plain picklable data) and an *executor* that turns
jobs into outcomes and hands each to the runner as soon as it is ready. The runner writes it (trace,
episode file, committed SQLite row: see :mod:`firstday.run.results`) and reports progress; it does
not care how the executor schedules its jobs:

* :class:`LocalExecutor` keeps ``concurrency`` episodes in flight in this process (asyncio);
* :class:`firstday.run.ray_executor.RayExecutor` runs each episode as a Ray task on a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from firstday._version import __version__
from firstday.agents import AgentContext, agent_names, make_agent
from firstday.env import DayEnv, EnvConfig, TraceEvent
from firstday.errors import ConfigError, UnknownNameError
from firstday.run import simulated as _simulated  # noqa: F401  (registers the simulated-model agent)
from firstday.run.episode import ScenarioCache, guarded_episode
from firstday.run.results import (
    AgentUsage,
    EpisodeSummary,
    RunFolder,
    RunLimits,
    RunManifest,
    episode_key,
    trace_text,
)
from firstday.seeding import derive_seed
from firstday.suites.spec import Scenario
from firstday.suites.store import Suite, load_suite


@dataclass(frozen=True)
class EpisodeJob:
    """Everything needed to run one episode, as plain data (so it can be shipped to a worker)."""

    suite_path: str
    scenario_id: str
    day_index: int
    agent: str
    agent_options: dict[str, Any]
    env_config: EnvConfig
    seed: int
    trial: int = 0
    limits: RunLimits = field(default_factory=RunLimits)

    @property
    def key(self) -> str:
        return episode_key(self.scenario_id, self.day_index, self.trial)


@dataclass
class EpisodeOutcome:
    summary: EpisodeSummary
    trace: list[TraceEvent] | str  # events, or their JSON-lines text (from a remote worker)
    wall_seconds: float = 0.0


def error_outcome(job: EpisodeJob, error: str, wall_seconds: float = 0.0) -> EpisodeOutcome:
    return EpisodeOutcome(EpisodeSummary(scenario_id=job.scenario_id, day_index=job.day_index, trial=job.trial,
                                         seed=job.seed, agent=job.agent, status="error", error=error), [],
                          wall_seconds)


ScenarioLoader = Callable[[str], Scenario | Awaitable[Scenario]]


async def run_job(job: EpisodeJob, load_scenario: ScenarioLoader | ScenarioCache,
                  tool_slots: asyncio.Semaphore | None = None) -> EpisodeOutcome:
    """Run one episode. Never raises an ``Exception``: any failure becomes an error episode."""
    started = time.perf_counter()
    cache = load_scenario if isinstance(load_scenario, ScenarioCache) else None
    try:
        if cache is not None:
            scenario = await cache.acquire(job.scenario_id)
        else:
            loaded = load_scenario(job.scenario_id)  # type: ignore[operator]
            scenario = await loaded if isinstance(loaded, Awaitable) else loaded
    except Exception as exc:
        return error_outcome(job, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
    try:
        day = next((d for d in scenario.days if d.day_index == job.day_index), None)
        if day is None:
            return error_outcome(job, f"scenario {job.scenario_id} has no day {job.day_index}")
        try:
            ctx = AgentContext(scenario=scenario, day=day, options=dict(job.agent_options), seed=job.seed)
            agent = make_agent(job.agent, ctx)
            env = DayEnv(scenario, day, job.env_config)
        except Exception as exc:  # building the agent or the day failed: record it and carry on
            return error_outcome(job, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
        result = await guarded_episode(env, agent, job.limits, tool_slots)
    finally:
        if cache is not None:
            cache.release(job.scenario_id)
    truncated = any(ev.type == "end" and ev.data.get("truncated") for ev in result.trace)
    summary = EpisodeSummary(
        scenario_id=job.scenario_id, day_index=job.day_index, trial=job.trial, seed=job.seed, agent=agent.name,
        status=result.status, error=result.error, turns=result.turns, truncated=truncated,
        metrics=result.score.metrics if result.score else None, tasks=result.score.tasks if result.score else [],
        usage=AgentUsage.of(agent),
    )
    return EpisodeOutcome(summary, result.trace, time.perf_counter() - started)


class RunEvents(ABC):
    """What an executor reports to the runner."""

    @abstractmethod
    def started(self, job: EpisodeJob) -> None:
        """``job`` is now in flight."""

    @abstractmethod
    async def finished(self, outcome: EpisodeOutcome) -> None:
        """Save ``outcome``; the executor awaits this before counting the episode done."""


class EpisodeExecutor(ABC):
    """Runs jobs, in any order, reporting each start and outcome to ``events``."""

    @abstractmethod
    async def run(self, suite: Suite, jobs: Sequence[EpisodeJob], events: RunEvents) -> None: ...


def default_tool_slots() -> int:
    """Steps running ``run_python`` at once: each starts a CPU-bound subprocess."""
    return max(2, 2 * (os.cpu_count() or 1))


class LocalExecutor(EpisodeExecutor):
    """``concurrency`` episodes in flight in this process, as asyncio tasks (1: one after the other).

    Agents waiting for a model API cost no CPU while they wait, so one process holds hundreds of
    episodes in flight; steps that run code go to threads, loading and scoring too.
    """

    def __init__(self, concurrency: int = 1, tool_slots: int | None = None) -> None:
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
        self.concurrency = concurrency
        self.tool_slots = tool_slots or default_tool_slots()

    async def run(self, suite: Suite, jobs: Sequence[EpisodeJob], events: RunEvents) -> None:
        cache = ScenarioCache(suite)
        slots = asyncio.Semaphore(self.tool_slots)
        queue: Iterator[EpisodeJob] = iter(jobs)

        async def worker() -> None:
            for job in queue:  # shared iterator: each job is taken by exactly one worker
                events.started(job)
                await events.finished(await run_job(job, cache, slots))

        if self.concurrency == 1 or len(jobs) <= 1:
            await worker()  # in this task: one after the other, exactly like a plain loop
            return
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, len(jobs))):
                    group.create_task(worker())
        except ExceptionGroup as eg:  # e.g. the disk is full: report the cause, not a group of one
            raise eg.exceptions[0] from None


@dataclass
class RunProgress:
    """Handed to the progress callback at the start, when an episode starts and when one finishes."""

    total: int
    skipped: int
    to_run: int = 0
    finished: int = 0
    errors: int = 0
    running: int = 0
    usage: AgentUsage = field(default_factory=AgentUsage)
    event: Literal["begin", "started", "finished"] = "begin"
    last: EpisodeSummary | None = None
    last_wall_seconds: float | None = None

    @property
    def done(self) -> int:
        return self.skipped + self.finished


ProgressCallback = Callable[[RunProgress], None]


@dataclass
class RunSummary:
    out_dir: Path
    manifest: RunManifest
    total: int
    ran: int
    skipped: int
    errors: int = 0  # error episodes among those run now
    wall_seconds: float = 0.0
    episodes: list[EpisodeSummary] = field(default_factory=list)  # every episode on disk, sorted by key
    usage: AgentUsage = field(default_factory=AgentUsage)  # of the episodes run now


def _describe_mismatch(old: RunManifest, new: RunManifest) -> str:
    """Only what differs, e.g. ``env config.text_only: False (saved) vs True (now)``."""
    parts = []
    a, b = old.settings(), new.settings()
    for key in a:
        if a[key] == b[key]:
            continue
        if isinstance(a[key], dict) and isinstance(b[key], dict):
            for sub in sorted(set(a[key]) | set(b[key])):
                if a[key].get(sub) != b[key].get(sub):
                    parts.append(f"{key}.{sub}: {a[key].get(sub)!r} (saved) vs {b[key].get(sub)!r} (now)")
        else:
            parts.append(f"{key}: {a[key]!r} (saved) vs {b[key]!r} (now)")
    return "; ".join(parts)


def _prepare_folder(folder: RunFolder, manifest: RunManifest) -> RunManifest:
    """Start a new run folder or check that an existing one is the same run (resume).

    Asking for more trials than the folder holds extends it; the timeouts are taken from now.
    """
    if folder.exists():
        old = folder.read_manifest()
        if old.settings() != manifest.settings():
            raise ConfigError(
                f"{folder.path} already holds a different run ({_describe_mismatch(old, manifest)}); "
                f"use another --out, or delete {folder.path} to start over")
        trials = max(old.trials, manifest.trials)
        updated = old.model_copy(update={"trials": trials, "n_episodes": old.n_episodes // old.trials * trials,
                                         "limits": manifest.limits})
        if updated != old:
            folder.write_manifest(updated)
        return updated
    if folder.path.exists() and (not folder.path.is_dir() or any(folder.path.iterdir())):
        raise ConfigError(f"{folder.path} exists and is not a run folder (no run.json); choose another --out")
    folder.write_manifest(manifest)
    return manifest


def trial_seed(run_seed: int, scenario_id: str, day_index: int, trial: int) -> int:
    """The agent seed of one trial (trial 0 keeps the seed a one-trial run always had)."""
    if trial == 0:
        return derive_seed(run_seed, "agent", scenario_id, day_index)
    return derive_seed(run_seed, "agent", scenario_id, day_index, "trial", trial)


def plan_jobs(suite: Suite, manifest: RunManifest, trials: int | None = None) -> list[EpisodeJob]:
    """Jobs grouped by scenario (its days and trials share one loaded scenario)."""
    days = range(suite.manifest.spec.days)
    return [
        EpisodeJob(suite_path=str(suite.path), scenario_id=sid, day_index=d, agent=manifest.agent,
                   agent_options=manifest.agent_options, env_config=manifest.env_config,
                   seed=trial_seed(manifest.seed, sid, d, k), trial=k, limits=manifest.limits)
        for sid in suite.scenario_ids for d in days for k in range(trials or manifest.trials)
    ]


class _Recorder(RunEvents):
    def __init__(self, folder: RunFolder, state: RunProgress, progress: ProgressCallback | None) -> None:
        self.folder, self.state, self.progress = folder, state, progress
        # one thread for the files and the SQLite commits: they wait on the disk, so they leave the loop;
        # a single thread (not the default pool) keeps GIL hand-offs and lock contention down
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="firstday-writer")

    def close(self) -> None:
        self._writer.shutdown(wait=True)

    def _report(self) -> None:
        if self.progress:
            self.progress(self.state)

    def started(self, job: EpisodeJob) -> None:
        self.state.running += 1
        self.state.event = "started"
        self._report()

    async def finished(self, outcome: EpisodeOutcome) -> None:
        # serialised here: it holds the GIL wherever it runs, and in a thread it only adds hand-offs
        lines = trace_text(outcome.trace)
        await asyncio.get_running_loop().run_in_executor(
            self._writer, self.folder.write_episode, outcome.summary, lines, outcome.wall_seconds)
        s = self.state
        s.running -= 1
        s.finished += 1
        s.errors += outcome.summary.status == "error"
        if outcome.summary.usage is not None:
            s.usage = s.usage + outcome.summary.usage
        s.event, s.last, s.last_wall_seconds = "finished", outcome.summary, outcome.wall_seconds
        self._report()


#: the collector's first threshold during a run (CPython's default is 700)
GC_THRESHOLD0 = 100_000


@contextlib.contextmanager
def _gc_tuned() -> Iterator[None]:
    """Fewer, cheaper cyclic-GC passes while episodes run (restored afterwards).

    With hundreds of episodes in flight the heap holds many live objects (worlds, traces), and the
    collector's frequent passes over them cost about a fifth of the CPU of a step. What is loaded
    before the run (modules, the suite) is frozen out of the collector's reach, and the young
    generation is collected less often. Nothing observable changes: only when cycles are freed.
    """
    old = gc.get_threshold()
    freeze = gc.get_freeze_count() == 0  # the application (or an enclosing run) froze objects: leave them be
    if freeze:
        gc.freeze()
    gc.set_threshold(max(old[0], GC_THRESHOLD0), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        if freeze:
            gc.unfreeze()


async def run_suite_async(
    suite_path: Path | str, agent: str, out_dir: Path | str, *, env_config: EnvConfig | None = None,
    agent_options: dict[str, Any] | None = None, seed: int = 0, retry_errors: bool = False,
    progress: ProgressCallback | None = None, executor: EpisodeExecutor | None = None, trials: int = 1,
    limits: RunLimits | None = None, concurrency: int = 1,
) -> RunSummary:
    """Run ``agent`` over every episode (x ``trials``) of the suite at ``suite_path``, saving into ``out_dir``.

    If ``out_dir`` already holds this run (same agent, options, environment, seed and suite),
    finished episodes are skipped (error episodes too, unless ``retry_errors``). Results are committed
    as each episode ends, so an interrupted (even killed) run loses at most the episodes in flight.
    ``executor`` defaults to a :class:`LocalExecutor` with ``concurrency`` episodes in flight.
    """
    started = time.perf_counter()
    if trials < 1:
        raise ConfigError(f"trials must be at least 1, got {trials}")
    suite = await asyncio.to_thread(load_suite, suite_path)
    known = agent_names()
    if agent not in known:
        raise UnknownNameError("agent", agent, list(known))
    manifest = RunManifest(
        agent=agent, agent_options=dict(agent_options or {}), env_config=env_config or EnvConfig(), seed=seed,
        suite_path=str(suite.path), suite_name=suite.manifest.spec.name, suite_hash=suite.manifest.content_hash,
        n_episodes=suite.manifest.n_days * trials, trials=trials, limits=limits or RunLimits(),
        firstday_version=__version__, created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    folder = RunFolder(Path(out_dir))
    try:
        manifest = _prepare_folder(folder, manifest)
        jobs = plan_jobs(suite, manifest, trials)
        finished = folder.finished()
        pending = [j for j in jobs if j.key not in finished or (retry_errors and finished[j.key] == "error")]
        state = RunProgress(total=len(jobs), skipped=len(jobs) - len(pending), to_run=len(pending))
        if progress:
            progress(state)
        recorder = _Recorder(folder, state, progress)
        try:
            with _gc_tuned():
                await (executor or LocalExecutor(concurrency)).run(suite, pending, recorder)
        finally:
            recorder.close()
        episodes = folder.read_episodes()
    finally:
        folder.close()
    return RunSummary(out_dir=folder.path, manifest=manifest, total=len(jobs), ran=state.finished,
                      skipped=state.skipped, errors=state.errors, wall_seconds=time.perf_counter() - started,
                      episodes=episodes, usage=state.usage)


def run_suite(
    suite_path: Path | str, agent: str, out_dir: Path | str, *, env_config: EnvConfig | None = None,
    agent_options: dict[str, Any] | None = None, seed: int = 0, retry_errors: bool = False,
    progress: ProgressCallback | None = None, executor: EpisodeExecutor | None = None, trials: int = 1,
    limits: RunLimits | None = None, concurrency: int = 1,
) -> RunSummary:
    """Synchronous wrapper of :func:`run_suite_async` (call that one from inside an event loop)."""
    box: list[RunSummary] = []

    async def main() -> None:
        # the summary is not the main task's result: CPython 3.11's asyncio.run formats that result's repr
        # when it restores the SIGINT handler (seconds for a summary of thousands of episodes)
        box.append(await run_suite_async(
            suite_path, agent, out_dir, env_config=env_config, agent_options=agent_options, seed=seed,
            retry_errors=retry_errors, progress=progress, executor=executor, trials=trials, limits=limits,
            concurrency=concurrency))

    asyncio.run(main())
    return box[0]
