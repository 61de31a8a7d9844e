"""The trace of an episode: one typed event per line, what happened in the order it happened.

Each event kind is its own pydantic model, ``{"t": <virtual minute>, "type": <kind>, "data": {...}}``,
and :data:`TraceEvent` is their union, told apart by ``type`` (a discriminated union). Kinds are grouped
by who caused them (:class:`AgentEvent`, :class:`WorldEvent`, :class:`HarnessEvent`; ``event.source``).
A saved trace (``traces/<key>.jsonl`` in a run folder) holds one event per line; its JSON schema is
``docs/trace-schema.json`` (:func:`trace_schema_json`) and docs/trace.md describes every kind.

Optional keys (``agent``, ``lessons``, ``hints``, ...) are left out of the JSON when they are empty, as
the traces written before these models were (the format did not change: old run folders load as they are).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from firstday.env.memory import Lesson
from firstday.scoring.feedback import MentorFeedback
from firstday.tasks.hints import HintTier
from firstday.world.notebook import Note
from firstday.world.records import Notification

EventSource = Literal["agent", "world", "harness"]


def _unset(value: object) -> bool:
    """Whether an optional value is left out of the JSON: it was never set."""
    return value is None


def _empty(value: list[Any]) -> bool:
    """Whether an optional list is left out of the JSON: it is empty."""
    return not value


class TaskHint(BaseModel):
    task_id: str
    tier: HintTier
    text: str


class ColleagueReplyLog(BaseModel):
    """How an LLM colleague's reply was made (``EnvConfig.colleague_model``; docs/colleagues.md)."""

    sender: str = Field(description="the colleague's handle")
    deterministic: str = Field(description="the reply the deterministic colleague gives")
    llm: str | None = Field(description="the model's rephrasing (None: the model was not reached)")
    used: Literal["llm", "deterministic"] = Field(description="which of the two the trainee got")
    defects: list[str] = Field(description="why the rephrasing was refused (values dropped or invented)")
    error: str | None = Field(description="the model error, if the model failed")
    time: int = Field(description="virtual minute the reply arrived")


# --- the data of each kind --------------------------------------------------------------------------------

class BriefingData(BaseModel):
    scenario_id: str
    day_index: int
    trainee: str = Field(description="the trainee's handle")
    agent: Any = Field(default=None, exclude_if=_unset,
                       description="what the agent says about itself (its trace_info(): model, prompt, ...)")


class MemoryData(BaseModel):
    days: list[int] = Field(description="days of the scenario lived before this one (0-based)")
    notes: list[Note] = Field(description="the notebook carried in")
    lessons: list[Lesson] = Field(description="the lessons carried in")


class ObservationData(BaseModel):
    notifications: list[Notification] = Field(description="what came due since the last observation")
    lessons: list[Lesson] = Field(default_factory=list, exclude_if=_empty,
                                  description="with memory: earlier lessons offered for the tasks that just arrived")
    hints: list[TaskHint] = Field(default_factory=list, exclude_if=_empty,
                                  description="with hints: a hint for each task that just arrived")
    colleague_replies: list[ColleagueReplyLog] = Field(
        default_factory=list, exclude_if=_empty,
        description="with LLM colleagues: how each reply among the notifications was made")


class ToolCallData(BaseModel):
    id: str = Field(description="the call id the agent gave (may be empty)")
    name: str = Field(description="the tool name as the agent sent it")
    arguments: dict[str, Any] | str = Field(
        description="as the agent sent them (a JSON object, or raw JSON text); refused arguments are recorded "
                    "made safe and cut")


class ToolResultData(BaseModel):
    id: str = Field(description="the id of the call this answers")
    name: str
    ok: bool = Field(description="false: the call was refused or failed, and had no effect")
    content: str = Field(description="the result's text (an error message starting 'error:' when not ok)")
    images: list[str] = Field(description="drive paths of the images the result showed")
    started: int = Field(description="virtual minute the call started")
    ended: int = Field(description="virtual minute it ended (started + its cost, or later for wait)")


class IdleData(BaseModel):
    pass


class AgentErrorData(BaseModel):
    message: str = Field(description="the error (and, for an exception of the agent's, its traceback)")


class EndData(BaseModel):
    turns: int
    truncated: bool = Field(description="the episode hit EnvConfig.max_turns before the day ended")
    agent: Any = Field(default=None, exclude_if=_unset,
                       description="what the agent says about itself at the end (usage, how it stopped)")


