"""The Ray executor: each episode is a Ray task; the driver writes results as they complete.

Each task loads its scenario from the suite path (which must be readable at the same path on every
node: a shared file system, or the same folder copied to each; the content hash is checked on load),
builds the agent, runs the episode under the same guards as locally, and returns the episode
summary and trace as JSON text. The driver (the ``firstday run`` process) writes the run folder and
the SQLite index and shows progress, so resume, ``--retry-errors`` and the refusal of a changed
configuration work exactly as with the local executor. With memory on, the days of a scenario are
submitted one after the other, each with the memory the day before returned. A task that fails inside Ray (a worker or a
node died, after Ray's own retries) becomes an error episode, never a hang or a lost episode.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from firstday.env.memory import Memory
from firstday.errors import ConfigError
from firstday.run.results import EpisodeSummary
from firstday.run.runner import (
    EpisodeExecutor,
    EpisodeJob,
    EpisodeOutcome,
    RunEvents,
    error_outcome,
    run_chain,
    run_job,
)
from firstday.suites.store import Suite, load_suite

INSTALL_HINT = "the Ray executor needs Ray: pip install 'ray>=2.9'"

_SUITES: dict[str, Suite] = {}  # per worker process: suites already opened


def run_episode_task(job: EpisodeJob) -> tuple[str, str, float, str | None]:
    """The body of one Ray task: (episode summary JSON, trace JSON lines, wall seconds, memory JSON or None)."""
    suite = _SUITES.get(job.suite_path)
    if suite is None:
        suite = _SUITES[job.suite_path] = load_suite(job.suite_path)
    outcome = asyncio.run(run_job(job, suite.scenario))
    trace = outcome.trace if isinstance(outcome.trace, str) else "".join(
        ev.model_dump_json() + "\n" for ev in outcome.trace)
    memory = outcome.memory.model_dump_json() if outcome.memory is not None else None
    return outcome.summary.model_dump_json(), trace, outcome.wall_seconds, memory


class RayExecutor(EpisodeExecutor):
    """Episodes as Ray tasks on the cluster at ``address`` (None: a local cluster started here, or the
    one this process is already connected to).

    ``max_in_flight`` bounds the tasks submitted at once (default: twice the cluster's task slots), so
    a suite of any size never floods the object store; ``num_cpus`` is reserved per task (a fraction
    packs several latency-bound episodes per core).
    """

    def __init__(self, address: str | None = None, *, max_in_flight: int | None = None, num_cpus: float = 1.0,
                 init_kwargs: dict[str, Any] | None = None) -> None:
        self.address = address
        self.max_in_flight = max_in_flight
        self.num_cpus = num_cpus
        self.init_kwargs = dict(init_kwargs or {})

    def _connect(self) -> Any:
        try:
            import ray
        except ImportError:
            raise ConfigError(INSTALL_HINT) from None
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                         **self.init_kwargs)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise ConfigError(f"cannot connect to the Ray cluster at {self.address or 'local'}: {exc}") from None
        return ray

    async def run(self, suite: Suite, chains: Sequence[Sequence[EpisodeJob]], events: RunEvents) -> None:
        if not chains:
            return
        ray = await asyncio.to_thread(self._connect)
        task = ray.remote(num_cpus=self.num_cpus, max_retries=2)(run_episode_task)
        slots = max(1, int(ray.cluster_resources().get("CPU", 1) / self.num_cpus))
        window = self.max_in_flight or 2 * slots
        todo = iter(chains)
        gate = asyncio.Semaphore(window)  # Ray tasks submitted at once, over all chains

        async def run_one(job: EpisodeJob) -> EpisodeOutcome:
            async with gate:
                t0 = time.perf_counter()
                try:
                    summary_json, trace, wall, memory = await asyncio.wrap_future(task.remote(job).future())
                    return EpisodeOutcome(EpisodeSummary.model_validate_json(summary_json), trace, wall,
                                          Memory.model_validate_json(memory) if memory else None)
                except Exception as exc:  # the task died in Ray (worker crash, node lost, ...)
                    return error_outcome(job, f"RayTaskError: {type(exc).__name__}: {str(exc)[:500]}",
                                         time.perf_counter() - t0)

        async def worker() -> None:
            for chain in todo:  # shared iterator: each chain is driven by exactly one worker
                await run_chain(chain, run_one, events)

        # one driver coroutine per submission slot: each keeps one chain's current day in flight
        async with asyncio.TaskGroup() as group:
            for _ in range(min(window, len(chains))):
                group.create_task(worker())
