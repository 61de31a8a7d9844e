"""Invariant 1 — Solvable (DESIGN.md §6): for every generated instance, the oracle agent, using only the
public tools, reaches full score before the deadline.

One test per (family, variant, difficulty) with the seeds looped inside (xdist spreads the meta-tasks
over the workers), plus mixed days from the presets. The check is the library's
(:func:`firstday.checkers.oracle_problem`, also run by ``firstday check-family``). Beyond "score 1.0" the
oracle must also be *clean*:
no refused tool call (its plan is well-formed), no missed or late meeting, no unsupported answer (every
clue a checkpoint depends on is observable on the oracle's path — otherwise the hallucination metric
would punish honest agents), and no task dropped by the day generator as infeasible.
"""

from __future__ import annotations

import os

import pytest

from conftest import (
    SINGLE_TASK_SPEC,
    all_dependent_meta_tasks,
    all_meta_tasks,
    event_loop,
    meta_id,
    preset_days,
    single_task_day,
)
from firstday import checkers
from firstday.suites import Day, Scenario, generate_day, preset

# The foundation families are swept over 200 seeds per meta-task, the rest of the library over 50 in CI
# (FIRSTDAY_ORACLE_SEEDS raises it; scripts/sweep_oracle.py sweeps far more instances outside the test suite).
FOUNDATION = {"transaction_review", "meeting_booking", "kb_link_fix"}
N_SEEDS_FOUNDATION = 200
N_SEEDS = int(os.environ.get("FIRSTDAY_ORACLE_SEEDS", "50"))
MAX_REPORTED = 3


def oracle_problem(scenario: Scenario, day: Day) -> str | None:
    """The library's check (:func:`firstday.checkers.oracle_problem`) on this process's event loop."""
    return checkers.oracle_problem(scenario, day, loop=event_loop())


def _sweep_meta(meta: tuple[str, str, str], n_seeds: int, label: str, tasks: int) -> None:
    """The oracle on ``n_seeds`` days of one meta-task, each holding ``tasks`` tasks (2 for a dependent one:
    the earlier task it builds on first); fails listing the first seeds that went wrong."""
    failures: list[str] = []
    for seed in range(n_seeds):
        scenario, day = single_task_day(meta, seed, label=label)
        if len(day.tasks) != tasks or (tasks == 2 and day.tasks[1].depends_on != [day.tasks[0].task_id]):
            failures.append(f"seed {seed}: the day holds {[t.meta_task for t in day.tasks]} (a task dropped as "
                            "infeasible, or not the pair)")
        else:
            problem = oracle_problem(scenario, day)
            if problem:
                failures.append(f"seed {seed}: {problem}")
        if len(failures) >= MAX_REPORTED:
            break
    if failures:
        pytest.fail(f"oracle not perfect on {meta_id(meta)}:\n" + "\n".join(failures), pytrace=False)


@pytest.mark.parametrize("meta", all_meta_tasks(), ids=meta_id)
def test_oracle_solves_every_meta_task(meta: tuple[str, str, str]) -> None:
    _sweep_meta(meta, max(N_SEEDS, N_SEEDS_FOUNDATION) if meta[0] in FOUNDATION else N_SEEDS, "single", 1)


@pytest.mark.parametrize("meta", all_dependent_meta_tasks(), ids=meta_id)
def test_oracle_solves_every_dependent_meta_task(meta: tuple[str, str, str]) -> None:
    """A dependent meta-task's day holds the earlier task it builds on and the dependent one: the oracle solves
    both, in that order (tests/test_dependencies.py checks the order and the precedence)."""
    _sweep_meta(meta, N_SEEDS, "dependent", 2)


# (preset, seeds, scenarios): smoke over many seeds; full-size reference and continual suites; days filled to
# a load of 0.7-0.9 (standard; its overloaded sibling `hard` is tested against the best achievable score in
# tests/test_load.py)
MIXED: list[tuple[str, range, int | None]] = [
    ("smoke", range(0, 40), None), ("reference", range(0, 2), None), ("standard", range(0, 2), 10),
    ("continual", range(0, 1), None),
]
# the day generator drops a task it cannot schedule on time (by design); that must stay rare
MAX_DROPPED_SHARE = 0.05


@pytest.mark.parametrize(("name", "seeds", "scenarios"), MIXED, ids=[f"{n}-{s.start}-{s.stop}" for n, s, _ in MIXED])
def test_oracle_solves_mixed_preset_days(name: str, seeds: range, scenarios: int | None) -> None:
    failures: list[str] = []
    drawn_total, dropped = 0, []
    for seed in seeds:
        spec = preset(name, seed=seed)
        for scenario, day in preset_days(name, seed, scenarios):
            if day.day_index == 0:
                # regenerate day 0 to learn how many tasks were drawn before infeasible ones were dropped
                _, drawn = generate_day(scenario.company, spec, scenario.seed, 0)
                drawn_total += len(drawn)
                if len(drawn) != len(day.tasks):
                    dropped.append(f"seed {seed} {scenario.scenario_id}: {len(drawn) - len(day.tasks)} of {drawn}")
                assert day.tasks, f"seed {seed} {scenario.scenario_id}: every task of the day was dropped"
            problem = oracle_problem(scenario, day)
            if problem:
                failures.append(f"seed {seed}: {problem}")
            if len(failures) >= MAX_REPORTED:
                break
    if failures:
        pytest.fail(f"oracle not perfect on preset {name}:\n" + "\n".join(failures), pytrace=False)
    assert len(dropped) <= MAX_DROPPED_SHARE * drawn_total, (
        f"{len(dropped)} of {drawn_total} drawn tasks were dropped as infeasible:\n" + "\n".join(dropped))


def test_single_task_days_have_the_usual_background() -> None:
    """The single-task days used above are real days: a team meeting to attend and one task."""
    meta = all_meta_tasks()[0]
    _, day = single_task_day(meta, 0)
    assert SINGLE_TASK_SPEC.meetings and [m.meeting_id for m in day.meetings] == ["m1"]
    assert [t.meta_task for t in day.tasks] == [meta_id(meta)]
