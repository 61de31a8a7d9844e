"""Generation of days, scenarios and suites from a spec and a seed.

The day generator places tasks across the day (not all at 09:00), gives them priorities, adds a team
meeting, an urgent mid-day interruption and follow-up messages, and sets deadlines so that the oracle,
following its own policy, finishes every task on time (checked by simulating that policy on the
instances' plans; the invariant tests then run the real oracle).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from firstday.errors import DayFullError, GenerationError
from firstday.seeding import derive_seed, make_rng
from firstday.suites.spec import Day, Scenario, SuiteSpec
from firstday.tasks.family import Family, GenContext, get_family, step_minutes
from firstday.tasks.model import DIFFICULTIES, Difficulty, TaskInstance
from firstday.timefmt import fmt, parse
from firstday.world.assets import FollowUp, MeetingAsset, Priority
from firstday.world.company import Company, generate_company
from firstday.world.tools import ToolCall

SLACK: dict[str, int] = {"urgent": 30, "normal": 90, "low": 150}
MEETING_JOIN_WINDOW = 6  # the oracle leaves its task work this many minutes before a required meeting
MetaTask = tuple[str, str, Difficulty]


def oracle_priority_key(priority: str, deadline: int) -> tuple[int, int]:
    """The oracle's ordering: urgent work first, then earliest deadline (shared with the simulator)."""
    return (0 if priority == "urgent" else 1, deadline)


def attend_target(call: ToolCall) -> str | None:
    """The meeting id if ``call`` attends a meeting (the oracle attends required meetings by policy)."""
    if call.name != "attend_meeting" or not isinstance(call.arguments, dict):
        return None
    mid = call.arguments.get("meeting_id")
    return mid if isinstance(mid, str) else None


def wait_target(call: ToolCall) -> int | None:
    """The clock time if ``call`` is a plan step ``wait(until='HH:MM')``: the task cannot go on before then
    (e.g. a dashboard refreshes at that time). The oracle works on other tasks meanwhile, as a person would."""
    if call.name != "wait" or not isinstance(call.arguments, dict):
        return None
    until = call.arguments.get("until")
    if not isinstance(until, str):
        return None
    try:
        return parse(until)
    except ValueError:
        return None


