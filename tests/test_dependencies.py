"""Tasks that depend on each other (issue 17, item 3): a dependent task needs the result of an earlier task of
the day, so order matters beyond priority. Generation places the pairs (constructing the earlier task when the
day has none), the schedulers respect the precedence, and a dependent task cannot be answered without the
earlier task's result."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import run_agent, single_task_day
from firstday.env import events_of
from firstday.env.trace import ToolCallEvent
from firstday.scoring.scheduling import CallSpan, scheduling_figures
from firstday.suites import Day, Scenario, SuiteSpec, generate_scenario, preset
from firstday.suites.schedule import _work_minutes, best_schedule, simulate_oracle, windows
from firstday.tasks import TaskInstance, dependent_meta_tasks, dependent_variants, families, get_family
from firstday.world.records import DayRecord, Submission

DEPENDENT_FAMILIES = sorted(name for name, fam in families().items() if dependent_variants(fam))
DEPENDENT_METAS = [(name, v, d) for name in DEPENDENT_FAMILIES for v, d in dependent_meta_tasks(families()[name])]


def _pairs(day: Day) -> list[tuple[TaskInstance, TaskInstance]]:
    by_id = {t.task_id: t for t in day.tasks}
    return [(by_id[d], t) for t in day.tasks for d in t.depends_on]


def _dependent_days(seed: int, scenarios: int, **update: Any) -> list[tuple[Scenario, Day]]:
    spec = SuiteSpec(name="dependent", seed=seed, scenarios=scenarios, tasks_per_day=(3, 5),
                     families=DEPENDENT_FAMILIES, dependencies=1.0, **update)
    return [(s, d) for s in (generate_scenario(spec, i) for i in range(scenarios)) for d in s.days]


def test_at_least_three_families_have_dependent_variants() -> None:
    assert len(DEPENDENT_FAMILIES) >= 3
    for name in DEPENDENT_FAMILIES:
        fam = get_family(name)
        # a dependent variant is never drawn alone: it is not among the variants
        assert not set(dependent_variants(fam)) & set(fam.variants)


def test_dependent_pairs_appear_in_the_default_presets_deterministically() -> None:
    assert SuiteSpec().dependencies > 0
    for name in ("standard", "hard", "continual"):
        spec = preset(name, seed=0).model_copy(update={"scenarios": 6})
        assert "dependencies" in spec.model_dump()  # recorded with the suite's spec
        scenarios = [generate_scenario(spec, i) for i in range(spec.scenarios)]
        pairs = [p for s in scenarios for d in s.days for p in _pairs(d)]
        if name == "standard":
            assert pairs, f"no dependent pair in {spec.scenarios} scenarios of {name}"
        again = [generate_scenario(spec, i) for i in range(spec.scenarios)]
        assert [s.model_dump_json() for s in again] == [s.model_dump_json() for s in scenarios]
    # the knob: none at 0; dependent tasks are drawn apart, so the day's other meta-tasks stay what they were
    off = SuiteSpec(name="off", seed=4, scenarios=3, families=DEPENDENT_FAMILIES, dependencies=0.0)
    on = off.model_copy(update={"dependencies": 1.0})
    for i in range(3):
        plain, dep = generate_scenario(off, i).days[0], generate_scenario(on, i).days[0]
        assert not any(t.depends_on for t in plain.tasks)
        assert len([t for t in dep.tasks if t.depends_on]) == len(plain.tasks)  # one after every task
        assert sorted(t.meta_task for t in plain.tasks) == sorted(t.meta_task for t in dep.tasks if not t.depends_on)


def test_a_dependent_task_builds_on_an_earlier_task_of_its_family() -> None:
    checked = 0
    for _, day in _dependent_days(seed=3, scenarios=8):
        ids = [t.task_id for t in day.tasks]
        for earlier, task in _pairs(day):
            assert ids.index(earlier.task_id) < ids.index(task.task_id)
            assert earlier.family == task.family and not earlier.depends_on
            assert earlier.arrival <= task.arrival
            assert earlier.task_id in task.objective  # the objective says what it builds on
            # B's hidden list is A's result; its total comes from B's own sheet
            listed = next(v for v in task.answers.values() if isinstance(v, list))
            assert set(listed) <= {s for v in earlier.answers.values() if isinstance(v, list) for s in v}
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("meta", DEPENDENT_METAS, ids="/".join)
def test_a_dependent_meta_task_alone_comes_with_the_task_it_builds_on(meta: tuple[str, str, str]) -> None:
    """Generation constructs: a day asked for only a dependent task places its earlier task first."""
    _, day = single_task_day(meta, seed=1, label="dependent-alone")
    assert [t.meta_task for t in day.tasks][1] == "/".join(meta)
    assert day.tasks[1].depends_on == [day.tasks[0].task_id] and day.tasks[0].family == meta[0]
    assert not day.dropped


def _record(task: TaskInstance, answer: dict[str, Any]) -> DayRecord:
    return DayRecord(submissions=[Submission(task_id=task.task_id, time=task.arrival + 1, answer=answer)])


def _passes(task: TaskInstance, answer: dict[str, Any]) -> list[bool]:
    record = _record(task, answer)
    return [cp.check.evaluate(record, task.task_id, task.answers, task.deadline, since=task.arrival).passed
            for cp in task.checkpoints if cp.answer_bearing]


def _sheet_total(task: TaskInstance, entities: set[str]) -> float:
    """What B's sheet gives for ``entities`` (the counted rows, as the objective defines them)."""
    lines = str(task.files[0].content).strip().splitlines()
    counted = task.objective.split("Only rows whose status is ")[1].split(" ")[0] if "Only rows" in task.objective \
        else None
    total = 0.0
    for ln in lines[1:]:
        _, entity, amount, status = ln.split(",")
        if entity in entities and (counted is None or status == counted):
            total += float(amount)
    return round(total, 2)


