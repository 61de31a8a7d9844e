"""The learning metric (memory vs a paired control): hand-computed figures on synthetic run folders, pairing
refusals, memory carried within a scenario only, identical instances for the control, the ``learn`` command
end to end, and the acceptance test: heuristic-learning learns on the stationary ``continual`` preset and
the plain heuristic does not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import firstday.agents.base as agent_registry
from firstday.agents import PublicContext, agent_names, register_agent
from firstday.agents.builtin import NoopAgent
from firstday.cli import app
from firstday.env import EnvConfig, Observation, TraceEvent, events_of
from firstday.env.trace import FeedbackEvent, MemoryEvent, ReflectionEvent, ToolResultEvent
from firstday.errors import ConfigError
from firstday.report.learning import LEARNING_JSON, LEARNING_PNG, LearningReport, learning_report
from firstday.run import (
    LEARNING_CONTROL,
    LEARNING_TREATMENT,
    RunFolder,
    RunManifest,
    run_paired_learning,
    run_suite,
)
from firstday.run.results import EpisodeSummary
from firstday.scoring.cards import DayMetrics, TaskScore
from firstday.suites import generate_suite, preset, save_suite
from firstday.world.tools import ToolCall

# ---- synthetic run folders ------------------------------------------------------------------------------

FAMILY = {"A": "fa", "B": "fb", "C": "fc", "D": "fd", "E": "fe"}


def _task(meta: str, score: float, i: int) -> TaskScore:
    fam = FAMILY[meta]
    return TaskScore(task_id=f"t{i}", family=fam, variant="v", difficulty="easy", meta_task=f"{fam}/v/easy",
                     priority="normal", arrival=540, deadline=600, score=score, success=score == 1.0,
                     submitted_at=560, on_time=True, latency=20, clues_required=1, clues_observed=1, checkpoints=[])


def _metrics(n: int) -> DayMetrics:
    return DayMetrics(tasks=n, scored_tasks=n, score=None, success_rate=None, priority_weighted_score=None,
                      on_time_rate=None, urgent_latency=None, meetings_required=0, meetings_missed=0,
                      meetings_late=0, work_left=0, clue_discovery=None, unsupported_rate=None,
                      questions_per_clue=None, messages_sent=0, tool_calls=0, errors=0)


def _episode(sid: str, day: int, tasks: list[tuple[str, float]] | None, memory: bool, trial: int = 0,
             instance_hash: str | None = None) -> EpisodeSummary:
    if tasks is None:  # an error episode, as the runner records it
        return EpisodeSummary(scenario_id=sid, day_index=day, trial=trial, agent="x", status="error",
                              error="AgentError: boom")
    return EpisodeSummary(
        scenario_id=sid, day_index=day, trial=trial, agent="x", status="ok", metrics=_metrics(len(tasks)),
        tasks=[_task(m, s, i) for i, (m, s) in enumerate(tasks, start=1)],
        instance_hash=instance_hash or f"h-{sid}-{day}", memory=memory)


# scenario -> day -> [(meta-task, treatment score, control score)]; None: error episode (treatment, control)
DATA: dict[str, list[Any]] = {
    "s0": [
        [("A", 0.2, 0.2), ("B", 0.4, 0.4)],
        [("A", 0.5, 0.3), ("A", 0.7, 0.3), ("B", 0.4, 0.2)],  # two A tasks: their mean counts (0.6 / 0.3)
        [("A", 0.8, 0.4), ("C", 0.5, 0.25)],  # mutable: C is new
    ],
    "s1": [
        [("A", 0.5, 0.5), ("D", 0.0, 0.0)],
        [("D", 0.5, 0.25), ("E", 1.0, 0.5)],  # mutable: E is new; A is absent...
        [("A", 0.5, 0.75), ("D", 0.5, 0.25)],  # ... and comes back (stationary: A and D were on day 1)
    ],
    # errors: the control's day 1, the treatment's day 2 (and so day 3): every pair of s2 is dropped
    "s2": [("ok", "error"), ("error", "ok"), ("error", "ok")],
}


def _write_run(path: Path, memory: bool, *, agent: str = "x", trials: int = 1, seed: int = 0,
               override: dict[tuple[str, int], EpisodeSummary] | None = None, days: int = 3) -> Path:
    folder = RunFolder(path)
    folder.write_manifest(RunManifest(
        agent=agent, env_config=EnvConfig(memory=memory), seed=seed, suite_path="suite", suite_name="synthetic",
        suite_hash="abc123", n_episodes=3 * days * trials, trials=trials, firstday_version="test",
        created_at="2025-01-01T00:00:00+00:00"))
    arm = 1 if memory else 2
    for trial in range(trials):
        for sid, scenario in DATA.items():
            for day in range(days):
                spec = scenario[day]
                if sid == "s2":
                    status = spec[0 if memory else 1]
                    tasks = [("A", 0.5)] if status == "ok" else None
                else:
                    tasks = [(m, t if arm == 1 else c) for m, t, c in spec]
                e = _episode(sid, day, tasks, memory, trial)
                e = (override or {}).get((sid, day), e)
                folder.write_episode(e, [])
    folder.close()
    return path


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return _write_run(tmp_path / "memory", True), _write_run(tmp_path / "control", False)


def test_gain_per_day_family_kinds_and_forgetting_match_hand_computed_values(pair: tuple[Path, Path]) -> None:
    r = learning_report(*pair)
    # d = mean over recurring meta-tasks of (T_k - T_1) - (C_k - C_1):
    #   s0 day 2: A (0.6-0.2)-(0.3-0.2) = 0.3, B (0.4-0.4)-(0.2-0.4) = 0.2 -> 0.25;  s0 day 3: A 0.4 -> 0.4
    #   s1 day 2: D (0.5-0)-(0.25-0) = 0.25;  s1 day 3: A (0.5-0.5)-(0.75-0.5) = -0.25, D 0.25 -> 0.0
    assert r.gain.value == pytest.approx((0.25 + 0.4 + 0.25 + 0.0) / 4)
    assert (r.gain.units, r.gain.scenarios) == (4, 2) and r.gain.ci is not None
    assert r.gain.ci.low <= 0.225 <= r.gain.ci.high
    assert r.treatment_change.value == pytest.approx(((0.4 + 0.0) / 2 + 0.6 + 0.5 + (0.0 + 0.5) / 2) / 4)
    day2, day3 = r.day(2), r.day(3)
    assert day2 is not None and day3 is not None and r.day(1) is None
    assert day2.gain.value == pytest.approx(0.25) and day3.gain.value == pytest.approx(0.2)
    assert (day2.stationary, day2.mutable, day3.stationary, day3.mutable) == (1, 1, 1, 1)
    fams = {f.family: f.gain.value for f in r.families}
    assert fams == pytest.approx({"fa": (0.3 + 0.4 - 0.25) / 3, "fb": 0.2, "fd": 0.25})
    stationary, mutable = r.kind("stationary"), r.kind("mutable")
    assert stationary is not None and mutable is not None
    assert stationary.gain.value == pytest.approx((0.25 + 0.0) / 2) and stationary.days == 2
    assert mutable.gain.value == pytest.approx((0.4 + 0.25) / 2) and mutable.days == 2
    assert mutable.treatment_new and mutable.treatment_new.value == pytest.approx((0.5 + 1.0) / 2)
    assert mutable.control_new and mutable.control_new.value == pytest.approx((0.25 + 0.5) / 2)
    assert mutable.new_difference and mutable.new_difference.value == pytest.approx((0.25 + 0.5) / 2)
    assert stationary.treatment_new is None
    # forgetting: A in s1 on day 1, absent on day 2, back on day 3: (0.5-0.5) - (0.5-0.75) = 0.25
    assert r.forgetting is not None and r.forgetting.value == pytest.approx(0.25) and r.forgetting.units == 1
    assert r.forgetting.ci is None and r.forgetting_reason is None  # one scenario: no interval
    # score by day: every task (day 2 of the treatment: 0.5 0.7 0.4 0.5 1.0), and recurring meta-tasks
    # (day 1: the meta-tasks recurring on a later day: s0 A B, s1 A D)
    assert r.score_by_day[1].treatment.value == pytest.approx(3.1 / 5)
    assert r.score_by_day[0].treatment_recurring.value == pytest.approx((0.2 + 0.4 + 0.5 + 0.0) / 4)
    assert r.score_by_day[2].control_recurring.value == pytest.approx((0.4 + 0.75 + 0.25) / 3)
    # errors: every pair of s2 is dropped and counted, never averaged
    assert r.dropped_pairs == ["s2-d0", "s2-d1", "s2-d2"] and r.paired_episodes == 6 and not r.unpaired
    assert any("3 pair(s) dropped" in w for w in r.warnings)
    # deterministic, and saved as JSON that reads back
    again = learning_report(*pair)
    assert again.model_dump_json() == r.model_dump_json()
    assert LearningReport.model_validate_json(r.model_dump_json()) == r


def test_trials_are_paired_by_scenario_and_trial(tmp_path: Path) -> None:
    r = learning_report(_write_run(tmp_path / "m", True, trials=2), _write_run(tmp_path / "c", False, trials=2))
    assert r.gain.value == pytest.approx(0.225) and r.gain.units == 8 and r.gain.scenarios == 2
    assert r.trials == 2 and r.paired_episodes == 12


def test_stationary_runs_have_no_forgetting_and_say_why(tmp_path: Path) -> None:
    r = learning_report(_write_run(tmp_path / "m", True, days=2), _write_run(tmp_path / "c", False, days=2))
    assert r.forgetting is None and r.forgetting_reason and "at least 3 days" in r.forgetting_reason
    assert [d.day for d in r.per_day] == [2]


def test_pairing_refuses_different_instances_and_names_the_episodes(tmp_path: Path) -> None:
    treatment = _write_run(tmp_path / "m", True)
    other = _episode("s1", 2, [("A", 0.75), ("D", 0.25)], False, instance_hash="something-else")
    control = _write_run(tmp_path / "c", False, override={("s1", 2): other})
    with pytest.raises(ConfigError, match=r"not see the same instances.*s1-d2"):
        learning_report(treatment, control)


@pytest.mark.parametrize("what", ["memory", "agent", "seed", "single day", "swapped"])
def test_pairing_refuses_runs_that_are_not_a_pair(tmp_path: Path, what: str) -> None:
    t, c = tmp_path / "m", tmp_path / "c"
    if what == "memory":
        _write_run(t, True), _write_run(c, True)
        match = "was run with memory"
    elif what == "agent":
        _write_run(t, True), _write_run(c, False, agent="y")
        match = "different agents"
    elif what == "seed":
        _write_run(t, True), _write_run(c, False, seed=1)
        match = "different seeds"
    elif what == "single day":
        _write_run(t, True, days=1), _write_run(c, False, days=1)
        match = "single day"
    else:
        _write_run(t, True), _write_run(c, False)
        t, c = c, t
        match = "without memory"
    with pytest.raises(ConfigError, match=match):
        learning_report(t, c)


# ---- memory in real runs: a scripted note-taker --------------------------------------------------------

class NoteReader(NoopAgent):
    """Day 1: writes a note; day 2: reads the notebook; every day ends at once."""

    name = "test-note-reader"

    def __init__(self, ctx: PublicContext) -> None:
        self.ctx = ctx
        self.step = 0

    async def act(self, observation: Observation) -> list[ToolCall]:
        self.step += 1
        sid, day = self.ctx.scenario_id, self.ctx.day_index
        if self.step == 1:
            if day == 0:
                return [ToolCall(name="notebook", arguments={"action": "write", "title": "day 1",
                                                             "text": f"note of {sid}"})]
            return [ToolCall(name="notebook", arguments={"action": "read"})]
        return [ToolCall(name="end_day", arguments={})] if not observation.done else []


@pytest.fixture()
def note_reader() -> Iterator[None]:
    register_agent("test-note-reader", "tests only")(lambda ctx: NoteReader(ctx))
    yield
    agent_registry._AGENTS.pop("test-note-reader", None)


@pytest.fixture(scope="module")
def small_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = preset("continual").model_copy(update={"scenarios": 4})
    folder = tmp_path_factory.mktemp("continual4") / "suite"
    save_suite(spec, generate_suite(spec), folder)
    return folder


def _events(run: Path, key: str) -> list[TraceEvent]:
    return RunFolder(run).read_trace(key)


def _notebook_results(run: Path, key: str) -> list[str]:
    return [e.data.content for e in events_of(_events(run, key), ToolResultEvent) if e.data.name == "notebook"]


LEARNING_EVENTS = (MemoryEvent, FeedbackEvent, ReflectionEvent)


def test_memory_carries_within_a_scenario_and_the_control_sees_identical_instances(
        note_reader: None, small_suite: Path, tmp_path: Path) -> None:
    done: list[str] = []
    summaries = run_paired_learning(small_suite, "test-note-reader", tmp_path, concurrency=4,
                                    on_run=lambda arm, summary, seconds: done.append(arm))
    assert list(summaries) == done == [LEARNING_TREATMENT, LEARNING_CONTROL]
    mem, ctl = (summaries[arm].out_dir for arm in (LEARNING_TREATMENT, LEARNING_CONTROL))
    assert (mem, ctl) == (tmp_path / "memory", tmp_path / "control")
    assert RunFolder(mem).read_manifest().env_config.memory is True
    assert RunFolder(ctl).read_manifest().env_config.memory is False
    for sid in ("s000", "s001", "s002", "s003"):
        day2 = _notebook_results(mem, f"{sid}-d1")[0]
        assert f"note of {sid}" in day2  # the day-1 note, read on day 2
        assert not any(f"note of {o}" in day2 for o in ("s000", "s001", "s002", "s003") if o != sid)
        first = _events(mem, f"{sid}-d0")
        memory_event = events_of(first, MemoryEvent)[0]
        assert memory_event.data.notes == [] and memory_event.data.lessons == []  # starts empty
        assert _notebook_results(ctl, f"{sid}-d1")[0] == "Your notebook is empty."  # control: nothing carries
    # the control saw byte-identical instances...
    hashes = {e.key: e.instance_hash for e in RunFolder(mem).read_episodes()}
    assert hashes == {e.key: e.instance_hash for e in RunFolder(ctl).read_episodes()} and all(hashes.values())
    # ...and on day 1 the very same observations and tool results, apart from the learning protocol's events
    for sid in ("s000", "s001", "s002", "s003"):
        a = [e for e in _events(mem, f"{sid}-d0") if not isinstance(e, LEARNING_EVENTS)]
        b = [e for e in _events(ctl, f"{sid}-d0") if not isinstance(e, LEARNING_EVENTS)]
        assert a == b


# ---- the learn command ---------------------------------------------------------------------------------

def test_learn_command_end_to_end_with_a_non_learning_agent(small_suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "learn"
    cli = CliRunner()
    res = cli.invoke(app, ["learn", str(small_suite), "--agent", "heuristic", "--out", str(out), "-c", "4"])
    assert res.exit_code == 0, res.output
    assert "Learning gain" in res.output and "Per day" in res.output and "Stationary vs mutable" in res.output
    assert (out / LEARNING_JSON).is_file() and (out / LEARNING_PNG).stat().st_size > 10_000
    r = LearningReport.model_validate_json((out / LEARNING_JSON).read_text())
    # the heuristic ignores its memory: both runs act alike, so the paired change is exactly 0
    assert r.gain.value == 0.0 and r.gain.ci is not None and r.gain.ci.low <= 0.0 <= r.gain.ci.high
    assert r.paired_episodes == 12 and not r.dropped_pairs
    # every day's trace of the control equals the treatment's apart from the learning protocol's events
    for key in RunFolder(out / "control").episode_keys():
        a = [e for e in _events(out / "memory", key) if not isinstance(e, LEARNING_EVENTS)]
        assert a == [e for e in _events(out / "control", key) if not isinstance(e, LEARNING_EVENTS)]
    # rerunning resumes both runs (nothing left to do) and --report-only reads them again
    res = cli.invoke(app, ["learn", str(small_suite), "--agent", "heuristic", "--out", str(out)])
    assert res.exit_code == 0 and "0 episode(s) run, 12 already done" in res.output
    res = cli.invoke(app, ["learn", "--report-only", str(out)])
    assert res.exit_code == 0 and "Learning gain" in res.output
    res = cli.invoke(app, ["report-learning", str(out / "memory"), str(out / "control"), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["gain"]["value"] == 0.0


def test_learn_refuses_a_single_day_suite_and_bad_arguments(tmp_path: Path) -> None:
    spec = preset("smoke")
    save_suite(spec, generate_suite(spec), tmp_path / "smoke")
    cli = CliRunner()
    res = cli.invoke(app, ["learn", str(tmp_path / "smoke"), "--agent", "heuristic", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "single day" in res.output and not (tmp_path / "o").exists()
    assert "--preset continual" in res.output  # a preset that works, not the single-day smoke one
    res = cli.invoke(app, ["learn", str(tmp_path / "none"), "--agent", "heuristic", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--preset continual" in res.output and not (tmp_path / "o").exists()
    res = cli.invoke(app, ["learn", str(tmp_path / "smoke")])
    assert res.exit_code == 2 and "--agent" in res.output
    res = cli.invoke(app, ["learn", "--report-only", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and "does not exist" in res.output


# ---- acceptance: the learning heuristic learns, the plain one does not --------------------------------

@pytest.fixture(scope="module")
def continual_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("continual") / "suite"
    spec = preset("continual", seed=0)
    save_suite(spec, generate_suite(spec), folder)
    return folder


def _gain(suite: Path, agent: str, out: Path) -> LearningReport:
    run_suite(suite, agent, out / "memory", env_config=EnvConfig(memory=True), concurrency=4)
    run_suite(suite, agent, out / "control", concurrency=4)
    return learning_report(out / "memory", out / "control")


@pytest.mark.slow
def test_heuristic_learning_gains_on_the_continual_preset_and_heuristic_does_not(
        continual_suite: Path, tmp_path: Path) -> None:
    assert "heuristic-learning" in agent_names()
    learner = _gain(continual_suite, "heuristic-learning", tmp_path / "learner")
    assert learner.gain.value is not None and learner.gain.ci is not None and learner.gain.scenarios == 30
    assert learner.gain.value > 0 and learner.gain.ci.low > 0, learner.gain
    plain = _gain(continual_suite, "heuristic", tmp_path / "plain")
    assert plain.gain.ci is not None and plain.gain.ci.low <= 0.0 <= plain.gain.ci.high, plain.gain