def _round5(x: int) -> int:
    return -(-x // 5) * 5


def _step_minutes(task: TaskInstance, company: Company) -> list[int]:
    return [max(1, m) for m in step_minutes(task.solution, company)]


def simulate_oracle(tasks: Sequence[TaskInstance], meetings: Sequence[MeetingAsset], company: Company,
                    day_start: int) -> dict[str, int]:
    """Finish time of each task when worked step by step with the oracle's policy."""
    steps = {t.task_id: _step_minutes(t, company) for t in tasks}
    plans = {t.task_id: t.solution for t in tasks}
    pos = dict.fromkeys(steps, 0)
    finish: dict[str, int] = {}
    pending_meetings = sorted((m.start, m.end, m.meeting_id) for m in meetings if m.trainee_required)
    attended: set[str] = set()
    now = day_start

    def blocked(task_id: str) -> bool:
        step = plans[task_id][pos[task_id]]
        mid = attend_target(step)
        until = wait_target(step)
        return (mid is not None and mid not in attended) or (until is not None and now < until)

    for _ in range(100_000):
        if pending_meetings and pending_meetings[0][0] - now <= MEETING_JOIN_WINDOW:
            _start, end, mid = pending_meetings.pop(0)
            now = max(now, end)
            attended.add(mid)
            continue
        ready = [t for t in tasks if t.arrival <= now and t.task_id not in finish and not blocked(t.task_id)]
        if not ready:
            future = [t.arrival for t in tasks if t.task_id not in finish and t.arrival > now]
            future += [u for t in tasks if t.task_id not in finish and t.arrival <= now
                       and (u := wait_target(plans[t.task_id][pos[t.task_id]])) is not None and u > now]
            if pending_meetings:
                future.append(pending_meetings[0][0] - MEETING_JOIN_WINDOW)
            if not future:
                if len(finish) < len(tasks):
                    raise GenerationError("a task waits for a meeting that never takes place")
                return finish
            now = max(now + 1, min(future))
            continue
        t = min(ready, key=lambda x: oracle_priority_key(x.priority, x.deadline))
        # a step that attends a required meeting was done by the meeting policy, and a wait-until step whose
        # time has come is skipped: neither costs anything more
        step = plans[t.task_id][pos[t.task_id]]
        now += 0 if attend_target(step) or wait_target(step) is not None else steps[t.task_id][pos[t.task_id]]
        pos[t.task_id] += 1
        if pos[t.task_id] >= len(steps[t.task_id]):
            finish[t.task_id] = now
    raise GenerationError("oracle simulation did not terminate")


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
    if meta is None:
        n = rng.randint(*spec.tasks_per_day)
        meta = _choose_meta_tasks(rng, spec, fams, n)
    n = len(meta)
    day_start, day_end = 540, 1080

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

    # arrivals and priorities
    arrivals = [day_start, *sorted(_round5(rng.randint(day_start + 5, 870)) for _ in range(n - 1))]
    priorities: list[Priority] = [rng.choices(("low", "normal", "urgent"), (0.3, 0.55, 0.15))[0] for _ in range(n)]
    if spec.interruption and n >= 2:
        k = rng.randrange(1, n)
        arrivals[k] = _round5(rng.randint(720, 840))
        priorities[k] = "urgent"
    order = sorted(range(n), key=lambda i: (arrivals[i], i))

    used_paths: set[str] = set()
    tasks: list[TaskInstance] = []
    dropped: list[str] = []
    for idx, i in enumerate(order, start=1):
        fam_name, variant, difficulty = meta[i]
        fam = get_family(fam_name)
        task_id = f"t{idx}"
        requester = company.mentor if rng.random() < 0.7 else rng.choice(company.heads()).handle
        ctx = GenContext(
            rng=make_rng(scenario_seed, "day", day_index, "task", idx, fam_name, variant, difficulty),
            company=company, task_id=task_id, variant=variant, difficulty=difficulty, arrival=arrivals[i],
            priority=priorities[i], requester=requester, day_start=day_start, day_end=day_end,
            meetings=meetings, used_paths=used_paths,
        )
        try:
            inst = fam.generate(ctx)
        except DayFullError as exc:  # the day has no room left for it: left out, and said so
            dropped.append(f"{task_id} {fam_name}/{variant}/{difficulty} ({exc})")
            continue
        except Exception as exc:  # a generator defect: name where it happened so it can be reproduced
            raise GenerationError(f"day {day_index}, task {task_id} ({fam_name}/{variant}/{difficulty}): "
                                  f"{type(exc).__name__}: {exc}") from exc
        if inst.task_id != task_id or inst.family != fam.name:
            raise GenerationError(f"family {fam.name!r} returned an instance with the wrong id or family name")
        meetings.extend(inst.meetings)
        tasks.append(inst)

    # deadlines: generous by priority, then extended until the oracle's policy meets every one
    cap = {t.task_id: min(t.latest_deadline or day_end - 15, day_end - 15) for t in tasks}
    for t in tasks:
        t.deadline = min(_round5(t.arrival + t.effort_minutes + SLACK[t.priority]), cap[t.task_id])
    for _ in range(20):
        finish = simulate_oracle(tasks, [m for m in meetings if m.trainee_required], company, day_start)
        late = [t for t in tasks if finish[t.task_id] + 5 > t.deadline]
        if not late:
            break
        for t in late:
            t.deadline = min(_round5(finish[t.task_id] + 15), cap[t.task_id])
        if all(finish[t.task_id] + 5 > cap[t.task_id] for t in late):
            # cannot be made feasible: drop the infeasible tasks (deterministically)
            drop = {t.task_id for t in late}
            dropped += [f"{t.task_id} {t.meta_task}" for t in late]
            tasks = [t for t in tasks if t.task_id not in drop]
    else:
        raise GenerationError("could not schedule the day's deadlines")

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
              dropped=dropped)
    return day, meta


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
