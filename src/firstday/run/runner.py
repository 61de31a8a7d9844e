"""The runner: every (scenario, day, trial) of a suite through one agent, saved as it goes, resumable.

The run is split into *jobs* (one episode each, plain picklable data) and an *executor* that turns
jobs into outcomes and hands each to the runner as soon as it is ready. The runner writes it (trace,
episode file, committed SQLite row: see :mod:`firstday.run.results`) and reports progress; it does
not care how the executor schedules its jobs:

* :class:`LocalExecutor` keeps ``concurrency`` episodes in flight in this process (asyncio);
* :class:`firstday.run.process_executor.ProcessExecutor` spreads them over worker processes of this
  machine, each an asyncio loop like the local executor;
* :class:`firstday.run.ray_executor.RayExecutor` spreads them over episode actors on a Ray cluster.

Jobs come in *chains*: the days of one (scenario, trial) when memory is on (``EnvConfig.memory``), which
run in day order, each day handed the memory the previous one left (see :mod:`firstday.env.memory`);
otherwise every job is a chain of its own. An executor runs chains concurrently and the jobs of a chain
one after the other (:func:`run_chain`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import gc
import inspect
import os
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

from firstday._version import __version__
from firstday.agents import AgentContext, AgentSpec, resolve_agent
from firstday.agents.base import agent_builder, check_agent_options
from firstday.env import DayEnv, EnvConfig, TraceEvent
from firstday.env.episode import day_hash
from firstday.env.loop import agent_name
from firstday.env.memory import Memory, normalize_lessons
from firstday.env.trace import EndEvent
from firstday.errors import ConfigError
from firstday.jsonsafe import exception_text
from firstday.models._usage import UsageByRole, UsageLedger, current_usage, usage_from_json, usage_json, usage_scope
from firstday.models.base import give_up_mark, provider_gave_up
from firstday.run.episode import ErrorKind, ScenarioCache, describe_error, guarded_episode, run_endpoints
from firstday.run.preflight import (
    DEFAULT_STOP_AFTER_ERRORS,
    CircuitBreaker,
    check_endpoints,
    endpoint_records,
)
from firstday.run.results import (
    AgentProcessBackend,
    AgentUsage,
    EpisodeRecord,
    EpisodeSummary,
    RunFolder,
    RunLimits,
    RunManifest,
    episode_key,
    merge_agent_sandbox,
    model_json,
    trace_text,
)
from firstday.run.saving import EpisodeSaver
from firstday.sandbox import resolve_backend
from firstday.scoring.cards import DayScore, zero_for_agent_error
from firstday.scoring.feedback import mentor_feedback
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
    memory: Memory | None = None  # with env_config.memory: what the earlier days of this chain left
    #: the agent as resolved by the process that planned the run (its factory's import target, its privilege);
    #: None: ``agent`` is looked up in this process's registry
    agent_spec: AgentSpec | None = None

    @property
    def key(self) -> str:
        return episode_key(self.scenario_id, self.day_index, self.trial)


@dataclass
class EpisodeOutcome:
    summary: EpisodeSummary
    trace: list[TraceEvent] | str  # events, or their JSON-lines text (from a remote worker)
    wall_seconds: float = 0.0
    memory: Memory | None = None  # with memory on: what this day leaves for the next one
    model_usage: UsageByRole = field(default_factory=dict)  # the episode's model calls by role (not saved)


def error_outcome(job: EpisodeJob, error: str, wall_seconds: float = 0.0,
                  kind: ErrorKind = "infrastructure") -> EpisodeOutcome:
    """An episode that ended before the agent could play its day (no score card). Such failures are the
    runner's, the worker's or the cluster's (``infrastructure``) unless the caller knows better."""
    return EpisodeOutcome(EpisodeSummary(scenario_id=job.scenario_id, day_index=job.day_index, trial=job.trial,
                                         seed=job.seed, agent=job.agent, status="error", error=error,
                                         error_kind=kind), [], wall_seconds)


