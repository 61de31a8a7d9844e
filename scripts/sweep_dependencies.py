"""Sweep the oracle over days full of dependent tasks (docs/scheduling.md, "Dependent tasks").

    python scripts/sweep_dependencies.py                 # 40 days at load 0.7-0.9 and 40 at 1.1-1.4
    python scripts/sweep_dependencies.py --days 10       # fewer

Days hold only the families with dependent variants, every task of them followed by one building on it
(``dependencies=1.0``). Where the load is at most 1 the oracle must solve every task; above 1 it must reach
exactly the best achievable priority-weighted score (``Day.best_score``), leaving only ``Day.skipped``.
Exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import asyncio

from firstday.agents import AgentContext, make_agent
from firstday.env import DayEnv, run_episode
from firstday.suites import SuiteSpec, generate_scenario
from firstday.tasks import dependent_variants, families

LOADS = ((0.7, 0.9), (1.1, 1.4))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=40, help="days per load range")
    ap.add_argument("--seed", type=int, default=100)
    args = ap.parse_args(argv)
    names = sorted(name for name, fam in families().items() if dependent_variants(fam))
    loop = asyncio.new_event_loop()
    failed = 0
    for load in LOADS:
        spec = SuiteSpec(name="dependent-sweep", seed=args.seed, scenarios=args.days, families=names,
                         dependencies=1.0, load=load)
        tasks = dependent = good = 0
        for i in range(spec.scenarios):
            scenario = generate_scenario(spec, i)
            day = scenario.days[0]
            tasks += len(day.tasks)
            dependent += sum(1 for t in day.tasks if t.depends_on)
            agent = make_agent("oracle", AgentContext(scenario=scenario, day=day))
            result = loop.run_until_complete(run_episode(DayEnv(scenario, day), agent))
            score = result.score.metrics.priority_weighted_score or 0.0
            ok = abs(score - day.best_score) < 1e-9 and all(
                t.success == (t.task_id not in day.skipped) for t in result.score.tasks)
            good += ok
            if not ok:
                print(f"failed: load {load}, scenario {i}: score {score} against the best {day.best_score}")
        failed += spec.scenarios - good
        print(f"load {load[0]}-{load[1]}: {spec.scenarios} days, {tasks} tasks ({dependent} dependent), "
              f"the oracle reaches the best achievable score on {good}")
    loop.close()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
