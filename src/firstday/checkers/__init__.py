"""Checkers of a task family's invariants (docs/families.md, docs/invariants.md): solvable by the oracle, deterministic
(also across processes), sealed, robust to junk, and worth nothing to an agent that does nothing.
:func:`check_family` runs them all as small named checks with a remedy each and returns a :class:`FamilyCheckReport`;
``firstday check-family NAME`` is the same from the command line. firstday's own invariant tests call the same
functions, so a third-party family gets exactly the checks the built-in ones pass."""

from firstday.checkers._days import (
    SINGLE_TASK_SPEC,
    MetaTask,
    agent_visible_texts,
    describe_episode,
    failing_checkpoints,
    family_dependent_meta_tasks,
    family_meta_tasks,
    meta_id,
    run_day,
    seeded_company,
    single_task_day,
    string_values,
    tool_errors,
)
from firstday.checkers._determinism import (
    cross_process_problems,
    global_random_forbidden,
    instance_problems,
)
from firstday.checkers._family import (
    CHECK_NAMES,
    CHECKS,
    DEFAULT_SEEDS,
    CheckResult,
    FamilyCheckReport,
    check_family,
    render_family_check,
)
from firstday.checkers._oracle import noop_problem, oracle_problem
from firstday.checkers._robust import junk_problems, junk_turns
from firstday.checkers._sealed import (
    TRAVERSALS,
    Snooper,
    find_leaks,
    oracle_leaks,
    public_corpus,
    secrets_of_day,
    snooper_problems,
    triggered_facts,
)

__all__ = [
    "CHECKS", "CHECK_NAMES", "DEFAULT_SEEDS", "SINGLE_TASK_SPEC", "TRAVERSALS", "CheckResult", "FamilyCheckReport",
    "MetaTask", "Snooper", "agent_visible_texts", "check_family", "cross_process_problems",
    "describe_episode", "failing_checkpoints", "family_dependent_meta_tasks", "family_meta_tasks", "find_leaks",
    "global_random_forbidden", "instance_problems", "junk_problems", "junk_turns", "meta_id", "noop_problem",
    "oracle_leaks", "oracle_problem", "public_corpus", "render_family_check", "run_day", "secrets_of_day",
    "seeded_company", "single_task_day", "snooper_problems", "string_values", "tool_errors", "triggered_facts",
]