async def _reflect(env: DayEnv, agent: Any, memory: Memory, limits: RunLimits,
                   options: dict[str, Any]) -> tuple[Memory, str | None, ErrorKind | None]:
    """The learning protocol's end of day: mentor feedback from the score card, the agent's reflection
    (its optional ``reflect(feedback)``), and the memory for tomorrow. Returns (memory, error or None, who
    caused the error: the model provider giving up during the reflection is infrastructure, anything else
    the agent's)."""
    card = env.score_card
    assert card is not None
    feedback = mentor_feedback(card)
    env.log_event("feedback", feedback.model_dump())
    memory = memory.model_copy(update={"feedback": [*memory.feedback, feedback]})
    fn = getattr(agent, "reflect", None)
    if not callable(fn):
        env.log_event("reflection", {"lessons": [], "note": "the agent has no reflect step"})
        return memory, None, None
    mark = give_up_mark()
    try:
        async with asyncio.timeout(limits.act_timeout_s):
            raw = fn(feedback)
            if inspect.isawaitable(raw):
                raw = await raw
    except TimeoutError:
        error = f"ReflectionTimeout: reflect exceeded act_timeout_s={limits.act_timeout_s:g} s"
        env.log_event("reflection", {"lessons": [], "error": error})
        return memory, error, "agent"
    except Exception as exc:  # the day is scored, but tomorrow's lessons are unknown: an error episode
        error = f"ReflectionError: {describe_error(exc)}"
        env.log_event("reflection", {"lessons": [], "error": error})
        endpoints = run_endpoints(options, env.config)
        return memory, error, "infrastructure" if provider_gave_up(exc, mark, endpoints) else "agent"
    new = normalize_lessons(raw, env.day.day_index)
    env.log_event("reflection", {"lessons": [lesson.model_dump() for lesson in new]})
    return memory.model_copy(update={"lessons": [*memory.lessons, *new][-2000:]}), None, None


ScenarioLoader = Callable[[str], Scenario | Awaitable[Scenario]]


async def run_job(job: EpisodeJob, load_scenario: ScenarioLoader | ScenarioCache,
                  tool_slots: asyncio.Semaphore | None = None) -> EpisodeOutcome:
    """Run one episode. Never raises an ``Exception``: any failure becomes an error episode. Every model call
    made while it runs (the agent's, the LLM colleagues', a judge's) counts in a usage scope of its own, which
    comes back as ``model_usage`` (docs/running.md, "Model usage")."""
    with usage_scope() as usage:
        outcome = await _run_job(job, load_scenario, tool_slots)
    outcome.model_usage = usage.snapshot()
    return outcome


