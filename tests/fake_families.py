"""Small families for the checker tests (tests/test_check_family.py): the per-diem family of
docs/families.md, and copies of it each broken in one way. Nothing registers on import: the tests register
them, and the cross-process check imports them by class (this folder is on the child's path)."""

from __future__ import annotations

import random
from typing import Any, ClassVar

from firstday.tasks import BaselineView, Checkpoint, Clue, GenContext, SubmissionCheck, TaskInstance
from firstday.tasks.checks import CheckOutcome
from firstday.world import Fact, FileAsset, ToolCall


class PerDiem:
    """The complete small family of docs/families.md (it passes every check)."""

    name = "fake_per_diem"
    title = "Per-diem lookup"
    description = "Report the travel per-diem for a city; HR keeps the travel policy."
    domains: tuple[str, ...] = ("information",)
    modalities: tuple[str, ...] = ("text", "dialogue")
    variants: tuple[str, ...] = ("domestic", "abroad")
    knobs: ClassVar[dict[str, str]] = {
        "holder": "easy: the HR colleague is named in the objective; medium and hard: ask HR"}

    def rates(self, ctx: GenContext, cities: tuple[str, ...]) -> dict[str, int]:
        return {c: ctx.rng.randrange(40, 120, 5) for c in cities}

    def city(self, ctx: GenContext, cities: tuple[str, ...]) -> str:
        return ctx.rng.choice(cities)

    def expected(self, rate: int) -> Any:
        return rate

    def submitted(self, rate: int) -> Any:
        return rate

    def extra_facts(self, ctx: GenContext, reply: str) -> list[Fact]:
        return []

    def generate(self, ctx: GenContext) -> TaskInstance:
        tid = ctx.task_id
        cities = {"domestic": ("Leeds", "Bristol", "York"), "abroad": ("Lyon", "Porto", "Graz")}[ctx.variant]
        rates = self.rates(ctx, cities)
        city = self.city(ctx, cities)
        hr = ctx.company.department("HR")
        holder = ctx.company.employee(ctx.rng.choice(hr.members[1:]))
        policy = ctx.path("/shared/hr", "travel_policy", "md")
        plan = [
            ToolCall(name="send_message", arguments={"to": holder.handle,
                                                     "text": "Could you share the travel policy?"}),
            ToolCall(name="wait", arguments={"for_message_from": holder.handle}),
            ToolCall(name="read_file", arguments={"path": policy}),
            ToolCall(name="submit", arguments={"task_id": tid, "answer": {"per_diem": self.submitted(rates[city])}}),
        ]
        who = f"{holder.name} ({holder.handle})" if ctx.difficulty == "easy" else "HR"
        return ctx.instance(
            self,
            objective=f"What is the daily per-diem for a trip to {city}? {who} has the travel policy. "
                      'Submit {"per_diem": <amount>}.',
            files=[FileAsset(path=policy, hidden=True, clue_ids=[f"{tid}-policy"], media_type="text/markdown",
                             content="".join(f"- {c}: {r} per day\n" for c, r in rates.items()))],
            facts=[Fact(fact_id=f"{tid}-share", holder=holder.handle, topic="travel policy",
                        keywords=["travel policy", "per-diem", "per diem"],
                        reply=f"Here you go: {policy}", shares_files=[policy]),
                   *self.extra_facts(ctx, f"Between us: the per-diem for {city} is {rates[city]} a day.")],
            clues=[Clue(clue_id=f"{tid}-policy", description="the per-diem table", location="file",
                        where=f"{policy}, shared by {holder.handle}")],
            checkpoints=[Checkpoint(
                cp_id="per-diem", description=f"the per-diem for {city}", clue_ids=[f"{tid}-policy"],
                check=SubmissionCheck(field="per_diem", expected="per_diem", compare="number_close"),
                feedback="The per-diem table is in the travel policy, which HR shares on request.")],
            solution=plan, answers={"per_diem": self.expected(rates[city])},
        )

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        numbers = [int(w) for text in view.texts.values() for w in text.split() if w.isdigit()]
        guess = numbers[0] if numbers else view.rng.randrange(40, 120, 5)
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"per_diem": guess}})]


