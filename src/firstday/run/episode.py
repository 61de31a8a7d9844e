"""One episode under the runner's guards: timeouts at every layer, and no blocking of the event loop.

:func:`guarded_episode` is :func:`firstday.env.run_episode` (same turns, same trace, same score card:
a test checks it) plus what a run with hundreds of episodes in flight needs:

* **model call timeout** (``RunLimits.act_timeout_s``): ``agent.reset`` and every ``agent.act`` run
  under ``asyncio.wait_for``; a call that does not return ends the episode as an error episode
  (the trace so far and the score card are kept, as for any agent failure);
* **tool call timeout**: ``run_python`` has its own wall-clock limit (``EnvConfig.run_timeout_s``,
  enforced by the code runner). A step that calls it starts a subprocess, so it runs in a thread and
  the event loop keeps serving the other episodes; if the thread is still busy ``tool_grace_s`` after
  its limits, the episode is abandoned as an error (its world is still being changed by that thread,
  so it is not scored);
* **episode timeout** (``RunLimits.episode_timeout_s``): the whole episode, wall clock;

and the attribution of each error (docs/scoring.md, "Error attribution"), by *where* it happened:
``infrastructure`` for an exception the model provider raised on giving up after retries
(:func:`firstday.models.base.provider_gave_up`, an identity check: an agent cannot raise one of its
own), an :class:`~firstday.errors.InfrastructureError` raised by the environment while carrying out a
tool call, or a tool thread abandoned as hung; ``agent`` for everything else out of the agent's
``reset``/``act`` (its exceptions, invalid output, its timeouts).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from firstday.env.episode import Briefing, DayEnv, EnvConfig, Observation
from firstday.env.loop import Agent, record_agent_info
from firstday.env.trace import AgentErrorData, AgentErrorEvent, TraceEvent
from firstday.errors import ConfigError, InfrastructureError
from firstday.jsonsafe import exception_text, traceback_text
from firstday.models.base import Endpoint, give_up_mark, provider_gave_up
from firstday.models.registry import ModelSettings
from firstday.run.results import RunLimits
from firstday.scoring.cards import DayScore
from firstday.suites.spec import Scenario
from firstday.suites.store import Suite
from firstday.world.tools import ToolCall, agent_calls

T = TypeVar("T")

#: who caused an error episode (docs/scoring.md, "Error attribution")
ErrorKind = Literal["agent", "infrastructure"]

#: tools whose step runs in a thread (they block: ``run_python`` starts a subprocess)
BLOCKING_TOOLS = frozenset({"run_python"})
#: tools that use the ast module: a step with one stays on the loop thread (CPython 3.11.7's ast module
#: is not safe to use from two threads at once)
AST_TOOLS = frozenset({"calculator"})


class StepTimeoutError(Exception):
    """A model call, a tool step or an episode went over its limit."""


#: the longest error message saved with an episode (an exception's text is the agent's to choose)
MAX_ERROR_CHARS = 2000


def describe_error(exc: BaseException) -> str:
    """``Type: message`` of an exception, safe for any exception an agent raises: a ``__str__`` that
    raises or returns something huge, not a string or with lone surrogates cannot turn an error episode
    into a crashed run."""
    return exception_text(exc, MAX_ERROR_CHARS)


class _NotTheAgents(Exception):
    """Wraps an exception the runner attributes to infrastructure by where it was raised."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(describe_error(cause))


@dataclass
class GuardedResult:
    status: Literal["ok", "error"]
    error: str | None
    turns: int
    score: DayScore | None  # None when the episode was abandoned (a hung tool thread still owns the world)
    trace: list[TraceEvent]
    error_kind: ErrorKind | None = None  # with status "error": who caused it


