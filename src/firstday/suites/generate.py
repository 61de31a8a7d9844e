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
    Schedule,
    Step,
    best_schedule,
    effort_of,
    plan_steps,
    respond_by,
    simulate_oracle,
)
from firstday.suites.spec import Day, Scenario, SuiteSpec
from firstday.tasks.family import Family, GenContext, dependent_variants, get_family
from firstday.tasks.model import DIFFICULTIES, Difficulty, TaskInstance
from firstday.timefmt import fmt
from firstday.world.assets import PRIORITY_WEIGHT, FollowUp, MeetingAsset, Priority
from firstday.world.company import Company, generate_company

SLACK: dict[str, int] = {"urgent": 30, "normal": 90, "low": 150}
MetaTask = tuple[str, str, Difficulty]
MAX_TASKS_BY_LOAD = 60  # a day filled to a load target stops here whatever the efforts


def _round5(x: int) -> int:
    return -(-x // 5) * 5


def _choose_meta_tasks(rng: random.Random, spec: SuiteSpec, fams: list[Family], n: int) -> list[MetaTask]:
    diffs = [d for d in DIFFICULTIES if spec.difficulty.get(d, 0) > 0]
    weights = [spec.difficulty[d] for d in diffs]
    chosen = rng.sample(fams, n) if n <= len(fams) else [rng.choice(fams) for _ in range(n)]
    return [(f.name, rng.choice(f.variants), rng.choices(diffs, weights)[0]) for f in chosen]


def _add_dependents(rng: random.Random, spec: SuiteSpec, drawn: list[MetaTask]) -> list[MetaTask]:
    """``drawn`` with, after each meta-task of a family that has dependent variants, with probability
    ``spec.dependencies``, a dependent one of the same family and difficulty (a task building on its result)."""
    out: list[MetaTask] = []
    for mt in drawn:
        out.append(mt)
        dependents = dependent_variants(get_family(mt[0]))
        if dependents and mt[1] not in dependents and rng.random() < spec.dependencies:
            out.append((mt[0], rng.choice(dependents), mt[2]))
    return out


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
    # dependent tasks are drawn from a stream of their own, so the rest of the day's draws do not shift with them
    dependency_rng = make_rng(scenario_seed, "day", day_index, "dependencies")
    if meta is None and target is None:
        n = rng.randint(*spec.tasks_per_day)
        meta = _add_dependents(dependency_rng, spec, _choose_meta_tasks(rng, spec, fams, n))

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

    step_cache: dict[str, list[Step]] = {}  # each task's plan steps, for the many simulations of the day

    def steps_of(inst: TaskInstance) -> list[Step]:
        if inst.task_id not in step_cache:
            step_cache[inst.task_id] = plan_steps(inst, company)
        return step_cache[inst.task_id]

    used_paths: set[str] = set()
    desk_windows: list[tuple[int, int]] = []
    tasks: list[TaskInstance] = []
    dropped: list[str] = []

    ids = iter(range(1, 10**6))
    built_on: set[str] = set()  # tasks a dependent task already builds on

    def make_one(mt: MetaTask, arrival: int, priority: Priority, builds_on: TaskInstance | None = None,
                 ) -> TaskInstance | None:
        fam_name, variant, difficulty = mt
        fam = get_family(fam_name)
        idx = next(ids)
        task_id = f"t{idx}"
        requester = company.mentor if rng.random() < 0.7 else rng.choice(company.heads()).handle
        ctx = GenContext(
            rng=make_rng(scenario_seed, "day", day_index, "task", idx, fam_name, variant, difficulty),
            company=company, task_id=task_id, variant=variant, difficulty=difficulty, arrival=arrival,
            priority=priority, requester=requester, day_start=day_start, day_end=day_end,
            meetings=meetings, used_paths=used_paths, desk_windows=desk_windows,
            builds_on=builds_on,
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
        if inst.depends_on != ([builds_on.task_id] if builds_on is not None else []):
            raise GenerationError(f"family {fam.name!r} returned a dependent task that names the wrong prerequisite")
        meetings.extend(inst.meetings)
        tasks.append(inst)
        return inst

    def make(mt: MetaTask, arrival: int, priority: Priority) -> list[TaskInstance]:
        """Place ``mt`` (the tasks placed: a dependent task whose family has no earlier task of the day to build
        on comes with one, placed first at the same minute)."""
        fam_name, variant, difficulty = mt
        fam = get_family(fam_name)
        dependents = dependent_variants(fam)
        if variant not in dependents:
            inst = make_one(mt, arrival, priority)
            return [inst] if inst is not None else []
        placed: list[TaskInstance] = []
        builds_on = next((t for t in reversed(tasks) if t.family == fam_name and t.variant not in dependents
                          and t.task_id not in built_on), None)
        if builds_on is None:  # construct the pair: the earlier task first
            variant_rng = make_rng(scenario_seed, "day", day_index, "prerequisite", len(tasks), fam_name)
            builds_on = make_one((fam_name, variant_rng.choice(fam.variants), difficulty), arrival, priority)
            if builds_on is None:
                return []
            placed.append(builds_on)
        built_on.add(builds_on.task_id)
        inst = make_one(mt, max(arrival, builds_on.arrival), priority, builds_on)
        return placed + ([inst] if inst is not None else [])

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
        for i in range(1, n):  # a dependent task arrives no earlier than the task before it, which it builds on
            if meta[i][1] in dependent_variants(get_family(meta[i][0])):
                arrivals[i] = max(arrivals[i], arrivals[i - 1])
        order = sorted(range(n), key=lambda i: (arrivals[i], i))
        for i in order:
            make(meta[i], arrivals[i], priorities[i])
    else:
        meta = _fill_to_load(rng, dependency_rng, spec, fams, meta, target, make, day_start, day_end,
                             lambda inst: effort_of(inst, company, steps_of(inst)))

    # deadlines: generous by priority, then extended until the oracle's policy meets every one -- unless the
    # day is meant to hold more than fits (load above 1): then they stay, and the best schedule is computed
    overloaded = target is not None and target > 1
    cap = {t.task_id: min(t.latest_deadline or day_end - 15, day_end - 15) for t in tasks}
    for t in tasks:
        slack = SLACK[t.priority] * (2 if overloaded else 1)
        t.deadline = max(min(_round5(t.arrival + t.effort_minutes + slack), cap[t.task_id]), t.arrival + 5)
    deadline_of = {t.task_id: t.deadline for t in tasks}
    for t in tasks:  # a task building on another is due after it, with time for its own work (placed after it)
        if t.depends_on:
            earliest = max(deadline_of[d] for d in t.depends_on) + t.effort_minutes
            t.deadline = deadline_of[t.task_id] = max(t.deadline, min(_round5(earliest), cap[t.task_id]))
    def required_meetings() -> list[MeetingAsset]:  # the kept tasks' and the day's (a dropped task's go too)
        return [m for m in [*(m for m in meetings if m.meeting_id == "m1"), *(m for t in tasks for m in t.meetings)]
                if m.trainee_required]

    if not overloaded:
        for attempt in range(20):
            finish = simulate_oracle(tasks, required_meetings(), company, day_start,
                                     {t.task_id: steps_of(t) for t in tasks})
            late = [t for t in tasks if finish[t.task_id] + DEADLINE_MARGIN > t.deadline]
            if not late:
                # a task with an earlier window to act in (a status_watch alert) is worked before the work due
                # by the window's end: the tasks due then that kept it waiting are given until after it
                rushed = [t for t in tasks if respond_by(t) < t.deadline
                          and finish[t.task_id] + DEADLINE_MARGIN > respond_by(t)]
                moved = False
                for t in rushed:
                    for o in tasks:
                        new = min(_round5(respond_by(t) + 5), cap[o.task_id])
                        if (o is not t and o.arrival <= finish[t.task_id] and t.arrival < finish[o.task_id]
                                and o.deadline <= respond_by(t) and new > o.deadline):
                            o.deadline, moved = new, True
                if not moved or attempt >= 10:  # (a window missed after that stays missed: never fails)
                    break
                continue
            for t in late:
                t.deadline = min(_round5(finish[t.task_id] + 15), cap[t.task_id])
            if all(finish[t.task_id] + DEADLINE_MARGIN > cap[t.task_id] for t in late):
                # cannot be made feasible: drop the infeasible tasks (deterministically), and say so
                drop = {t.task_id for t in late}
                dropped += [f"{t.task_id} {t.meta_task} (cannot be finished by the end of the day)" for t in late]
                for t in tasks:  # in order of placement: a task building on a dropped one goes with it
                    if t.task_id not in drop and drop.intersection(t.depends_on):
                        drop.add(t.task_id)
                        dropped.append(f"{t.task_id} {t.meta_task} (builds on a dropped task)")
                tasks = [t for t in tasks if t.task_id not in drop]
        else:
            raise GenerationError("could not schedule the day's deadlines")
    required = required_meetings()
    if overloaded:
        best = best_schedule(tasks, required, company, day_start, {t.task_id: steps_of(t) for t in tasks})
    else:  # the deadlines above were set so that the oracle's policy meets every one: everything is done
        total = sum(PRIORITY_WEIGHT[t.priority] for t in tasks)
        best = Schedule(done=[t.task_id for t in tasks], weight=total, total=total, proven=True)

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
              dropped=dropped,
              load=round(sum(effort_of(t, company, steps_of(t)) for t in tasks) / (day_end - day_start), 4),
              best_score=best.score, best_proven=best.proven,
              skipped=[t.task_id for t in tasks if t.task_id not in best.done])
    return day, meta


def _fill_to_load(rng: random.Random, dependency_rng: random.Random, spec: SuiteSpec, fams: list[Family],
                  meta: list[MetaTask] | None, target: float,
                  make: Callable[[MetaTask, int, Priority], list[TaskInstance]],
                  day_start: int, day_end: int, effort_of: Callable[[TaskInstance], int]) -> list[MetaTask]:
    """Draw tasks one at a time until their efforts (``effort_of``: true minutes, as the load counts them) add
    up to ``target`` working days (or ``meta``'s tasks,
    when a day repeats an earlier day's mix). Each task arrives at a random point of the work that came
    before it, so the work is there when the trainee could be free for it: no idle gaps, and the day's
    effort fits only if nothing is wasted. The mid-day interruption is the first task arriving from 12:00
    (made urgent), or a last task at 12:00-14:00. A task that builds on an earlier one (``_add_dependents``)
    is the next draw after it."""
    budget = target * (day_end - day_start)
    drawn: list[MetaTask] = []
    queued: list[MetaTask] = []  # a dependent task waiting to be the next draw
    effort = 0
    arrival = day_start
    interrupted = not spec.interruption
    for idx in range(1, MAX_TASKS_BY_LOAD + 1):
        if meta is not None:
            if idx > len(meta):
                break
            mt = meta[idx - 1]
        elif queued:
            mt = queued.pop(0)
        else:
            if effort >= budget:
                break
            mt, *queued = _add_dependents(dependency_rng, spec, _choose_meta_tasks(rng, spec, fams, 1))
        drawn.append(mt)
        priority: Priority = rng.choices(("low", "normal", "urgent"), (0.3, 0.55, 0.15))[0]
        if idx > 1:
            arrival = max(arrival, _round5(day_start + int(rng.uniform(0.3, 0.9) * effort)))
        if not interrupted and arrival >= 720:
            arrival, priority, interrupted = min(arrival, 840), "urgent", True
        last = (meta is not None and idx == len(meta)) or (meta is None and effort >= budget * 0.9 and not queued)
        if not interrupted and last and idx > 1:
            arrival, priority, interrupted = max(arrival, _round5(rng.randint(720, 840))), "urgent", True
        arrival = min(arrival, day_end - 60)
        effort += sum(effort_of(inst) for inst in make(mt, arrival, priority))
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