def test_without_the_earlier_result_a_dependent_task_cannot_be_answered() -> None:
    """B's sheet lists every entity of A's data and does not mark A's result: an agent that has not done A's
    work can only choose a set; every choice but A's result fails B's answer-bearing checkpoints (the total
    included), and A's result passes them all."""
    checked = 0
    for _, day in _dependent_days(seed=5, scenarios=6):
        for _, task in _pairs(day):
            list_key, total_key = list(task.answers)
            truth = set(task.answers[list_key])
            sheet = str(task.files[0].content)
            candidates = sorted({ln.split(",")[1] for ln in sheet.strip().splitlines()[1:]})
            assert truth < set(candidates) or truth == set(candidates)
            assert all(_passes(task, {list_key: sorted(truth), total_key: _sheet_total(task, truth)}))
            choices = [set(candidates), set(), *({c} for c in candidates),
                       *(truth - {c} for c in truth), *(truth | {c} for c in candidates)]
            for choice in choices:
                if choice == truth:
                    continue
                got = _passes(task, {list_key: sorted(choice), total_key: _sheet_total(task, choice)})
                assert not any(got), (task.task_id, task.meta_task, sorted(choice))
            checked += 1
    assert checked >= 10


def test_the_oracle_does_the_earlier_task_first_and_solves_both() -> None:
    for scenario, day in _dependent_days(seed=7, scenarios=4):
        result = run_agent("oracle", scenario, day)
        assert all(t.success and t.on_time for t in result.score.tasks), scenario.scenario_id
        submitted = {t.task_id: t.submitted_at for t in result.score.tasks if t.submitted_at is not None}
        for earlier, task in _pairs(day):
            assert submitted[earlier.task_id] <= submitted[task.task_id]
            # nothing of B's plan is done before A's plan is
            calls = [e.data.id for e in events_of(result.trace, ToolCallEvent) if e.data.id.startswith("o")]
            last_a = max(i for i, c in enumerate(calls) if c.startswith(f"o{earlier.task_id}-"))
            first_b = min(i for i, c in enumerate(calls) if c.startswith(f"o{task.task_id}-"))
            assert last_a < first_b


def _with(task: TaskInstance, **update: Any) -> TaskInstance:
    return task.model_copy(update=update)


def test_the_simulated_oracle_starts_a_dependent_task_only_after_the_earlier_one() -> None:
    scenario, day = single_task_day(DEPENDENT_METAS[0], seed=2, label="precedence")
    a, b = day.tasks
    # B arrives with A and is due first: earliest-deadline-first alone would start it first
    b = _with(b, arrival=a.arrival, deadline=a.deadline - 1)
    company = scenario.company
    finish = simulate_oracle([a, b], [], company, day.day_start)
    assert finish[b.task_id] >= finish[a.task_id] + _work_minutes(b, company)
    # without the dependency it would have gone first
    free = simulate_oracle([a, _with(b, depends_on=[])], [], company, day.day_start)
    assert free[b.task_id] < free[a.task_id]


