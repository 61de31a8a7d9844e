"""Sweep the ``spray`` adversary over many single-task days of every meta-task and over preset days.

The spray explores like the oracle, then acts on every plausible target (agents/adversaries.py), in each
of its forms (``everyone``: messages to every colleague; ``target``: one guess per message to the right
recipient). It must pass no answer-bearing checkpoint (except ``SPRAY_EXEMPT``, where listing every
candidate is the answer), while the oracle passes every checkpoint with zero noise. ``tests/test_spray.py``
runs one seed per meta-task and four standard days; this script runs as many as asked.

    python scripts/sweep_spray.py                       # 3 seeds per meta-task + 50 standard days
    python scripts/sweep_spray.py --seeds 10 --days 200 --only dashboard_triage,kb_link_fix
    python scripts/sweep_spray.py --preset reference    # light days of 2-6 tasks (the reference's conditions)

Prints, per family, the checkpoints the spray passed (variant/difficulty/checkpoint: count) and every
oracle failure; exits 1 if there is either.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter, defaultdict

from firstday.agents import AgentContext, make_agent
from firstday.agents.adversaries import SPRAY_EXEMPT, SprayAgent, SprayForm, sprays_checkpoint
from firstday.env import DayEnv, run_episode
from firstday.seeding import derive_seed, make_rng
from firstday.suites import Day, Scenario, SuiteSpec, generate_day, generate_suite, preset
from firstday.tasks import families, meta_tasks
from firstday.world import generate_company

LABEL = "spray-sweep"
SPEC = SuiteSpec(name="single-task", scenarios=1)


def single_days(seeds: int, only: set[str] | None) -> list[tuple[Scenario, Day]]:
    out = []
    for name, fam in families().items():
        if only and name not in only:
            continue
        for variant, difficulty in meta_tasks(fam):
            meta = (name, variant, difficulty)
            for seed in range(seeds):
                company = generate_company(make_rng(LABEL, "/".join(meta), seed, "company"))
                scenario_seed = derive_seed(LABEL, "/".join(meta), seed)
                day, _ = generate_day(company, SPEC, scenario_seed, 0, meta=[meta])
                out.append((Scenario(scenario_id=f"{LABEL}-{seed}", seed=scenario_seed, company=company,
                                     days=[day]), day))
    return out


def preset_days(name: str, n: int, only: set[str] | None) -> list[tuple[Scenario, Day]]:
    spec = preset(name, seed=11).model_copy(update={"scenarios": n})
    days = [(s, d) for s in generate_suite(spec) for d in s.days]
    return [(s, d) for s, d in days if not only or any(t.family in only for t in d.tasks)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3, help="single-task days per meta-task")
    ap.add_argument("--days", type=int, default=50, help="preset days (multi-task)")
    ap.add_argument("--preset", default="standard", help="the preset of the multi-task days (default standard)")
    ap.add_argument("--only", default="", help="comma-separated families")
    args = ap.parse_args()
    only = {f for f in args.only.split(",") if f} or None
    loop = asyncio.new_event_loop()
    sprayed: dict[str, Counter[str]] = defaultdict(Counter)
    failures: list[str] = []
    noise: Counter[str] = Counter()
    started = time.perf_counter()
    days = single_days(args.seeds, only) + preset_days(args.preset, args.days, only)
    forms: tuple[SprayForm, ...] = ("everyone", "target")
    for scenario, day in days:
        tasks = {t.task_id: t for t in day.tasks}
        for agent in ("oracle", *forms):
            ctx = AgentContext(scenario=scenario, day=day, options={"form": agent})
            player = make_agent("oracle", ctx) if agent == "oracle" else SprayAgent(ctx)
            result = loop.run_until_complete(run_episode(DayEnv(scenario, day), player))
            noise[agent] += result.score.metrics.noise
            for t in result.score.tasks:
                for c in t.checkpoints:
                    if agent == "oracle" and not c.passed:
                        failures.append(f"{scenario.scenario_id} {t.meta_task} {c.cp_id}: {c.feedback}")
                    if agent in forms and c.passed and c.answer_bearing and \
                            (t.family, t.variant, t.difficulty, c.cp_id) not in SPRAY_EXEMPT and \
                            sprays_checkpoint(tasks[t.task_id], scenario.company, c.cp_id, agent):
                        sprayed[t.family][f"{agent}: {t.variant}/{t.difficulty}/{c.cp_id}"] += 1
    names = sorted(only or families())
    for name in names:
        hits = ", ".join(f"{k}: {v}" for k, v in sorted(sprayed[name].items())) or "none"
        print(f"{name:24s} spray passed: {hits}")
    print(f"{len(days)} days in {time.perf_counter() - started:.0f} s; noise: oracle {noise['oracle']}, "
          f"spray {noise['everyone']} (everyone), {noise['target']} (target)")
    for f in failures:
        print("oracle failed:", f)
    return 1 if failures or any(sprayed.values()) or noise["oracle"] else 0


if __name__ == "__main__":
    sys.exit(main())
