"""The knowledge-base link fix family: solvable, honest scores, sealed answers, targeted facts, deterministic.

The oracle sweep uses days holding one instance of every variant at once (four tasks of this family on
one day, so colleagues overlap and facts of different tasks compete in the responder); the generic
invariant tests cover single-task days.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from firstday.agents import AgentContext, make_agent
from firstday.env import DayEnv, EpisodeResult, run_episode
from firstday.seeding import derive_seed, make_rng
from firstday.suites import Day, Scenario, SuiteSpec, generate_day, generate_scenario
from firstday.tasks import get_family
from firstday.tasks.library.kb_link_fix import LINK_RE
from firstday.tasks.model import Difficulty, TaskInstance
from firstday.world.colleagues import Responder
from firstday.world.company import Company, generate_company

FAMILY = "kb_link_fix"
VARIANTS = get_family(FAMILY).variants
DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")
N_PER_CELL = 200
SPEC = SuiteSpec(name="kb", families=[FAMILY], tasks_per_day=(1, 4))
COMPANIES = [generate_company(make_rng("kb-tests", i, "company")) for i in range(6)]


def all_variants_day(difficulty: Difficulty, seed: int) -> tuple[Scenario, Day]:
    """A day holding one instance of every variant at ``difficulty`` (some may be dropped as infeasible)."""
    company = COMPANIES[seed % len(COMPANIES)]
    scenario_seed = derive_seed("kb-tests", difficulty, seed)
    day, _ = generate_day(company, SPEC, scenario_seed, 0, [(FAMILY, v, difficulty) for v in VARIANTS])
    return Scenario(scenario_id=f"kb-{difficulty}-{seed}", seed=scenario_seed, company=company, days=[day]), day


def single_day(variant: str, difficulty: Difficulty, seed: int) -> tuple[Scenario, Day]:
    company = COMPANIES[seed % len(COMPANIES)]
    scenario_seed = derive_seed("kb-tests", variant, difficulty, seed)
    day, _ = generate_day(company, SPEC, scenario_seed, 0, [(FAMILY, variant, difficulty)])
    return Scenario(scenario_id=f"kb-{variant}-{difficulty}-{seed}", seed=scenario_seed, company=company,
                    days=[day]), day


async def _run(agent: str, scenario: Scenario, day: Day) -> EpisodeResult:
    return await run_episode(DayEnv(scenario, day), make_agent(agent, AgentContext(scenario=scenario, day=day)))


def run(agent: str, scenario: Scenario, day: Day) -> EpisodeResult:
    return asyncio.run(_run(agent, scenario, day))


def kb_tasks(day: Day) -> list[TaskInstance]:
    return [t for t in day.tasks if t.family == FAMILY]


# --- solvable ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_oracle_solves_every_variant_on_shared_days(difficulty: Difficulty) -> None:
    counts: Counter[str] = Counter()
    failures: list[str] = []

    async def sweep() -> None:
        seed = 0
        while min(counts[v] for v in VARIANTS) < N_PER_CELL and seed < N_PER_CELL + 60:
            scenario, day = all_variants_day(difficulty, seed)
            result = await _run("oracle", scenario, day)
            m = result.score.metrics
            if result.status != "ok" or m.unsupported_rate or m.meetings_missed or m.meetings_late:
                failures.append(f"seed {seed}: status {result.status} {result.error} metrics {m}")
            for ts in result.score.tasks:
                counts[ts.variant] += 1
                if ts.score != 1.0 or not ts.success or not ts.on_time:
                    bad = [c.cp_id + ": " + c.feedback for c in ts.checkpoints if not c.passed]
                    failures.append(f"seed {seed} {ts.meta_task}: score {ts.score} {bad}")
            seed += 1

    asyncio.run(sweep())
    assert not failures, "\n".join(failures[:5])
    assert all(counts[v] >= N_PER_CELL for v in VARIANTS), counts


@pytest.mark.slow
def test_oracle_solves_mixed_days_with_transaction_review() -> None:
    spec = SuiteSpec(name="kb-mixed", seed=11, families=["transaction_review", FAMILY], tasks_per_day=(2, 4))
    per_family: Counter[str] = Counter()
    failures: list[str] = []

    async def sweep() -> None:
        for i in range(100):
            scenario = generate_scenario(spec, i)
            for day in scenario.days:
                result = await _run("oracle", scenario, day)
                for ts in result.score.tasks:
                    per_family[ts.family] += 1
                    if ts.score != 1.0 or not ts.success:
                        failures.append(f"scenario {i} {ts.meta_task}: score {ts.score}")
                if result.score.metrics.unsupported_rate:
                    failures.append(f"scenario {i}: unsupported answers")

    asyncio.run(sweep())
    assert not failures, "\n".join(failures[:5])
    assert per_family[FAMILY] >= 100 and per_family["transaction_review"] >= 100, per_family


# --- honest scores ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_noop_scores_zero(difficulty: Difficulty) -> None:
    for seed in range(5):
        scenario, day = all_variants_day(difficulty, seed)
        result = run("noop", scenario, day)
        assert [ts.score for ts in result.score.tasks] == [0.0] * len(day.tasks)


def test_every_expected_article_differs_from_the_original() -> None:
    for difficulty in DIFFICULTIES:
        for seed in range(20):
            _, day = all_variants_day(difficulty, seed)
            for t in kb_tasks(day):
                originals = {f.path: f.content for f in t.files}
                for key, text in t.answers.items():
                    if key.startswith("text:"):
                        assert text != originals[key[len("text:"):]]


def test_guess_is_caught_by_the_unsupported_rate() -> None:
    for variant in VARIANTS:
        scenario, day = single_day(variant, "medium", 1)
        result = run("guess", scenario, day)
        (ts,) = result.score.tasks
        assert ts.submitted_at is not None
        assert any(c.attempted_at is not None for c in ts.checkpoints if c.answer_bearing), "the guess wrote nothing"
        assert result.score.metrics.unsupported_rate and result.score.metrics.unsupported_rate > 0
        assert ts.score is not None and ts.score < 0.2


def test_heuristic_earns_partial_credit() -> None:
    easy_answer_points = 0
    for variant in VARIANTS:
        for difficulty in DIFFICULTIES:
            scenario, day = single_day(variant, difficulty, 2)
            (ts,) = run("heuristic", scenario, day).score.tasks
            assert ts.score is not None
            assert ts.score > 0.0  # it reports completion
            if difficulty == "hard":
                assert ts.score < 1.0
            if difficulty == "easy":
                easy_answer_points += sum(1 for c in ts.checkpoints if c.passed and c.answer_bearing)
    assert easy_answer_points > 0, "naming a registry contact on easy should let the baseline fix some links"


# --- sealed and targeted ----------------------------------------------------------------------------------


def _new_ids(task: TaskInstance) -> list[str]:
    return [m for key, v in task.answers.items() if key.startswith("new:") for m in LINK_RE.findall(v[0])]


def test_new_ids_are_only_in_colleagues_replies() -> None:
    for difficulty in DIFFICULTIES:
        for seed in range(20):
            _, day = all_variants_day(difficulty, seed)
            public = " ".join([t.objective for t in day.tasks] + [f.content for t in day.tasks for f in t.files])
            ids_of_day = [cid for t in kb_tasks(day) for cid in _new_ids(t)]
            assert all(cid not in public for cid in ids_of_day)
            per_task = [set(re.findall(r"ch-\d{4}", " ".join(f.content for f in t.files))) for t in kb_tasks(day)]
            # chart ids are unique across the day's tasks, so no owner can answer for another task
            assert sum(len(s) for s in per_task) == len(set().union(*per_task))
            assert not set(ids_of_day) & set().union(*per_task)


def _ask_everyone_about_every_chart(company: Company, day: Day) -> None:
    facts = [f for t in day.tasks for f in t.facts]
    responder = Responder(list(company.employees), facts)
    new_ids = {cid for t in kb_tasks(day) for cid in _new_ids(t)}
    for fact in facts:
        for cid in [k for k in fact.require_any if re.fullmatch(r"ch-\d{4}", k)]:
            reply = responder.respond(fact.holder, f"Hi! Which chart replaced the retired chart {cid}?")
            assert reply is not None and fact.reply in reply.text, (fact.fact_id, reply)
            # no other chart's replacement leaks into the answer
            told = set(re.findall(r"ch-\d{4}", reply.text)) & new_ids
            assert len(told) <= 1, (fact.fact_id, reply.text)


def test_a_question_naming_a_chart_gets_that_charts_fact() -> None:
    for difficulty in DIFFICULTIES:
        for seed in range(25):
            scenario, day = all_variants_day(difficulty, seed)
            _ask_everyone_about_every_chart(scenario.company, day)


# --- deterministic ----------------------------------------------------------------------------------------


def test_same_seed_same_json() -> None:
    for difficulty in DIFFICULTIES:
        a = all_variants_day(difficulty, 7)[1].model_dump_json()
        b = all_variants_day(difficulty, 7)[1].model_dump_json()
        assert a == b
    spec = SuiteSpec(name="kb-det", seed=5, families=[FAMILY], tasks_per_day=(2, 4), days=2)
    assert generate_scenario(spec, 0).model_dump_json() == generate_scenario(spec, 0).model_dump_json()


def test_same_seed_same_hash_in_another_process() -> None:
    code = (
        "import hashlib\n"
        "from firstday.suites import SuiteSpec, generate_scenario\n"
        "spec = SuiteSpec(name='kb-det', seed=5, families=['kb_link_fix'], tasks_per_day=(2, 4), days=2)\n"
        "print(hashlib.sha256(generate_scenario(spec, 0).model_dump_json().encode()).hexdigest())\n"
    )
    spec = SuiteSpec(name="kb-det", seed=5, families=[FAMILY], tasks_per_day=(2, 4), days=2)
    here = hashlib.sha256(generate_scenario(spec, 0).model_dump_json().encode()).hexdigest()
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == here