async def _run_job(job: EpisodeJob, load_scenario: ScenarioLoader | ScenarioCache,
                   tool_slots: asyncio.Semaphore | None) -> EpisodeOutcome:
    started = time.perf_counter()
    cache = load_scenario if isinstance(load_scenario, ScenarioCache) else None
    try:
        if cache is not None:
            scenario = await cache.acquire(job.scenario_id)
        else:
            loaded = load_scenario(job.scenario_id)  # type: ignore[operator]
            scenario = await loaded if isinstance(loaded, Awaitable) else loaded
    except Exception as exc:  # the suite or the scenario cannot be loaded: not the agent's doing
        return error_outcome(job, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
    agent: Any = None
    try:
        day = next((d for d in scenario.days if d.day_index == job.day_index), None)
        if day is None:
            return error_outcome(job, f"scenario {job.scenario_id} has no day {job.day_index}")
        try:
            # the factory, imported here: one that this worker cannot import is not the agent's doing
            build = agent_builder(job.agent_spec or job.agent)
            if job.env_config.memory and job.memory is None and day.day_index != scenario.days[0].day_index:
                raise ValueError(f"day {job.day_index} of a run with memory needs the memory of the day before")
            env = DayEnv(scenario, day, job.env_config, memory=job.memory)
            instance_hash = day_hash(scenario, day)
        except Exception as exc:  # building the day failed (before any agent code ran): record it and carry on
            return error_outcome(job, exception_text(exc), time.perf_counter() - started)
        try:
            ctx = AgentContext(scenario=scenario, day=day, options=dict(job.agent_options), seed=job.seed,
                               memory=job.env_config.memory, briefing=env.briefing())
            agent = build(ctx)  # the full context if the agent is privileged, else ctx.public()
        except Exception as exc:  # the agent's own constructor raised: its error, and its day scores 0
            init_error = f"AgentInitError: {describe_error(exc)}"
            env.record_agent_error(init_error)
            error: str | None = init_error
            card: DayScore | None = env.score()
            status: Literal["ok", "error"] = "error"
            kind: ErrorKind | None = "agent"
            turns, trace = 0, env.trace
        else:
            endpoints = run_endpoints(job.agent_options, job.env_config)
            result = await guarded_episode(env, agent, job.limits, tool_slots, endpoints, ctx.briefing)
            status, error, kind, card, turns, trace = (result.status, result.error, result.error_kind, result.score,
                                                       result.turns, result.trace)
        if card is not None and kind == "agent":
            card = _zeroed(env, card, error)  # before the feedback: the mentor says why the day scores 0
        memory = None
        # the next day needs this day's memory: after an agent error too (that day is final, scored 0)
        if env.memory is not None and card is not None and (status == "ok" or kind == "agent"):
            after = env.memory_after()
            assert after is not None
            memory, reflect_error, reflect_kind = await _reflect(env, agent, after, job.limits, dict(job.agent_options))
            if reflect_error and status == "ok":
                status, error, kind = "error", reflect_error, reflect_kind
                if kind == "agent":  # the reflection is the agent's code: the day scores 0, the chain goes on
                    card = _zeroed(env, card, error)
                else:  # the model endpoint failed: tomorrow's lessons are unknown, the day is rerun
                    memory = None
    finally:
        if cache is not None:
            cache.release(job.scenario_id)
    # the "end" event is among the last of a trace (at most one per trace): look from the end
    truncated = next((ev.data.truncated for ev in reversed(trace) if type(ev) is EndEvent), False)
    summary = EpisodeSummary(
        scenario_id=job.scenario_id, day_index=job.day_index, trial=job.trial, seed=job.seed,
        agent=agent_name(agent, job.agent), status=status, error=error,
        error_kind=kind if status == "error" else None, turns=turns, truncated=truncated,
        metrics=card.metrics if card else None, tasks=card.tasks if card else [],
        usage=AgentUsage.of(agent), instance_hash=instance_hash, memory=job.env_config.memory,
        hints=job.env_config.hints, agent_sandbox=_agent_process_backend(agent),
    )
    return EpisodeOutcome(summary, trace, time.perf_counter() - started, memory)


def _agent_process_backend(agent: object) -> AgentProcessBackend | None:
    """How the episode's external agent process ran (``--agent-cmd``): ``agent-process`` (sealed) or ``none``;
    None for an in-process agent, or when the command never started. Asked of the agent object, not of its
    ``trace_info()``: an in-process agent could say anything about itself there."""
    # not imported here: the serve package imports this module; no CommandAgent exists unless it is loaded
    command = sys.modules.get("firstday.serve.command")
    if command is None or not isinstance(agent, command.CommandAgent):
        return None
    backend = agent.backend
    return backend if backend in ("agent-process", "none") else None


def _zeroed(env: DayEnv, card: DayScore, error: str | None) -> DayScore:
    """The card of a day an agent error ended: every task 0 (docs/scoring.md, "Error attribution")."""
    tasks, metrics = zero_for_agent_error(card.tasks, card.metrics, error or "")
    assert metrics is not None
    env.score_card = card.model_copy(update={"tasks": tasks, "metrics": metrics})
    return env.score_card


#: an outcome as shipped from a worker process: (summary JSON, trace JSON lines, wall seconds, memory JSON or None,
#: model usage JSON)
EpisodeResult = tuple[str, str, float, str | None, str]


async def run_job_serialised(job: EpisodeJob, caches: dict[str, ScenarioCache],
                             tool_slots: asyncio.Semaphore) -> EpisodeResult:
    """:func:`run_job` in a worker (a worker process or a Ray actor), its outcome as text for the driver.
    ``caches`` holds the worker's scenario cache per suite path (filled here)."""
    try:
        cache = caches.get(job.suite_path)
        if cache is None:
            cache = caches[job.suite_path] = ScenarioCache(load_suite(job.suite_path))
        outcome = await run_job(job, cache, tool_slots)
    except Exception as exc:  # run_job records its own failures; this is opening the suite
        outcome = error_outcome(job, f"{type(exc).__name__}: {exc}")
    memory = model_json(outcome.memory) if outcome.memory is not None else None  # (never fails: see model_json)
    return (model_json(outcome.summary), trace_text(outcome.trace), outcome.wall_seconds, memory,
            usage_json(outcome.model_usage))


def outcome_of(result: EpisodeResult) -> EpisodeOutcome:
    """The driver's side of :func:`run_job_serialised`."""
    summary, trace, wall, memory, usage = result
    return EpisodeOutcome(EpisodeSummary.model_validate_json(summary), trace, wall,
                          Memory.model_validate_json(memory) if memory else None, usage_from_json(usage))


async def run_chain(chain: Sequence[EpisodeJob], run_one: Callable[[EpisodeJob], Awaitable[EpisodeOutcome]],
                    events: RunEvents) -> None:
    """The jobs of one chain in order, each handed the memory its predecessor left. After an error day the
    rest of the chain is recorded as error episodes without running (their memory would be unknown);
    ``--retry-errors`` reruns the chain from the failed day."""
    memory: Memory | None = chain[0].memory if chain else None
    failed: str | None = None
    for job in chain:
        events.started(job)
        if failed is not None:
            await events.finished(error_outcome(job, f"NotRun: {failed}"))
            continue
        if job.env_config.memory:
            job = dataclasses.replace(job, memory=memory)
        outcome = await run_one(job)
        await events.finished(outcome)
        memory = outcome.memory
        # after an agent error the day still left its memory (that day is final, scored 0) and the chain goes on
        if job.env_config.memory and outcome.summary.status == "error" and memory is None:
            failed = (f"day {job.day_index} of this scenario ended in an infrastructure error, so the memory this "
                      "day needs is unknown; fix the cause and rerun with --retry-errors")


class RunEvents(ABC):
    """What an executor reports to the runner."""

    @abstractmethod
    def started(self, job: EpisodeJob) -> None:
        """``job`` is now in flight."""

    @abstractmethod
    async def finished(self, outcome: EpisodeOutcome) -> None:
        """Save ``outcome``; the executor awaits this before counting the episode done."""


class EpisodeExecutor(ABC):
    """Runs chains of jobs, chains in any order and the jobs of a chain in order (:func:`run_chain`),
    reporting each start and outcome to ``events``.

    An executor with workers (processes, Ray actors) starts them for a run and stops them at its end;
    used as a context manager it keeps them for every run inside the ``with`` block (``kept``).
    """

    kept: bool = False
    #: agents are built in this process (so an agent registered here only, e.g. a lambda, can run)
    in_process: bool = False
    #: build the agent once before the run starts, to refuse a broken factory up front (an executor whose agent
    #: exists only inside its episode, e.g. the bridge to an MCP client that has not connected yet, says False)
    builds_agent_up_front: bool = True

    @abstractmethod
    async def run(self, suite: Suite, chains: Sequence[Sequence[EpisodeJob]], events: RunEvents) -> None: ...

    def close(self) -> None:  # noqa: B027  (optional: executors without workers have nothing to stop)
        """Stop the workers, if any (call when no run is in progress)."""

    def __enter__(self) -> Self:
        self.kept = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.kept = False
        self.close()


def default_tool_slots() -> int:
    """Steps running ``run_python`` at once: each starts a CPU-bound subprocess."""
    return max(2, 2 * (os.cpu_count() or 1))


class LocalExecutor(EpisodeExecutor):
    """``concurrency`` episodes in flight in this process, as asyncio tasks (1: one after the other).

    Agents waiting for a model API cost no CPU while they wait, so one process holds hundreds of
    episodes in flight; steps that run code go to threads, loading and scoring too.
    """

    in_process = True

    def __init__(self, concurrency: int = 1, tool_slots: int | None = None) -> None:
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
        self.concurrency = concurrency
        self.tool_slots = tool_slots or default_tool_slots()

    async def run(self, suite: Suite, chains: Sequence[Sequence[EpisodeJob]], events: RunEvents) -> None:
        cache = ScenarioCache(suite)
        slots = asyncio.Semaphore(self.tool_slots)
        queue: Iterator[Sequence[EpisodeJob]] = iter(chains)

        async def run_one(job: EpisodeJob) -> EpisodeOutcome:
            return await run_job(job, cache, slots)

        async def worker() -> None:
            for chain in queue:  # shared iterator: each chain is taken by exactly one worker
                await run_chain(chain, run_one, events)

        if self.concurrency == 1 or len(chains) <= 1:
            await worker()  # in this task: one after the other, exactly like a plain loop
            return
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, len(chains))):
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
    infrastructure_errors: int = 0  # among ``errors``: not the agent's (rerun by --retry-errors)
    running: int = 0
    usage: AgentUsage = field(default_factory=AgentUsage)
    #: model calls by role (agent, colleague, judge) of the episodes finished so far, wherever they ran
    model_usage: UsageLedger = field(default_factory=UsageLedger)
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
    model_usage: UsageLedger = field(default_factory=UsageLedger)  # model calls by role of the episodes run now
    infrastructure_errors: int = 0  # among ``errors``: not the agent's, rerun by --retry-errors
    repairs: list[str] = field(default_factory=list)  # what was found damaged in the folder and how it was repaired

    @property
    def agent_errors(self) -> int:
        """Error episodes run now that are charged to the agent (scored 0, final)."""
        return self.errors - self.infrastructure_errors


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