def _in_daemon_thread(fn: Any, *args: Any) -> asyncio.Future[Any]:
    """``fn(*args)`` in a fresh daemon thread, as a future: a hung call can be abandoned (and never
    blocks the process from exiting)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()
    # an abandoned step may still fail later: retrieve its exception so nothing is logged at exit
    fut.add_done_callback(lambda f: f.cancelled() or f.exception())

    def settle(value: Any, exc: BaseException | None) -> None:
        if not fut.done():
            fut.set_exception(exc) if exc is not None else fut.set_result(value)

    def work() -> None:
        try:
            value, exc = fn(*args), None
        except BaseException as e:  # handed to the awaiting coroutine
            value, exc = None, e
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody is waiting
            loop.call_soon_threadsafe(settle, value, exc)

    threading.Thread(target=work, name="firstday-tool-step", daemon=True).start()
    return fut


class _Abandoned(Exception):
    pass


class _StepDeadline:
    """``asyncio.timeout(limit)`` around each agent step of one episode, with one timer per episode.

    ``asyncio.timeout`` schedules and cancels a timer for every step; with hundreds of episodes in
    flight that is a noticeable share of a step's CPU. Here the timer is armed once and, when it
    fires, it either cancels the task (the step in progress is past its deadline) or re-arms itself
    for that step's deadline (or, between steps, waits to be armed by the next one). A step over its
    limit raises ``TimeoutError``, as ``asyncio.timeout`` does. Use as ``with``, in the task that awaits.
    """

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self._deadline: float | None = None  # loop time by which the step in progress must end
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancelling = 0
        self._fired = False

    def __enter__(self) -> None:
        if self.limit is None:
            return
        task, loop = self._task, self._loop
        if task is None or loop is None:  # the first step: every step of the episode runs in this task
            task = asyncio.current_task()
            assert task is not None, "_StepDeadline is used inside a task"
            self._task, loop = task, task.get_loop()
            self._loop = loop
        self._cancelling = task.cancelling()
        self._fired = False
        self._deadline = loop.time() + self.limit
        if self._timer is None:
            self._timer = loop.call_at(self._deadline, self._on_timer)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self._deadline = None
        if self._fired:
            self._fired = False
            assert self._task is not None
            if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc

    def _on_timer(self) -> None:
        self._timer = None
        if self._deadline is None or self._task is None:
            return  # between steps: the next step arms a timer again
        assert self._loop is not None
        if self._loop.time() >= self._deadline:
            self._fired = True
            self._task.cancel()
        else:
            self._timer = self._loop.call_at(self._deadline, self._on_timer)

    def close(self) -> None:
        """The episode is over: drop the timer (it would hold the episode for up to ``limit`` seconds)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deadline = self._task = self._loop = None


def run_endpoints(agent_options: Mapping[str, Any], config: EnvConfig | None = None) -> frozenset[Endpoint]:
    """The model endpoints a run was configured with: the agent's ``--model``/``--base-url`` and the LLM
    colleagues' model. Only their give-ups are infrastructure (an agent's own provider is the agent's)."""
    out: set[Endpoint] = set()
    wanted = [dict(agent_options)]
    if config is not None and config.colleague_model:
        wanted.append({**config.colleague_options, "model": config.colleague_model})
    for options in wanted:
        try:
            settings = ModelSettings.from_options(options)
        except ConfigError:
            continue  # no model configured for it
        base_url = settings.base_url
        if base_url is None and settings.model.startswith("openai/"):
            base_url = os.environ.get("OPENAI_BASE_URL") or None  # as the OpenAI provider resolves it
        out.add((settings.model, base_url))
    return frozenset(out)


