"""Robust: whatever an agent sends about a family's task (malformed calls, answers of the wrong type or shape,
junk files and messages) gets a clear error or an ordinary zero, never a crash and never a scoring defect.

The :class:`JunkSender` replays the family's own deliverable calls (``submit``, ``write_file``, ...) from the
oracle plan with their values replaced by junk, plus malformed calls, once the task has arrived."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any, cast

from firstday.checkers._days import run_day
from firstday.env import Briefing, Observation
from firstday.suites import Day, Scenario
from firstday.timefmt import fmt
from firstday.world import ToolCall

# the oracle-plan calls whose values an agent chooses (reads and waits only fetch things)
DELIVERABLE_TOOLS = ("submit", "write_file", "edit_file", "send_message", "book_meeting")


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"a": [value]}
    return value


def junk_values(keys: list[str]) -> Iterator[Any]:
    """Values of every JSON type and odd shapes; with ``keys`` (the real answer's keys), the right keys
    holding the wrong things."""
    yield from (None, "", "x", "NaN", "\x00\ufffd", 0, -1, 10**30, 1.5, 1e308, True, [], {}, [None], {"": None},
                ["a", 1, None, {"b": []}], _deep(40), "y" * 5000)
    for filler in (None, "", "junk", 0, -7.5, [], {}, [None, "x"], {"a": {"b": None}}, True):
        yield {k: filler for k in keys}


def _with_junk(call: ToolCall, junk: Any) -> ToolCall:
    """The call with every value an agent chooses replaced (its ids and paths kept, so it reaches the check)."""
    args = dict(call.arguments) if isinstance(call.arguments, dict) else {}
    keep = {"task_id", "path", "to", "meeting_id"}
    return ToolCall(name=call.name, arguments={k: (v if k in keep else junk) for k, v in args.items()})


class JunkSender:
    """Waits until its task has arrived, then sends one turn of malformed calls and, one turn each, the
    family's deliverable calls with junk values; then ends its day."""

    name = "junk-sender"

    def __init__(self, arrival: int, deliverables: list[ToolCall], answer_keys: list[str]) -> None:
        self.arrival = arrival
        self.turns: list[list[ToolCall]] = [[
            ToolCall(name="list_tasks"),
            ToolCall.model_construct(name="submit", arguments="{not json", id="bad-json"),
            ToolCall.model_construct(name="submit", arguments=cast(Any, [1, 2]), id="not-an-object"),
            ToolCall(name="submit", arguments={"task_id": "no-such-task", "answer": 1}),
            ToolCall(name="submit", arguments={"answer": 1}),
            ToolCall(name="no_such_tool", arguments={}),
        ]]
        for junk in junk_values(answer_keys):
            self.turns.append([_with_junk(call, junk) for call in deliverables])
        self.turn = 0

    async def reset(self, briefing: Briefing) -> None:
        return None

    async def act(self, observation: Observation) -> list[ToolCall]:
        if observation.done:
            return []
        if observation.time <= self.arrival:
            return [ToolCall(name="wait", arguments={"until": fmt(self.arrival + 1)})]
        if self.turn == len(self.turns):
            return [ToolCall(name="end_day")]
        self.turn += 1
        return self.turns[self.turn - 1]


def junk_problems(scenario: Scenario, day: Day, *, loop: asyncio.AbstractEventLoop | None = None) -> list[str]:
    """Run a :class:`JunkSender` against each task of the day (one episode per task): unclear refusals,
    crashed tools, scoring defects, a clock that went backwards, a trace that cannot be saved (empty: none)."""
    problems: list[str] = []
    for task in day.tasks:
        deliverables = [c for c in task.solution if c.name in DELIVERABLE_TOOLS]
        answer = next((c.arguments.get("answer") for c in deliverables
                       if c.name == "submit" and isinstance(c.arguments, dict)), None)
        keys = sorted(answer) if isinstance(answer, dict) else []
        result = run_day(JunkSender(task.arrival, deliverables, keys), scenario, day, loop=loop)
        where = f"{task.task_id} ({task.meta_task})"
        if result.status != "ok":
            problems.append(f"{where}: the episode ended with status {result.status}: {result.error}")
        results = [e.data for e in result.trace if e.type == "tool_result"]
        for r in results:
            if not r["ok"] and (not r["content"].startswith("error: ") or "internal error" in r["content"]):
                problems.append(f"{where}: {r['name']} gave an unclear error: {r['content'][:200]!r}")
        if [r["ended"] for r in results] != sorted(r["ended"] for r in results):
            problems.append(f"{where}: the clock went backwards")
        problems += [f"{where}: scoring defect in {ts.task_id}: {ts.error}" for ts in result.score.tasks
                     if ts.error]
        if result.score.metrics.errors and not any(ts.error for ts in result.score.tasks):
            problems.append(f"{where}: {result.score.metrics.errors} scoring defect(s)")
        try:
            json.loads(result.model_dump_json())
        except ValueError as exc:
            problems.append(f"{where}: the trace cannot be saved: {exc}")
    return problems