def _merged_sandbox(saved: str, now: str) -> str:
    """The runners a resumed run used, e.g. ``audit+landlock`` (``unrecorded`` for runs made before)."""
    parts = {p for p in (saved or "unrecorded").split("+")} | {now}
    return "+".join(sorted(parts))


def _prepare_folder(folder: RunFolder, manifest: RunManifest, allow_endpoint_change: bool = False) -> RunManifest:
    """Start a new run folder or check that an existing one is the same run (resume).

    Asking for more trials than the folder holds extends it; the timeouts are taken from now. A model
    endpoint other than the one recorded is refused unless ``allow_endpoint_change`` (then the earlier one
    is kept in ``previous_endpoints``); a run that recorded none records now's.
    """
    if folder.exists():
        old = folder.read_manifest()
        if old.settings() != manifest.settings():
            raise ConfigError(
                f"{folder.path} already holds a different run ({_describe_mismatch(old, manifest)}); "
                f"use another --out, or delete {folder.path} to start over")
        changed = check_endpoints(old, manifest, folder.path, allow_endpoint_change)
        trials = max(old.trials, manifest.trials)
        update: dict[str, Any] = {"trials": trials, "n_episodes": old.n_episodes // old.trials * trials,
                                  "limits": manifest.limits, "sandbox": _merged_sandbox(old.sandbox, manifest.sandbox),
                                  # now's URLs: the episodes to run get them (their options), run.json says them
                                  "agent_options": manifest.agent_options, "env_config": manifest.env_config,
                                  "endpoints": manifest.endpoints,
                                  "privileged": old.privileged or manifest.privileged}
        if changed:
            update["previous_endpoints"] = [*old.previous_endpoints, *changed]
        updated = old.model_copy(update=update)
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


