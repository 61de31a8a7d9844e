"""Solvable and honest at the ends: the oracle, replaying the family's plan through the public tools, reaches full
score cleanly; an agent that does nothing scores 0."""

from __future__ import annotations

import asyncio

from firstday.checkers._days import describe_episode, run_day, tool_errors
from firstday.suites import Day, Scenario


def oracle_problem(scenario: Scenario, day: Day, *, loop: asyncio.AbstractEventLoop | None = None) -> str | None:
    """Run the oracle on a day; ``None`` if it is perfect, else a readable report. Beyond "score 1.0" the
    oracle must be clean: no refused tool call, no missed or late meeting, no unsupported answer (every clue
    a checkpoint depends on is observable on the oracle's path) and every clue discovered."""
    result = run_day("oracle", scenario, day, loop=loop)
    m = result.score.metrics
    problems = []
    if result.status != "ok":
        problems.append(f"episode status {result.status}: {result.error}")
    if m.tasks != len(day.tasks) or m.errors:
        problems.append(f"{m.tasks} of {len(day.tasks)} tasks scored, {m.errors} scoring errors")
    for ts in result.score.tasks:
        if ts.score != 1.0 or not ts.success or not ts.on_time:
            problems.append(f"task {ts.task_id} ({ts.meta_task}) score {ts.score}")
    if m.meetings_missed or m.meetings_late:
        problems.append(f"meetings missed {m.meetings_missed}, late {m.meetings_late}")
    if m.unsupported_rate:
        unsupported = [f"{ts.task_id}/{c.cp_id}" for ts in result.score.tasks for c in ts.checkpoints if c.unsupported]
        problems.append(f"unsupported answers: {unsupported} (a checkpoint's clue is not on the oracle's path)")
    if m.clue_discovery not in (None, 1.0):
        problems.append(f"clue discovery {m.clue_discovery}")
    if tool_errors(result):
        problems.append("the oracle's plan has refused calls")
    if not problems:
        return None
    return "; ".join(problems) + "\n" + describe_episode(result, day)


def noop_problem(scenario: Scenario, day: Day, *, loop: asyncio.AbstractEventLoop | None = None) -> str | None:
    """Run the do-nothing agent on a day; ``None`` if every task scores 0 without a scoring error, else a
    readable report naming the checkpoints that passed for doing nothing."""
    result = run_day("noop", scenario, day, loop=loop)
    problems = []
    if result.status != "ok":
        problems.append(f"episode status {result.status}: {result.error}")
    for ts in result.score.tasks:
        free = [c.cp_id for c in ts.checkpoints if c.passed or c.passed_late]
        if ts.score or free:
            problems.append(f"task {ts.task_id} ({ts.meta_task}) scores {ts.score} for doing nothing: checkpoint(s) "
                            f"{', '.join(free)} passed without any action")
        if ts.error:
            problems.append(f"task {ts.task_id} ({ts.meta_task}): scoring error {ts.error}")
    return "; ".join(problems) if problems else None
