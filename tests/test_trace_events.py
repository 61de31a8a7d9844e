"""The typed trace: every event kind round-trips through JSON, traces written before the typed models
load and save byte for byte, and docs/trace-schema.json is up to date."""

from __future__ import annotations

import json
import typing
from pathlib import Path

from pydantic import BaseModel

from conftest import run_agent, single_task_day
from firstday.env import EnvConfig, events_of, parse_event, trace_schema_json
from firstday.env.trace import (
    TRACE_EVENT,
    AgentEvent,
    BaseTraceEvent,
    HarnessEvent,
    ToolCallEvent,
    TraceEvent,
    WorldEvent,
)
from firstday.run.results import trace_bytes

ROOT = Path(__file__).resolve().parent.parent
#: lines of every event kind and shape, written by the code at commit bd4db37 (before the typed models):
#: an agent with trace_info that idles, sends malformed calls and raises; a continual run with memory
#: and hints (memory, lessons, feedback, reflection); LLM colleagues; an image read
OLD_TRACE = ROOT / "tests" / "fixtures" / "trace-bd4db37.jsonl"


def _kinds() -> list[type[BaseTraceEvent]]:
    union = typing.get_args(TraceEvent)[0]
    return list(typing.get_args(union))


def test_a_trace_written_before_the_typed_events_loads_and_saves_byte_for_byte() -> None:
    raw = OLD_TRACE.read_bytes()
    events = [parse_event(line) for line in raw.split(b"\n") if line]
    assert {e.type for e in events} == {k.model_fields["type"].default for k in _kinds()}  # every kind is there
    assert trace_bytes(events) == raw


def test_every_kind_round_trips_through_the_union() -> None:
    seen: set[str] = set()
    for line in OLD_TRACE.read_text(encoding="utf-8").splitlines():
        event = parse_event(line)
        again = TRACE_EVENT.validate_python(event.model_dump())
        assert type(again) is type(event) and again == event
        assert TRACE_EVENT.validate_json(TRACE_EVENT.dump_json(event)) == event
        seen.add(event.type)
    assert len(seen) == len(_kinds())


def test_every_kind_says_who_caused_it() -> None:
    by_source = {k.model_fields["type"].default: k.source for k in _kinds()}
    assert by_source == {
        "tool_call": "agent", "tool_result": "agent", "idle": "agent", "agent_error": "agent", "reflection": "agent",
        "observation": "world",
        "briefing": "harness", "memory": "harness", "end": "harness", "feedback": "harness",
    }
    for kind in _kinds():
        base = {"agent": AgentEvent, "world": WorldEvent, "harness": HarnessEvent}[kind.source]
        assert issubclass(kind, base) and kind.__doc__, kind
        data = kind.model_fields["data"].annotation
        assert isinstance(data, type) and issubclass(data, BaseModel)


def test_an_episode_trace_is_typed_and_saves_as_it_loads() -> None:
    scenario, day = single_task_day(("transaction_review", "weekend_postings", "hard"), 0, "trace-events")
    result = run_agent("heuristic", scenario, day, EnvConfig(hints="steps"))
    assert all(isinstance(e, BaseTraceEvent) for e in result.trace)
    assert events_of(result.trace, ToolCallEvent) and result.trace[0].type == "briefing"
    saved = trace_bytes(result.trace)
    loaded = [parse_event(line) for line in saved.split(b"\n") if line]
    assert loaded == result.trace and trace_bytes(loaded) == saved


def test_trace_schema_file_is_up_to_date() -> None:
    saved = (ROOT / "docs" / "trace-schema.json").read_text(encoding="utf-8")
    assert json.loads(saved) == json.loads(trace_schema_json()), (
        "docs/trace-schema.json is stale; regenerate it with: python -c \"from firstday.env import "
        "trace_schema_json; open('docs/trace-schema.json', 'w').write(trace_schema_json())\"")
