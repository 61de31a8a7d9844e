"""No credit for spraying: the ``spray`` adversary (explores like the oracle, then acts on every plausible
target) passes no answer-bearing checkpoint of any family, while the oracle passes every one; the negative
check kinds (``message_only``, ``file_items``) and the noise metric, each attacked directly."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

import pytest

from conftest import all_dependent_meta_tasks, all_meta_tasks, preset_days, run_agent, single_task_day
from firstday.agents import AgentContext, agent_names, make_agent
from firstday.agents.adversaries import SPRAY_EXEMPT, SprayAgent, SprayForm, spray_plan, sprays_checkpoint
from firstday.errors import ConfigError
from firstday.report.leaderboard import BEHAVIOUR_COLUMNS, DIMENSIONS
from firstday.scoring.cards import DayMetrics
from firstday.scoring.score import MASS_RECIPIENTS, noise_counts, related_people
from firstday.suites import Day, Scenario
from firstday.tasks.checks import FileItemsCheck, MessageOnlyCheck
from firstday.world.records import DayRecord, FileVersion, Meeting, SentMessage, Submission

EXEMPT = SPRAY_EXEMPT  # with the reason for each (listing every candidate is the answer there)


def _sweep(days: list[tuple[Scenario, Day]], form: SprayForm = "everyone"
           ) -> tuple[dict[str, set[str]], list[str], list[int]]:
    """(family -> checkpoints the spray passed, the oracle's failures, the oracle's noise per day)."""
    sprayed: dict[str, set[str]] = defaultdict(set)
    oracle_failures: list[str] = []
    oracle_noise: list[int] = []
    for scenario, day in days:
        oracle = run_agent("oracle", scenario, day)
        oracle_noise.append(oracle.score.metrics.noise)
        oracle_failures += [f"{scenario.scenario_id}/{t.task_id}/{c.cp_id}: {c.feedback}"
                            for t in oracle.score.tasks for c in t.checkpoints if not c.passed]
        spray = run_agent(SprayAgent(AgentContext(scenario=scenario, day=day, options={"form": form})), scenario,
                          day)
        assert spray.status == "ok", spray.error
        tasks = {t.task_id: t for t in day.tasks}
        for t in spray.score.tasks:
            for c in t.checkpoints:
                if c.passed and c.answer_bearing and (t.family, t.variant, t.difficulty, c.cp_id) not in EXEMPT \
                        and sprays_checkpoint(tasks[t.task_id], scenario.company, c.cp_id, form):
                    sprayed[t.family].add(f"{t.variant}/{t.difficulty}/{c.cp_id}")
    return sprayed, oracle_failures, oracle_noise


def _report(sprayed: dict[str, set[str]]) -> None:
    families = sorted({m[0] for m in all_meta_tasks()})
    for family in families:
        print(f"{family:24s} spray passed: {', '.join(sorted(sprayed.get(family, ()))) or 'none'}")


@pytest.mark.slow
@pytest.mark.parametrize("form", ["everyone", "target"])
def test_spray_passes_nothing_on_single_task_days_of_every_meta_task(form: SprayForm) -> None:
    """One single-task day per meta-task of every family (a different seed per family, so reruns with a
    new family shift no other family's draws)."""
    days = [single_task_day(meta, seed=len(meta[0]) + i, label="spray")
            for i, meta in enumerate(all_meta_tasks())]
    sprayed, oracle_failures, oracle_noise = _sweep(days, form)
    _report(sprayed)
    assert not oracle_failures
    assert not any(oracle_noise)
    assert not sprayed, dict(sprayed)


@pytest.mark.parametrize("form", ["everyone", "target"])
def test_spray_passes_nothing_on_days_with_dependent_tasks(form: SprayForm) -> None:
    """Each dependent meta-task on its day (the earlier task it builds on placed first), two seeds each."""
    days = [single_task_day(meta, seed=seed, label="spray-dependent")
            for meta in all_dependent_meta_tasks() for seed in range(2)]
    sprayed, oracle_failures, oracle_noise = _sweep(days, form)
    assert not oracle_failures
    assert not any(oracle_noise)
    assert not sprayed, dict(sprayed)


@pytest.mark.parametrize("form", ["everyone", "target"])
def test_spray_passes_nothing_on_multi_task_days(form: SprayForm) -> None:
    days = preset_days("standard", seed=7, scenarios=4)  # days filled to a load of 0.7-0.9
    assert sum(len(d.tasks) for _, d in days) >= 36
    sprayed, oracle_failures, oracle_noise = _sweep(days, form)
    _report(sprayed)
    assert not oracle_failures
    assert not any(oracle_noise)
    assert not sprayed, dict(sprayed)


def test_the_exemptions_are_real_checkpoints() -> None:
    # an exemption naming a checkpoint that does not exist would silently exempt nothing (or hide a rename)
    for family, variant, difficulty, cp in EXEMPT:
        _, day = single_task_day((family, variant, difficulty), seed=0, label="spray-exempt")
        task = day.tasks[0]
        assert cp in {c.cp_id for c in task.checkpoints if c.answer_bearing}, (family, variant, difficulty, cp)


def test_spray_is_registered_and_acts_on_every_target() -> None:
    assert "spray" in agent_names()
    scenario, day = single_task_day(("dashboard_triage", "error_rate", "easy"), seed=3, label="spray-unit")
    agent = make_agent("spray", AgentContext(scenario=scenario, day=day))
    assert isinstance(agent, SprayAgent)
    task = day.tasks[0]
    plan = spray_plan(task, scenario.company)
    everyone = {e.handle for e in scenario.company.employees} - {scenario.company.trainee.handle}
    reached = {h for c in plan if c.name == "send_message" and isinstance(c.arguments, dict)
               for h in ([c.arguments["to"]] if isinstance(c.arguments["to"], str) else c.arguments["to"])}
    assert reached == everyone
    page = next(c for c in task.solution if c.name == "send_message" and "Paging" in str(c.arguments))
    texts = [c.arguments["text"] for c in plan if c.name == "send_message" and isinstance(c.arguments, dict)]
    assert page.arguments["text"] in texts  # type: ignore[index]
    assert any(all(s in t for s in task.answers["services"]) for t in texts)  # one message listing every service
    submit = next(c for c in plan if c.name == "submit")
    assert isinstance(submit.arguments, dict)
    answer = submit.arguments["answer"]
    assert set(task.answers["services"]) <= set(answer["service"]) and len(answer["paged"]) == len(everyone)


# --- the check kinds, attacked directly ----------------------------------------------------------------------
def _record(*messages: tuple[int, list[str], str]) -> DayRecord:
    return DayRecord(messages=[SentMessage(time=t, to=to, text=x) for t, to, x in messages])


ANSWERS = {"service": "checkout-api", "services": ["checkout-api", "search-svc", "auth-gateway"],
           "severity": "SEV2", "severities": ["SEV1", "SEV2", "SEV3"], "code": "APR-1234"}


def test_message_only_needs_the_right_recipient_and_no_one_else() -> None:
    check = MessageOnlyCheck(to="ann.lee", expected="code", allowed=["em.boss"])
    assert check.evaluate(_record((600, ["ann.lee"], "code APR-1234")), "t", ANSWERS, 700).passed
    assert check.evaluate(_record((600, ["ann.lee"], "code APR-1234"), (610, ["em.boss"], "APR-1234 sent")),
                          "t", ANSWERS, 700).passed
    stray = check.evaluate(_record((600, ["ann.lee", "bob.ray"], "code APR-1234")), "t", ANSWERS, 700)
    assert not stray.passed and stray.attempted_at == 600
    # the stray copy sent separately, even after the right one, fails too
    assert not check.evaluate(_record((600, ["ann.lee"], "APR-1234"), (650, ["bob.ray"], "fyi APR-1234")),
                              "t", ANSWERS, 700).passed
    assert not check.evaluate(_record((600, ["bob.ray"], "APR-1234")), "t", ANSWERS, 700).passed
    # a message to someone else without the value is none of this check's business
    assert check.evaluate(_record((600, ["ann.lee"], "APR-1234"), (605, ["bob.ray"], "hello")),
                          "t", ANSWERS, 700).passed


def test_message_only_ignores_what_came_before_the_task_and_after_the_deadline() -> None:
    check = MessageOnlyCheck(to="ann.lee", expected="code")
    rec = _record((500, ["bob.ray"], "APR-1234"), (600, ["ann.lee"], "APR-1234"), (800, ["cy.do"], "APR-1234"))
    assert check.evaluate(rec, "t", ANSWERS, 700, since=550).passed
    assert not check.evaluate(rec, "t", ANSWERS, 700, since=0).passed
    assert not check.evaluate(rec, "t", ANSWERS, 900, since=550).passed
    assert not check.evaluate(_record((500, ["ann.lee"], "APR-1234")), "t", ANSWERS, 700, since=550).passed


def test_message_only_with_candidates_refuses_a_message_naming_every_candidate() -> None:
    check = MessageOnlyCheck(to="ann.lee", expected="service", candidates="services")
    every = "one of: checkout-api, search-svc, auth-gateway"
    assert not check.evaluate(_record((600, ["ann.lee"], every)), "t", ANSWERS, 700).passed
    assert check.evaluate(_record((600, ["ann.lee"], every), (610, ["ann.lee"], "checkout-api is down")),
                          "t", ANSWERS, 700).passed
    # a candidate is named as a whole token only: "search-svc2" is not "search-svc"
    assert check.evaluate(_record((600, ["ann.lee"], "checkout-api (not search-svc2)")), "t", ANSWERS, 700).passed


def test_message_only_about_scopes_a_common_value_to_its_task() -> None:
    check = MessageOnlyCheck(to="ann.lee", expected="severity", candidates="severities", about=["service"])
    # another task's SEV2 sent elsewhere does not concern this one
    rec = _record((600, ["ann.lee"], "checkout-api: SEV2"), (620, ["bob.ray"], "search-svc is SEV2"))
    assert check.evaluate(rec, "t", ANSWERS, 700).passed
    assert not check.evaluate(_record((600, ["ann.lee", "bob.ray"], "checkout-api: SEV2")), "t", ANSWERS,
                              700).passed
    assert not check.evaluate(_record((600, ["ann.lee"], "checkout-api: SEV1, SEV2 or SEV3")), "t", ANSWERS,
                              700).passed


def test_message_only_about_ties_guesses_to_the_task_and_spares_other_tasks() -> None:
    # the dashboard page: the incident id ties a page to its task
    check = MessageOnlyCheck(to="ann.lee", expected="service", candidates="services", about=["incident"])
    answers = {**ANSWERS, "incident": "INC-4242"}
    right = (600, ["ann.lee"], "INC-4242: checkout-api is degraded")
    assert check.evaluate(_record(right), "t", answers, 700).passed
    # one page per guess, the right one among them, fails ...
    guesses = _record((590, ["ann.lee"], "INC-4242: search-svc is degraded"), right,
                      (610, ["ann.lee"], "INC-4242: auth-gateway is degraded"))
    out = check.evaluate(guesses, "t", answers, 700)
    assert not out.passed and out.attempted_at == 590
    # ... while another incident's page to the same person (another task) does not concern this one
    assert check.evaluate(_record(right, (620, ["ann.lee"], "INC-5151: search-svc is degraded")), "t", answers,
                          700).passed
    # a page without the incident is not this task's page
    assert not check.evaluate(_record((600, ["ann.lee"], "checkout-api is degraded")), "t", answers, 700).passed


def test_message_only_every_message_must_carry_the_value() -> None:
    # the status alert: every message to the owner naming the service must carry the value shown
    answers = {"value": "7.4", "svc": "checkout-api", "others": ["2.5", "9.1"]}
    check = MessageOnlyCheck(to="ann.lee", expected="value", about=["svc"], candidates="others", every_message=True)
    right = (600, ["ann.lee"], "checkout-api is at 7.4% (threshold 5.0%)")
    assert check.evaluate(_record(right), "t", answers, 700).passed
    # where it came from may be said in the same message (its own history is no other candidate) ...
    assert check.evaluate(_record((600, ["ann.lee"], "checkout-api rose from 4.1% to 7.4%")), "t", answers,
                          700).passed
    # ... but one message per reading, or another service's reading, is a guess
    assert not check.evaluate(_record((595, ["ann.lee"], "checkout-api is at 4.1%"), right), "t", answers,
                              700).passed
    assert not check.evaluate(_record((600, ["ann.lee"], "checkout-api is at 7.4% or 9.1%")), "t", answers,
                              700).passed
    # a message to the owner about something else is none of its business
    assert check.evaluate(_record(right, (610, ["ann.lee"], "lunch at 12?")), "t", answers, 700).passed
    with pytest.raises(ValueError):
        MessageOnlyCheck(to="a", expected="value", every_message=True)


def test_the_target_form_sends_one_guess_per_message_to_the_right_person_only() -> None:
    scenario, day = single_task_day(("dashboard_triage", "error_rate", "easy"), seed=3, label="spray-unit")
    task = day.tasks[0]
    plan = spray_plan(task, scenario.company, "target")
    sent = [c.arguments for c in plan if c.name == "send_message" and isinstance(c.arguments, dict)]
    questions = {c.arguments["to"] for i, c in enumerate(task.solution) if c.name == "send_message"
                 and isinstance(c.arguments, dict) and any(w.name == "wait" for w in task.solution[i + 1:])}
    pages = [a["text"] for a in sent if a["to"] == task.answers["paged"]]
    assert {a["to"] for a in sent} <= {task.answers["paged"], *questions}
    for service in task.answers["services"]:  # one page per service, each naming that service alone
        assert any(service in p and not any(o in p for o in task.answers["services"] if o != service)
                   for p in pages), service
    with pytest.raises(ConfigError):
        make_agent("spray", AgentContext(scenario=scenario, day=day, options={"form": "nobody"}))


def test_message_only_window() -> None:
    check = MessageOnlyCheck(to="ann.lee", expected="code", visible_from=600, within_minutes=15)
    assert check.evaluate(_record((610, ["ann.lee"], "APR-1234")), "t", ANSWERS, 700).passed
    assert not check.evaluate(_record((590, ["ann.lee"], "APR-1234")), "t", ANSWERS, 700).passed
    assert not check.evaluate(_record((640, ["ann.lee"], "APR-1234")), "t", ANSWERS, 700).passed
    with pytest.raises(ValueError):
        MessageOnlyCheck(to="a", expected="code", within_minutes=5)


URL = "https://charts.intranet/c/"
LINKS = {"new": [URL + "ch-2000"], "links": [URL + x for x in ("ch-1000", "ch-1001", "ch-2000", "ch-2001")],
         "keep": [URL + "ch-1001", URL + "ch-2000"]}


def _file(*versions: tuple[int, str, Literal["initial", "trainee"]]) -> DayRecord:
    return DayRecord(files={"/workspace/kb/a.md": [FileVersion(time=t, content=c, author=a)
                                                   for t, c, a in versions]})


def test_file_items_needs_the_expected_items_and_no_other_candidate() -> None:
    check = FileItemsCheck(path="/workspace/kb/a.md", expected="new", candidates="links", allowed="keep")
    original = f"see {URL}ch-1000 and {URL}ch-1001"
    fixed = f"see {URL}ch-2000 and {URL}ch-1001"
    assert check.evaluate(_file((0, original, "initial"), (600, fixed, "trainee")), "t", LINKS, 700).passed
    every = fixed + "\n" + "\n".join(LINKS["links"])
    out = check.evaluate(_file((0, original, "initial"), (600, every, "trainee")), "t", LINKS, 700)
    assert not out.passed and out.attempted_at == 600
    assert not check.evaluate(_file((0, original, "initial")), "t", LINKS, 700).passed  # untouched
    assert not check.evaluate(_file((0, original, "initial"), (600, original, "trainee")), "t", LINKS, 700).passed
    # an edit before the task arrived is no answer
    assert not check.evaluate(_file((0, original, "initial"), (500, fixed, "trainee")), "t", LINKS, 700,
                              since=550).passed
    # a longer id that merely starts with a candidate is not that candidate
    assert check.evaluate(_file((0, original, "initial"), (600, fixed + f" {URL}ch-10001", "trainee")),
                          "t", LINKS, 700).passed


# --- noise ---------------------------------------------------------------------------------------------------
def _noise_day() -> Day:
    _, day = single_task_day(("org_chart_routing", "direct_manager", "easy"), seed=1, label="noise")
    return day


def test_noise_counts_stray_mass_and_needless_bookings() -> None:
    day = _noise_day()
    task = day.tasks[0]
    approver = task.answers["approver"]
    t = task.arrival + 10
    record = DayRecord(messages=[
        SentMessage(time=t, to=[approver], text=f"Please approve {task.answers['request']}"),
        SentMessage(time=t, to=["zz.stranger"], text="lunch?"),  # unrelated
        SentMessage(time=t, to=["zz.other"], text=f"fyi {task.answers['request']}"),  # carries the value: related
        SentMessage(time=t, to=[approver, "a1.x", "a2.x", "a3.x"], text="Hello all"),  # mass: 3 strays
    ], meetings={
        "m1": Meeting(meeting_id="m1", title="Sync", start=700, end=730, room="A", organizer="me", attendees=[],
                      created_at=t, booked_by_trainee=True),
        "m2": Meeting(meeting_id="m2", title="Sync", start=700, end=730, room="B", organizer="me", attendees=[],
                      created_at=t, booked_by_trainee=True),
        "m3": Meeting(meeting_id="m3", title="Gone", start=700, end=730, room="C", organizer="me", attendees=[],
                      created_at=t, cancelled_at=t + 1, booked_by_trainee=True),
    }, submissions=[Submission(task_id=task.task_id, time=t, answer={"meeting": "Sync"})])
    counts = noise_counts(day, record, day.day_end)
    assert counts == {"unrelated": 1, "mass": 3, "meetings": 2}
    # before the task arrived, its people are nobody's business yet
    early = DayRecord(messages=[SentMessage(time=task.arrival - 1, to=[approver], text="hi")])
    assert noise_counts(day, early, day.day_end)["unrelated"] == 1
    # a text may reach MASS_RECIPIENTS colleagues before it is a mass mail
    few = DayRecord(messages=[SentMessage(time=t, to=[f"b{i}.x" for i in range(MASS_RECIPIENTS)], text="hi")])
    assert noise_counts(day, few, day.day_end) == {"unrelated": MASS_RECIPIENTS, "mass": 0, "meetings": 0}


def test_noise_knows_the_people_a_task_names_by_full_name() -> None:
    scenario, day = single_task_day(("org_chart_routing", "direct_manager", "easy"), seed=1, label="noise")
    task = day.tasks[0]
    involved = related_people(task)
    named = next(e for e in scenario.company.employees if e.handle not in involved
                 and e.handle != scenario.company.trainee.handle)
    task = task.model_copy(update={"objective": task.objective + f" {named.name} has the figures."})
    day = day.model_copy(update={"tasks": [task]})
    record = DayRecord(messages=[SentMessage(time=task.arrival + 5, to=[named.handle], text="hello")])
    # without the company the name is not known as a person: a stray; with it, the person is involved
    assert noise_counts(day, record, day.day_end)["unrelated"] == 1
    assert noise_counts(day, record, day.day_end, scenario.company)["unrelated"] == 0
    # a name inside a longer word is not that person
    other = task.model_copy(update={"objective": task.objective.replace(named.name, named.name + "son")})
    assert noise_counts(day.model_copy(update={"tasks": [other]}), record, day.day_end,
                        scenario.company)["unrelated"] == 1


def test_noise_is_zero_for_the_oracle_and_large_for_the_spray_and_in_the_report() -> None:
    scenario, day = single_task_day(("whiteboard_actions", "reminders", "medium"), seed=2, label="noise")
    oracle = run_agent("oracle", scenario, day).score.metrics
    spray = run_agent("spray", scenario, day).score.metrics
    assert oracle.noise == 0
    assert spray.noise == spray.noise_unrelated_messages + spray.noise_mass_messages + spray.noise_meetings
    assert spray.noise_mass_messages > 20
    # old saved runs (no noise fields) still load, as zero noise
    legacy = oracle.model_dump()
    for k in ("noise", "noise_unrelated_messages", "noise_mass_messages", "noise_meetings"):
        legacy.pop(k)
    assert DayMetrics.model_validate(legacy).noise == 0
    assert any(c.field == "noise" for c in BEHAVIOUR_COLUMNS) and any(d[0] == "noise" for d in DIMENSIONS)


def test_the_sweep_catches_a_sprayable_check() -> None:
    """The page checked the old way (the value reached the on-call engineer, whoever else it reached): the
    spray passes it, so the sweep above can fail."""
    from firstday.tasks.checks import MessageCheck

    scenario, day = single_task_day(("dashboard_triage", "latency_p95", "medium"), seed=5, label="spray-old")
    task = day.tasks[0]
    old = [cp.model_copy(update={"check": MessageCheck(to=cp.check.to, expected=cp.check.expected)})
           if isinstance(cp.check, MessageOnlyCheck) else cp for cp in task.checkpoints]
    weak = day.model_copy(update={"tasks": [task.model_copy(update={"checkpoints": old})]})
    sprayed, _, _ = _sweep([(scenario, weak)])
    assert sprayed["dashboard_triage"] == {"latency_p95/medium/page-message", "latency_p95/medium/page-severity"}
    sprayed, failures, _ = _sweep([(scenario, day)])
    assert not sprayed and not failures


def test_message_only_refuses_a_range_of_candidates_and_one_candidate_per_message() -> None:
    check = MessageOnlyCheck(to="ann.lee", expected="severity", candidates="severities", about=["service"])
    # "SEV1-3" names every severity in the range (the "SEV1–3" spray), however it is written
    for text in ("checkout-api: SEV2-3", "checkout-api SEV1–SEV3", "checkout-api is SEV 1 to 3"):
        assert not check.evaluate(_record((600, ["ann.lee"], text)), "t", ANSWERS, 700).passed, text
    # several messages to the right person about the task, one severity each, are a list of every severity
    rec = _record((600, ["ann.lee"], "checkout-api: SEV1"), (605, ["ann.lee"], "checkout-api: SEV2"),
                  (610, ["ann.lee"], "checkout-api: SEV3"))
    out = check.evaluate(rec, "t", ANSWERS, 700)
    assert not out.passed and "other possible answers" in out.detail
    # the right one alone still passes, and an unrelated range (another service) does not concern the task
    assert check.evaluate(_record((600, ["ann.lee"], "checkout-api: SEV2"), (620, ["ann.lee"], "search-svc: SEV1-3")),
                          "t", ANSWERS, 700).passed
