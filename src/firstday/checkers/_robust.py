"""Robust: whatever an agent sends about a family's task (malformed calls, answers of the wrong type or shape,
junk files and messages) gets a clear error or an ordinary zero, never a crash and never a scoring defect.

:func:`junk_turns` replays the family's own deliverable calls (``submit``, ``write_file``, ...) from the oracle
plan with their values replaced by junk, plus malformed calls, once the task has arrived; the day is scored
after each turn, so every junk value is judged (scoring looks at the last submission)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

from firstday.env import DayEnv, events_of
from firstday.env.trace import ToolResultEvent
from firstday.suites import Day, Scenario
from firstday.tasks import TaskInstance
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


def junk_turns(task: TaskInstance) -> list[list[ToolCall]]:
    """One turn of malformed calls, then one turn per junk value: the task's deliverable calls (from its
    oracle plan) with that value in place of everything an agent chooses."""
    deliverables = [c for c in task.solution if c.name in DELIVERABLE_TOOLS]
    answer = next((c.arguments.get("answer") for c in deliverables
                   if c.name == "submit" and isinstance(c.arguments, dict)), None)
    keys = sorted(answer) if isinstance(answer, dict) else []
    turns: list[list[ToolCall]] = [[
        ToolCall(name="list_tasks"),
        ToolCall.model_construct(name="submit", arguments="{not json", id="bad-json"),
        ToolCall.model_construct(name="submit", arguments=cast(Any, [1, 2]), id="not-an-object"),
        ToolCall(name="submit", arguments={"task_id": "no-such-task", "answer": 1}),
        ToolCall(name="submit", arguments={"answer": 1}),
        ToolCall(name="no_such_tool", arguments={}),
    ]]
    turns += [[_with_junk(call, junk) for call in deliverables] for junk in junk_values(keys)]
    return turns


def junk_problems(scenario: Scenario, day: Day) -> list[str]:
    """For each task of the day (a fresh day each): wait until it has arrived, send :func:`junk_turns` one
    turn at a time and score the day after each. The problems: unclear refusals, crashes, scoring defects,
    a clock that went backwards, a trace that cannot be saved (empty: none)."""
    problems: list[str] = []
    for task in day.tasks:
        where = f"{task.task_id} ({task.meta_task})"
        env = DayEnv(scenario, day)
        try:
            obs = env.reset()
            if obs.time <= task.arrival:
                env.step([ToolCall(name="wait", arguments={"until": fmt(task.arrival + 1)})])
            for calls in junk_turns(task):
                obs = env.step(calls)
                problems += [f"{where}: {r.name} gave an unclear error: {r.content[:200]!r}" for r in obs.results
                             if not r.ok and (not r.content.startswith("error: ") or "internal error" in r.content)]
                card = env.score()
                problems += [f"{where}: scoring defect after {calls[-1].name if calls else 'nothing'} with junk: "
                             f"{ts.error}" for ts in card.tasks if ts.error]
                if obs.done:
                    break
            env.step([ToolCall(name="end_day")])
            ended = [e.data.ended for e in events_of(env.trace, ToolResultEvent)]
            if ended != sorted(ended):
                problems.append(f"{where}: the clock went backwards")
            for e in env.trace:
                json.loads(e.model_dump_json())
        except Exception as exc:  # anything raised is the finding
            problems.append(f"{where}: crashed: {type(exc).__name__}: {str(exc)[:300]}")
        if problems:
            break
    return problems
