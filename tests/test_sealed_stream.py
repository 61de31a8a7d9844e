"""The stream is sealed (issue 17, item 2): nothing specific to a task exists before it arrives, and an
urgent arrival ends a wait at its minute (item 3).

For every family, on days with several tasks: just after the day starts and again at the last minute before
each later task arrives, the public tools are swept (files, pages, calendar, inbox, task list, a question
to every colleague who will hold one of its facts). None of the task's files, pages, meetings or facts may
show, nor any of its answer values that are specific to it. After arrival the oracle still solves the day
(the invariant tests and the oracle sweep cover every family; a run over such days closes this test).
"""

from __future__ import annotations

import pytest

from conftest import run_agent, string_values
from firstday.env import DayEnv
from firstday.suites import Day, Scenario, SuiteSpec, generate_scenario
from firstday.tasks import TaskInstance, dependent_variants, families
from firstday.timefmt import fmt
from firstday.world.tools import ToolCall

SEEDS = 3


def _days(family: str) -> list[tuple[Scenario, Day]]:
    spec = SuiteSpec(name=f"sealed-{family}", seed=41, scenarios=SEEDS, tasks_per_day=(3, 4), families=[family],
                     difficulty={"easy": 1, "medium": 1, "hard": 1})
    out = []
    for i in range(SEEDS):
        scenario = generate_scenario(spec, i)
        out += [(scenario, d) for d in scenario.days]
    return out


def _call(env: DayEnv, name: str, **arguments: object) -> str:
    """The call's result and the notifications of events before the call ended (a call costs minutes: one
    made the minute before an arrival ends after it, and the arrival's own notification is not a leak)."""
    start = env.world.now
    obs = env.step([ToolCall(name=name, arguments=dict(arguments))])
    return "\n".join([r.content for r in obs.results] + [n.text for n in obs.notifications if n.time <= start])


def _at(scenario: Scenario, day: Day, minute: int) -> DayEnv:
    """A fresh day whose clock stands at ``minute``, every event until then delivered."""
    env = DayEnv(scenario, day)
    env.reset()
    env.world.advance_to(minute)
    return env


def _sweep(scenario: Scenario, day: Day, task: TaskInstance, minute: int) -> list[str]:
    """What the public tools show at ``minute`` (each call on a fresh day at that minute, since calls cost
    time), including what every holder of one of the task's facts answers then."""
    def call(name: str, **arguments: object) -> str:
        env = _at(scenario, day, minute)
        assert task.task_id not in env.world.arrived
        return _call(env, name, **arguments)

    seen = [call("list_tasks"), call("list_files"), call("list_meetings"), call("room_schedule"), call("read_inbox")]
    for path in sorted({tok for ln in seen[1].splitlines() for tok in ln.split() if tok.startswith("/")}):
        seen.append(call("read_file", path=path))
    for f in task.files:  # asked for by name: must not exist (the error names the path, so it is not kept)
        assert call("read_file", path=f.path).startswith("error: no such file"), f.path
    for p in task.pages:
        assert "not found" in call("open_page", url=p.url), p.url
    for fact in task.facts:
        env = _at(scenario, day, minute)
        _call(env, "send_message", to=fact.holder, text=" ".join([*fact.keywords, *fact.require_any]))
        seen += [e.payload["reply"].text for e in env.world.events.pending("reply")]
    return seen


def _specific_values(task: TaskInstance, scenario: Scenario, day: Day) -> set[str]:
    """Answer strings that only this task could reveal (not a colleague's name, a room, another task's text)."""
    common = scenario.company.model_dump_json() + "".join(
        t.model_dump_json() for t in day.tasks if t.task_id != task.task_id)
    return {v for v in string_values(task.answers) if len(v) >= 6 and v not in common}


@pytest.mark.parametrize("family", sorted(families()))
def test_nothing_of_a_task_exists_before_it_arrives(family: str) -> None:
    checked = dependents = 0
    for scenario, day in _days(family):
        for task in day.tasks:
            if task.arrival <= day.day_start:
                continue
            moments = [day.day_start, task.arrival - 1]
            seen = [x for m in moments for x in _sweep(scenario, day, task, m)]
            env = _at(scenario, day, task.arrival - 1)
            text = "\n".join(seen)
            where = f"{scenario.scenario_id} {task.task_id} (arrives {fmt(task.arrival)}), probed at " + \
                ", ".join(map(fmt, moments))
            for f in task.files:
                assert f.path not in text, f"{where}: file {f.path} shows before arrival"
            for p in task.pages:
                assert p.url not in text, f"{where}: page {p.url} shows before arrival"
            for m in task.meetings:
                assert m.meeting_id not in env.world.record.meetings, f"{where}: meeting {m.meeting_id} exists"
            known = {f.reply for t in day.tasks if t.arrival < task.arrival and t is not task for f in t.facts}
            for fact in task.facts:
                if fact.reply in known:  # the same words said for a task already here (e.g. "noted, thanks")
                    continue
                assert fact.reply not in text, f"{where}: {fact.holder} told {fact.fact_id} before arrival"
            for value in _specific_values(task, scenario, day):
                assert value not in text, f"{where}: answer value {value!r} shows before arrival"
            checked += 1
            dependents += bool(task.depends_on)
    assert checked, f"no {family} task arrived after the start of the day in {SEEDS} scenarios"
    # tasks building on an earlier one are swept too (the spec's default dependencies draws them)
    assert dependents or not dependent_variants(families()[family]), f"no dependent {family} task was swept"


def test_the_oracle_still_solves_days_whose_tasks_arrive_later() -> None:
    for family in ("meeting_attend", "website_monitor", "dashboard_triage"):
        for scenario, day in _days(family)[:2]:
            result = run_agent("oracle", scenario, day)
            assert all(t.success for t in result.score.tasks), (family, scenario.scenario_id)


def test_an_urgent_arrival_ends_a_wait_at_its_minute() -> None:
    spec = SuiteSpec(name="urgent", seed=3, scenarios=8, tasks_per_day=(3, 4))
    for i in range(spec.scenarios):
        scenario = generate_scenario(spec, i)
        day = scenario.days[0]
        urgent = [t for t in day.tasks if t.priority == "urgent" and t.arrival > day.day_start]
        if not urgent:
            continue
        task = urgent[0]
        env = DayEnv(scenario, day)
        env.reset()
        while env.world.now < task.arrival:
            obs = env.step([ToolCall(name="wait", arguments={"until": "17:30"})])
            out = "\n".join([r.content for r in obs.results] + [n.text for n in obs.notifications])
        assert env.world.now == task.arrival
        assert f"interrupted by urgent task {task.task_id}" in out
        assert f"URGENT New task {task.task_id}" in out  # the notification comes with the result
        # a wait that no urgent task crosses runs to its end
        later = [t.arrival for t in day.tasks if t.arrival > env.world.now and t.priority == "urgent"]
        if not later:
            assert "interrupted" not in _call(env, "wait", until="17:30")
            assert env.world.now == 17 * 60 + 30
        return
    pytest.fail("no scenario with an urgent arrival after the start of the day")
