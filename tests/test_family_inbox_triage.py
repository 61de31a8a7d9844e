"""Inbox triage: the ground truth follows the policy text, special rules matter, crowded days stay solvable."""

from __future__ import annotations

import re

import pytest

from conftest import describe_episode, run_agent, seeded_company, single_task_day
from firstday.seeding import derive_seed
from firstday.suites import Scenario, SuiteSpec, generate_day
from firstday.tasks import get_family
from firstday.tasks.library.inbox_triage import CATEGORIES
from firstday.tasks.model import TaskInstance
from firstday.world import ToolCall

FAMILY = "inbox_triage"
VARIANTS = get_family(FAMILY).variants


def _route_from_text(task: TaskInstance) -> dict[str, str]:
    """Re-derive every email's owner from the policy text, the email files and the auto-replies only."""
    policy = next(f.content for f in task.files if f.hidden)
    handle = r"\(([\w.-]+)\)"
    key = re.search(r"from the domains (.+?) goes to the key account manager .+? " + handle, policy)
    refund = re.search(r"more than \$([\d,]+) go to .+? " + handle, policy)
    regions = {c.strip(): h for countries, h in re.findall(r"\(([^()]*)\) to [^;.]+? " + handle, policy)
               for c in countries.split(",")} if "by the sender's country" in policy else {}
    table = {row[0].strip(): re.search(handle, row[2]).group(1)  # type: ignore[union-attr]
             for row in (ln.strip("|").split("|") for ln in policy.splitlines() if ln.startswith("| ")) if
             len(row) == 3 and row[0].strip() != "category"}
    deputies = {f.holder: re.search(handle, f.reply).group(1)  # type: ignore[union-attr]
                for f in task.facts if f.reply.startswith("Automatic reply")}
    out: dict[str, str] = {}
    for f in task.files:
        m = re.search(r"^Email-ID: (\S+)", f.content)
        if not m:
            continue
        subject = re.search(r"^Subject: (.+)$", f.content, re.M).group(1)  # type: ignore[union-attr]
        domain = re.search(r"^From: .*@([\w.-]+)>", f.content, re.M).group(1)  # type: ignore[union-attr]
        country = f.content.strip().splitlines()[-1].split(",")[-1].strip(" ()").replace(" office", "")
        cat = next(c for c in CATEGORIES if any(
            re.fullmatch(re.escape(s).replace(r"\{ref\}", r"\w+"), subject) for s in c.subjects))
        amount = re.search(r"\$([\d,]+)", f.content)
        if key and domain in [d.strip() for d in key.group(1).split(",")]:
            owner = key.group(2)
        elif refund and cat.key == "refunds" and amount and int(amount.group(1).replace(",", "")) > int(
                refund.group(1).replace(",", "")):
            owner = refund.group(2)
        elif regions and cat.key == "sales":
            owner = regions[country]
        else:
            owner = table[cat.label]
        out[m.group(1)] = deputies.get(owner, owner)
    return out


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_ground_truth_follows_the_policy_text(variant: str, difficulty: str) -> None:
    for seed in range(15):
        _, day = single_task_day((FAMILY, variant, difficulty), seed, label="triage-truth")
        task = day.tasks[0]
        truth = {k.split(".", 1)[1]: v for k, v in task.answers.items() if k.startswith("owner.")}
        assert _route_from_text(task) == truth, f"seed {seed}"
        if difficulty == "hard":
            assert any(f.reply.startswith("Automatic reply") for f in task.facts)


