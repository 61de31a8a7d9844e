"""website_monitor: the page at fault follows from the dashboard and the stated rule (recomputed here from
the texts an agent sees), and the fix is confirmed only when the owner gets both the code and the page."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from conftest import single_task_day
from firstday.tasks.model import TaskInstance
from firstday.world.colleagues import Responder

VARIANTS = ("slow_page", "error_rate", "outage", "certificate_expiry")
DIFFS = ("easy", "medium", "hard")
SECTION = {"slow_page": "Slow pages", "error_rate": "Server errors", "outage": "Outages",
           "certificate_expiry": "Certificates"}


def _instance(variant: str, difficulty: str, seed: int) -> tuple[TaskInstance, Responder]:
    scenario, day = single_task_day(("website_monitor", variant, difficulty), seed, label="wm-test")
    assert len(day.tasks) == 1
    task = day.tasks[0]
    return task, Responder(scenario.company.employees, task.facts)


def _recompute(task: TaskInstance) -> list[str]:
    status = next(p for p in task.pages if "/status/" in p.url).content
    if task.files:
        guide = task.files[0].content
        rule = guide.split(f"## {SECTION[task.variant]}")[1].split("##")[0]
    else:
        rule = status.split("Alert rule:")[1].split("\n")[0]
    number = float(re.findall(r"(?:above|last|within) (\d+(?:\.\d+)?)", rule)[0])
    floor = re.search(r"fewer than (\d+) requests", rule)
    rows = [ln.split(" | ") for ln in status.splitlines() if ln.startswith(("/", "www", "api")) or
            re.match(r"^[a-z]+\.[\w-]+\.intranet \|", ln)]
    flagged = []
    for row in rows:
        quiet = floor is not None and int(row[1]) < int(floor.group(1))
        if task.variant == "slow_page":
            bad = float(row[3]) > number and not quiet
        elif task.variant == "error_rate":
            bad = float(row[3].rstrip("%")) > number and not quiet
        elif task.variant == "outage":
            n = int(number)
            bad = row[1].split()[-n:] == ["FAIL"] * n and not ("maintenance" in rule and "planned" in row[3])
        else:
            today = dt.date.fromisoformat(re.findall(r"as of (\d{4}-\d\d-\d\d)", status)[0])
            left = (dt.date.fromisoformat(row[2]) - today).days
            bad = left <= number and not ("auto-renew on" in rule and row[3] == "on")
        if bad:
            flagged.append(row[0])
    return flagged


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("difficulty", DIFFS)
def test_exactly_one_culprit_by_the_stated_rule(variant: str, difficulty: str) -> None:
    for seed in range(8):
        task, _ = _instance(variant, difficulty, seed)
        assert _recompute(task) == [task.answers["culprit"]], seed
        if difficulty != "easy":
            status = next(p for p in task.pages if "/status/" in p.url).content
            assert "Alert rule" not in status  # the rule is only in the guide


@pytest.mark.parametrize("difficulty", DIFFS)
def test_the_fix_needs_the_code_and_the_culprit(difficulty: str) -> None:
    for seed in range(4):
        for variant in VARIANTS:
            task, responder = _instance(variant, difficulty, seed)
            owner, code, change = task.answers["owner"], task.answers["code"], task.answers["change_id"]
            culprit = task.answers["culprit"]
            site = task.facts[0].require_any[0]
            wrong = next(r for r in ("/nowhere", "zz.none.intranet") if r != culprit)
            for text, ok in ((f"Please fix {culprit} on the {site}", False),
                             (f"Code {code}: please fix {wrong} on the {site}", False),
                             (f"Here is the approval code {code} for the {site} fix of {culprit}", True)):
                reply = responder.respond(owner, text)
                assert reply is not None and (change in reply.text) == ok, (seed, variant, text, reply)
            em = next(f.holder for f in task.facts if f.fact_id == f"{task.task_id}-code")
            reply = responder.respond(em, f"Could I have the approval code for the {site} fix?")
            assert reply is not None and (code in reply.text) == (difficulty != "hard")
            # without the site's name (a host name holds it) the facts stay silent: they are keyed to the site
            if variant != "certificate_expiry":
                other = responder.respond(owner, f"Please fix {culprit} with approval code {code}")
                assert other is not None and change not in other.text