class ReflectionData(BaseModel):
    lessons: list[Lesson] = Field(description="the lessons the agent drew (kept for its next days)")
    note: str | None = Field(default=None, exclude_if=_unset, description="why there are none, if not an error")
    error: str | None = Field(default=None, exclude_if=_unset, description="the reflection's error, if it failed")


# --- the events, by who caused them -------------------------------------------------------------------------

def _every_key_required(schema: dict[str, Any]) -> None:
    # "type" and "data" have defaults in some kinds (for building events), but every saved line has them
    schema["required"] = ["t", "type", "data"]


class BaseTraceEvent(BaseModel):
    model_config = ConfigDict(json_schema_extra=_every_key_required)

    t: int = Field(description="virtual minute (since midnight) at which it was recorded")
    source: ClassVar[EventSource]


class AgentEvent(BaseTraceEvent):
    """Caused by the agent: its calls and their results, idling, its errors, its reflection."""

    source: ClassVar[EventSource] = "agent"


class WorldEvent(BaseTraceEvent):
    """Caused by the world and the colleagues in it: what the agent is shown between turns."""

    source: ClassVar[EventSource] = "world"


class HarnessEvent(BaseTraceEvent):
    """Caused by the harness running the episode: briefing, carried memory, end, mentor feedback."""

    source: ClassVar[EventSource] = "harness"


class BriefingEvent(HarnessEvent):
    """The day starts: the first event of every episode whose agent was built."""

    type: Literal["briefing"] = "briefing"
    data: BriefingData


class MemoryEvent(HarnessEvent):
    """With memory: what the trainee carries in from its earlier days (after the briefing)."""

    type: Literal["memory"] = "memory"
    data: MemoryData


class ObservationEvent(WorldEvent):
    """An observation handed to the agent: at the start, then after every turn."""

    type: Literal["observation"] = "observation"
    data: ObservationData


class ToolCallEvent(AgentEvent):
    """A tool call of the agent, before it is executed (t: when it starts)."""

    type: Literal["tool_call"] = "tool_call"
    data: ToolCallData


class ToolResultEvent(AgentEvent):
    """The result of the tool call just before it (t: when it ended), or of a call not executed."""

    type: Literal["tool_result"] = "tool_result"
    data: ToolResultData


class IdleEvent(AgentEvent):
    """The agent returned no calls: time passes until the next event."""

    type: Literal["idle"] = "idle"
    data: IdleData = Field(default_factory=IdleData)


class AgentErrorEvent(AgentEvent):
    """The agent failed (an exception, a timeout, an output that is not tool calls): the episode ends."""

    type: Literal["agent_error"] = "agent_error"
    data: AgentErrorData


class EndEvent(HarnessEvent):
    """The day is scored: the last event of the episode itself (learning events may follow)."""

    type: Literal["end"] = "end"
    data: EndData


class FeedbackEvent(HarnessEvent):
    """With memory: the mentor's feedback on the day, from its score card."""

    type: Literal["feedback"] = "feedback"
    data: MentorFeedback


class ReflectionEvent(AgentEvent):
    """With memory: the agent's reflection on the feedback (its ``reflect()``)."""

    type: Literal["reflection"] = "reflection"
    data: ReflectionData


TraceEvent = Annotated[
    BriefingEvent | MemoryEvent | ObservationEvent | ToolCallEvent | ToolResultEvent | IdleEvent
    | AgentErrorEvent | EndEvent | FeedbackEvent | ReflectionEvent,
    Field(discriminator="type"),
]
"""One event of a trace (any kind)."""

TRACE_EVENT: TypeAdapter[TraceEvent] = TypeAdapter(TraceEvent)

E = TypeVar("E", bound=BaseTraceEvent)


def parse_event(line: str | bytes) -> TraceEvent:
    """One line of a saved trace as its typed event (``pydantic.ValidationError`` if it is not one)."""
    return TRACE_EVENT.validate_json(line)


def events_of(trace: Iterable[BaseTraceEvent], kind: type[E]) -> list[E]:
    """The events of one kind (e.g. ``ToolCallEvent``), in order."""
    return [e for e in trace if type(e) is kind]


def trace_schema_json() -> str:
    """The text of ``docs/trace-schema.json``: the JSON schema of one line of a saved trace."""
    schema = TRACE_EVENT.json_schema(mode="serialization")
    schema["title"] = "firstday trace event"
    schema["description"] = ("One line of traces/<episode key>.jsonl in a run folder; "
                             "the kinds are described in docs/trace.md.")
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
