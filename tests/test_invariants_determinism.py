"""Invariant 2 — Deterministic (DESIGN.md §6): an instance is a pure function of (spec, seed).

Same seed → identical content hash in another process with another ``PYTHONHASHSEED`` (which also
shuffles set iteration order); the global RNG is never touched; different seeds give different
instances; the company varies with the seed.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import all_meta_tasks
from firstday.checkers import cross_process_problems, global_random_forbidden, instance_problems
from firstday.seeding import make_rng
from firstday.suites import (
    SuiteSpec,
    generate_scenario,
    generate_suite,
    load_suite,
    preset,
    save_suite,
    scenario_hash,
)
from firstday.suites.store import suite_hash
from firstday.world import generate_company

# specs hashed in this process and in two fresh interpreters; together they cover every family, several
# days per scenario, the mutable (shifting mix) mode, days filled to a load and days filled past it (best
# schedule search)
SPECS: dict[str, SuiteSpec] = {
    "smoke": preset("smoke", seed=7),
    "reference": preset("reference", seed=3).model_copy(update={"scenarios": 8}),
    "standard": preset("standard", seed=3).model_copy(update={"scenarios": 2}),
    "continual_mutable": preset("continual", seed=5).model_copy(update={"scenarios": 3, "mode": "mutable"}),
    "hard": preset("hard", seed=4).model_copy(update={"scenarios": 2}),
    # every task of a family with dependent variants followed by one that builds on it
    "dependent": SuiteSpec(name="dependent", seed=6, scenarios=3, tasks_per_day=(3, 5), dependencies=1.0,
                           families=["attendance_statistics", "sales_analysis", "transaction_review"]),
}

HASH_SCRIPT = """
import json, sys
from firstday.suites import SuiteSpec, generate_suite, scenario_hash
from firstday.suites.store import suite_hash
out = {}
for name, raw in json.loads(sys.stdin.read()).items():
    spec = SuiteSpec.model_validate(raw)
    out[name] = suite_hash(spec, {s.scenario_id: scenario_hash(s) for s in generate_suite(spec)})
print(json.dumps(out))
"""


def content_hash(spec: SuiteSpec) -> str:
    return suite_hash(spec, {s.scenario_id: scenario_hash(s) for s in generate_suite(spec)})


def test_same_spec_and_seed_give_the_same_hash_in_other_processes(tmp_path: Path) -> None:
    payload = json.dumps({name: spec.model_dump(mode="json") for name, spec in SPECS.items()})
    procs = []
    for hash_seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        procs.append(subprocess.Popen([sys.executable, "-c", HASH_SCRIPT], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                      cwd=tmp_path))
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(payload)
        p.stdin.close()
    here = {name: content_hash(spec) for name, spec in SPECS.items()}
    outputs = []
    for p in procs:
        assert p.stdout is not None and p.stderr is not None
        out, err = p.stdout.read(), p.stderr.read()
        assert p.wait(timeout=300) == 0, err
        outputs.append(json.loads(out))
    assert outputs[0] == here, "PYTHONHASHSEED=1 process generated different suites"
    assert outputs[1] == here, "PYTHONHASHSEED=12345 process generated different suites"


def test_saved_suite_keeps_the_in_process_hash(tmp_path: Path) -> None:
    spec = SPECS["smoke"]
    scenarios = generate_suite(spec)
    manifest = save_suite(spec, scenarios, tmp_path / "suite")
    assert manifest.content_hash == content_hash(spec)
    loaded = load_suite(tmp_path / "suite")
    assert [scenario_hash(s) for s in loaded.scenarios()] == [scenario_hash(s) for s in scenarios]


def test_scenarios_do_not_depend_on_their_neighbours() -> None:
    """Adding scenarios, or generating one alone, never changes the others (seeds are derived, not drawn)."""
    small = generate_suite(preset("smoke", seed=11).model_copy(update={"scenarios": 2}))
    large = generate_suite(preset("smoke", seed=11).model_copy(update={"scenarios": 4}))
    assert [scenario_hash(s) for s in small] == [scenario_hash(s) for s in large[:2]]
    alone = generate_scenario(preset("smoke", seed=11).model_copy(update={"scenarios": 4}), 3)
    assert scenario_hash(alone) == scenario_hash(large[3])


def test_different_seeds_give_different_suites() -> None:
    hashes = {content_hash(preset("smoke", seed=s)) for s in range(5)}
    assert len(hashes) == 5
    # and scenarios of one suite differ from each other
    suite = generate_suite(preset("smoke", seed=2).model_copy(update={"scenarios": 4}))
    assert len({scenario_hash(s) for s in suite}) == 4


@pytest.mark.parametrize("family", sorted({m[0] for m in all_meta_tasks()}))
def test_instances_are_pure_functions_of_the_seed(family: str) -> None:
    """Per meta-task: two generations give identical JSON; different seeds give different instances and,
    across seeds, different answers (no family re-seeds a constant). The global RNG is never used. The
    check is the library's (``firstday check-family``'s "deterministic")."""
    problems = [p for meta in all_meta_tasks() if meta[0] == family for p in instance_problems(meta, seeds=8)]
    assert not problems, "\n".join(problems)


def test_every_family_gives_the_same_instances_in_other_processes() -> None:
    """Every meta-task's single-task days, hashed here and in two fresh interpreters with other
    PYTHONHASHSEED values (the library's "deterministic_across_processes" check)."""
    problems = cross_process_problems(all_meta_tasks(), seeds=2)
    assert problems == [], "\n".join(problems or ["a family cannot be imported by another process"])


def test_global_random_is_forbidden_only_inside_the_check() -> None:
    with global_random_forbidden(), pytest.raises(AssertionError, match="global random"):
        random.random()
    assert 0 <= random.random() < 1


def test_company_size_and_structure_vary_with_the_seed() -> None:
    companies = [generate_company(make_rng("determinism", "company", s)) for s in range(30)]
    sizes = {len(c.employees) for c in companies}
    structures = {tuple(sorted(d.name for d in c.departments)) for c in companies}
    assert len(sizes) >= 10, sizes
    assert len(structures) >= 10
    assert all({"Engineering", "Finance", "HR"} <= {d.name for d in c.departments} for c in companies)
    # the same seed gives the same company
    assert generate_company(make_rng("determinism", "company", 4)) == companies[4]
    # scenarios of a suite get different companies
    suite = generate_suite(preset("smoke", seed=1))
    assert suite[0].company != suite[1].company
