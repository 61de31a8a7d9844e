"""Generation of days, scenarios and suites from a spec and a seed.

The day generator places tasks across the day (not all at 09:00), gives them priorities, adds a team
meeting, an urgent mid-day interruption and follow-up messages, and sets deadlines so that the oracle,
following its own policy, finishes every task on time (checked by simulating that policy on the
instances' plans; the invariant tests then run the real oracle).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from firstday.errors import DayFullError, GenerationError
from firstday.seeding import derive_seed, make_rng
from firstday.suites.schedule import (
    DEADLINE_MARGIN,
    best_schedule,
    simulate_oracle,
)
from firstday.suites.spec import Day, Scenario, SuiteSpec
from firstday.tasks.family import Family, GenContext, get_family
from firstday.tasks.model import DIFFICULTIES, Difficulty, TaskInstance
from firstday.timefmt import fmt
from firstday.world.assets import FollowUp, MeetingAsset, Priority
from firstday.world.company import Company, generate_company

SLACK: dict[str, int] = {"urgent": 30, "normal": 90, "low": 150}
MetaTask = tuple[str, str, Difficulty]
MAX_TASKS_BY_LOAD = 40  # a day filled to a load target stops here whatever the efforts


def _round5(x: int) -> int:
    return -(-x // 5) * 5


def _choose_meta_tasks(rng: random.Random, spec: SuiteSpec, fams: list[Family], n: int) -> list[MetaTask]:
    diffs = [d for d in DIFFICULTIES if spec.difficulty.get(d, 0) > 0]
    weights = [spec.difficulty[d] for d in diffs]
    chosen = rng.sample(fams, n) if n <= len(fams) else [rng.choice(fams) for _ in range(n)]
    return [(f.name, rng.choice(f.variants), rng.choices(diffs, weights)[0]) for f in chosen]


def generate_day(company: Company, spec: SuiteSpec, scenario_seed: int, day_index: int,
                 meta: list[MetaTask] | None = None) -> tuple[Day, list[MetaTask]]:
    rng = make_rng(scenario_seed, "day", day_index)
    fams = [get_family(n) for n in spec.families] if spec.families else None
    if fams is None:
        from firstday.tasks.family import families

        fams = list(families().values())
    if not fams:
        raise GenerationError("no task families are registered")
    day_start, day_end = 540, 1080
    target = rng.uniform(*spec.load) if spec.load is not None else None
    if meta is None and target is None:
        n = rng.randint(*spec.tasks_per_day)
        meta = _choose_meta_tasks(rng, spec, fams, n)

    # the trainee's team meeting
    meetings: list[MeetingAsset] = []
    if spec.meetings:
        team = company.department(company.trainee.department)
        start = rng.choice((600, 630, 660, 840, 870, 900))
        room = rng.choice([r for r in company.rooms if r.capacity >= 4])
        meetings.append(MeetingAsset(
            meeting_id="m1", title=f"{team.name} team sync", start=start, end=start + 30, room=room.name,
            organizer=team.head, attendees=team.members[:6], trainee_required=True,
            notes=f"The team went through this week's priorities; {company.employee(team.head).first_name} "
                  "asked everyone to keep deadlines visible.",
        ))

    used_paths: set[str] = set()
    tasks: list[TaskInstance] = []
    dropped: list[str] = []

    def make(idx: int, mt: MetaTask, arrival: int, priority: Priority) -> TaskInstance | None:
        fam_name, variant, difficulty = mt
        fam = get_family(fam_name)
        task_id = f"t{idx}"
        requester = company.mentor if rng.random() < 0.7 else rng.choice(company.heads()).handle
        ctx = GenContext(
            rng=make_rng(scenario_seed, "day", day_index, "task", idx, fam_name, variant, difficulty),
            company=company, task_id=task_id, variant=variant, difficulty=difficulty, arrival=arrival,
            priority=priority, requester=requester, day_start=day_start, day_end=day_end,
            meetings=meetings, used_paths=used_paths,
        )
        try:
            inst = fam.generate(ctx)
        except DayFullError as exc:  # the day has no room left for it: left out, and said so
            dropped.append(f"{task_id} {fam_name}/{variant}/{difficulty} ({exc})")
            return None
        except Exception as exc:  # a generator defect: name where it happened so it can be reproduced
            raise GenerationError(f"day {day_index}, task {task_id} ({fam_name}/{variant}/{difficulty}): "
                                  f"{type(exc).__name__}: {exc}") from exc
        if inst.task_id != task_id or inst.family != fam.name:
            raise GenerationError(f"family {fam.name!r} returned an instance with the wrong id or family name")
        meetings.extend(inst.meetings)
        return inst

    if target is None:
        assert meta is not None
        n = len(meta)
        # arrivals and priorities
        arrivals = [day_start, *sorted(_round5(rng.randint(day_start + 5, 870)) for _ in range(n - 1))]
        priorities: list[Priority] = [rng.choices(("low", "normal", "urgent"), (0.3, 0.55, 0.15))[0]
                                      for _ in range(n)]
        if spec.interruption and n >= 2:
            k = rng.randrange(1, n)
            arrivals[k] = _round5(rng.randint(720, 840))
            priorities[k] = "urgent"
        order = sorted(range(n), key=lambda i: (arrivals[i], i))
        for idx, i in enumerate(order, start=1):
            inst = make(idx, meta[i], arrivals[i], priorities[i])
            if inst is not None:
                tasks.append(inst)
    else:
        meta = _fill_to_load(rng, spec, fams, meta, target, make, tasks, day_start, day_end)

    # deadlines: generous by priority, then extended until the oracle's policy meets every one -- unless the
    # day is meant to hold more than fits (load above 1): then they stay, and the best schedule is computed
    overloaded = target is not None and target > 1
    cap = {t.task_id: min(t.latest_deadline or day_end - 15, day_end - 15) for t in tasks}
    for t in tasks:
        slack = SLACK[t.priority] * (2 if overloaded else 1)
        t.deadline = max(min(_round5(t.arrival + t.effort_minutes + slack), cap[t.task_id]), t.arrival + 5)
    required = [m for m in meetings if m.trainee_required]
    if not overloaded:
        for _ in range(20):
            finish = simulate_oracle(tasks, required, company, day_start)
            late = [t for t in tasks if finish[t.task_id] + DEADLINE_MARGIN > t.deadline]
            if not late:
                break
            for t in late:
                t.deadline = min(_round5(finish[t.task_id] + 15), cap[t.task_id])
            if all(finish[t.task_id] + DEADLINE_MARGIN > cap[t.task_id] for t in late):
                # cannot be made feasible: drop the infeasible tasks (deterministically), and say so
                drop = {t.task_id for t in late}
                dropped += [f"{t.task_id} {t.meta_task} (cannot be finished by the end of the day)" for t in late]
                tasks = [t for t in tasks if t.task_id not in drop]
        else:
            raise GenerationError("could not schedule the day's deadlines")
    best = best_schedule(tasks, required, company, day_start)
    if not overloaded and best.weight != best.total:
        raise GenerationError("the oracle's schedule does not finish every task of a day that fits")

    follow_ups = []
    if spec.follow_ups:
        for t in tasks:
            if t.priority != "low":
                when = t.arrival + int((t.deadline - t.arrival) * 0.6)
                follow_ups.append(FollowUp(
                    task_id=t.task_id, time=when, sender=t.requester,
                    text=f"How is {t.task_id} going? Remember it is due at {fmt(t.deadline)}.",
                ))
    day = Day(day_index=day_index, day_start=day_start, day_end=day_end, tasks=tasks,
              meetings=[m for m in meetings if m.meeting_id == "m1"], follow_ups=follow_ups,
              dropped=dropped, load=round(sum(t.effort_minutes for t in tasks) / (day_end - day_start), 4),
              best_score=best.score, best_proven=best.proven,
              skipped=[t.task_id for t in tasks if t.task_id not in best.done])
    return day, meta


def _fill_to_load(rng: random.Random, spec: SuiteSpec, fams: list[Family], meta: list[MetaTask] | None,
                  target: float, make: Callable[[int, MetaTask, int, Priority], TaskInstance | None],
                  tasks: list[TaskInstance], day_start: int, day_end: int) -> list[MetaTask]:
    """Draw tasks one at a time until their efforts add up to ``target`` working days (or ``meta``'s tasks,
    when a day repeats an earlier day's mix). Each task arrives at a random point of the work that came
    before it, so the work is there when the trainee could be free for it: no idle gaps, and the day's
    effort fits only if nothing is wasted. The mid-day interruption is the first task arriving from 12:00
    (made urgent), or a last task at 12:00-14:00."""
    budget = target * (day_end - day_start)
    drawn: list[MetaTask] = []
    effort = 0
    arrival = day_start
    interrupted = not spec.interruption
    for idx in range(1, MAX_TASKS_BY_LOAD + 1):
        if meta is not None:
            if idx > len(meta):
                break
            mt = meta[idx - 1]
        else:
            if effort >= budget:
                break
            mt = _choose_meta_tasks(rng, spec, fams, 1)[0]
        drawn.append(mt)
        priority: Priority = rng.choices(("low", "normal", "urgent"), (0.3, 0.55, 0.15))[0]
        if idx > 1:
            arrival = max(arrival, _round5(day_start + int(rng.uniform(0.3, 0.9) * effort)))
        if not interrupted and arrival >= 720:
            arrival, priority, interrupted = min(arrival, 840), "urgent", True
        last = (meta is not None and idx == len(meta)) or (meta is None and effort >= budget * 0.9)
        if not interrupted and last and idx > 1:
            arrival, priority, interrupted = max(arrival, _round5(rng.randint(720, 840))), "urgent", True
        arrival = min(arrival, day_end - 60)
        inst = make(idx, mt, arrival, priority)
        if inst is not None:
            tasks.append(inst)
            effort += inst.effort_minutes
    return drawn


def _shift_mix(rng: random.Random, spec: SuiteSpec, yesterday: list[MetaTask], seen: list[MetaTask]) -> list[MetaTask]:
    """A mutable day's mix: each of yesterday's meta-tasks stays with probability 1/2; a replaced one is,
    half the time, a meta-task of an earlier day that was absent yesterday (it comes back after a gap, so
    forgetting can be measured), otherwise a fresh draw."""
    fams = [get_family(n) for n in spec.families] if spec.families else None
    if fams is None:
        from firstday.tasks.family import families

        fams = list(families().values())
    fresh = _choose_meta_tasks(rng, spec, fams, len(yesterday))
    returning = [m for m in seen if m not in yesterday]
    out: list[MetaTask] = []
    for i, m in enumerate(yesterday):
        if rng.random() < 0.5:
            out.append(m)
        elif returning and rng.random() < 0.5:
            out.append(returning.pop(rng.randrange(len(returning))))
        else:
            out.append(fresh[i])
    return out


def generate_scenario(spec: SuiteSpec, index: int) -> Scenario:
    """Scenario ``index`` of ``spec``: a pure function of (spec, index). A generator defect (which the
    sweeps say does not happen) is raised as a :class:`GenerationError` naming the suite, seed, scenario,
    day, task and meta-task, so it can be reproduced alone."""
    try:
        return _generate_scenario(spec, index)
    except GenerationError as exc:
        raise GenerationError(f"suite {spec.name!r} seed {spec.seed}, scenario s{index:03d}: {exc}") from exc


def _generate_scenario(spec: SuiteSpec, index: int) -> Scenario:
    seed = derive_seed(spec.seed, "scenario", index)
    company = generate_company(make_rng(seed, "company"), *spec.company_size)
    days: list[Day] = []
    meta: list[MetaTask] | None = None
    seen: list[MetaTask] = []  # every meta-task of the earlier days, in order of first appearance
    for d in range(spec.days):
        rng = make_rng(seed, "mix", d)
        if d > 0 and spec.mode == "mutable" and meta is not None:
            meta = _shift_mix(rng, spec, meta, seen)
        day, meta = generate_day(company, spec, seed, d, meta if d > 0 else None)
        seen += [m for m in meta if m not in seen]
        days.append(day)
    return Scenario(scenario_id=f"s{index:03d}", seed=seed, company=company, days=days)


def scenario_hash(scenario: Scenario) -> str:
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


def generate_suite(spec: SuiteSpec) -> list[Scenario]:
    """Every scenario of ``spec``, in memory (for large suites, :func:`firstday.suites.write_suite` saves
    them one at a time instead)."""
    return [generate_scenario(spec, i) for i in range(spec.scenarios)]
