"""LLM colleagues: persona rephrasings checked against the card, defects logged, deterministic fallback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import run_agent, single_task_day
from firstday.env import EnvConfig, events_of
from firstday.env.trace import ColleagueReplyLog, ObservationEvent
from firstday.errors import ConfigError
from firstday.models import clear_providers
from firstday.suites import Day, Scenario
from firstday.world.llm_colleague import check_reply, value_tokens
from llm_server import LLMServer, Policy

pytestmark = pytest.mark.usefixtures("openai_env")


@pytest.fixture(scope="module")
def day() -> tuple[Scenario, Day]:
    # a fixed meta-task whose colleagues' replies carry values (a referral handle, a shared file's path),
    # so the tests do not depend on which families a preset happens to draw
    return single_task_day(("transaction_review", "weekend_postings", "hard"), 0, "llm-colleagues")


def config(server: LLMServer, tmp_path: Path, model: str, **kw: Any) -> EnvConfig:
    return EnvConfig(colleague_model=f"openai/{model}", colleague_options={
        "base_url": server.base_url, "cache_dir": str(tmp_path / "cache"), "timeout_s": 5, **kw})


def replies(result: Any) -> list[ColleagueReplyLog]:
    return [r for e in events_of(result.trace, ObservationEvent) for r in e.data.colleague_replies]


def test_value_tokens_and_checks() -> None:
    assert value_tokens("Code AX-42, total 1,200.50 at 10:30; see /shared/fin/manual.md or ask dana.kim.") == {
        "ax-42", repr(1200.5), "10:30", "/shared/fin/manual.md", "dana.kim"}
    card = ["The approval code is AX-42."]
    assert check_reply("Sure, it's AX-42!", card[0], card) == []
    assert check_reply("It's AX-42, and the budget is 5000.", card[0], card) == ["invented value '5000.0'"]
    assert check_reply("I forgot the code.", card[0], card) == ["dropped value 'ax-42'"]


def test_llm_colleagues_speak_in_persona(server: LLMServer, tmp_path: Path, day: tuple[Scenario, Day]) -> None:
    server.reset(Policy())
    result = run_agent("oracle", *day, config=config(server, tmp_path, "colleague-echo"))
    assert result.status == "ok" and result.score.metrics.score == 1.0
    log = replies(result)
    assert log and all(r.used == "llm" and not r.defects for r in log)
    texts = [n.text for e in events_of(result.trace, ObservationEvent) for n in e.data.notifications]
    assert any("Happy to help!" in t for t in texts)  # the agent saw the persona's words
    sent = server.requests[0]["messages"]
    assert sent[0]["role"] == "system" and "What to tell them:" in sent[1]["content"]
    n = server.count
    clear_providers()
    again = run_agent("oracle", *day, config=config(server, tmp_path, "colleague-echo"))
    assert server.count == n and replies(again) == log  # cached: reproducible and free


@pytest.mark.parametrize(("model", "defect"), [("colleague-liar", "invented value"),
                                               ("colleague-dropper", "dropped value")])
def test_defects_fall_back_to_the_card(server: LLMServer, tmp_path: Path, day: tuple[Scenario, Day], model: str,
                                       defect: str) -> None:
    server.reset(Policy())
    result = run_agent("oracle", *day, config=config(server, tmp_path, model))
    assert result.status == "ok" and result.score.metrics.score == 1.0  # the clue still reached the agent
    log = [r for r in replies(result) if value_tokens(r.deterministic)]  # replies that carry values
    assert log and all(r.used == "deterministic" for r in log)
    assert any(d.startswith(defect) for r in log for d in r.defects)


def test_colleague_outage_falls_back_and_is_logged(server: LLMServer, tmp_path: Path,
                                                   day: tuple[Scenario, Day]) -> None:
    server.reset(Policy())
    result = run_agent("oracle", *day, config=config(server, tmp_path, "always-500", max_retries=0))
    assert result.status == "ok" and result.score.metrics.score == 1.0
    assert all(r.used == "deterministic" and r.error is not None and "HTTP 500" in r.error for r in replies(result))


def test_bad_colleague_options(day: tuple[Scenario, Day]) -> None:
    with pytest.raises(ConfigError, match="unknown colleague option"):
        run_agent("oracle", *day, config=EnvConfig(colleague_model="openai/x", colleague_options={
            "base_url": "http://127.0.0.1:9/v1", "colour": "blue"}))