def plan_jobs(suite: Suite, manifest: RunManifest, trials: int | None = None,
              agent: AgentSpec | None = None) -> list[EpisodeJob]:
    """Jobs grouped by scenario (its days and trials share one loaded scenario). ``agent``: the manifest's agent
    as :func:`~firstday.agents.resolve_agent` resolved it (None: each worker looks the name up)."""
    days = range(suite.manifest.spec.days)
    return [
        EpisodeJob(suite_path=str(suite.path), scenario_id=sid, day_index=d, agent=manifest.agent,
                   agent_options=manifest.agent_options, env_config=manifest.env_config,
                   seed=trial_seed(manifest.seed, sid, d, k), trial=k, limits=manifest.limits, agent_spec=agent)
        for sid in suite.scenario_ids for d in days for k in range(trials or manifest.trials)
    ]


def plan_chains(jobs: Sequence[EpisodeJob], folder: RunFolder, retry_errors: bool) -> list[list[EpisodeJob]]:
    """The chains still to run. Without memory: each unfinished job alone. With memory: for each
    (scenario, trial), its days from the first unfinished one on (a later day depends on the memory of
    every earlier one), the first handed the memory saved after the day before it."""
    finished = folder.finished()

    retry = folder.retryable() if retry_errors else set()

    def pending(j: EpisodeJob) -> bool:  # agent errors are final: --retry-errors reruns the others only
        return j.key not in finished or j.key in retry

    if not jobs or not jobs[0].env_config.memory:
        return [[j] for j in jobs if pending(j)]
    by_chain: dict[tuple[str, int], list[EpisodeJob]] = {}
    for j in jobs:
        by_chain.setdefault((j.scenario_id, j.trial), []).append(j)
    chains = []
    for chain in by_chain.values():
        chain.sort(key=lambda j: j.day_index)
        first = next((i for i, j in enumerate(chain) if pending(j)), None)
        if first is None:
            continue
        memory = folder.read_memory(chain[first - 1].key) if first > 0 else Memory(
            scenario_id=chain[0].scenario_id, trial=chain[0].trial)
        chains.append([dataclasses.replace(chain[first], memory=memory), *chain[first + 1:]])
    return chains