def test_windows_bring_prerequisites_forward_and_dependents_back() -> None:
    _, day = single_task_day(DEPENDENT_METAS[-1], seed=3, label="windows")
    a, b = day.tasks
    a = _with(a, arrival=600, deadline=900)
    b = _with(b, arrival=600, deadline=800)
    work = {a.task_id: 50, b.task_id: 30}
    span = windows([a, b], work)
    assert span[a.task_id] == (600, 770)  # A must be done in time for B's 30 minutes before 800
    assert span[b.task_id] == (650, 800)  # B cannot start before A's 50 minutes are done
    assert windows([a], work)[a.task_id] == (600, 900)  # alone, A keeps its own window


def test_on_overloaded_days_the_best_schedule_keeps_pairs_whole_and_the_oracle_reaches_it() -> None:
    days = _dependent_days(seed=11, scenarios=4, load=(1.2, 1.4))
    with_pairs = 0
    for scenario, day in days:
        assert day.best_score < 1
        skipped = set(day.skipped)
        for earlier, task in _pairs(day):
            with_pairs += 1
            assert earlier.task_id not in skipped or task.task_id in skipped  # no B without its A
        required = [m for m in [*day.meetings, *(m for t in day.tasks for m in t.meetings)] if m.trainee_required]
        best = best_schedule(day.tasks, required, scenario.company, day.day_start)
        assert best.score == pytest.approx(day.best_score)
        result = run_agent("oracle", scenario, day)
        assert result.score.metrics.priority_weighted_score == pytest.approx(day.best_score)
        for t in result.score.tasks:
            assert t.success == (t.task_id not in skipped), t.task_id
    assert with_pairs


def test_days_that_fit_keep_deadlines_the_oracle_meets_with_dependencies() -> None:
    for scenario, day in _dependent_days(seed=13, scenarios=3, load=(0.7, 0.9)):
        assert day.best_score == 1.0 and not day.skipped and not day.dropped
        for earlier, task in _pairs(day):
            assert task.deadline > earlier.arrival
        result = run_agent("oracle", scenario, day)
        assert all(t.success for t in result.score.tasks), scenario.scenario_id


def test_a_task_is_not_ready_for_priority_inversions_until_what_it_builds_on_is_submitted() -> None:
    _, day = single_task_day(DEPENDENT_METAS[0], seed=4, label="ready")
    a, b = day.tasks
    low = _with(a, task_id="tx", priority="low", deadline=1000, depends_on=[])
    a = _with(a, priority="low", arrival=600, deadline=1000)
    b = _with(b, priority="urgent", arrival=600, deadline=900)
    low = _with(low, arrival=600)
    test_day = day.model_copy(update={"tasks": [a, b, low], "skipped": []})
    # a call on the low-priority task tx at 610 while B is urgent and pending
    spans = [CallSpan(start=610, end=615, name="read_file", task_id="tx")]
    before = scheduling_figures(test_day, spans, {}, None)
    assert before.priority_inversions == 0  # B is not ready: A is not submitted
    after = scheduling_figures(test_day, spans, {a.task_id: 605}, None)
    assert after.priority_inversions == 1  # A was submitted at 10:05: B was ready, tx's call is an inversion


def test_determinism_with_dependencies() -> None:
    spec = SuiteSpec(name="dependent", seed=21, scenarios=2, families=DEPENDENT_FAMILIES, dependencies=0.7)
    first = [generate_scenario(spec, i).model_dump_json() for i in range(2)]
    second = [generate_scenario(spec, i).model_dump_json() for i in range(2)]
    assert first == second
    other = [generate_scenario(spec.model_copy(update={"seed": 22}), i).model_dump_json() for i in range(2)]
    assert first != other


def test_an_agent_is_told_which_tasks_a_task_builds_on() -> None:
    """``PublicTask.depends_on``: the order constraint (ids the objective names anyway), nothing of the earlier
    task's result; left out of saved JSON when empty, so traces of independent tasks keep their bytes."""
    _, day = single_task_day(DEPENDENT_METAS[0], seed=5, label="public-depends")
    a, b = day.tasks
    assert b.public().depends_on == [a.task_id] and a.task_id in b.objective
    assert a.public().depends_on == [] and "depends_on" not in a.public().model_dump_json()
    assert '"depends_on":["' + a.task_id + '"]' in b.public().model_dump_json()
