"""Shift scheduling: build next week's on-call roster under a rota policy and people's own availability.

The pool of people (with skills and grades) is in a shared file; the rota policy (shift limits, skill
requirements, rest rule, and for two variants what makes one roster better than another) is held by the
head of Engineering; when each person cannot work is known only to that person. The roster is checked
rule by rule with :class:`~firstday.tasks.checks.RosterCheck` against the constraints stored in the
hidden answer, so ANY valid roster is accepted; the ``preferences`` and ``budget`` variants also ask for
a roster of minimum cost, whose optimum value is computed exactly (min-cost flow) at generation.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, ClassVar

from firstday.errors import GenerationError
from firstday.tasks.checks import RosterCheck, roster_violations
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.tools import ToolCall

VARIANTS = ("cover", "skills", "preferences", "budget")
KEY_WEEK = "shift_scheduling:week:"
KEY_POOL = "shift_scheduling:pool:"  # + handle: in the pool of a scheduling task today
DAYS7 = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SKILLS = ("payments", "database", "networking", "kubernetes")
GRADE_PAY = {"L1": 60, "L2": 90, "L3": 130}
PREMIUM = 1.5  # weekend and late shifts
REASONS = ("I'm at a conference", "I'm on leave", "I have a family commitment", "I'm on a training course",
           "I'm travelling", "I'm covering a release window")


@dataclass(frozen=True)
class Slot:
    sid: str
    day: str
    premium: bool
    skill: str | None = None


def _min_cost_assignment(
    slots: list[Slot], people: list[str], eligible: dict[tuple[str, str], bool], max_shifts: dict[str, int],
    one_per_day: bool, cost: dict[tuple[str, str], float],
) -> tuple[float, dict[str, str]] | None:
    """Exact minimum-cost roster (one person per slot) by successive shortest paths on a small network:
    source -> person (capacity max_shifts) -> person-day (capacity 1 if one_per_day) -> slot -> sink."""
    days = list(dict.fromkeys(s.day for s in slots))
    nodes = ["S", *people, *[f"{p}|{d}" for p in people for d in days], *[s.sid for s in slots], "T"]
    idx = {n: i for i, n in enumerate(nodes)}
    graph: list[list[int]] = [[] for _ in nodes]
    to: list[int] = []
    cap: list[int] = []
    w: list[float] = []

    def edge(a: str, b: str, c: int, cost_: float) -> None:
        for u, v, cc, ww in ((idx[a], idx[b], c, cost_), (idx[b], idx[a], 0, -cost_)):
            graph[u].append(len(to))
            to.append(v)
            cap.append(cc)
            w.append(ww)

    for p in people:
        edge("S", p, max_shifts[p], 0.0)
        for d in days:
            edge(p, f"{p}|{d}", 1 if one_per_day else len(slots), 0.0)
    for s in slots:
        for p in people:
            if eligible[(p, s.sid)]:
                edge(f"{p}|{s.day}", s.sid, 1, cost[(p, s.sid)])
        edge(s.sid, "T", 1, 0.0)
    src, sink, total, flow = idx["S"], idx["T"], 0.0, 0
    inf = math.inf
    n_nodes = len(nodes)
    while True:
        dist = [inf] * n_nodes
        prev = [-1] * n_nodes
        dist[src] = 0.0
        for _ in range(n_nodes):  # Bellman-Ford (residual costs may be negative)
            changed = False
            for u, out in enumerate(graph):  # (the hot loop of the family: locals, one read of dist[u])
                du = dist[u]
                if du == inf:
                    continue
                for e in out:
                    if cap[e] > 0:
                        nd = du + w[e]
                        v = to[e]
                        if nd < dist[v] - 1e-9:
                            dist[v] = nd
                            prev[v] = e
                            changed = True
            if not changed:
                break
        if dist[sink] == inf:
            break
        v = sink
        while v != src:
            e = prev[v]
            cap[e] -= 1
            cap[e ^ 1] += 1
            v = to[e ^ 1]
        total += dist[sink]
        flow += 1
    if flow < len(slots):
        return None
    assignment: dict[str, str] = {}
    for s in slots:
        for e in graph[idx[s.sid]]:
            # the reverse edge of a used person-day -> slot edge has residual capacity
            if cap[e] > 0 and "|" in nodes[to[e]]:
                assignment[s.sid] = nodes[to[e]].split("|")[0]
    return total, assignment


def _slots(level: int) -> list[Slot]:
    if level == 0:
        return [Slot(d, d, False) for d in DAYS7[:5]]
    if level == 1:
        return [Slot(d, d, d in ("Sat", "Sun")) for d in DAYS7]
    return [Slot(f"{d} {part}", d, part == "late") for d in DAYS7[:5] for part in ("early", "late")]


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


@register
class ShiftScheduling:
    name = "shift_scheduling"
    title = "On-call roster"
    description = (
        "Build next week's on-call roster: one person per shift from the pool, within the rota policy "
        "held by the head of Engineering and everyone's own availability."
    )
    domains = ("scheduling", "strategy")
    modalities = ("table", "dialogue", "calendar")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "shifts": "easy 5 (Mon-Fri), medium 7 (whole week, weekend shifts), hard 10 (early and late, Mon-Fri)",
        "pool": "people to ask for their availability: easy 4, medium 5, hard 6",
        "rules": "easy: shift limit; medium: + part-timers take at most one; hard: + skill requirements and "
        "no two shifts on one day (the 'skills' variant has skill requirements at every level)",
        "unavailable": "shifts each person cannot take: easy 1-2, medium 2-3, hard 2-4",
        "objective": "'cover' and 'skills': any valid roster; 'preferences': fewest shifts people would rather "
        "not take; 'budget': cheapest roster by grade allowance with a weekend/late premium",
        "hops": "who holds the policy: easy the head of Engineering, named; medium the head of Engineering; "
        "hard the head refers you to the rota coordinator (two hops)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng, company, tid = ctx.rng, ctx.company, ctx.task_id
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        variant = ctx.variant
        eng = company.department("Engineering")
        head = company.employee(eng.head)
        coordinator = company.employee(rng.choice(eng.members[1:])) if level == 2 else head
        holder = coordinator
        week = rng.randint(20, 50)
        while KEY_WEEK + str(week) in ctx.used_paths:
            week = rng.randint(20, 50)
        ctx.used_paths.add(KEY_WEEK + str(week))

        n_pool = (4, 5, 6)[level]
        heads = {d.head for d in company.departments}
        candidates = [e for e in company.employees if e.handle not in heads and e.handle != holder.handle
                      and e.department != "Executive" and KEY_POOL + e.handle not in ctx.used_paths]
        if len(candidates) < n_pool:  # tiny company or a crowded day: people may be in two pools
            candidates = [e for e in company.employees if e.handle not in heads and e.handle != holder.handle
                          and e.department != "Executive"]
        preferred = [e for e in candidates if e.department in ("Engineering", "IT")]
        rest = [e for e in candidates if e.department not in ("Engineering", "IT")]  # (no model __eq__)
        rng.shuffle(preferred)
        rng.shuffle(rest)
        pool = sorted((preferred + rest)[:n_pool], key=lambda e: e.name)
        for e in pool:
            ctx.used_paths.add(KEY_POOL + e.handle)
        people = [e.handle for e in pool]

        one_per_day = level == 2
        use_skills = variant == "skills" or level == 2
        max_default = 2
        part_timers = rng.sample(people, 1) if level >= 1 else []
        max_shifts = {p: 1 if p in part_timers else max_default for p in people}
        grades = {p: rng.choice(tuple(GRADE_PAY)) for p in people}
        # budget: make the grades differ so the choice matters
        if len(set(grades.values())) == 1:
            grades[people[0]] = "L3" if grades[people[0]] != "L3" else "L1"

        for _attempt in range(200):
            slots = _slots(level)
            if use_skills:
                need = rng.sample(SKILLS[:2], 1 if level < 2 else 2)
                picks = sorted(rng.sample(range(len(slots)), (2, 3, 4)[level]))
                slots = [Slot(s.sid, s.day, s.premium, need[picks.index(i) % len(need)] if i in picks else None)
                         for i, s in enumerate(slots)]
            planted = self._plant(rng, slots, people, max_shifts, one_per_day)
            if planted is None:
                continue
            skills = {p: set(rng.sample(SKILLS, rng.randint(1, 2))) for p in people}
            for s in slots:
                if s.skill:
                    skills[planted[s.sid]].add(s.skill)
            if use_skills and any(all(s.skill in skills[p] for p in people) for s in slots if s.skill):
                # a requirement everyone meets is no rule at all: take the skill from someone not planted on it
                for s in slots:
                    if s.skill and all(s.skill in skills[p] for p in people):
                        planted_on = {planted[x.sid] for x in slots if x.skill == s.skill}
                        free = [p for p in people if p not in planted_on]
                        if free:
                            skills[rng.choice(free)].discard(s.skill)
                if any(all(s.skill in skills[p] for p in people) for s in slots if s.skill):
                    continue
            k_lo, k_hi = ((1, 2), (2, 3), (2, 4))[level]
            unavailable: dict[str, list[str]] = {}
            for p in people:
                free_slots = [s.sid for s in slots if planted[s.sid] != p]
                unavailable[p] = sorted(rng.sample(free_slots, min(len(free_slots), rng.randint(k_lo, k_hi))),
                                        key=[s.sid for s in slots].index)
            disliked: dict[str, list[str]] = {}
            if variant == "preferences":
                for p in people:
                    options = [s.sid for s in slots if s.sid not in unavailable[p]]
                    disliked[p] = sorted(rng.sample(options, min(len(options), rng.randint(1, 2))),
                                         key=[s.sid for s in slots].index)
            cost: dict[tuple[str, str], float] = {}
            for p in people:
                for s in slots:
                    if variant == "preferences":
                        cost[(p, s.sid)] = 1.0 if s.sid in disliked[p] else 0.0
                    elif variant == "budget":
                        cost[(p, s.sid)] = GRADE_PAY[grades[p]] * (PREMIUM if s.premium else 1.0)
                    else:
                        cost[(p, s.sid)] = 0.0
            eligible = {(p, s.sid): s.sid not in unavailable[p] and (not s.skill or s.skill in skills[p])
                        for p in people for s in slots}
            best = _min_cost_assignment(slots, people, eligible, max_shifts, one_per_day, cost)
            if best is None:
                continue
            if variant in ("preferences", "budget"):
                worst = _min_cost_assignment(slots, people, eligible, max_shifts, one_per_day,
                                             {k: -v for k, v in cost.items()})
                if worst is None or -worst[0] <= best[0] + 1e-9:
                    continue  # every valid roster costs the same: nothing to optimise
            break
        else:
            raise GenerationError("shift_scheduling: no instance with a valid roster was found")
        optimum, roster = best

        spec: dict[str, Any] = {
            "slots": [{"id": s.sid, "skill": s.skill} for s in slots],
            "day_of": {s.sid: s.day for s in slots},
            "people": people,
            "unavailable": unavailable,
            "max_shifts": max_shifts,
            "skills": {p: sorted(skills[p]) for p in people} if use_skills else {},
            "one_per_day": one_per_day,
            "cost": ({p: {s.sid: cost[(p, s.sid)] for s in slots} for p in people}
                     if variant in ("preferences", "budget") else None),
            "optimum": optimum if variant in ("preferences", "budget") else None,
        }
        assert not any(v for k, v in roster_violations(roster, spec).items() if k != "total_cost")

        # --- public side -----------------------------------------------------------------------------
        pool_path = ctx.path("/shared/engineering", f"oncall_pool_week{week}", "csv")
        policy_path = ctx.path("/shared/engineering", "oncall_rota_policy", "md")
        rows = ["handle,name,department,grade,skills"]
        rows += [f"{e.handle},{e.name},{e.department},{grades[e.handle]},{' '.join(sorted(skills[e.handle]))}"
                 for e in pool]
        rules = [f"- Nobody takes more than {max_default} on-call shifts in a week."]
        if part_timers:
            names = ", ".join(f"{company.employee(p).name} ({p})" for p in part_timers)
            rules.append(f"- Part-timers take at most 1 shift: {names}.")
        if use_skills:
            for skill in dict.fromkeys(s.skill for s in slots if s.skill):
                needing = [s.sid for s in slots if s.skill == skill]
                rules.append(f"- Release cover: the {', '.join(needing)} shift(s) must be taken by someone with "
                             f"the '{skill}' skill (skills column of the pool list).")
        if one_per_day:
            rules.append("- Rest rule: nobody takes both the early and the late shift of the same day.")
        rules.append("- Availability: ask each person; nobody may be put on a shift they cannot take.")
        if variant == "preferences":
            rules.append("- Preferences: among the rosters that follow every rule, choose one with the fewest "
                         "shifts that people said they would rather not take.")
        if variant == "budget":
            pay = ", ".join(f"{g} {v}" for g, v in GRADE_PAY.items())
            rules.append(f"- Budget: the on-call allowance per shift is by grade ({pay} EUR); weekend and late "
                         f"shifts pay {PREMIUM}x. Among the rosters that follow every rule, choose the cheapest.")
        policy = [f"# On-call rota policy (Engineering), week {week}", "",
                  "Every shift has exactly one person on call, taken from the on-call pool list.", "", *rules]
        files = [
            FileAsset(path=pool_path, content="\n".join(rows) + "\n", media_type="text/csv"),
            FileAsset(path=policy_path, content="\n".join(policy) + "\n", media_type="text/markdown", hidden=True,
                      clue_ids=[f"{tid}-policy"]),
        ]
        ask_policy = f"Could you share the on-call rota policy for week {week}?"
        facts = [Fact(
            fact_id=f"{tid}-policy", holder=holder.handle, topic="on-call rota policy",
            keywords=["rota policy", "on-call policy", "rota", "policy", "on-call rules", f"week {week}"],
            reply=f"Sure, here is the on-call rota policy for week {week}: {policy_path}",
            clue_ids=[f"{tid}-holder"], shares_files=[policy_path],
        )]
        clues = [
            Clue(clue_id=f"{tid}-policy", description="the rota rules", location="file",
                 where=f"{policy_path}, shared by {holder.handle}", hops=2 if level == 2 else 1),
            Clue(clue_id=f"{tid}-holder", description="the policy is shared on request", location="colleague",
                 where=f"ask {holder.handle}"),
        ]
        plan: list[ToolCall] = [ToolCall(name="read_file", arguments={"path": pool_path})]
        if level == 2:
            referral(f"{tid}-referral", head, "head of Engineering", topic="who keeps the rota policy",
                     keywords=["rota policy", "on-call policy", "rota", "policy", "on-call rules"],
                     description="who keeps the rota policy",
                     reply=f"{coordinator.name} ({coordinator.handle}) coordinates the on-call rota and keeps the "
                           "policy; please ask them.",
                     question=ask_policy).add_to(facts, clues, plan)
        plan += [*ask(holder.handle, ask_policy),
                 ToolCall(name="read_file", arguments={"path": policy_path})]
        for p in people:
            reason = rng.choice(REASONS)
            reply = f"For on-call in week {week}: I can't take {_list(unavailable[p])} ({reason}); the rest is fine."
            if disliked.get(p):
                reply += f" If possible I'd rather not take {_list(disliked[p])}."
            facts.append(Fact(
                fact_id=f"{tid}-avail-{p}", holder=p, topic=f"on-call availability week {week}",
                keywords=["on-call", "availability", "available", "shifts", "shift", "rota", "roster",
                          f"week {week}"],
                reply=reply, clue_ids=[f"{tid}-avail-{p}"],
            ))
            clues.append(Clue(clue_id=f"{tid}-avail-{p}", description=f"when {p} cannot be on call",
                              location="colleague", where=f"ask {p}"))
        plan.append(ToolCall(name="send_message", arguments={
            "to": people, "text": f"Hi! I'm drafting the on-call roster for week {week}. Which on-call shifts can't "
                                  "you take that week (and any you'd rather not take)?"}))
        plan += [ToolCall(name="wait", arguments={"for_message_from": p}) for p in people]
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": {"roster": roster}}))

        avail_clues = [f"{tid}-avail-{p}" for p in people]
        hint = "The rules are in the on-call rota policy (Engineering); availability is known only to each person."

        def cp(aspect: str, weight: float, deps: list[str], what: str, bearing: bool = True) -> Checkpoint:
            return Checkpoint(cp_id=aspect.replace("_", "-"), description=what, weight=weight, clue_ids=deps,
                              answer_bearing=bearing, check=RosterCheck(aspect=aspect),
                              feedback=hint)

        checkpoints = [
            cp("coverage", 0.5, [], "every shift has exactly one person from the pool", bearing=False),
            cp("availability", 2.0, avail_clues, "nobody is on a shift they cannot take"),
            cp("max_shifts", 1.0, [f"{tid}-policy"], "nobody exceeds their shift limit"),
        ]
        if use_skills:
            checkpoints.append(cp("skills", 1.0, [f"{tid}-policy"], "release shifts have the required skill"))
        if one_per_day:
            checkpoints.append(cp("one_per_day", 1.0, [f"{tid}-policy"], "nobody takes two shifts on one day"))
        if variant in ("preferences", "budget"):
            checkpoints.append(cp("optimal", 2.0, [f"{tid}-policy", *avail_clues],
                                  "the roster is the best one the policy asks for"))

        where = {0: f"The head of Engineering, {head.name} ({head.handle}), keeps the on-call rota policy.",
                 1: "The head of Engineering can give you the on-call rota policy.",
                 2: "Engineering owns the on-call rota policy."}[level]
        objective = (
            f"Draft the on-call roster for week {week}: one person per shift ({', '.join(s.sid for s in slots)}), "
            f"from the on-call pool in {pool_path}, following the on-call rota policy. {where} Only the people "
            f"in the pool know when they cannot be on call. Submit {{\"roster\": {{\"<shift>\": \"<handle>\", "
            f"...}}}} with every shift."
        )
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers={"roster_spec": spec})

    @staticmethod
    def _plant(rng: random.Random, slots: list[Slot], people: list[str], max_shifts: dict[str, int],
               one_per_day: bool) -> dict[str, str] | None:
        """A random valid roster, the witness that the instance is feasible (unavailability avoids it)."""
        for _ in range(50):
            counts = dict.fromkeys(people, 0)
            days: set[tuple[str, str]] = set()
            out: dict[str, str] = {}
            for s in slots:
                options = [p for p in people if counts[p] < max_shifts[p] and not (one_per_day and (p, s.day) in days)]
                if not options:
                    break
                p = rng.choice(options)
                out[s.sid] = p
                counts[p] += 1
                days.add((p, s.day))
            if len(out) == len(slots):
                return out
        return None

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """A round-robin roster over the pool that respects the policy's limits but not anyone's availability."""
        pool_text = next((t for p, t in view.texts.items() if "oncall_pool" in p), "")
        policy = next((t for p, t in view.texts.items() if "rota_policy" in p), "")
        people = [r.split(",")[0] for r in pool_text.strip().splitlines()[1:] if r.count(",") >= 4]
        start = view.objective.find("shift (")
        slots = view.objective[start + 7: view.objective.find(")", start)].split(", ") if start >= 0 else []
        if not people:
            people = [view.rng.choice([e.handle for e in view.company.employees])]
        limit = 2 if "more than 2" in policy else 99
        one_day = "Rest rule" in policy
        counts = dict.fromkeys(people, 0)
        roster: dict[str, str] = {}
        offset = view.rng.randrange(len(people))
        for i, s in enumerate(slots):
            ordered = people[(i + offset) % len(people):] + people[: (i + offset) % len(people)]
            day = s.split(" ")[0]
            pick = next((p for p in ordered if counts[p] < limit and not (
                one_day and roster.get(f"{day} early") == p)), ordered[0])
            roster[s] = pick
            counts[pick] += 1
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"roster": roster}})]