class _Recorder(RunEvents):
    """Saves each outcome (:class:`EpisodeSaver`: off the loop, in batches) and reports progress: an
    episode stops running when it is handed over, and is finished when it is committed."""

    def __init__(self, folder: RunFolder, state: RunProgress, progress: ProgressCallback | None,
                 max_pending: int = 256, breaker: CircuitBreaker | None = None,
                 manifest: RunManifest | None = None) -> None:
        self.state, self.progress = state, progress
        self.folder, self.manifest = folder, manifest
        self.breaker = breaker
        self.saver = EpisodeSaver(folder, self._committed, max_pending)
        self.saved: dict[str, EpisodeSummary] = {}  # key -> summary of each episode committed by this run

    async def drain(self) -> None:
        await self.saver.drain()

    def close(self) -> None:
        self.saver.close()

    def _report(self) -> None:
        if self.progress:
            self.progress(self.state)

    def started(self, job: EpisodeJob) -> None:
        self.state.running += 1
        self.state.event = "started"
        self._report()

    async def finished(self, outcome: EpisodeOutcome) -> None:
        # the trace is serialised by the writer thread: the CPU is the same (it holds the GIL), but when many
        # episodes end at once it is time-sliced with the loop's steps instead of stalling them
        record = EpisodeRecord(outcome.summary, outcome.trace, outcome.wall_seconds, outcome.memory)
        self.state.running -= 1
        self.state.model_usage.add(outcome.model_usage)
        await self.saver.save(record)
        tripped = self.breaker.record(outcome.summary) if self.breaker is not None else None
        if tripped is not None:  # saved first: the executor stops, the saver keeps what was handed over
            raise tripped

    def _committed(self, record: EpisodeRecord) -> None:
        s = self.state
        s.finished += 1
        s.errors += record.summary.status == "error"
        s.infrastructure_errors += record.summary.infrastructure_error
        if record.summary.usage is not None:
            s.usage = s.usage + record.summary.usage
        s.event, s.last, s.last_wall_seconds = "finished", record.summary, record.wall_seconds
        self.saved[record.summary.key] = record.summary
        self._note_agent_sandbox(record.summary.agent_sandbox)
        self._report()

    def _note_agent_sandbox(self, backend: str | None) -> None:
        """Keep run.json's ``agent_sandbox`` up to date as episodes are committed (a run killed later still
        says how its external agent ran); written only when it changes (at most twice in a run)."""
        if self.manifest is None or backend is None:
            return
        merged = merge_agent_sandbox(self.manifest.agent_sandbox, backend)
        if merged != self.manifest.agent_sandbox:
            self.manifest = self.manifest.model_copy(update={"agent_sandbox": merged})
            self.folder.write_manifest(self.manifest)


def _settle_agent_sandbox(folder: RunFolder, manifest: RunManifest,
                          episodes: Sequence[EpisodeSummary]) -> RunManifest:
    """run.json's ``agent_sandbox`` from the episodes the folder holds at the end of the run (an episode rerun by
    --retry-errors replaces the old one). A folder whose episodes predate the field keeps what run.json says."""
    recorded = [e.agent_sandbox for e in episodes if e.agent_sandbox is not None]
    if not recorded:
        return manifest
    merged = merge_agent_sandbox(*recorded)
    if merged == manifest.agent_sandbox:
        return manifest
    manifest = manifest.model_copy(update={"agent_sandbox": merged})
    folder.write_manifest(manifest)
    return manifest


#: the collector's first threshold during a run (CPython's default is 700)
GC_THRESHOLD0 = 100_000


@contextlib.contextmanager
def gc_tuned() -> Iterator[None]:
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


