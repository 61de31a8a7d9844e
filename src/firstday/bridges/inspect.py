"""The inspect_ai bridge: firstday days as inspect tasks (``inspect eval firstday/standard --model ...``).

One sample per day of a suite. Each sample runs one :class:`~firstday.env.DayEnv` under the runner's episode
guards (:func:`~firstday.run.episode.guarded_episode`, the in-process loop with run_python kept off the event
loop) and drives it with firstday's own ``llm`` agent (:class:`~firstday.agents.llm.LLMAgent`), whose model
calls go to inspect's model for the sample: the messages (clock, notifications, tool results, images), the
context policy and the budgets are exactly those of ``firstday run --agent llm``; the tools are inspect tools
built from the day's :class:`~firstday.world.tools.ToolSpec` (same names, descriptions and JSON schemas). All
the calls of one model turn are one environment step, as in-process. The scorer turns the day's score card into
an inspect score: ``score`` (the day's score) and the other figures as the value's keys, the card in metadata.

Registered with inspect through the ``inspect_ai`` entry point of the ``firstday`` package: ``firstday/smoke``,
``firstday/standard``, ``firstday/hard``, ``firstday/reference``, ``firstday/continual``,
``firstday/continual-mutable`` (a preset generated in memory from ``seed``) and ``firstday/suite`` (a suite
folder: ``-T path=suites/mine``). See docs/inspect.md.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

try:
    from inspect_ai import Task, task
    from inspect_ai.dataset import Sample
    from inspect_ai.model import (
        ChatMessage,
        ChatMessageAssistant,
        ChatMessageSystem,
        ChatMessageTool,
        ChatMessageUser,
        Content,
        ContentImage,
        ContentText,
        Model,
        ModelOutput,
        get_model,
    )
    from inspect_ai.scorer import Score, Scorer, Target, mean, scorer, stderr
    from inspect_ai.solver import Generate, Solver, TaskState, solver
    from inspect_ai.tool import ToolCall as InspectToolCall
    from inspect_ai.tool import ToolDef, ToolParams
    from inspect_ai.util import LimitExceededError
except ImportError as exc:  # the optional extra is not installed
    raise ImportError(f"the inspect_ai bridge needs the 'inspect-ai' package ({exc}); install it with: "
                      "pip install 'firstday[inspect]'") from None

from firstday.agents.base import AgentContext
from firstday.agents.llm import LLMAgent, notification_lines
from firstday.env.episode import DayEnv, EnvConfig, Observation
from firstday.errors import ConfigError
from firstday.models.base import ModelProvider, ModelRequest, ModelResponse, ModelToolCall, ProviderConfig, Usage
from firstday.run.episode import guarded_episode
from firstday.run.results import RunLimits
from firstday.scoring.cards import DayMetrics, DayScore, zero_for_agent_error
from firstday.suites.generate import generate_suite
from firstday.suites.spec import PRESETS, Scenario, preset
from firstday.suites.store import load_suite
from firstday.world.tools import ImagePart, ToolCall, ToolSpec

__all__ = ["PRESET_TASKS", "SCORE_KEYS", "InspectModelProvider", "day_samples", "firstday_agent", "firstday_scorer",
           "firstday_task", "inspect_tools", "score_values", "suite"]

#: where the solver leaves the day's outcome for the scorer (TaskState.store)
STORE_KEY = "firstday"

#: the figures of a day reported as keys of the score's value (in this order; "score" first is the headline);
#: a figure without a value on a day (a rate whose denominator is zero) is NaN there, which inspect leaves out
#: of that key's mean
SCORE_KEYS: tuple[str, ...] = (
    "score", "success_rate", "priority_weighted_score", "on_time_rate", "schedule_efficiency", "clue_discovery",
    "unsupported_rate", "urgent_latency", "interruption_response", "meetings_missed", "meetings_late", "work_left",
    "noise", "tool_calls",
)


# ---- where the days come from ----------------------------------------------------------------------------------

#: the scenarios of the tasks built in this process, by source key (samples name their key in their metadata: the
#: solver finds the hidden side of a day here, so it never enters inspect's log)
_SOURCES: dict[str, dict[str, Scenario]] = {}


def day_samples(scenarios: Sequence[Scenario], source_key: str) -> list[Sample]:
    """One sample per day: its id ``<scenario>-d<day index>``; its metadata names the day (no hidden data)."""
    samples = []
    for scn in scenarios:
        for day in scn.days:
            samples.append(Sample(
                id=f"{scn.scenario_id}-d{day.day_index}",
                input=f"firstday: a working day of scenario {scn.scenario_id} (day {day.day_index + 1}) at "
                      f"{scn.company.name}. The briefing, the tasks and the tools' results follow as the agent works.",
                metadata={"source": source_key, "scenario_id": scn.scenario_id, "day_index": day.day_index,
                          "tasks": len(day.tasks), "load": day.load}))
    return samples


# ---- tools -----------------------------------------------------------------------------------------------------

def inspect_tools(specs: Sequence[ToolSpec], env: DayEnv | None = None) -> list[ToolDef]:
    """The day's tools as inspect tools: each :class:`ToolSpec`'s name, description and JSON schema unchanged.

    With ``env``, calling one (as inspect's own tool loop would) is one environment step of that single call,
    and returns what the ``llm`` agent would see of it; the bridge's solver does not call them (it steps all the
    calls of a model turn at once, as in-process) but gives them to the model as its tools."""
    return [ToolDef(_tool_function(spec.name, env), name=spec.name, description=spec.description,
                    parameters=ToolParams.model_validate(spec.parameters)) for spec in specs]


def _tool_function(name: str, env: DayEnv | None) -> Any:
    async def execute(**arguments: Any) -> str | list[Content]:
        if env is None:
            raise RuntimeError(f"tool {name} is not bound to a firstday day")
        obs = env.step([ToolCall(name=name, arguments=arguments, id="inspect")])
        result = obs.results[0]
        lines = [result.content, f"Time: {obs.clock}."]
        if obs.notifications:
            lines += ["New notifications:", *notification_lines(obs.notifications)]
        if obs.done:
            lines.append("The day is over.")
        text = "\n".join(lines)
        if not result.images:
            return text
        return [ContentText(text=text), *(_image(img) for img in result.images)]

    return execute


def _image(img: ImagePart) -> ContentImage:
    return ContentImage(image=f"data:{img.media_type};base64,{img.data_b64}")


# ---- the model: firstday's chat messages <-> inspect's ---------------------------------------------------------

class InspectModelProvider(ModelProvider):
    """A firstday model provider that answers with inspect's model for the sample.

    No cache and no retries of its own (inspect's model has them: ``--max-retries``, ``--cache-prompt``...);
    generation settings (temperature, max tokens, seed) are inspect's (``--temperature`` etc.): the agent's own
    are not sent. A failed model call is kept in ``failure`` so the solver can hand it to inspect as the
    sample's error (an infrastructure failure, not an agent error). An inspect limit reached in a model call
    (``--token-limit``, ``--message-limit``...) ends the day as the agent's own budget does (an ``end_day``
    call): the day is scored as it stands, and the limit is kept in ``limit`` for the solver to report."""

    kind = "inspect"

    def __init__(self, model: Model, tools: list[ToolDef]) -> None:
        super().__init__(model.name, ProviderConfig(cache=False, max_retries=0))
        self.inspect_model = model
        self.tools = tools
        self.failure: BaseException | None = None
        self.limit: LimitExceededError | None = None
        self.last_output: ModelOutput | None = None
        # the model's own assistant messages, by (text, call ids): sent back as they came (reasoning and
        # provider-specific parts kept) rather than rebuilt from the agent's plain copy
        self._assistant: dict[tuple[str, tuple[str, ...]], ChatMessageAssistant] = {}

    async def _complete(self, request: ModelRequest, timeout_s: float) -> ModelResponse:
        return await self.complete(request)

    async def complete(self, request: ModelRequest, *, role: str = "agent") -> ModelResponse:
        try:
            output = await self.inspect_model.generate(self.chat_messages(request.messages),
                                                       tools=self.tools if request.tools else [])
        except LimitExceededError as exc:
            self.limit = exc
            return ModelResponse(tool_calls=[ModelToolCall(id="limit-end", name="end_day", arguments="{}")])
        except Exception as exc:
            self.failure = exc
            raise
        self.last_output = output
        message = output.message
        calls = [ModelToolCall(id=c.id, name=c.function,
                               # a call inspect could not parse keeps its error text: the environment refuses
                               # it as arguments that are not JSON (1 minute, as in-process)
                               arguments=c.parse_error if c.parse_error else json.dumps(c.arguments))
                 for c in message.tool_calls or []]
        text = message.text or None
        self._assistant[(text or "", tuple(c.id for c in calls))] = message
        usage = output.usage
        return ModelResponse(
            text=text, tool_calls=calls, finish_reason=output.stop_reason, model=output.model,
            usage=Usage(prompt_tokens=usage.input_tokens if usage else 0,
                        completion_tokens=usage.output_tokens if usage else 0))

    def chat_messages(self, messages: list[dict[str, Any]]) -> list[ChatMessage]:
        """OpenAI-format chat messages (what the agent keeps) as inspect chat messages."""
        out: list[ChatMessage] = []
        names: dict[str, str] = {}  # call id -> tool name (OpenAI tool messages do not carry it)
        for m in messages:
            role, content = m.get("role"), m.get("content")
            if role == "system":
                out.append(ChatMessageSystem(content=str(content or "")))
            elif role == "user":
                out.append(ChatMessageUser(content=_content(content)))
            elif role == "assistant":
                calls = m.get("tool_calls") or []
                for c in calls:
                    names[c["id"]] = c["function"]["name"]
                kept = self._assistant.get((content or "", tuple(c["id"] for c in calls)))
                out.append(kept if kept is not None else ChatMessageAssistant(
                    content=str(content or ""), tool_calls=[_inspect_call(c) for c in calls] or None))
            elif role == "tool":
                cid = str(m.get("tool_call_id", ""))
                out.append(ChatMessageTool(content=str(content or ""), tool_call_id=cid, function=names.get(cid)))
        return out


def _content(content: Any) -> str | list[Content]:
    if isinstance(content, str):
        return content
    parts: list[Content] = []
    for p in content or []:
        if p.get("type") == "image_url":
            parts.append(ContentImage(image=p["image_url"]["url"]))
        else:
            parts.append(ContentText(text=str(p.get("text", ""))))
    return parts


def _inspect_call(call: dict[str, Any]) -> InspectToolCall:
    raw = call["function"]["arguments"]
    try:
        args = json.loads(raw)
    except ValueError:
        args = None
    if isinstance(args, dict):
        return InspectToolCall(id=call["id"], function=call["function"]["name"], arguments=args)
    return InspectToolCall(id=call["id"], function=call["function"]["name"], arguments={},
                           parse_error=f"arguments are not a JSON object: {raw[:200]}")


class _BridgeAgent(LLMAgent):
    """The ``llm`` agent, handing the environment each call's arguments as the JSON object inspect parsed them
    into (text that is not a JSON object stays text: the environment reports it back, as in-process). The
    tools parse text the same way; the scheduling figures attribute calls to tasks only from parsed arguments
    (``firstday.scoring.scheduling.attribute_calls``)."""

    def _decode(self, response: ModelResponse) -> tuple[dict[str, Any], list[ToolCall], str | None]:
        message, calls, feedback = super()._decode(response)
        return message, [_parsed(call) for call in calls], feedback


def _parsed(call: ToolCall) -> ToolCall:
    if isinstance(call.arguments, str):
        try:
            args = json.loads(call.arguments)
        except ValueError:
            return call
        if isinstance(args, dict):
            return call.model_copy(update={"arguments": args})
    return call


class _BridgeDayEnv(DayEnv):
    """A DayEnv that says whether a step is under way (a run_python step runs in a thread: while it does, the
    world is still changing, and a day cut off then cannot be scored)."""

    stepping: int = 0

    def step(self, calls: list[ToolCall]) -> Observation:
        self.stepping += 1
        try:
            return super().step(calls)
        finally:
            self.stepping -= 1


# ---- solver and scorer -----------------------------------------------------------------------------------------

@solver
def firstday_agent(max_steps: int = 400, context_tokens: int = 48_000, keep_images: int = 2, max_text_only: int = 2,
                   images: bool = True, system_prompt: str | None = None, text_only: bool = False,
                   hints: str = "none", sandbox: str = "auto") -> Solver:
    """Lives the sample's day with firstday's ``llm`` agent on inspect's model (options as ``firstday run
    --agent llm --option ...``, docs/llm-agent.md; ``text_only``, ``hints`` and ``sandbox`` as EnvConfig)."""
    try:
        config = EnvConfig.model_validate({"text_only": text_only, "hints": hints, "sandbox": sandbox})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"firstday: invalid {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    options: dict[str, Any] = {"max_steps": max_steps, "context_tokens": context_tokens, "keep_images": keep_images,
                               "max_text_only": max_text_only, "images": images}
    if system_prompt is not None:
        options["system_prompt"] = system_prompt

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        meta = state.metadata
        scenarios = _SOURCES.get(str(meta.get("source")))
        if scenarios is None or meta.get("scenario_id") not in scenarios:
            raise ConfigError(f"sample {state.sample_id} does not come from a firstday task built in this process")
        scenario = scenarios[str(meta["scenario_id"])]
        day = scenario.days[int(meta["day_index"])]
        env = _BridgeDayEnv(scenario, day, config)
        model = get_model()
        provider = InspectModelProvider(model, inspect_tools(env.briefing().tools, env))
        agent = _BridgeAgent(AgentContext(scenario=scenario, day=day, seed=scenario.seed,
                                      options={**options, "model": f"inspect/{model}"}).public(),
                            provider=provider)
        try:
            # inspect limits the time of samples and model calls itself (--time-limit, --timeout)
            result = await guarded_episode(env, agent, RunLimits(act_timeout_s=None, episode_timeout_s=None))
        except asyncio.CancelledError:
            # an inspect time or working limit cut the day off: scored as it stands (as a day the agent ended
            # early), unless a tool step is still running in its thread (the world is still changing: not scored)
            if not env.stepping:
                _keep(state, "limit", "the day was cut off by an inspect limit", env.turns, agent, env.score())
            state.messages = provider.chat_messages(agent.history)
            raise
        state.messages = provider.chat_messages(agent.history)
        if provider.last_output is not None:
            state.output = provider.last_output
        if provider.failure is not None:
            raise provider.failure  # inspect's model failed: the sample's error (retried with --retry-on-error)
        if result.status == "error" and (result.error_kind != "agent" or result.score is None):
            raise RuntimeError(f"firstday episode failed (infrastructure): {result.error}")
        card = result.score
        assert card is not None
        if result.status == "error":  # caused by the agent: the day scores 0 (docs/scoring.md)
            tasks, metrics = zero_for_agent_error(card.tasks, card.metrics, result.error or "")
            card = card.model_copy(update={"tasks": tasks, "metrics": metrics})
        _keep(state, result.status, result.error, result.turns, agent, card)
        if provider.limit is not None:
            raise provider.limit  # inspect records the limit, then scores the day stored above
        state.completed = True
        return state

    return solve


def _keep(state: TaskState, status: str, error: str | None, turns: int, agent: LLMAgent, card: DayScore) -> None:
    """Leave the day's outcome in the sample's store for the scorer."""
    state.store.set(STORE_KEY, {"status": status, "error": error, "turns": turns, "steps": agent.steps,
                                "stopped": agent.stopped, "card": card.model_dump(mode="json")})


def score_values(metrics: DayMetrics) -> dict[str, float]:
    """The day's figures as a score value (:data:`SCORE_KEYS`; NaN where the day has no value for one)."""
    values = metrics.model_dump()
    return {key: math.nan if values[key] is None else float(values[key]) for key in SCORE_KEYS}


