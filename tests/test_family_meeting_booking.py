"""The meeting booking family: solvable by the oracle, honest against noop and guessing, deterministic,
and safe to mix with other tasks (including other booking tasks) on one day."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterable

import pytest

from conftest import SINGLE_TASK_SPEC, describe_episode, seeded_company
from firstday.agents import AgentContext, make_agent
from firstday.env import DayEnv, EpisodeResult, run_episode
from firstday.seeding import derive_seed, make_rng
from firstday.suites import Day, Scenario, SuiteSpec, generate_day
from firstday.tasks import MeetingCheck, get_family
from firstday.timefmt import fmt
from firstday.world import Company, generate_company
from firstday.world.records import DayRecord, Meeting, Submission

FAMILY = "meeting_booking"
VARIANTS = ("department", "managers", "find_slot")
DIFFICULTIES = ("easy", "medium", "hard")
ORACLE_SEEDS = 200


def _run_many(agent: str, days: Iterable[tuple[Scenario, Day]]) -> list[tuple[Day, EpisodeResult]]:
    """Episodes run in one event loop (an event loop per episode would cost more than the episode)."""

    async def go() -> list[tuple[Day, EpisodeResult]]:
        out = []
        for scenario, day in days:
            ctx = AgentContext(scenario=scenario, day=day)
            out.append((day, await run_episode(DayEnv(scenario, day), make_agent(agent, ctx))))
        return out

    return asyncio.run(go())


@functools.cache
def _company(seed: int) -> Company:
    # generating a company costs more than a task: one per seed, shared by every variant and difficulty
    return seeded_company("meeting-booking", seed)


def single_task_day(meta: tuple[str, str, str], seed: int, label: str) -> tuple[Scenario, Day]:
    """A day holding exactly one instance of ``meta`` (plus the usual team meeting)."""
    company = _company(seed)
    scenario_seed = derive_seed("tests", label, seed)
    day, _ = generate_day(company, SINGLE_TASK_SPEC, scenario_seed, 0, meta=[meta])  # type: ignore[list-item]
    return Scenario(scenario_id=f"{label}-{seed}", seed=scenario_seed, company=company, days=[day]), day


def _single_days(variant: str, difficulty: str, seeds: Iterable[int]) -> list[tuple[Scenario, Day]]:
    days = [single_task_day((FAMILY, variant, difficulty), seed, "meeting-booking") for seed in seeds]
    # a task alone on its day is always feasible: the day generator never drops it
    assert all(len(day.tasks) == 1 for _, day in days)
    return days


def _mixed_days(families: list[str], tasks_per_day: tuple[int, int], n: int,
                label: str) -> list[tuple[Scenario, Day, int]]:
    """Days of several tasks, with how many tasks the day generator had to drop as infeasible."""
    spec = SuiteSpec(name=label, families=families, tasks_per_day=tasks_per_day, scenarios=n)
    out = []
    for i in range(n):
        seed = derive_seed("tests", label, i)
        company = generate_company(make_rng(seed, "company"))
        day, meta = generate_day(company, spec, seed, 0)
        out.append((Scenario(scenario_id=f"{label}-{i}", seed=seed, company=company, days=[day]), day,
                    len(meta) - len(day.tasks)))
    return out


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_oracle_solves_every_instance_on_time(variant: str, difficulty: str) -> None:
    for day, result in _run_many("oracle", _single_days(variant, difficulty, range(ORACLE_SEEDS))):
        task = result.score.tasks[0]
        assert result.status == "ok" and task.score == 1.0 and task.success and task.on_time, \
            describe_episode(result, day)
        # the oracle asks before it books: nothing it delivers is unsupported
        assert result.score.metrics.unsupported_rate == 0.0, describe_episode(result, day)
        assert task.clues_observed == task.clues_required


@pytest.mark.parametrize("variant", VARIANTS)
def test_noop_scores_zero_and_guessing_is_caught(variant: str) -> None:
    days = [d for diff in DIFFICULTIES for d in _single_days(variant, diff, range(15))]
    for day, result in _run_many("noop", days):
        assert result.score.tasks[0].score == 0.0, describe_episode(result, day)
    guessed = _run_many("guess", days)
    for day, result in guessed:
        task = result.score.tasks[0]
        assert task.score is not None and task.score < 1.0, describe_episode(result, day)
        if task.submitted_at is not None:
            assert (result.score.metrics.unsupported_rate or 0.0) > 0.0, describe_episode(result, day)
    assert sum(r.score.tasks[0].submitted_at is not None for _, r in guessed) == len(days)


def test_heuristic_baseline_runs_and_is_imperfect() -> None:
    days = [d for v in VARIANTS for diff in DIFFICULTIES for d in _single_days(v, diff, range(6))]
    results = _run_many("heuristic", days)
    assert all(r.status == "ok" and r.score.tasks[0].error is None for _, r in results)
    scores = [r.score.tasks[0].score or 0.0 for _, r in results]
    assert 0.0 < sum(scores) / len(scores) < 1.0


def test_instances_are_deterministic() -> None:
    for variant in VARIANTS:
        for difficulty in DIFFICULTIES:
            for seed in range(3):
                a = single_task_day((FAMILY, variant, difficulty), seed, "det")[1].model_dump_json()
                b = single_task_day((FAMILY, variant, difficulty), seed, "det")[1].model_dump_json()
                assert a == b


def test_days_are_identical_in_another_process_with_another_hash_seed() -> None:
    # the family keeps day-wide state in a set (used_paths): its iteration order must never leak into data
    code = (
        "import hashlib, sys; sys.path.insert(0, 'tests'); "
        "from test_family_meeting_booking import _mixed_days; "
        "days = _mixed_days(['meeting_booking'], (3, 5), 6, 'det-proc'); "
        "print(hashlib.sha256(''.join(d.model_dump_json() for _, d, _ in days).encode()).hexdigest())"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digests = set()
    for hash_seed in ("1", "987"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                             check=True)
        digests.add(out.stdout.strip())
    local = _mixed_days(["meeting_booking"], (3, 5), 6, "det-proc")
    digests.add(hashlib.sha256("".join(d.model_dump_json() for _, d, _ in local).encode()).hexdigest())
    assert len(digests) == 1


def test_oracle_solves_mixed_days() -> None:
    days = _mixed_days(["transaction_review", FAMILY], (2, 6), 100, "mixed")
    booking = sum(t.family == FAMILY for _, d, _ in days for t in d.tasks)
    dropped = sum(n for _, _, n in days)
    assert booking >= 100 and dropped <= 0.03 * (booking + dropped)
    for day, result in _run_many("oracle", [(s, d) for s, d, _ in days]):
        assert result.status == "ok", describe_episode(result, day)
        assert all(t.score == 1.0 and t.success for t in result.score.tasks), describe_episode(result, day)
        assert result.score.metrics.meetings_missed == 0 and result.score.metrics.unsupported_rate == 0.0


def test_booking_tasks_on_one_day_keep_apart() -> None:
    """Several booking tasks on one day: topics and times differ, so every reply answers the right task."""
    days = _mixed_days([FAMILY], (3, 5), 40, "only-booking")
    for _, day, _ in days:
        topics = [t.solution[-2].arguments["title"] for t in day.tasks]  # type: ignore[index]
        assert len(set(topics)) == len(topics)
        # nobody is expected at two of the day's meetings at once
        for i, a in enumerate(day.tasks):
            for b in day.tasks[i + 1:]:
                a0, b0 = int(a.answers["start"]), int(b.answers["start"])
                if a0 < b0 + int(b.answers["duration"]) and b0 < a0 + int(a.answers["duration"]):
                    assert not set(a.answers["invited"]) & set(b.answers["invited"])
    for day, result in _run_many("oracle", [(s, d) for s, d, _ in days]):
        assert all(t.score == 1.0 and t.success for t in result.score.tasks), describe_episode(result, day)
        assert result.score.metrics.unsupported_rate == 0.0, describe_episode(result, day)


@pytest.mark.parametrize("variant", VARIANTS)
def test_instances_are_well_formed(variant: str) -> None:
    for difficulty in DIFFICULTIES:
        for seed in range(40):
            _, day = single_task_day((FAMILY, variant, difficulty), seed, "form")
            task = day.tasks[0]
            start = int(task.answers["start"])
            # the meeting comes after the work, and the booking is due before the meeting
            assert task.arrival + task.effort_minutes < task.deadline < start
            assert task.latest_deadline == start - 5
            if variant == "find_slot":
                assert fmt(start) not in task.objective  # the answer is found, not given
                assert start % 15 == 0
            else:
                assert task.answers["uninvited"] and task.answers["invited"]
            if difficulty == "hard":
                assert any(c.hops == 2 for c in task.clues)
            # at least one room fits the attendees at the meeting time, and the oracle books one
            book = next(c for c in task.solution if c.name == "book_meeting").arguments
            assert isinstance(book, dict)
            busy = {m.room for m in [*day.meetings, *task.meetings]
                    if m.start < start + int(task.answers["duration"]) and start < m.end}
            assert book["room"] not in busy


def test_earliest_slot() -> None:
    from firstday.tasks.library.meeting_booking import earliest_slot

    assert earliest_slot([], 600, 720, 30) == 600
    assert earliest_slot([(600, 615)], 600, 720, 30) == 615
    assert earliest_slot([(600, 615), (630, 660)], 600, 720, 30) == 660
    assert earliest_slot([(590, 700)], 600, 720, 30) is None


def _record_with(*meetings: Meeting, answer: object) -> DayRecord:
    record = DayRecord()
    for m in meetings:
        record.meetings[m.meeting_id] = m
    record.submissions.append(Submission(task_id="t1", time=700, answer={"meeting_id": answer}))
    return record


def _booking(mid: str, title: str, created: int, cancelled: int | None = None, mine: bool = True) -> Meeting:
    return Meeting(meeting_id=mid, title=title, start=800, end=830, room="Iris", organizer="me", attendees=[],
                   created_at=created, cancelled_at=cancelled, booked_by_trainee=mine)


def test_meeting_check_accepts_the_id_or_the_exact_title() -> None:
    exists = MeetingCheck(aspect="exists")
    first, second = _booking("b1", "Budget review", 650, cancelled=660), _booking("b2", "Budget review", 670)
    for answer in ("b2", "Budget review", " budget  REVIEW "):
        out = exists.evaluate(_record_with(first, second, answer=answer), "t1", {}, 720)
        assert out.passed and out.attempted_at == 670
    # a cancelled booking, someone else's meeting, or a title booked only after the deadline do not count
    assert not exists.evaluate(_record_with(first, answer="Budget review"), "t1", {}, 720).passed
    other = _booking("m9", "Team sync", 600, mine=False)
    assert not exists.evaluate(_record_with(other, answer="Team sync"), "t1", {}, 720).passed
    assert not exists.evaluate(_record_with(_booking("b1", "Late", 750), answer="Late"), "t1", {}, 720).passed


def test_family_is_registered() -> None:
    fam = get_family(FAMILY)
    assert fam.variants == VARIANTS and fam.knobs
