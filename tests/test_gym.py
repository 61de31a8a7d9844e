"""The Gymnasium environment: the standard checker passes, the oracle's calls earn the full reward, bad
actions cost a minute and never crash, resets are reproducible, memory carries over through options."""

from __future__ import annotations

import json
from typing import Any

import pytest

gymnasium = pytest.importorskip("gymnasium")

from conftest import event_loop  # noqa: E402
from firstday.agents import AgentContext, make_agent  # noqa: E402
from firstday.env import EnvConfig, Observation  # noqa: E402
from firstday.env.gym import ENV_ID, FirstdayEnv, parse_action  # noqa: E402
from firstday.suites import generate_suite, preset  # noqa: E402


@pytest.fixture(scope="module")
def scenarios() -> list[Any]:
    return generate_suite(preset("smoke", seed=11))


def test_passes_the_gymnasium_checker(scenarios: list[Any]) -> None:
    from gymnasium.utils.env_checker import check_env

    check_env(FirstdayEnv(scenarios), skip_render_check=True)


def test_registered_and_made_by_id() -> None:
    env = gymnasium.make(ENV_ID, preset="smoke", suite_seed=2)
    obs, info = env.reset(seed=0)
    assert json.loads(obs)["time"] == 540 and info["tools"] and info["scenario_id"]
    env.close()


def test_the_oracles_calls_earn_the_full_reward(scenarios: list[Any]) -> None:
    env = FirstdayEnv(scenarios)
    for scenario in scenarios:
        day = scenario.days[0]
        obs, info = env.reset(options={"scenario": scenario.scenario_id, "day": 0})
        oracle = make_agent("oracle", AgentContext(scenario=scenario, day=day))
        loop = event_loop()
        terminated = truncated = False
        total = 0.0
        steps = 0
        while not (terminated or truncated):
            calls = loop.run_until_complete(oracle.act(Observation.model_validate_json(obs)))
            obs, reward, terminated, truncated, info = env.step(json.dumps([c.model_dump() for c in calls]))
            total += float(reward)
            steps += 1
            assert steps < 2000
        assert terminated and not truncated
        assert total == 1.0 and info["score"]["metrics"]["score"] == 1.0


def test_bad_actions_are_answered_never_raised(scenarios: list[Any]) -> None:
    env = FirstdayEnv(scenarios)
    env.reset(seed=1)
    for action in ("not json", "{\"name\": 3}", "42", [{"nope": True}], "[]", {"name": "wait", "arguments": {}}):
        obs, *_ = env.step(action)
        assert env.observation_space.contains(obs)
    assert parse_action("garbage")[0].name == "invalid_action"
    results = Observation.model_validate_json(env.step("garbage")[0]).results
    assert results and not results[0].ok and "unknown tool 'invalid_action'" in results[0].content
    for _ in range(20):  # random actions from the space never crash
        env.step(env.action_space.sample())


def test_resets_are_reproducible(scenarios: list[Any]) -> None:
    a, b = FirstdayEnv(scenarios), FirstdayEnv(scenarios)
    assert [a.reset(seed=s)[1]["scenario_id"] for s in range(6)] == [b.reset(seed=s)[1]["scenario_id"]
                                                                      for s in range(6)]
    assert a.reset(seed=4)[0] == b.reset(seed=4)[0]


def test_memory_carries_over_through_reset_options() -> None:
    scenario = generate_suite(preset("continual", seed=2).model_copy(update={"scenarios": 1}))[0]
    env = FirstdayEnv([scenario], config=EnvConfig(memory=True))
    env.reset(options={"scenario": scenario.scenario_id, "day": 0})
    env.step([{"name": "notebook", "arguments": {"action": "write", "title": "t", "text": "remember me"}}])
    *_, info = env.step([{"name": "end_day", "arguments": {}}])
    assert info["memory"]["notebook"][0]["text"] == "remember me"
    env.reset(options={"scenario": scenario.scenario_id, "day": 1, "memory": info["memory"]})
    obs, *_ = env.step([{"name": "notebook", "arguments": {"action": "read"}}])
    assert "remember me" in Observation.model_validate_json(obs).results[0].content