async def preflight_agent(suite: Suite, agent: AgentSpec, options: dict[str, Any], env_config: EnvConfig,
                          seed: int) -> None:
    """Build the agent once, for the first episode of the suite, before anything is written: a factory that
    raises is a :class:`ConfigError` (a mistake in the agent or its options), not an error episode per day. The
    agent is dropped unused; each episode builds its own."""
    if not suite.scenario_ids:
        return
    sid = suite.scenario_ids[0]
    scenario = await asyncio.to_thread(suite.scenario, sid)
    day = scenario.days[0]
    # the briefing of that day (no LLM colleagues: nothing is asked of them)
    env = DayEnv(scenario, day, env_config.model_copy(update={"colleague_model": None}))
    ctx = AgentContext(scenario=scenario, day=day, options=dict(options), seed=trial_seed(seed, sid, day.day_index, 0),
                       memory=env_config.memory, briefing=env.briefing())
    try:
        agent_builder(agent)(ctx)
    except Exception as exc:
        raise ConfigError(f"agent {agent.name!r} could not be built (for {sid} day {day.day_index}): "
                          f"{describe_error(exc)}") from exc


async def run_suite_async(
    suite_path: Path | str, agent: str, out_dir: Path | str, *, env_config: EnvConfig | None = None,
    agent_options: dict[str, Any] | None = None, seed: int = 0, retry_errors: bool = False,
    progress: ProgressCallback | None = None, executor: EpisodeExecutor | None = None, trials: int = 1,
    limits: RunLimits | None = None, concurrency: int = 1, notice: Callable[[str], None] | None = None,
    stop_after_errors: int = DEFAULT_STOP_AFTER_ERRORS, allow_endpoint_change: bool = False,
) -> RunSummary:
    """Run ``agent`` over every episode (x ``trials``) of the suite at ``suite_path``, saving into ``out_dir``.

    If ``out_dir`` already holds this run (same agent, options, environment, seed and suite),
    finished episodes are skipped (error episodes too; ``retry_errors`` reruns the infrastructure
    errors, never the agent's). Results are committed as each episode ends, so an interrupted (even
    killed) run loses at most the episodes in flight. A damaged folder is repaired first
    (:meth:`RunFolder.repair`): each thing found and done is handed to ``notice`` (one line each) and
    listed in ``RunSummary.repairs``. ``executor`` defaults to a :class:`LocalExecutor` with
    ``concurrency`` episodes in flight.

    The model usage by role of the episodes run now is ``RunSummary.model_usage`` (and, as it grows,
    ``RunProgress.model_usage``); it is also added to the usage scope this is called in, if any.

    Options the agent refuses (``check_options`` of its factory, e.g. ``llm`` without a model) raise a
    ConfigError before the folder is made. The model endpoints are recorded in ``run.json``
    (:func:`firstday.run.preflight.endpoint_records`) and a resume against another one is refused unless
    ``allow_endpoint_change``. ``stop_after_errors`` episodes in a row failing on one endpoint stop the run
    with :class:`firstday.run.preflight.CircuitOpen` (finished episodes saved; 0: never).
    """
    started = time.perf_counter()
    enclosing_usage = current_usage()
    if trials < 1:
        raise ConfigError(f"trials must be at least 1, got {trials}")
    suite = await asyncio.to_thread(load_suite, suite_path)
    await asyncio.to_thread(suite.verify)  # a damaged scenario file: one error now, before any folder or episode
    env_config = env_config or EnvConfig()
    executor = executor or LocalExecutor(concurrency)
    spec = resolve_agent(agent)  # an unknown name or a factory that cannot be imported: a ConfigError now
    if spec.target is None and not executor.in_process:
        raise ConfigError(
            f"agent {agent!r} is registered in this process only and its factory cannot be imported by name (a "
            "lambda, or defined in a function or in __main__), so the workers of this executor cannot build it: "
            "define the factory at the top level of an importable module (then register it, or pass "
            "'module:factory' as the agent), or use the local executor")
    check_agent_options(spec, dict(agent_options or {}))
    breaker = CircuitBreaker(stop_after_errors)
    if executor.builds_agent_up_front:
        await preflight_agent(suite, spec, agent_options or {}, env_config, seed)
    # the runner really used (auto may fall back); with require_sandbox, no kernel sandbox is an error now
    backend = resolve_backend(env_config.sandbox, env_config.require_sandbox)
    manifest = RunManifest(
        agent=agent, agent_options=dict(agent_options or {}), env_config=env_config, seed=seed,
        suite_path=str(suite.path), suite_name=suite.manifest.spec.name, suite_hash=suite.manifest.content_hash,
        n_episodes=suite.manifest.n_days * trials, trials=trials, limits=limits or RunLimits(),
        firstday_version=__version__, created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        sandbox=backend.name, privileged=spec.privileged,
        endpoints=endpoint_records(dict(agent_options or {}), env_config),
    )
    folder = RunFolder(Path(out_dir))
    try:
        manifest = _prepare_folder(folder, manifest, allow_endpoint_change)
        repairs = await asyncio.to_thread(folder.repair)
        for line in repairs:
            if notice is not None:
                notice(line)
        jobs = plan_jobs(suite, manifest, trials, spec)
        chains = plan_chains(jobs, folder, retry_errors)
        to_run = sum(len(c) for c in chains)
        state = RunProgress(total=len(jobs), skipped=len(jobs) - to_run, to_run=to_run)
        if progress:
            progress(state)
        recorder = _Recorder(folder, state, progress, max_pending=max(64, concurrency), manifest=manifest)
        recorder.breaker = breaker
        try:
            # each episode counts its model calls in a scope of its own; a call made outside any episode
            # counts in the run's
            with gc_tuned(), usage_scope(state.model_usage):
                try:
                    await executor.run(suite, chains, recorder)
                except Exception:
                    if breaker.tripped is not None:  # however the executor passed it on (alone, in a group)
                        raise breaker.tripped from None
                    raise
                await recorder.drain()
        finally:
            recorder.close()
            if enclosing_usage is not None:
                enclosing_usage.add(state.model_usage.snapshot())
        episodes = folder.read_episodes(known=recorder.saved)  # this run's own: not read back
        manifest = _settle_agent_sandbox(folder, recorder.manifest or manifest, episodes)
    finally:
        folder.close()
    return RunSummary(out_dir=folder.path, manifest=manifest, total=len(jobs), ran=state.finished,
                      skipped=state.skipped, errors=state.errors, wall_seconds=time.perf_counter() - started,
                      episodes=episodes, usage=state.usage, model_usage=state.model_usage,
                      infrastructure_errors=state.infrastructure_errors,
                      repairs=repairs)


