"""Models built without validation on the hot path (``firstday.trusted``) are exactly what the validated
constructors would build: same values, same field order (so the same JSON), nothing missing."""

from __future__ import annotations

import asyncio
import gc
import hashlib

from pydantic import BaseModel

from conftest import preset_days
from firstday.agents import AgentContext, make_agent
from firstday.env import DayEnv, EnvConfig, Observation
from firstday.env.episode import day_hash
from firstday.env.trace import (
    ObservationData,
    ObservationEvent,
    ToolCallData,
    ToolCallEvent,
    ToolResultData,
    ToolResultEvent,
)
from firstday.scoring.cards import CheckpointResult, TaskScore
from firstday.trusted import trusted
from firstday.world import ToolCall
from firstday.world.records import FileVersion, Meeting, Notification
from firstday.world.tools import ToolResult


def _same_as_validated(obj: BaseModel) -> None:
    cls = type(obj)
    assert not cls.__private_attributes__
    assert list(obj.__dict__) == list(cls.model_fields), f"{cls.__name__}: fields missing or out of order"
    again = cls.model_validate(obj.model_dump())
    assert again == obj
    assert again.model_dump_json() == obj.model_dump_json()


def test_trusted_matches_the_validated_constructor() -> None:
    data = trusted(ToolCallData, {"id": "c", "name": "wait", "arguments": {"x": [1]}})
    obj = trusted(ToolCallEvent, {"t": 3, "type": "tool_call", "data": data})
    assert obj == ToolCallEvent(t=3, data=ToolCallData(id="c", name="wait", arguments={"x": [1]}))
    assert obj.model_fields_set == {"t", "type", "data"}
    obj.t = 4  # an ordinary, mutable model
    assert obj.model_dump() == {"t": 4, "type": "tool_call",
                                "data": {"id": "c", "name": "wait", "arguments": {"x": [1]}}}


def test_every_trusted_model_of_an_episode_is_valid() -> None:
    seen: dict[type, int] = {}

    def check(obj: BaseModel) -> None:
        _same_as_validated(obj)
        seen[type(obj)] = seen.get(type(obj), 0) + 1

    for agent_name, config in (("oracle", EnvConfig()), ("heuristic", EnvConfig(hints="steps"))):
        for scenario, day in preset_days("smoke", 5, 2):
            agent = make_agent(agent_name, AgentContext(scenario=scenario, day=day))
            env = DayEnv(scenario, day, config)

            async def run() -> None:
                await agent.reset(env.briefing())  # noqa: B023
                obs = env.reset()  # noqa: B023
                while True:
                    check(obs)
                    for x in [*obs.notifications, *obs.results]:
                        check(x)
                    if obs.done:
                        break
                    calls = list(await agent.act(obs))  # noqa: B023
                    for c in calls:
                        check(c)
                    obs = env.step(calls)  # noqa: B023

            asyncio.run(run())
            card = env.score()
            for task in card.tasks:
                check(task)
                for cp in task.checkpoints:
                    check(cp)
            for ev in env.trace:
                check(ev)
                check(ev.data)
            for versions in env.world.record.files.values():
                for v in versions:
                    check(v)
            for m in env.world.record.meetings.values():
                check(m)
    assert {Observation, Notification, ToolResult, ToolCall, ToolCallEvent, ToolCallData, ToolResultEvent,
            ToolResultData, ObservationEvent, ObservationData, FileVersion, Meeting, TaskScore,
            CheckpointResult} <= set(seen)


def test_day_hash_is_cached_by_identity_and_dropped_with_the_day() -> None:
    from firstday.env import episode

    scenario, day = preset_days("smoke", 6, 1)[0]
    first = day_hash(scenario, day)
    h = hashlib.sha256(scenario.company.model_dump_json().encode())
    h.update(day.model_dump_json().encode())
    assert first == h.hexdigest()
    assert day_hash(scenario, day) == first
    copy = day.model_copy(deep=True)  # an equal day: the same hash, computed afresh
    assert day_hash(scenario, copy) == first
    other = scenario.model_copy(update={"company": scenario.company.model_copy(update={"name": "Other Co"})})
    assert day_hash(other, day) != first  # the same day in another company
    assert day_hash(scenario, day) == first
    key = id(copy)
    assert key in episode._day_digests._entries
    del copy
    gc.collect()
    assert key not in episode._day_digests._entries  # freed with the day