async def guarded_episode(env: DayEnv, agent: Agent, limits: RunLimits,
                          tool_slots: asyncio.Semaphore | None = None,
                          endpoints: Collection[Endpoint] | None = None,
                          briefing: Briefing | None = None) -> GuardedResult:
    """Run one episode like ``run_episode``, under ``limits`` (see the module docstring). ``endpoints``: the
    run's model endpoints (:func:`run_endpoints`); None counts a give-up of any firstday provider. ``briefing``:
    ``env.briefing()`` if the caller has made it already (the runner hands it to the agent's factory too)."""
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    kind: ErrorKind | None = None
    abandoned = False
    stepping_in_thread = False

    step_deadline = _StepDeadline(limits.act_timeout_s)

    async def act(obs: Observation) -> object:
        # the agent runs in this task (no extra task per step; an exception such as KeyboardInterrupt
        # travels exactly as in run_episode), under a deadline that costs no timer per step
        mark = give_up_mark()
        try:
            with step_deadline:
                return await agent.act(obs)
        except TimeoutError:
            raise StepTimeoutError(f"agent step (model call) exceeded act_timeout_s={limits.act_timeout_s:g} s") \
                from None
        except Exception as exc:
            if provider_gave_up(exc, mark, endpoints):  # the run's provider gave up during this very step
                raise _NotTheAgents(exc) from exc
            raise

    async def step(calls: list[ToolCall]) -> Observation:
        blocking = [c for c in calls if c.name in BLOCKING_TOOLS]
        try:
            if not blocking or any(c.name in AST_TOOLS for c in calls):
                return env.step(calls)  # in-memory tools: microseconds, no thread hop
            return await step_in_thread(calls, blocking)
        except InfrastructureError as exc:  # raised by the environment, not by the agent's code
            raise _NotTheAgents(exc) from exc

    async def step_in_thread(calls: list[ToolCall], blocking: list[ToolCall]) -> Observation:
        nonlocal stepping_in_thread
        guard = len(blocking) * env.config.run_timeout_s + limits.tool_grace_s
        async with tool_slots or contextlib.nullcontext():  # waiting for a slot does not count toward the guard
            stepping_in_thread = True
            try:
                async with asyncio.timeout(guard):
                    obs: Observation = await asyncio.shield(_in_daemon_thread(env.step, calls))
            except TimeoutError:
                raise _Abandoned(f"tool step ({', '.join(c.name for c in blocking)}) did not return within "
                                 f"{guard:g} s (run_timeout_s={env.config.run_timeout_s:g} per call + "
                                 f"tool_grace_s={limits.tool_grace_s:g})") from None
            stepping_in_thread = False
            return obs

    async def body() -> None:
        mark = give_up_mark()
        try:
            async with asyncio.timeout(limits.act_timeout_s):
                await agent.reset(briefing or env.briefing())
        except TimeoutError:
            raise StepTimeoutError(f"agent reset exceeded act_timeout_s={limits.act_timeout_s:g} s") from None
        except Exception as exc:
            if provider_gave_up(exc, mark, endpoints):
                raise _NotTheAgents(exc) from exc
            raise
        obs = env.reset()
        record_agent_info(env, agent, 0)
        while not obs.done:
            # admitted (strings made safe); anything but a list of ToolCall raises AgentOutputError
            obs = await step(agent_calls(await act(await env.settle(obs))))
        await act(await env.settle(obs))  # let the agent see the final observation (its answer is ignored)

    try:
        async with asyncio.timeout(limits.episode_timeout_s):
            try:
                await body()
            finally:
                step_deadline.close()
    except _Abandoned as exc:  # a hung tool thread: the runner's guard gave up, not the agent
        status, error, abandoned, kind = "error", f"ToolTimeout: {exc}", True, "infrastructure"
    except TimeoutError:
        status, error = "error", f"EpisodeTimeout: episode exceeded episode_timeout_s={limits.episode_timeout_s:g} s"
        # the agent took too long, unless a tool thread is what hangs (then the world is not scoreable)
        abandoned = stepping_in_thread
        kind = "infrastructure" if abandoned else "agent"
        if not abandoned:
            env.record_agent_error(error)
    except StepTimeoutError as exc:
        status, error, kind = "error", f"ModelTimeout: {exc}", "agent"
        env.record_agent_error(error)
    except _NotTheAgents as exc:
        status, error, kind = "error", str(exc), "infrastructure"
        env.record_agent_error(error)
    except Exception as exc:
        status, error, kind = "error", describe_error(exc), "agent"
        env.record_agent_error(error + "\n" + traceback_text())
    if abandoned:
        trace = [*env.trace, AgentErrorEvent(t=env.world.now, data=AgentErrorData(message=error))]
        return GuardedResult(status, error, env.turns, None, trace, kind)
    # on the loop thread: scoring takes about a millisecond, and CPython 3.11.7's ast module (used by
    # checks and tracebacks) is not safe to use from two threads at once
    with contextlib.suppress(Exception):  # closing LLM colleagues must not turn a result into a crash
        await env.aclose()
    card = env.score()
    record_agent_info(env, agent, -1)
    return GuardedResult(status, error, env.turns, card, env.trace, kind)


class ScenarioCache:
    """Scenarios shared by the episodes in flight (days and trials of one scenario load it once).

    A scenario stays while an episode uses it, and the ``keep`` most recently released stay too (jobs
    come grouped by scenario). Loading (read, hash check, validation: a few milliseconds for a
    scenario) runs on the event loop thread, once per scenario: in a worker thread, a load in a run
    with dozens of episodes in flight once failed its round-trip hash check (cause not found; CPython
    3.11.7's ast module is known not to be thread-safe), and a stall of a few milliseconds per
    scenario does not matter.
    """

    def __init__(self, suite: Suite, keep: int = 2) -> None:
        self.suite = suite
        self.keep = keep
        self._live: dict[str, Scenario] = {}
        self._users: dict[str, int] = {}
        self._idle: OrderedDict[str, Scenario] = OrderedDict()

    async def acquire(self, scenario_id: str) -> Scenario:
        scenario = self._live.get(scenario_id) or self._idle.pop(scenario_id, None)
        if scenario is None:
            scenario = self.suite.scenario(scenario_id)  # raises: nothing is registered
        self._live[scenario_id] = scenario
        self._users[scenario_id] = self._users.get(scenario_id, 0) + 1
        return scenario

    def release(self, scenario_id: str) -> None:
        self._users[scenario_id] -= 1
        if self._users[scenario_id] == 0:
            del self._users[scenario_id]
            self._idle[scenario_id] = self._live.pop(scenario_id)
            while len(self._idle) > self.keep:
                self._idle.popitem(last=False)

    @property
    def loaded(self) -> int:
        return len(self._live) + len(self._idle)
