"""Agents that learn across the days of a scenario (docs/learning.md): ``heuristic-learning`` turns mentor
feedback into lessons and uses them; the ``llm`` agent reflects with one model call and is shown its lessons.

The heuristic suites are small continual suites run in-process (6 scenarios x 3 days, a few seconds);
the LLM tests run over the loopback OpenAI-compatible server (``llm_server.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.responses import JSONResponse

from conftest import event_loop, run_agent
from firstday.agents import AgentContext, make_agent
from firstday.agents.learning import (
    ASK_EVERYONE,
    FOLLOW_REFERRALS,
    LearningHeuristicAgent,
    doc_names,
    file_matches,
)
from firstday.env import EnvConfig, TraceEvent, events_of
from firstday.env.memory import Memory
from firstday.env.trace import FeedbackEvent, MemoryEvent, ObservationEvent, ReflectionEvent, ToolCallEvent
from firstday.run import RunFolder, run_suite
from firstday.scoring.feedback import FeedbackItem, MentorFeedback
from firstday.suites import Scenario, generate_suite, preset, save_suite
from llm_server import LLMServer, Policy

pytestmark = pytest.mark.usefixtures("openai_env")

# without dependent tasks (SuiteSpec.dependencies): this sample's mix is the one the learning figures below were
# set on; with them, the heuristic's later-day mean equals its control's here (0.233 both, 46 tasks): not a bug,
# the sample's whole gain is one task whose instances change with the shifted task ids (docs/learning.md, "Why
# heuristic-learning gains nothing on the small sample with dependent tasks")
SMALL = preset("continual", seed=0).model_copy(update={"scenarios": 6, "dependencies": 0.0})


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("continual") / "suite"
    save_suite(SMALL, generate_suite(SMALL), path)
    return path


def _run_pair(suite: Path, agent: str) -> dict[bool, Path]:
    """``agent`` with memory and without (its paired control) over the suite."""
    out = {}
    for memory in (True, False):
        out[memory] = suite.parent / f"{agent}-{'memory' if memory else 'control'}"
        if not (out[memory] / "run.json").exists():
            run_suite(suite, agent, out[memory], env_config=EnvConfig(memory=memory))
    return out


@pytest.fixture(scope="module")
def learning(suite: Path) -> dict[bool, Path]:
    return _run_pair(suite, "heuristic-learning")


@pytest.fixture(scope="module")
def plain(suite: Path) -> dict[bool, Path]:
    return _run_pair(suite, "heuristic")


def _trace(folder: Path, key: str) -> list[TraceEvent]:
    return RunFolder(folder).read_trace(key)


def _calls(trace: list[TraceEvent]) -> list[tuple[str, Any]]:
    return [(e.data.name, e.data.arguments) for e in events_of(trace, ToolCallEvent)]


def _later_scores(folder: Path) -> list[float]:
    """Scores of the tasks of the days after the first (every one a recurring meta-task in ``continual``)."""
    folder_ = RunFolder(folder)
    try:
        return [t.score or 0.0 for e in folder_.read_episodes() if e.day_index > 0 for t in e.tasks]
    finally:
        folder_.close()


# ---- reflection: feedback -> lessons --------------------------------------------------------------------

def _agent(scenario: Scenario, memory: bool = True) -> LearningHeuristicAgent:
    agent = make_agent("heuristic-learning", AgentContext(scenario=scenario, day=scenario.days[0], memory=memory))
    assert isinstance(agent, LearningHeuristicAgent)
    return agent


def test_reflect_turns_where_to_look_notes_into_lessons() -> None:
    scenario = generate_suite(SMALL.model_copy(update={"scenarios": 1}))[0]
    dept = scenario.company.departments[0]
    feedback = MentorFeedback(scenario_id=scenario.scenario_id, day_index=0, items=[
        FeedbackItem(task_id="t1", category="vendor_comparison", meta_task="vendor_comparison/weighted/easy",
                     score=0.0, missed=[
                         "the best vendor: not right. Where to look: Score the latest quotes with the weights and "
                         f"rules of {dept.name}'s vendor scoring policy.",
                         "the winner's total score: not right. Where to look: Score the latest quotes with the "
                         f"weights and rules of {dept.name}'s vendor scoring policy."]),
        FeedbackItem(task_id="t2", category="meeting_booking", meta_task="meeting_booking/x/easy", score=0.5,
                     missed=["nobody who cannot come is invited: not right. Where to look: Ask each invitee whether "
                             "they can make it; someone unsure will name who knows."]),
        FeedbackItem(task_id="t3", category="kb_link_fix", meta_task="kb_link_fix/x/easy", score=0.0,
                     missed=["a.md: every retired chart's link replaced: not done. Where to look: Only links to "
                             "charts marked retired in the chart registry may change, each to the id its owner "
                             "(named in the chart registry) gives you."]),
        FeedbackItem(task_id="t4", category="sales_analysis", meta_task="sales_analysis/x/easy", score=1.0,
                     passed=["the total"]),
    ])
    agent = _agent(scenario)
    lessons = agent.reflect(feedback)
    by_family: dict[str, list[str]] = {}
    for lesson in lessons:
        by_family.setdefault(lesson["category"], []).append(lesson["text"])
    assert set(by_family) == {"vendor_comparison", "meeting_booking", "kb_link_fix"}  # nothing from a full score
    assert by_family["vendor_comparison"] == [  # once, though two checkpoints gave the same note
        'Read the "vendor scoring policy" for these tasks: look for a file named like it on the drive (list_files). '
        f"If it is not there, ask {dept.name} for it (the head of {dept.name})."]
    assert by_family["meeting_booking"] == [ASK_EVERYONE, FOLLOW_REFERRALS]
    assert 'Ask the owner of every row marked retired in the "chart registry" (the row names them).' in \
        by_family["kb_link_fix"]
    # the lessons parse back into advice (as they would when offered on a later day)
    later = _agent(scenario)
    for lesson in lessons:
        later._learn(lesson["category"], lesson["text"])
    vendor = later.advice("vendor_comparison")
    assert vendor.docs == ["vendor scoring policy"] and vendor.ask == [dept.head]
    booking = later.advice("meeting_booking")
    assert booking.ask_everyone and booking.follow_referrals and not booking.docs
    assert later.advice("kb_link_fix").rows == [("chart registry", "retired")]
    assert later.advice("sales_analysis").empty()


def test_document_names_and_file_matching() -> None:
    assert doc_names("The rules are in HR's attendance policy manual; the make-up days come from each "
                     "department's manager.") == ["attendance policy manual"]
    assert doc_names("The rules are in the on-call rota policy (Engineering).") == ["on-call rota policy"]
    assert doc_names("Apply the handbook's formula with densities from the heatmaps and the handbook.") == ["handbook"]
    assert doc_names("Open http://intranet/dashboards/x again; see /shared/a/guide.md.") == []
    objective = "Thea Bakker and Javier Andersen on Project Meridian need approval for a request."
    assert file_matches("project approval chart", "/shared/projects/meridian_approval_chart.png", objective)
    assert not file_matches("project approval chart", "/shared/projects/atlas_approval_chart.png", objective)
    assert file_matches("vendor scoring policy", "/shared/procurement/vendor_scoring_policy.md", "")
    assert file_matches("chart registry", "/shared/charts/registry.csv", "")
    assert not file_matches("data handbook", "/shared/marketing/media_handbook_x.md", "")


# ---- using the lessons -------------------------------------------------------------------------------

def test_offered_lessons_change_the_exploration_and_use_both_memory_channels(learning: dict[bool, Path]) -> None:
    treat, control = learning[True], learning[False]
    differs, read_named, notebook = 0, 0, 0
    for trace_file in sorted((treat / "traces").glob("*.jsonl")):
        key = trace_file.stem
        t_trace, c_trace = _trace(treat, key), _trace(control, key)
        if key.endswith("-d0"):  # the first day has nothing to learn from: exactly the control's day
            assert _calls(t_trace) == _calls(c_trace)
            continue
        differs += _calls(t_trace) != _calls(c_trace)
        calls = _calls(t_trace)
        notebook += any(name == "notebook" and args["action"] == "write" for name, args in calls)
        notebook += any(name == "notebook" and args["action"] == "search" for name, args in calls)
        offered = [lesson.text for e in events_of(t_trace, ObservationEvent) for lesson in e.data.lessons]
        docs = [d for text in offered for d in re.findall(r'"([^"]+)"', text)]
        control_reads = {args["path"] for name, args in _calls(c_trace) if name == "read_file"}
        for name, args in calls:
            if name == "read_file" and args["path"] not in control_reads and any(
                    file_matches(d, args["path"], args["path"]) for d in docs):
                read_named += 1
    assert differs >= 3
    assert read_named >= 1  # a document a lesson names, which the control did not read
    assert notebook >= 2
    memory = Memory.model_validate_json((treat / "memory" / "s000-d1.json").read_text())
    assert memory.lessons and all(lesson.category for lesson in memory.lessons)
    assert memory.notebook  # the lessons it copied into its notebook on day 2


def test_learning_beats_its_control_on_later_days(learning: dict[bool, Path]) -> None:
    treat, control = _later_scores(learning[True]), _later_scores(learning[False])
    assert len(treat) == len(control) > 30
    assert sum(treat) / len(treat) > sum(control) / len(control) + 0.005



def test_without_lessons_it_is_the_plain_heuristic() -> None:
    scenario = generate_suite(SMALL.model_copy(update={"scenarios": 1}))[0]
    for day in scenario.days:
        learning, plain = run_agent("heuristic-learning", scenario, day), run_agent("heuristic", scenario, day)
        assert [e.model_dump() for e in learning.trace] == [e.model_dump() for e in plain.trace]


def test_plain_heuristic_is_unchanged_by_memory(plain: dict[bool, Path]) -> None:
    mem, control = plain[True], plain[False]
    learning_events = (MemoryEvent, FeedbackEvent, ReflectionEvent)
    for trace_file in sorted((mem / "traces").glob("*.jsonl")):
        with_memory = [e for e in _trace(mem, trace_file.stem) if not isinstance(e, learning_events)]
        assert with_memory == _trace(control, trace_file.stem)
    assert _later_scores(mem) == _later_scores(control)


# ---- the LLM agent -----------------------------------------------------------------------------------

REFLECT_MARK = "Mentor feedback on day"


class ReflectingServer(LLMServer):
    """The scripted server, answering reflection requests with ``lessons`` (as JSON) or an error."""

    def __init__(self) -> None:
        super().__init__()
        self.lessons: list[dict[str, str]] | str = []
        self.reflect_fault = False

    async def _scripted(self, body: dict[str, Any]) -> JSONResponse:
        last = body.get("messages", [{}])[-1]
        if REFLECT_MARK in str(last.get("content", "")):
            if self.reflect_fault:
                return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, 500)
            text = self.lessons if isinstance(self.lessons, str) else "Here you are:\n" + json.dumps(self.lessons)
            return self._completion(body, text=text)
        return await super()._scripted(body)


@pytest.fixture(scope="module")
def server() -> Iterator[ReflectingServer]:
    srv = ReflectingServer()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Scenario]:
    spec = preset("continual", seed=0).model_copy(update={"scenarios": 1, "days": 2})
    scenarios = generate_suite(spec)
    path = tmp_path_factory.mktemp("llm-continual") / "suite"
    save_suite(spec, scenarios, path)
    return path, scenarios[0]


def _options(server: LLMServer, tmp_path: Path) -> dict[str, Any]:
    return {"model": "openai/scripted", "base_url": server.base_url, "timeout_s": 2.0, "backoff_base_s": 0.001,
            "backoff_max_s": 0.01, "max_retries": 0, "cache_dir": str(tmp_path / "cache")}


def _user_texts(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content")) for m in body["messages"] if m["role"] == "user")


def test_llm_reflects_and_is_shown_its_lessons(server: ReflectingServer, tmp_path: Path,
                                               two_days: tuple[Path, Scenario]) -> None:
    suite, scenario = two_days
    day2 = scenario.days[1]
    first = min(day2.tasks, key=lambda t: t.arrival)  # the test may look: the lessons must fit a day-2 task
    marker = "LESSON-7731: read the policy before scoring anything"
    server.reset(Policy(script=[{"name": "wait", "arguments": {}}]))
    server.lessons = [{"category": first.public().category, "text": marker},
                      {"category": "no_such_family", "text": "unrelated"}]
    summary = run_suite(suite, "llm", tmp_path / "run", env_config=EnvConfig(memory=True),
                        agent_options=_options(server, tmp_path))
    assert [e.status for e in summary.episodes] == ["ok", "ok"], [e.error for e in summary.episodes]
    reflections = [r for r in server.requests if REFLECT_MARK in _user_texts(r)]
    assert len(reflections) == 2 and "tools" not in reflections[0]  # one call after each day
    memory = Memory.model_validate_json((tmp_path / "run" / "memory" / f"{scenario.scenario_id}-d0.json").read_text())
    assert memory.feedback[0].text in _user_texts(reflections[0])
    assert [lesson.text for lesson in memory.lessons] == [marker, "unrelated"]
    # day 2: the briefing mentions what is carried, the lesson comes with the task it fits
    day2_requests = [r for r in server.requests if "Today is day 2" in str(r["messages"][1]["content"])
                     and REFLECT_MARK not in _user_texts(r)]
    assert day2_requests
    assert "lesson(s), shown with the tasks they fit" in day2_requests[0]["messages"][1]["content"]
    shown = [r for r in day2_requests if marker in _user_texts(r)]
    assert shown
    assert f"Lessons from your earlier days that may apply to task {first.task_id}:" in _user_texts(shown[0])
    day1_requests = [r for r in server.requests if "Today is day 1" in str(r["messages"][1]["content"])]
    assert not any(marker in _user_texts(r) for r in day1_requests)
    # the reflection is counted in the agent's usage
    assert summary.episodes[0].usage is not None and summary.episodes[0].usage.requests == sum(
        1 for r in server.requests if "Today is day 1" in str(r["messages"][1]["content"])) + 1


def test_llm_reflection_tolerates_prose(server: ReflectingServer, tmp_path: Path,
                                        two_days: tuple[Path, Scenario]) -> None:
    suite, scenario = two_days
    server.reset(Policy(script=[]))
    server.lessons = "Lessons:\n- Ask Finance for the manual first.\n2. Follow referrals."
    run_suite(suite, "react", tmp_path / "run", env_config=EnvConfig(memory=True),
              agent_options=_options(server, tmp_path))
    memory = Memory.model_validate_json((tmp_path / "run" / "memory" / f"{scenario.scenario_id}-d0.json").read_text())
    assert [lesson.text for lesson in memory.lessons] == ["Ask Finance for the manual first.", "Follow referrals."]


def test_llm_reflection_error_is_an_error_episode(server: ReflectingServer, tmp_path: Path,
                                                  two_days: tuple[Path, Scenario]) -> None:
    suite, _ = two_days
    server.reset(Policy(script=[]))
    server.reflect_fault = True
    try:
        summary = run_suite(suite, "llm", tmp_path / "run", env_config=EnvConfig(memory=True),
                            agent_options=_options(server, tmp_path))
    finally:
        server.reflect_fault = False
    first, second = summary.episodes
    assert first.status == "error" and first.error is not None and first.error.startswith("ReflectionError")
    assert first.metrics is not None  # the day itself was scored
    assert second.status == "error" and second.error is not None and second.error.startswith("NotRun")


def test_llm_without_memory_makes_no_reflection_call(server: ReflectingServer, tmp_path: Path,
                                                     two_days: tuple[Path, Scenario]) -> None:
    _, scenario = two_days
    server.reset(Policy(script=[]))
    agent = make_agent("llm", AgentContext(scenario=scenario, day=scenario.days[0],
                                           options=_options(server, tmp_path)))
    feedback = MentorFeedback(scenario_id=scenario.scenario_id, day_index=0, items=[])
    assert event_loop().run_until_complete(agent.reflect(feedback)) == []  # type: ignore[attr-defined]
    assert server.count == 0