EventLoopName = Literal["asyncio", "uvloop"]
EVENT_LOOPS: tuple[EventLoopName, ...] = ("asyncio", "uvloop")


def event_loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop a run uses: ``asyncio`` (the standard one) or ``uvloop`` (libuv-based, less CPU
    per wake-up: it matters with hundreds of episodes in flight). Results do not depend on it (tested)."""
    if name == "asyncio":
        return None
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            raise ConfigError("the uvloop event loop needs uvloop: pip install 'firstday[fast]'") from None
        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    raise ConfigError(f"unknown event loop {name!r}; use one of {', '.join(EVENT_LOOPS)}")


def run_suite(
    suite_path: Path | str, agent: str, out_dir: Path | str, *, env_config: EnvConfig | None = None,
    agent_options: dict[str, Any] | None = None, seed: int = 0, retry_errors: bool = False,
    progress: ProgressCallback | None = None, executor: EpisodeExecutor | None = None, trials: int = 1,
    limits: RunLimits | None = None, concurrency: int = 1, event_loop: str = "asyncio",
    notice: Callable[[str], None] | None = None, stop_after_errors: int = DEFAULT_STOP_AFTER_ERRORS,
    allow_endpoint_change: bool = False,
) -> RunSummary:
    """Synchronous wrapper of :func:`run_suite_async` (call that one from inside an event loop), on the
    event loop ``event_loop`` (see :func:`event_loop_factory`)."""
    box: list[RunSummary] = []

    async def main() -> None:
        # the summary is not the main task's result: CPython 3.11's asyncio.run formats that result's repr
        # when it restores the SIGINT handler (seconds for a summary of thousands of episodes)
        box.append(await run_suite_async(
            suite_path, agent, out_dir, env_config=env_config, agent_options=agent_options, seed=seed,
            retry_errors=retry_errors, progress=progress, executor=executor, trials=trials, limits=limits,
            concurrency=concurrency, notice=notice, stop_after_errors=stop_after_errors,
            allow_endpoint_change=allow_endpoint_change))

    with asyncio.Runner(loop_factory=event_loop_factory(event_loop)) as runner:
        runner.run(main())
    return box[0]