@scorer(metrics={"score": [mean(), stderr()], "*": [mean()]})
def firstday_scorer() -> Scorer:
    """The day's score card as an inspect score: ``score`` (the day's score, the headline) and the other figures
    (:data:`SCORE_KEYS`) as the value's keys, each averaged over the days; the whole card in the metadata."""

    async def score(state: TaskState, target: Target) -> Score:
        saved = state.store.get(STORE_KEY)
        if saved is None:
            raise RuntimeError("no firstday day to score for this sample: it was cut off by an inspect limit while a "
                               "tool step was running, or its solver is not firstday_agent (the firstday scorer "
                               "needs the day that solver runs)")
        card = DayScore.model_validate(saved["card"])
        lines = [f"{t.task_id} ({t.family}, {t.priority}): {t.score if t.score is not None else 0:.2f}"
                 f"{', on time' if t.on_time else ''}{f' [{t.zeroed}]' if t.zeroed else ''}" for t in card.tasks]
        if saved["error"]:
            lines.append(f"episode error: {saved['error']}")
        return Score(value=score_values(card.metrics), explanation="\n".join(lines),
                     metadata={"status": saved["status"], "error": saved["error"], "turns": saved["turns"],
                               "model_calls": saved["steps"], "stopped": saved["stopped"],
                               "metrics": card.metrics.model_dump(mode="json"),
                               "tasks": [t.model_dump(mode="json", exclude={"checkpoints"}) for t in card.tasks]})

    return score


