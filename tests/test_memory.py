"""The memory protocol's core: lessons and their retrieval, mentor feedback that never hands over answers,
days of a scenario run in order with their memory, resume and errors in the middle of a chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import firstday.agents.base as agent_registry
from conftest import run_agent, saved_suite
from firstday.agents import PublicContext, register_agent
from firstday.agents.builtin import NoopAgent
from firstday.env import DayEnv, EnvConfig, Observation, events_of
from firstday.env.memory import Lesson, Memory, normalize_lessons
from firstday.env.trace import FeedbackEvent, MemoryEvent, ReflectionEvent, ToolResultEvent
from firstday.models.base import ModelRequest
from firstday.run import RunFolder, run_suite
from firstday.scoring.feedback import MentorFeedback, mentor_feedback
from firstday.suites import generate_suite, preset
from firstday.world.assets import PublicTask
from firstday.world.tools import ToolCall


def _task(category: str, objective: str) -> PublicTask:
    return PublicTask(task_id="t1", category=category, objective=objective, arrival=540, priority="normal",
                      deadline=600, requester="x.y")


def test_retrieve_prefers_the_tasks_family_then_shared_words() -> None:
    memory = Memory(scenario_id="s", lessons=[
        Lesson(lesson_id="d0-1", day_index=0, text="read the vendor scoring policy", category="vendor_comparison"),
        Lesson(lesson_id="d0-2", day_index=0, text="ask Finance for the audit manual", category="transaction_review"),
        Lesson(lesson_id="d0-3", day_index=0, text="follow every referral a colleague gives"),
        Lesson(lesson_id="d1-1", day_index=1, text="the quotes folder has the latest quotes",
               category="vendor_comparison"),
    ])
    got = memory.retrieve(_task("vendor_comparison", "Compare the latest quotes of the vendors"))
    assert [g.lesson_id for g in got] == ["d1-1", "d0-1", "d0-3"]  # another family's lesson shares too few words
    assert len(memory.retrieve(_task("vendor_comparison", "x"), k=1)) == 1
    assert "d1-1" not in {g.lesson_id for g in memory.retrieve(_task("vendor_comparison", "x"), exclude={"d1-1"})}


def test_reflection_output_is_normalised_never_an_error() -> None:
    raw: list[Any] = ["  read the manual ", "", {"text": "ask HR", "category": "website_monitor"}, {"nope": 1},
                      Lesson(lesson_id="zz", day_index=9, text="keep", category=None), "x" * 5000]
    lessons = normalize_lessons(raw, day_index=2)
    assert [lesson.lesson_id for lesson in lessons] == ["d2-1", "d2-2", "d2-3", "d2-4"]
    assert lessons[1].category == "website_monitor" and lessons[0].text == "read the manual"
    assert len(lessons[3].text) == 2000
    assert normalize_lessons(None, 0) == [] and normalize_lessons("one", 0)[0].text == "one"


def _flat_answers(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat_answers(v)]
    if isinstance(value, list | tuple | set):
        return [x for v in value for x in _flat_answers(v)]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [str(value)] if abs(value) >= 100 else []
    text = str(value)
    return [text] if len(text) >= 4 else []


@pytest.mark.parametrize("name", ["continual", "continual-mutable"])
def test_mentor_feedback_never_holds_answers_of_later_days(name: str) -> None:
    """Feedback (every checkpoint missed on a do-nothing day: the fullest) may say what was missed today, but
    any answer value of a later day's instance that it names must come from today's own instances (a product
    or a person that happens to recur), never from the later instance."""
    spec = preset(name, seed=3).model_copy(update={"scenarios": 12})
    checked = 0
    for scenario in generate_suite(spec):
        for day in scenario.days:
            text = mentor_feedback(run_agent("noop", scenario, day).score).text.lower()
            today = " ".join(t.model_dump_json() for t in day.tasks).lower()
            for later in scenario.days[day.day_index + 1:]:
                for task in later.tasks:
                    for value in _flat_answers(task.answers):
                        checked += 1
                        if value.lower() in text:
                            assert value.lower() in today, (scenario.scenario_id, day.day_index, later.day_index,
                                                            task.task_id, value)
            # and the checks' own details (which quote values) are never part of it
            assert "the value is wrong" not in text and "no message with the needed information" not in text
    assert checked > 100


def test_feedback_lists_missed_checkpoints_with_where_to_look() -> None:
    scenario = generate_suite(preset("smoke", seed=1))[0]
    result = run_agent("noop", scenario, scenario.days[0])
    fb = mentor_feedback(result.score)
    assert isinstance(fb, MentorFeedback) and len(fb.items) == len(result.score.tasks)
    assert all(it.missed and not it.passed for it in fb.items)
    assert any("Where to look:" in m for it in fb.items for m in it.missed)
    oracle = mentor_feedback(run_agent("oracle", scenario, scenario.days[0]).score)
    assert all(not it.missed for it in oracle.items)


def test_a_memory_belongs_to_one_scenario() -> None:
    a, b = generate_suite(preset("smoke", seed=2))
    with pytest.raises(ValueError, match="memory of scenario"):
        DayEnv(b, b.days[0], EnvConfig(memory=True), memory=Memory(scenario_id=a.scenario_id))


# ---- chains: a scripted agent that writes a note every day and reports what it read ---------------------

FAIL_REFLECT_ON: set[tuple[str, int]] = set()
OUTAGE_ON: set[tuple[str, int]] = set()  # (scenario, day) whose first step meets a model outage


class NoteTaker(NoopAgent):
    name = "test-note-taker"

    def __init__(self, ctx: PublicContext) -> None:
        self.ctx = ctx
        self.step = 0
        self.read: str = ""

    async def act(self, observation: Observation) -> list[ToolCall]:
        self.step += 1
        if self.step == 1 and (self.ctx.scenario_id, self.ctx.day_index) in OUTAGE_ON:
            # the run's model endpoint is down: firstday's provider gives up after its retries (infrastructure)
            from firstday.models.base import ProviderConfig
            from firstday.models.openai_compat import OpenAIProvider

            provider = OpenAIProvider("m", base_url="http://127.0.0.1:9/v1",
                                      config=ProviderConfig(max_retries=0, timeout_s=0.5, cache=False))
            await provider.complete(ModelRequest(model="m", messages=[{"role": "user", "content": "hi"}]))
        if self.step == 1:
            return [ToolCall(name="notebook", arguments={"action": "read"})]
        if self.step == 2:
            self.read = observation.results[0].content
            day = self.ctx.day_index
            return [ToolCall(name="notebook", arguments={"action": "write", "title": f"day {day}",
                                                         "text": f"{self.ctx.scenario_id} note {day}"})]
        return [ToolCall(name="end_day", arguments={})] if not observation.done else []

    def reflect(self, feedback: MentorFeedback) -> list[str]:
        if (feedback.scenario_id, feedback.day_index) in FAIL_REFLECT_ON:
            raise RuntimeError("reflection model down")
        return [f"lesson of day {feedback.day_index}", f"read of day {feedback.day_index}: {self.read[:60]}"]


@pytest.fixture()
def note_taker() -> Any:
    register_agent("test-note-taker", "tests only")(lambda ctx: NoteTaker(ctx))
    yield
    agent_registry._AGENTS.pop("test-note-taker", None)
    FAIL_REFLECT_ON.clear()
    OUTAGE_ON.clear()


@pytest.fixture(scope="module")
def suite3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("suite3") / "suite", "continual", seed=5, scenarios=3)


def _tool_results(run: Path, key: str, name: str) -> list[str]:
    return [e.data.content for e in events_of(RunFolder(run).read_trace(key), ToolResultEvent) if e.data.name == name]


def test_notes_and_lessons_carry_over_within_a_scenario_only(note_taker: None, suite3: Path, tmp_path: Path) -> None:
    run = tmp_path / "mem"
    summary = run_suite(suite3, "test-note-taker", run, env_config=EnvConfig(memory=True), concurrency=3)
    assert summary.ran == 9 and summary.errors == 0
    for sid in ("s000", "s001", "s002"):
        assert _tool_results(run, f"{sid}-d0", "notebook")[0] == "Your notebook is empty."
        day2 = _tool_results(run, f"{sid}-d2", "notebook")[0]
        assert f"{sid} note 0" in day2 and f"{sid} note 1" in day2
        assert not any(other in day2 for other in ("s000", "s001", "s002") if other != sid)
        mem = RunFolder(run).read_memory(f"{sid}-d2")
        assert mem.scenario_id == sid and mem.days == [0, 1, 2] and len(mem.feedback) == 3
        assert [lesson.lesson_id for lesson in mem.lessons] == ["d0-1", "d0-2", "d1-1", "d1-2", "d2-1", "d2-2"]
        events = RunFolder(run).read_trace(f"{sid}-d1")
        assert [type(e) for e in events[-2:]] == [FeedbackEvent, ReflectionEvent]
        memory_event = events[1]
        assert isinstance(memory_event, MemoryEvent)
        assert [n.text for n in memory_event.data.notes] == [f"{sid} note 0"]
    # the control: nothing carries over
    control = tmp_path / "control"
    run_suite(suite3, "test-note-taker", control, concurrency=3)
    assert all(_tool_results(control, f"{sid}-d2", "notebook")[0] == "Your notebook is empty."
               for sid in ("s000", "s001", "s002"))
    assert not (control / "memory").exists()
    paired = {e.key: e.instance_hash for e in RunFolder(run).read_episodes()}
    assert paired == {e.key: e.instance_hash for e in RunFolder(control).read_episodes()}
    assert all(paired.values())


def test_resume_with_memory_equals_an_uninterrupted_run(note_taker: None, suite3: Path, tmp_path: Path) -> None:
    full, cut = tmp_path / "full", tmp_path / "cut"
    run_suite(suite3, "test-note-taker", full, env_config=EnvConfig(memory=True))
    run_suite(suite3, "test-note-taker", cut, env_config=EnvConfig(memory=True))
    for key in ("s001-d1", "s001-d2", "s002-d2"):  # lost as if killed before they were committed
        (cut / "episodes" / f"{key}.json").unlink()
    again = run_suite(suite3, "test-note-taker", cut, env_config=EnvConfig(memory=True))
    assert again.ran == 3 and again.skipped == 6
    for key in RunFolder(full).episode_keys():
        assert (cut / "memory" / f"{key}.json").read_bytes() == (full / "memory" / f"{key}.json").read_bytes()
        assert (cut / "traces" / f"{key}.jsonl").read_bytes() == (full / "traces" / f"{key}.jsonl").read_bytes()


def test_an_agent_error_day_scores_zero_and_its_chain_goes_on(note_taker: None, suite3: Path, tmp_path: Path) -> None:
    run = tmp_path / "r"
    FAIL_REFLECT_ON.add(("s001", 0))
    first = run_suite(suite3, "test-note-taker", run, env_config=EnvConfig(memory=True), concurrency=2)
    errors = {e.key: e for e in first.episodes if e.status == "error"}
    assert set(errors) == {"s001-d0"}  # the reflection is the agent's: its error, and the next days still run
    bad = errors["s001-d0"]
    assert (bad.error or "").startswith("ReflectionError: RuntimeError: reflection model down")
    assert bad.error_kind == "agent" and bad.tasks and all(t.score == 0.0 and t.zeroed for t in bad.tasks)
    memory = RunFolder(run).read_memory("s001-d0")  # the day's notebook and feedback, without its lessons
    assert memory.lessons == [] and len(memory.feedback) == 1
    assert "s001 note 0" in _tool_results(run, "s001-d1", "notebook")[0]
    FAIL_REFLECT_ON.clear()
    retry = run_suite(suite3, "test-note-taker", run, env_config=EnvConfig(memory=True), retry_errors=True)
    assert retry.ran == 0  # agent errors are final


def test_an_infrastructure_error_day_stops_its_chain_and_retry_continues(
        note_taker: None, suite3: Path, tmp_path: Path, openai_env: None) -> None:
    run = tmp_path / "r"
    OUTAGE_ON.add(("s001", 0))
    # the run's own endpoint (a give-up of any other address is the agent's doing, not an outage)
    model = {"model": "openai/m", "base_url": "http://127.0.0.1:9/v1"}
    first = run_suite(suite3, "test-note-taker", run, env_config=EnvConfig(memory=True), concurrency=2,
                      agent_options=model)
    errors = {e.key: e for e in first.episodes if e.status == "error"}
    assert set(errors) == {"s001-d0", "s001-d1", "s001-d2"}
    assert (errors["s001-d0"].error or "").startswith("ModelError")
    assert all((errors[k].error or "").startswith("NotRun: day 0 of this scenario") for k in ("s001-d1", "s001-d2"))
    assert {e.error_kind for e in errors.values()} == {"infrastructure"}
    assert not (run / "memory" / "s001-d0.json").exists()
    OUTAGE_ON.clear()
    retry = run_suite(suite3, "test-note-taker", run, env_config=EnvConfig(memory=True), retry_errors=True,
                      agent_options=model)
    assert retry.ran == 3 and retry.errors == 0
    assert "s001 note 1" in _tool_results(run, "s001-d2", "notebook")[0]


def test_memory_is_part_of_the_run_settings(suite3: Path, tmp_path: Path) -> None:
    from firstday.errors import ConfigError

    run_suite(suite3, "noop", tmp_path / "r", env_config=EnvConfig(memory=True))
    with pytest.raises(ConfigError, match="memory"):
        run_suite(suite3, "noop", tmp_path / "r")