def test_special_rules_change_owners() -> None:
    """Ignoring the special rules (routing by category only) gets some email wrong in every variant."""
    for variant in VARIANTS[1:]:
        for seed in range(10):
            _, day = single_task_day((FAMILY, variant, "easy"), seed, label="triage-special")
            task = day.tasks[0]
            policy = next(f.content for f in task.files if f.hidden)
            table = dict(re.findall(r"^\| ([^|]+?) \|[^|]+\| .+? \(([\w.-]+)\) \|$", policy, re.M))
            wrong = 0
            for f in task.files:
                m = re.search(r"^Email-ID: (\S+)", f.content)
                if m:
                    subject = re.search(r"^Subject: (.+)$", f.content, re.M).group(1)  # type: ignore[union-attr]
                    cat = next(c for c in CATEGORIES if any(
                        re.fullmatch(re.escape(s).replace(r"\{ref\}", r"\w+"), subject) for s in c.subjects))
                    wrong += table[cat.label] != task.answers[f"owner.{m.group(1)}"]
            assert wrong >= 1, f"{variant} seed {seed}"


def test_several_triage_tasks_on_one_day_are_all_solvable() -> None:
    spec = SuiteSpec(name="triage", families=[FAMILY], tasks_per_day=(3, 3))
    for seed in range(8):
        company = seeded_company("triage-crowd", seed)
        scenario_seed = derive_seed("triage-crowd", seed)
        meta = [(FAMILY, VARIANTS[(seed + i) % len(VARIANTS)], "hard") for i in range(3)]
        day, _ = generate_day(company, spec, scenario_seed, 0, meta)  # type: ignore[arg-type]
        scenario = Scenario(scenario_id=f"crowd-{seed}", seed=scenario_seed, company=company, days=[day])
        result = run_agent("oracle", scenario, day)
        assert result.score.metrics.score == 1.0 and not result.score.metrics.unsupported_rate, describe_episode(
            result, day)


def _forward_to_everyone(task: TaskInstance, handles: set[str]) -> list[ToolCall]:
    """The oracle's plan with its forwards replaced: every email id sent to every colleague the policy names
    and to every deputy (so each owner gets its emails, among everyone else's); the mapping stays right."""
    policy = next(f.content for f in task.files if f.hidden)
    truth = {k.split(".", 1)[1]: v for k, v in task.answers.items() if k.startswith("owner.")}
    named = [h for h in re.findall(r"\(([\w.-]+)\)", policy) if h in handles]
    everyone = list(dict.fromkeys([*named, *truth.values()]))
    assert len(everyone) >= 3
    text = "Forwarding from the shared inbox: " + "; ".join(sorted(truth))
    forwards = [i for i, c in enumerate(task.solution) if c.name == "send_message" and "Forwarding" in str(
        c.arguments)]
    plan = [c for i, c in enumerate(task.solution) if i not in forwards and not (
        c.name == "wait" and i - 1 in forwards)]
    cut = forwards[0]
    return [*plan[:cut], *(ToolCall(name="send_message", arguments={"to": h, "text": text}) for h in everyone),
            *plan[cut:]]


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_forwarding_every_email_to_every_owner_fails_the_forward_checkpoints(difficulty: str) -> None:
    """A forward counts only if the email id reached its owner and none of the other candidate owners."""
    for seed in range(4):
        variant = VARIANTS[seed % len(VARIANTS)]
        scenario, day = single_task_day((FAMILY, variant, difficulty), seed, label="triage-spam")
        oracle = run_agent("oracle", scenario, day)
        assert oracle.score.metrics.score == 1.0, describe_episode(oracle, day)
        task = day.tasks[0]
        spam_day = day.model_copy(deep=True)
        spam_day.tasks[0].solution = _forward_to_everyone(task, {e.handle for e in scenario.company.employees})
        result = run_agent("oracle", scenario, spam_day)  # the oracle replays the (spamming) plan
        cps = {c.cp_id: c for c in result.score.tasks[0].checkpoints}
        forwards = [c for c in cps.values() if c.cp_id.startswith("forward-")]
        assert forwards and all(cps[c].passed for c in cps if c.startswith("route-")), describe_episode(result, day)
        assert not any(c.passed or c.passed_late for c in forwards), [c.feedback for c in forwards]
        assert all("not meant for" in c.feedback for c in forwards)
        assert all(task.answers[f"owner.{c.cp_id[len('forward-'):]}"] not in c.feedback.split("Hint")[0]
                   for c in forwards)