# ---- tasks -----------------------------------------------------------------------------------------------------

def firstday_task(scenarios: Sequence[Scenario], source_key: str, *, solver: Solver | None = None,
                  name: str | None = None, **agent: Any) -> Task:
    """An inspect task of ``scenarios``' days (one sample per day), run by :func:`firstday_agent` (``agent``:
    its options) unless ``solver`` is given, scored by :func:`firstday_scorer`."""
    _SOURCES[source_key] = {s.scenario_id: s for s in scenarios}
    return Task(dataset=day_samples(scenarios, source_key), solver=solver or firstday_agent(**agent),
                scorer=firstday_scorer(), name=name, metadata={"firstday_source": source_key})


@task
def suite(path: str, max_steps: int = 400, context_tokens: int = 48_000, max_text_only: int = 2,
          images: bool = True, text_only: bool = False, hints: str = "none") -> Task:
    """The days of a suite folder made by ``firstday generate`` (``-T path=suites/mine``)."""
    try:
        loaded = load_suite(Path(path))
    except ConfigError as exc:
        raise ConfigError(f"firstday/suite: {exc}") from None
    key = f"suite:{loaded.path.resolve()}:{loaded.manifest.content_hash}"
    return firstday_task(loaded.scenarios(), key, max_steps=max_steps, context_tokens=context_tokens,
                         max_text_only=max_text_only, images=images, text_only=text_only, hints=hints)


def _preset_factory(preset_name: str) -> Any:
    def make(seed: int = 0, max_steps: int = 400, context_tokens: int = 48_000, max_text_only: int = 2,
             images: bool = True, text_only: bool = False, hints: str = "none") -> Task:
        return firstday_task(generate_suite(preset(preset_name, seed=seed)), f"preset:{preset_name}:{seed}",
                             max_steps=max_steps, context_tokens=context_tokens, max_text_only=max_text_only,
                             images=images, text_only=text_only, hints=hints)

    make.__name__ = make.__qualname__ = preset_name.replace("-", "_")
    make.__doc__ = f"The '{preset_name}' preset (generated in memory from seed), one sample per day."
    return task(name=preset_name)(make)


#: the task of each preset, by preset name (registered with inspect as ``firstday/<preset>``)
PRESET_TASKS: dict[str, Any] = {name: _preset_factory(name) for name in PRESETS}