class Undeclared(PerDiem):
    """No variants and no knobs."""

    name = "fake_undeclared"
    variants = ()
    knobs: ClassVar[dict[str, str]] = {}


class WrongPlan(PerDiem):
    """The oracle plan submits a wrong amount."""

    name = "fake_wrong_plan"

    def submitted(self, rate: int) -> Any:
        return rate + 5


class GlobalRandom(PerDiem):
    """Draws the rates from the global random module."""

    name = "fake_global_random"

    def rates(self, ctx: GenContext, cities: tuple[str, ...]) -> dict[str, int]:
        return {c: random.randrange(40, 120, 5) for c in cities}


class HashOrdered(PerDiem):
    """Picks the city by the order of str hashes: the same in one process, another in the next."""

    name = "fake_hash_ordered"

    def city(self, ctx: GenContext, cities: tuple[str, ...]) -> str:
        ctx.rng.random()
        return min(cities, key=hash)


class SmallTalkLeak(PerDiem):
    """Colleagues tell the answer to anyone who says hello."""

    name = "fake_small_talk_leak"

    def extra_facts(self, ctx: GenContext, reply: str) -> list[Fact]:
        trainee = ctx.company.trainee.handle
        return [Fact(fact_id=f"{ctx.task_id}-gossip-{h}", holder=h, topic="gossip", keywords=["hello", "nice", "new"],
                     reply=reply) for h in ctx.company.handles()[:3] if h != trainee]


class MissingAnswer(PerDiem):
    """The checkpoint names an answer the task does not hold: scoring fails on every submission."""

    name = "fake_missing_answer"

    def expected(self, rate: int) -> Any:
        return rate

    def generate(self, ctx: GenContext) -> TaskInstance:
        task = super().generate(ctx)
        task.answers = {"rate": task.answers["per_diem"]}
        return task


class _HoldsForAnyone:
    """A check that holds in the untouched world (the built-in checks all need something done; a check's
    ``evaluate`` is all scoring calls)."""

    def evaluate(self, record: Any, task_id: str, answers: Any, at: int, since: int = 0) -> CheckOutcome:
        return CheckOutcome(True, "holds whatever the trainee did")


class FreePoints(PerDiem):
    """A checkpoint passes for doing nothing: the do-nothing agent scores above 0."""

    name = "fake_free_points"

    def generate(self, ctx: GenContext) -> TaskInstance:
        task = super().generate(ctx)
        free = task.checkpoints[0].model_copy(update={"cp_id": "free", "check": _HoldsForAnyone()})
        task.checkpoints = [*task.checkpoints, free]
        return task


class WrongFollowUp(PerDiem):
    """A dependent variant whose oracle plan submits a wrong amount: only the dependent meta-tasks fail."""

    name = "fake_wrong_follow_up"
    dependent_variants: tuple[str, ...] = ("recheck",)

    def generate(self, ctx: GenContext) -> TaskInstance:
        earlier = ctx.builds_on
        if ctx.variant != "recheck":
            return super().generate(ctx)
        assert earlier is not None
        rate = earlier.answers["per_diem"]
        plan = [ToolCall(name="submit", arguments={"task_id": ctx.task_id, "answer": {"per_diem": rate + 5}})]
        return ctx.instance(
            self, objective=f"Following up on {earlier.task_id}: submit its per-diem again. "
                            'Submit {"per_diem": <amount>}.',
            depends_on=[earlier.task_id], solution=plan, answers={"per_diem": rate},
            checkpoints=[Checkpoint(
                cp_id="per-diem", description="the per-diem of the earlier task",
                clue_ids=[f"{earlier.task_id}-policy"],
                check=SubmissionCheck(field="per_diem", expected="per_diem", compare="number_close"),
                feedback=f"This builds on {earlier.task_id}.")])


BROKEN: dict[type[PerDiem], str] = {  # family -> the check it fails
    Undeclared: "declares",
    WrongPlan: "oracle_solves",
    GlobalRandom: "deterministic",
    HashOrdered: "deterministic_across_processes",
    SmallTalkLeak: "sealed",
    MissingAnswer: "robust",
    FreePoints: "noop_scores_zero",
    WrongFollowUp: "oracle_solves",
}
