"""The inspect_ai bridge (issue 19, item 6): firstday days as inspect tasks, the day's tools as inspect tools, the
score card as inspect scores. The oracle's calls replayed through inspect's mock model reach the oracle's score."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("inspect_ai")

from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.util._json import json_schema_dump  # what every inspect provider sends

from firstday.agents import AgentContext
from firstday.agents.builtin import OracleAgent
from firstday.agents.llm import LLMAgent
from firstday.bridges.inspect import (
    PRESET_TASKS,
    SCORE_KEYS,
    InspectModelProvider,
    firstday_task,
    inspect_tools,
    score_values,
)
from firstday.env import DayEnv, run_episode
from firstday.env.trace import IdleEvent, ObservationEvent, ToolCallEvent, TraceEvent
from firstday.suites import PRESETS, Day, Scenario, generate_suite, preset, save_suite

if TYPE_CHECKING:
    from llm_server import LLMServer

ROOT = Path(__file__).resolve().parents[1]
MOCK = "mockllm/model"


@pytest.fixture(scope="module")
def smoke() -> list[Scenario]:
    return generate_suite(preset("smoke", seed=0))


@pytest.fixture(autouse=True)
def _no_logs_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSPECT_LOG_DIR", str(tmp_path / "logs"))


def oracle_turns(trace: list[TraceEvent]) -> list[list[tuple[str, dict[str, Any]]]]:
    """The calls of each turn of an episode, from its trace (an empty turn is an idle one)."""
    turns: list[list[tuple[str, dict[str, Any]]]] = []
    current: list[tuple[str, dict[str, Any]]] | None = None  # None until the first observation
    for event in trace:
        if type(event) is ObservationEvent:
            if current is not None:
                turns.append(current)
            current = []
        elif type(event) is ToolCallEvent and current is not None:
            assert isinstance(event.data.arguments, dict)
            current.append((event.data.name, event.data.arguments))
        elif type(event) is IdleEvent:
            assert current == []
    return turns


def mock_outputs(turns: list[list[tuple[str, dict[str, Any]]]]) -> list[ModelOutput]:
    """One model reply per turn: its calls (the oracle makes one per turn), or text alone for an idle turn (with
    ``max_text_only=0`` the agent then lets time pass, as the oracle did). Usage is given: the mock model would
    otherwise count tokens with tiktoken, which downloads its encoding."""
    outputs = []
    for i, calls in enumerate(turns):
        if calls:
            assert len(calls) == 1
            name, arguments = calls[0]
            out = ModelOutput.for_tool_call(MOCK, name, arguments, tool_call_id=f"call-{i}")
        else:
            out = ModelOutput.from_content(MOCK, "Nothing to do until the next event.")
        out.usage = ModelUsage(input_tokens=10, output_tokens=1, total_tokens=11)
        outputs.append(out)
    return outputs


def run_oracle(scenario: Scenario, day: Day) -> tuple[Any, list[list[tuple[str, dict[str, Any]]]]]:
    result = asyncio.run(run_episode(DayEnv(scenario, day), OracleAgent(AgentContext(scenario=scenario, day=day))))
    assert result.status == "ok"
    return result, oracle_turns(result.trace)


def test_the_oracles_calls_through_the_mock_model_reach_the_oracles_score(smoke: list[Scenario],
                                                                           tmp_path: Path) -> None:
    """Both smoke days in one eval, run concurrently: inspect's mock model replays each day's oracle calls (the
    reply chosen by the day's briefing and the number of replies so far) and every day gets the oracle's card."""
    oracles = {s.scenario_id: run_oracle(s, s.days[0]) for s in smoke}
    replies = {DayEnv(s, s.days[0]).briefing().instructions: mock_outputs(oracles[s.scenario_id][1]) for s in smoke}

    def reply(messages: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        outputs = next(out for briefing, out in replies.items() if briefing in messages[1].text)
        answered: int = sum(m.role == "assistant" for m in messages)
        return outputs[answered]

    logs = inspect_eval(PRESET_TASKS["smoke"](seed=0, max_text_only=0), model=get_model(MOCK, custom_outputs=reply),
                        log_dir=str(tmp_path / "logs"), display="none", log_format="json", max_samples=2)
    [log] = logs
    assert log.status == "success", log.error
    assert log.samples is not None and sorted(s.id for s in log.samples) == ["s000-d0", "s001-d0"]
    for sample in log.samples:
        oracle, turns = oracles[sample.metadata["scenario_id"]]
        assert oracle.score.metrics.score == 1.0
        assert sample.error is None
        assert sample.scores is not None
        score = sample.scores["firstday_scorer"]
        assert isinstance(score.value, dict)
        assert score.value["score"] == 1.0
        # the same day, the same calls: the same card, figure for figure
        assert score.metadata is not None
        assert score.metadata["metrics"] == oracle.score.metrics.model_dump(mode="json")
        assert score.metadata["turns"] == oracle.turns
        assert score.metadata["model_calls"] == len(turns)  # one model call per turn, none left over
        assert score.metadata["status"] == "ok"
        # the conversation is in the log as inspect messages: the briefing, each tool result with its call
        roles = [m.role for m in sample.messages]
        assert roles[:2] == ["system", "user"] and roles.count("assistant") == len(turns)
        tool_messages = [m for m in sample.messages if m.role == "tool"]
        assert len(tool_messages) == sum(len(t) for t in turns)
        assert all(m.function for m in tool_messages)
        assert any("Time: " in m.text for m in sample.messages if m.role == "user")
        # and what the model was given: the day's tools, with firstday's schemas
        model_events = [e for e in sample.events if e.event == "model"]
        assert len(model_events) == len(turns)
        assert {t.name for t in model_events[0].tools} == {t.name for t in oracle_tools(smoke[0])}
    # inspect's metrics: the mean of each figure over the days
    assert log.results is not None
    metrics = {s.name: s.metrics for s in log.results.scores}
    assert set(metrics) == set(SCORE_KEYS)
    assert metrics["score"]["mean"].value == 1.0
    expected_calls = sum(o.score.metrics.tool_calls for o, _ in oracles.values()) / len(oracles)
    assert metrics["tool_calls"]["mean"].value == pytest.approx(expected_calls)


def oracle_tools(scenario: Scenario) -> list[Any]:
    return DayEnv(scenario, scenario.days[0]).briefing().tools


def test_the_model_sees_what_the_in_process_llm_agent_sends(smoke: list[Scenario], tmp_path: Path) -> None:
    """The bridge drives firstday's own llm agent: the messages inspect's model receives are the agent's."""
    scenario = smoke[1]
    day = scenario.days[0]
    _, turns = run_oracle(scenario, day)
    # two calls with a text-only reply between them (the agent then lets time pass), then the replies run out:
    # inspect's model fails, and that is the sample's error (not a score)
    outputs = mock_outputs([turns[0], [], turns[1]])
    seen: list[list[Any]] = []

    def reply(messages: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        seen.append(messages)
        if len(seen) > len(outputs):
            raise ValueError("custom_outputs ran out of values")
        return outputs[len(seen) - 1]

    model = get_model(MOCK, custom_outputs=reply)
    logs = inspect_eval(PRESET_TASKS["smoke"](seed=0, max_text_only=0), model=model,
                        sample_id=f"{scenario.scenario_id}-d0", log_dir=str(tmp_path / "logs"), display="none",
                        fail_on_error=False)
    sample = logs[0].samples[0] if logs[0].samples else None
    assert sample is not None
    assert sample.error is not None and "ran out of values" in sample.error.message
    assert not sample.scores  # an infrastructure failure is not scored
    # the first request: the llm agent's system prompt and briefing, then the first observation
    env = DayEnv(scenario, day)
    agent = LLMAgent(AgentContext(scenario=scenario, day=day, options={"model": "inspect/x"}).public(),
                     provider=InspectModelProvider(get_model(MOCK), []))
    asyncio.run(agent.reset(env.briefing()))
    first = seen[0]
    assert first[0].role == "system" and first[0].text == agent.history[0]["content"]
    assert first[1].role == "user" and first[1].text == agent.history[1]["content"]
    assert first[2].role == "user" and first[2].text.startswith("Time: 09:00.")
    # the second: the model's call and its result as a tool message, then the clock in a user message
    second = seen[1]
    assert second[3].role == "assistant" and second[3].tool_calls[0].function == turns[0][0][0]
    assert second[4].role == "tool" and second[4].tool_call_id == "call-0"
    assert second[5].role == "user" and second[5].text.startswith("Time: ")
    # the third: after the text-only reply, time passed to the next event, and the agent says so
    third = seen[2]
    assert third[-2].role == "assistant" and not third[-2].tool_calls
    assert "You made no tool call, so time passed until the next event." in third[-1].text


def test_tools_keep_firstdays_names_descriptions_and_schemas(smoke: list[Scenario]) -> None:
    scenario = smoke[0]
    env = DayEnv(scenario, scenario.days[0])
    specs = env.briefing().tools
    tools = inspect_tools(specs, env)
    assert [t.name for t in tools] == [s.name for s in specs]
    for tool, spec in zip(tools, specs, strict=True):
        assert tool.description == spec.description
        # as inspect's providers send it (json_schema_dump: None values left out, so an optional argument's
        # "default": null is not sent; it is still optional). Inspect always lists "required", empty or not.
        assert json_schema_dump(tool.parameters) == {"required": [], **_without_null_defaults(spec.parameters)}


def _without_null_defaults(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_null_defaults(v) for k, v in schema.items() if not (k == "default" and v is None)}
    if isinstance(schema, list):
        return [_without_null_defaults(v) for v in schema]
    return schema


def test_an_inspect_tool_call_is_one_step_of_the_day(smoke: list[Scenario]) -> None:
    scenario = smoke[0]
    env = DayEnv(scenario, scenario.days[0])
    env.reset()
    tools = {t.name: t for t in inspect_tools(env.briefing().tools, env)}
    text = asyncio.run(tools["list_files"].tool(path="/"))
    assert isinstance(text, str)
    assert "Time: 09:" in text and env.turns == 1
    refused = asyncio.run(tools["read_file"].tool(path="/no/such/file.txt"))
    assert isinstance(refused, str) and refused.startswith("error:")


def test_score_values_keep_undefined_figures_apart(smoke: list[Scenario]) -> None:
    scenario = smoke[0]
    env = DayEnv(scenario, scenario.days[0])
    env.reset()
    card = env.score()  # nothing done: score 0, no urgent latency
    values = score_values(card.metrics)
    assert list(values) == list(SCORE_KEYS)
    assert values["score"] == 0.0
    assert values["urgent_latency"] != values["urgent_latency"]  # NaN: left out of its mean by inspect


def test_a_suite_folder_is_a_task(smoke: list[Scenario], tmp_path: Path) -> None:
    from firstday.bridges.inspect import suite

    save_suite(preset("smoke", seed=0), smoke, tmp_path / "suite")
    made = suite(path=str(tmp_path / "suite"))
    assert [s.id for s in made.dataset] == ["s000-d0", "s001-d0"]
    # no hidden data in what inspect logs about a sample
    assert all(set(s.metadata or {}) == {"source", "scenario_id", "day_index", "tasks", "load"} for s in made.dataset)
    from firstday.errors import ConfigError

    with pytest.raises(ConfigError, match="does not exist"):
        suite(path=str(tmp_path / "nope"))


def _entry_point_dir(tmp_path: Path) -> Path:
    """A distribution that declares the package's own ``inspect_ai`` entry points (read from pyproject.toml), as
    an installed firstday would."""
    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["inspect_ai"]
    dist = tmp_path / "site" / "firstday_inspect_probe-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: firstday-inspect-probe\nVersion: 0\n")
    (dist / "entry_points.txt").write_text("[inspect_ai]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()))
    return dist.parent


def test_inspect_eval_on_the_command_line_reaches_the_oracles_score(smoke: list[Scenario], tmp_path: Path,
                                                                      server: LLMServer) -> None:
    """``inspect eval firstday/smoke --model openai/...`` as a user runs it: the task found through the entry
    point, the model an OpenAI-compatible server (the loopback test server replaying the oracle's calls)."""
    scenario = smoke[0]
    from llm_server import Policy

    _, turns = run_oracle(scenario, scenario.days[0])
    server.reset(Policy(script=[{"name": t[0][0], "arguments": t[0][1]} for t in turns if t],
                        faults={i: "text_only" for i, t in enumerate(turns) if not t}))
    site = _entry_point_dir(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(site)]), "OPENAI_API_KEY": "test"}
    env.pop("OPENAI_BASE_URL", None)
    logs = tmp_path / "cli-logs"
    out = subprocess.run(
        [sys.executable, "-m", "inspect_ai", "eval", "firstday/smoke", "--model", "openai/scripted",
         "--model-base-url", server.base_url, "-M", "responses_api=false", "-T", "max_text_only=0",
         "--sample-id", f"{scenario.scenario_id}-d0", "--log-dir", str(logs), "--log-format", "json",
         "--display", "none"], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    [log_file] = logs.glob("*.json")
    log = read_eval_log(str(log_file))
    assert log.status == "success", log.error
    assert log.results is not None
    assert {s.name: s.metrics["mean"].value for s in log.results.scores}["score"] == 1.0
    assert server.count == len(turns)


def test_without_inspect_ai_the_error_says_how_to_install_it() -> None:
    code = ("import sys\nsys.modules['inspect_ai'] = None\n"
            "try:\n    import firstday.bridges.inspect\nexcept ImportError as e:\n    print(e)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install 'firstday[inspect]'" in out.stdout
    import firstday.bridges  # the package itself imports no framework

    assert firstday.bridges.__doc__


def test_a_task_per_preset_and_one_from_scenarios_in_memory(smoke: list[Scenario]) -> None:
    from inspect_ai._util.registry import registry_info

    assert set(PRESET_TASKS) == set(PRESETS)
    # registered under the package's namespace: `inspect eval firstday/<preset>`
    assert {registry_info(t).name for t in PRESET_TASKS.values()} == {f"firstday/{name}" for name in PRESETS}
    made = firstday_task(smoke[:1], "test:memory", max_text_only=0)
    assert [s.id for s in made.dataset] == ["s000-d0"]


def test_an_inspect_token_limit_ends_the_day_which_is_scored_as_it_stands(smoke: list[Scenario],
                                                                          tmp_path: Path) -> None:
    scenario = smoke[1]
    _, turns = run_oracle(scenario, scenario.days[0])
    model = get_model(MOCK, custom_outputs=mock_outputs(turns))  # 11 tokens a call
    logs = inspect_eval(PRESET_TASKS["smoke"](seed=0, max_text_only=0), model=model, token_limit=40,
                        sample_id=f"{scenario.scenario_id}-d0", log_dir=str(tmp_path / "logs"), display="none")
    sample = logs[0].samples[0] if logs[0].samples else None
    assert sample is not None and sample.error is None
    assert sample.limit is not None and sample.limit.type == "token"
    assert sample.scores is not None
    score = sample.scores["firstday_scorer"]
    assert score.metadata is not None and score.metadata["status"] == "ok"
    assert 1 < score.metadata["model_calls"] < len(turns)
    assert isinstance(score.value, dict) and score.value["score"] < 1.0  # the day ended early: not all done
    assert score.value["work_left"] >= 1


def test_an_inspect_time_limit_cuts_the_day_off_and_it_is_scored_as_it_stands(smoke: list[Scenario],
                                                                              tmp_path: Path) -> None:
    scenario = smoke[1]
    _, turns = run_oracle(scenario, scenario.days[0])
    outputs = mock_outputs(turns)

    async def reply(messages: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        answered: int = sum(m.role == "assistant" for m in messages)
        if answered >= 2:
            await asyncio.sleep(600)  # the model hangs: inspect's time limit cuts the day off
        return outputs[answered]

    logs = inspect_eval(PRESET_TASKS["smoke"](seed=0, max_text_only=0), model=get_model(MOCK, custom_outputs=reply),
                        time_limit=10, sample_id=f"{scenario.scenario_id}-d0", log_dir=str(tmp_path / "logs"),
                        display="none")
    sample = logs[0].samples[0] if logs[0].samples else None
    assert sample is not None and sample.error is None
    assert sample.limit is not None and sample.limit.type == "time"
    assert sample.scores is not None
    score = sample.scores["firstday_scorer"]
    assert score.metadata is not None and score.metadata["status"] == "limit"
    assert score.metadata["turns"] == 2
    assert isinstance(score.value, dict) and score.value["score"] < 1.0 and score.value["work_left"] >= 1
