"""The ``llm`` and ``react`` agents end to end, over HTTP, through the real ``openai`` SDK.

The loopback server (``llm_server.py``) replays the oracle's tool calls for the same day, so a full
day run by the LLM agent must reach the oracle's score; the same server injects faults, which must be
retried, corrected or reported as an error episode — never a crash, never a silent zero.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from conftest import event_loop, run_agent
from firstday.agents import AgentContext, make_agent
from firstday.agents.llm import LLMAgent
from firstday.env import DayEnv, EpisodeResult, Observation, events_of, run_episode
from firstday.env.trace import (
    AgentErrorEvent,
    BriefingEvent,
    EndEvent,
    IdleEvent,
    ObservationEvent,
    ToolCallEvent,
    ToolResultEvent,
)
from firstday.errors import ConfigError
from firstday.models import clear_providers
from firstday.suites import Day, Scenario, generate_suite, preset
from firstday.world.assets import FileAsset
from firstday.world.records import Notification
from firstday.world.tools import ImagePart, ToolResult
from llm_server import LLMServer, Policy, image_parts

pytestmark = pytest.mark.usefixtures("openai_env")


@pytest.fixture(scope="module")
def day() -> tuple[Scenario, Day]:
    s = generate_suite(preset("smoke", seed=3))[0]
    return s, s.days[0]


@pytest.fixture(scope="module")
def oracle(day: tuple[Scenario, Day]) -> EpisodeResult:
    return run_agent("oracle", *day)


def oracle_script(result: EpisodeResult) -> list[dict[str, Any]]:
    return [{"name": e.data.name, "arguments": e.data.arguments} for e in events_of(result.trace, ToolCallEvent)]


def options(server: LLMServer, tmp_path: Path, **kw: Any) -> dict[str, Any]:
    # the timeout stays below the server's "timeout" fault (2 s) but leaves a loaded machine room to answer
    return {"model": "openai/scripted", "base_url": server.base_url, "timeout_s": 1.5, "backoff_base_s": 0.001,
            "backoff_max_s": 0.05, "cache_dir": str(tmp_path / "cache"), **kw}


def run_llm(agent: str, scenario: Scenario, day: Day, opts: dict[str, Any], seed: int = 0) -> EpisodeResult:
    built = make_agent(agent, AgentContext(scenario=scenario, day=day, options=opts, seed=seed))
    return event_loop().run_until_complete(run_episode(DayEnv(scenario, day), built))


def calls_of(result: EpisodeResult) -> list[tuple[str, Any]]:
    return [(e.data.name, e.data.arguments) for e in events_of(result.trace, ToolCallEvent)]


def test_full_day_reaches_the_oracle_score(server: LLMServer, tmp_path: Path, day: tuple[Scenario, Day],
                                           oracle: EpisodeResult) -> None:
    script = oracle_script(oracle)
    server.reset(Policy(script=script))
    result = run_llm("llm", *day, options(server, tmp_path, system_prompt="Be a careful trainee."))
    assert result.status == "ok", result.error
    assert result.score.metrics.score == oracle.score.metrics.score == 1.0
    assert result.score.metrics.success_rate == oracle.score.metrics.success_rate
    assert [(n, json.loads(a)) for n, a in calls_of(result)] == [(c["name"], c["arguments"]) for c in script]
    assert server.count == len(script)
    first = server.requests[0]
    assert first["messages"][0] == {"role": "system", "content": "Be a careful trainee."}
    assert {t["function"]["name"] for t in first["tools"]} >= {"read_file", "submit", "wait", "send_message"}
    # every tool call of a turn is answered by exactly one tool message, in the next request
    for nxt in server.requests[1:]:
        sent_calls = [tc["id"] for m in nxt["messages"] if m["role"] == "assistant" for tc in m.get("tool_calls") or []]
        answered = [m["tool_call_id"] for m in nxt["messages"] if m["role"] == "tool"]
        assert sent_calls == answered
    info = events_of(result.trace, BriefingEvent)[0].data.agent
    assert info["system_prompt"] == "Be a careful trainee." and info["model"] == "openai/scripted"
    end = events_of(result.trace, EndEvent)[0].data.agent
    assert end["steps"] == len(script) and end["prompt_tokens"] == 100 * len(script)


def test_faults_are_retried_or_corrected(server: LLMServer, tmp_path: Path, day: tuple[Scenario, Day],
                                         oracle: EpisodeResult) -> None:
    faults = {1: "429", 3: "500", 5: "timeout", 7: "truncated_json", 9: "unknown_tool", 11: "text_only",
              12: "text_only", 13: "text_only", 15: "truncated_json"}
    server.reset(Policy(script=oracle_script(oracle), faults=faults))
    result = run_llm("llm", *day, options(server, tmp_path, max_text_only=2))
    assert result.status == "ok", result.error
    assert sorted(server.faults_served) == sorted(faults.values())
    errors = [e.data.content for e in events_of(result.trace, ToolResultEvent) if not e.data.ok]
    assert any("not valid JSON" in c for c in errors) and any("unknown tool 'teleport_to_office'" in c for c in errors)
    assert events_of(result.trace, IdleEvent)  # three text-only replies: the agent let time pass
    nudged = [m for r in server.requests for m in r["messages"] if m.get("content") and "without calling a tool"
              in str(m["content"])]
    assert nudged
    # the corrected calls still solve the day: the faults cost a few virtual minutes, not the score
    assert result.score.metrics.score == oracle.score.metrics.score


def test_outage_is_an_error_episode_not_a_zero(server: LLMServer, tmp_path: Path,
                                               day: tuple[Scenario, Day]) -> None:
    server.reset()
    result = run_llm("llm", *day, options(server, tmp_path, model="openai/always-500", max_retries=2))
    assert result.status == "error"
    assert result.error is not None and result.error.startswith("ModelError") and "HTTP 500" in result.error
    assert server.count == 3
    assert events_of(result.trace, AgentErrorEvent)


def test_cached_rerun_makes_no_http_calls(server: LLMServer, tmp_path: Path, day: tuple[Scenario, Day],
                                          oracle: EpisodeResult) -> None:
    server.reset(Policy(script=oracle_script(oracle)))
    first = run_llm("llm", *day, options(server, tmp_path), seed=7)
    n = server.count
    assert n > 0
    clear_providers()
    second = run_llm("llm", *day, options(server, tmp_path), seed=7)
    assert server.count == n  # zero requests the second time
    assert second.score == first.score and calls_of(second) == calls_of(first)
    # every model call of the rerun came from the cache: as many as the first run made (``n`` counts HTTP
    # requests, which a retry after a timeout on a loaded machine can make more than the calls)
    steps = events_of(first.trace, EndEvent)[0].data.agent["steps"]
    assert 0 < steps <= n
    assert events_of(second.trace, EndEvent)[0].data.agent["cached_calls"] == steps


def tiny_png() -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"\x00\xff\x00\x00")  # one red pixel, filter byte 0
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + chunk(
        b"IDAT", raw) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def test_tool_images_are_sent_as_image_parts(server: LLMServer, tmp_path: Path, day: tuple[Scenario, Day]) -> None:
    scenario, d = day
    task = d.tasks[0]
    png = FileAsset(path="/shared/whiteboard.png", content=tiny_png(), media_type="image/png",
                    text_alternative="a red dot")
    d2 = d.model_copy(update={"tasks": [task.model_copy(update={"files": [*task.files, png]}), *d.tasks[1:]]})
    script = [{"name": "read_file", "arguments": {"path": "/shared/whiteboard.png"}},
              {"name": "end_day", "arguments": {}}]
    server.reset(Policy(script=script))
    result = run_llm("llm", scenario, d2, options(server, tmp_path))
    assert result.status == "ok", result.error
    parts = image_parts(server.requests[1])
    assert len(parts) == 1 and parts[0]["image_url"]["url"] == f"data:image/png;base64,{png.content}"
    tool_msg = next(m for m in server.requests[1]["messages"] if m["role"] == "tool")
    assert "[image /shared/whiteboard.png]" in tool_msg["content"]


def test_react_agent_reaches_the_oracle_score(server: LLMServer, tmp_path: Path, day: tuple[Scenario, Day],
                                              oracle: EpisodeResult) -> None:
    server.reset(Policy(script=oracle_script(oracle), faults={2: "bad_react", 4: "truncated_json"}))
    result = run_llm("react", *day, options(server, tmp_path))
    assert result.status == "ok", result.error
    first = server.requests[0]
    assert "tools" not in first and "Action: <tool name>" in first["messages"][0]["content"]
    assert first["stop"] == ["\nObservation:"]
    fed_back = [m["content"] for r in server.requests for m in r["messages"] if m["role"] == "user"]
    assert any("could not find an action" in c for c in fed_back)
    assert any("not valid JSON" in c for c in fed_back)
    assert result.score.metrics.score == oracle.score.metrics.score


def test_step_budget_ends_the_day(server: LLMServer, tmp_path: Path, day: tuple[Scenario, Day],
                                  oracle: EpisodeResult) -> None:
    server.reset(Policy(script=oracle_script(oracle)))
    result = run_llm("llm", *day, options(server, tmp_path, max_steps=3))
    assert result.status == "ok" and server.count == 3
    assert calls_of(result)[-1] == ("end_day", {})
    assert "step budget" in events_of(result.trace, EndEvent)[0].data.agent["stopped"]


def test_bad_options_are_config_errors(day: tuple[Scenario, Day]) -> None:
    scenario, d = day
    with pytest.raises(ConfigError, match="unknown agent option"):
        make_agent("llm", AgentContext(scenario=scenario, day=d, options={"model": "openai/x", "tmperature": 1}))
    with pytest.raises(ConfigError, match="needs a model"):
        make_agent("llm", AgentContext(scenario=scenario, day=d, options={}))


# ---- context policy (no server: the messages are inspected directly) ------------------------------------

def agent_with_history(day: tuple[Scenario, Day], **opts: Any) -> LLMAgent:
    scenario, d = day
    agent = LLMAgent(AgentContext(scenario=scenario, day=d, options={"model": "openai/x", "base_url":
                                                                     "http://127.0.0.1:9/v1", **opts}).public())
    event_loop().run_until_complete(agent.reset(DayEnv(scenario, d).briefing()))
    return agent


def test_context_window_keeps_system_briefing_and_tasks(day: tuple[Scenario, Day]) -> None:
    agent = agent_with_history(day, context_tokens=2000)
    task = day[1].tasks[0].public()
    agent._absorb(Observation(time=540, clock="09:00", notifications=[
        Notification(time=540, kind="task", text="New task", task_id=task.task_id, task=task)]))
    for i in range(60):
        agent._append({"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]})
        agent.pending, agent.pending_names = [f"c{i}"], {f"c{i}": "read_file"}
        agent._absorb(Observation(time=541 + i, clock="09:01", results=[
            ToolResult(call_id=f"c{i}", name="read_file", ok=True, content="x" * 400, started=0, ended=1)]))
    view = agent._view()
    assert view[:2] == agent.history[:2]
    assert "left out to fit the context window" in view[2]["content"] and task.task_id in view[2]["content"]
    assert len(view) < len(agent.history) and view[-1] == agent.history[-1]
    assert view[3]["role"] != "tool"  # never starts with an orphan tool result
    ids = {tc["id"] for m in view if m["role"] == "assistant" for tc in m.get("tool_calls") or []}
    assert all(m["tool_call_id"] in ids for m in view if m["role"] == "tool")


def test_old_images_are_dropped(day: tuple[Scenario, Day]) -> None:
    agent = agent_with_history(day, keep_images=1)
    for i in range(3):
        agent._append({"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]})
        agent.pending, agent.pending_names = [f"c{i}"], {f"c{i}": "read_file"}
        img = ImagePart(media_type="image/png", data_b64=tiny_png(), path=f"/shared/{i}.png")
        agent._absorb(Observation(time=540 + i, clock="09:00", results=[
            ToolResult(call_id=f"c{i}", name="read_file", ok=True, content="[image]", images=[img], started=0,
                       ended=1)]))
    view = agent._view()
    assert len(image_parts({"messages": view})) == 1
    assert image_parts({"messages": view})[0] == image_parts({"messages": agent.history[-1:]})[0]
    assert sum("image left out" in json.dumps(m) for m in view) == 2


# ---- the command line ---------------------------------------------------------------------------------

def test_cli_run_with_a_model(server: LLMServer, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from firstday.cli import app
    from firstday.suites import save_suite

    spec = preset("smoke", seed=3).model_copy(update={"scenarios": 1})
    save_suite(spec, generate_suite(spec), tmp_path / "suite")
    server.reset(Policy(script=[{"name": "list_tasks", "arguments": {}}]))  # then end_day
    cache = ["-O", f"cache_dir={json.dumps(str(tmp_path / 'cache'))}"]
    res = CliRunner().invoke(app, ["run", str(tmp_path / "suite"), "--agent", "llm", "--model", "openai/scripted",
                                   "--base-url", server.base_url, "-o", str(tmp_path / "run"), *cache])
    assert res.exit_code == 0, res.output
    assert "model usage" in res.output and "0 error(s)" in res.output
    assert server.count > 0
    # an outage: error episodes, exit code 3 (infrastructure errors), never a crash or a zero score
    res = CliRunner().invoke(app, ["run", str(tmp_path / "suite"), "--agent", "llm", "--model", "openai/always-500",
                                   "--base-url", server.base_url, "-o", str(tmp_path / "down"), "-O", "max_retries=0",
                                   "-O", "backoff_base_s=0", *cache])
    assert res.exit_code == 3, res.output
    assert "error(s)" in res.output and " 0 error(s)" not in res.output
    assert "failed" in res.output  # the usage table counts the failed calls


def test_hints_reach_the_model_with_their_task(server: LLMServer, tmp_path: Path, day: tuple[Scenario, Day],
                                               oracle: EpisodeResult) -> None:
    from firstday.env import EnvConfig

    server.reset(Policy(script=oracle_script(oracle)))
    scenario, d = day
    built = make_agent("llm", AgentContext(scenario=scenario, day=d, options=options(server, tmp_path), seed=0))
    env = DayEnv(scenario, d, EnvConfig(hints="whom"))
    result = event_loop().run_until_complete(run_episode(env, built))
    assert result.status == "ok", result.error
    hints = [h for e in events_of(result.trace, ObservationEvent) for h in e.data.hints]
    assert {h.task_id for h in hints} == {t.task_id for t in d.tasks}
    sent = "\n".join(str(m.get("content")) for r in server.requests for m in r["messages"] if m["role"] == "user")
    for h in hints:
        assert f"Hint for task {h.task_id} (whom):" in sent and h.text.splitlines()[0] in sent
