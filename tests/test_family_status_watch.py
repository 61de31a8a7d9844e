"""Status watch and the mechanisms it needs: pages that change over virtual time (``PageAsset.versions``),
and plan steps ``wait(until=...)`` that block only their own task (oracle and day generator agree)."""

from __future__ import annotations

import re

import pytest

from conftest import describe_episode, run_agent, seeded_company, single_task_day
from firstday.env import DayEnv
from firstday.seeding import derive_seed
from firstday.suites import Day, Scenario, SuiteSpec, generate_day
from firstday.suites.schedule import simulate_oracle, wait_target
from firstday.tasks import Checkpoint, MessageCheck, SubmittedCheck, TaskInstance, get_family
from firstday.tasks.checks import MessageOnlyCheck
from firstday.tasks.library.status_watch import ALERT_WITHIN
from firstday.timefmt import fmt, parse
from firstday.world import PageAsset, PageVersion, ToolCall
from firstday.world.records import DayRecord, SentMessage

FAMILY = "status_watch"
VARIANTS = get_family(FAMILY).variants


# --- the page mechanism ----------------------------------------------------------------------------------
def _page() -> PageAsset:
    return PageAsset(url="http://intranet/dash", title="Dash", content="v0", clue_ids=["always"],
                     versions=[PageVersion(time=700, content="v2", clue_ids=["c2"]),
                               PageVersion(time=600, content="v1", clue_ids=["c1"])])


def test_page_versions_show_the_latest_version_at_the_current_time() -> None:
    page = _page()
    assert page.at(540) == ("v0", ["always"])
    assert page.at(599) == ("v0", ["always"])
    assert page.at(600) == ("v1", ["always", "c1"])
    assert page.at(699) == ("v1", ["always", "c1"])
    assert page.at(700) == ("v2", ["always", "c2"])  # versions need not be listed in time order
    assert PageAsset(url="u", title="t", content="only").at(10**6) == ("only", [])


def _unit_day(company_label: str = "pages") -> tuple[Scenario, Day]:
    company = seeded_company(company_label)
    task = TaskInstance(
        task_id="t1", family="unit", variant="v", difficulty="easy", objective="Watch the dashboard.",
        requester=company.mentor, arrival=540, priority="normal", deadline=1000, effort_minutes=5,
        pages=[_page()], solution=[],
        checkpoints=[Checkpoint(cp_id="done", description="submitted", answer_bearing=False, check=SubmittedCheck())],
    )
    day = Day(day_index=0, tasks=[task])
    return Scenario(scenario_id="pages", seed=0, company=company, days=[day]), day


def test_open_page_follows_the_virtual_clock_and_records_clues_per_version() -> None:
    scenario, day = _unit_day()
    env = DayEnv(scenario, day)
    env.reset()
    tools = env.tools

    def open_page() -> str:
        res = tools.execute(ToolCall(name="open_page", arguments={"url": "http://intranet/dash"}))
        assert res.ok
        return res.content

    assert open_page().endswith("v0")
    env.world.take_observation()  # clues count as observed once shown
    assert "always" in env.world.record.observed and "c1" not in env.world.record.observed
    assert tools.execute(ToolCall(name="wait", arguments={"until": "10:00"})).ok
    assert open_page().endswith("v1")
    env.world.take_observation()  # clues count as observed once shown
    assert env.world.record.observed["c1"] >= 600 and "c2" not in env.world.record.observed
    assert tools.execute(ToolCall(name="wait", arguments={"until": "11:40"})).ok
    assert open_page().endswith("v2")
    env.world.take_observation()  # clues count as observed once shown
    assert env.world.record.observed["c2"] >= 700


def test_wait_until_steps_block_only_their_own_task() -> None:
    assert wait_target(ToolCall(name="wait", arguments={"until": "14:05"})) == 845
    assert wait_target(ToolCall(name="wait", arguments={"for_message_from": "x"})) is None
    assert wait_target(ToolCall(name="wait", arguments={"until": "nonsense"})) is None
    assert wait_target(ToolCall(name="open_page", arguments={"until": "14:05"})) is None
    company = seeded_company("wait-until")

    def unit(tid: str, plan: list[ToolCall], priority: str) -> TaskInstance:
        return TaskInstance(task_id=tid, family="unit", variant="v", difficulty="easy", objective="x",
                            requester=company.mentor, arrival=540, priority=priority,
                            deadline=1000, effort_minutes=5, solution=plan, checkpoints=[Checkpoint(
                                cp_id="done", description="d", answer_bearing=False, check=SubmittedCheck())])

    watch = unit("t1", [ToolCall(name="wait", arguments={"until": "12:00"}),
                        ToolCall(name="submit", arguments={"task_id": "t1", "answer": 1})], "urgent")
    other = unit("t2", [ToolCall(name="calculator", arguments={"expression": "1+1"}),
                        ToolCall(name="submit", arguments={"task_id": "t2", "answer": 2})], "normal")
    finish = simulate_oracle([watch, other], [], company, 540)
    # the urgent watch waits for 12:00 while the other task is done first
    assert finish["t2"] < 600 and finish["t1"] >= 720
    day = Day(day_index=0, tasks=[watch, other])
    scenario = Scenario(scenario_id="wait-until", seed=0, company=company, days=[day])
    result = run_agent("oracle", scenario, day)
    scores = {t.task_id: t for t in result.score.tasks}
    assert scores["t1"].submitted_at is not None and scores["t1"].submitted_at >= 720
    assert scores["t2"].submitted_at is not None and scores["t2"].submitted_at < 600


# --- the family -------------------------------------------------------------------------------------------
def _values_after(task: TaskInstance, minute: int) -> dict[str, list[float]]:
    page = next(p for p in task.pages if "dashboards" in p.url)
    content, _ = page.at(minute)
    return {m.group(1): [float(x) for x in m.group(2).split(" | ")]
            for m in re.finditer(r"^\| ([\w-]+) \| ([\d. |]+?) \|$", content, re.M)}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_truth_is_recomputed_from_the_page_and_invisible_before_the_refresh(variant: str, difficulty: str) -> None:
    for seed in range(10):
        _, day = single_task_day((FAMILY, variant, difficulty), seed, label="watch-truth")
        task = day.tasks[0]
        runbook = next(f.content for f in task.files if f.hidden)
        thresholds = {s: float(t) for s, t in re.findall(r"^\| ([\w-]+) \| ([\d.]+) \|", runbook, re.M)}
        times = [int(h) * 60 + int(m) for h, m in re.findall(r"(\d\d):(\d\d)", task.objective.split(";")[0])]
        final = _values_after(task, times[-1])
        page = next(p for p in task.pages if "dashboards" in p.url)
        before, _ = page.at(times[0] - 1)
        for key, value in task.answers.items():
            if key.startswith("notify."):  # a value in breach is never shown before the refresh
                assert f" {value} " not in before, (seed, key)
        watched = re.search(r"(?:eye on|Watch) (\S+) on the", task.objective)
        if variant in ("breach", "all_clear"):
            assert watched and task.answers["value"] == final[watched.group(1)][1]
            assert task.answers["breached"] == (final[watched.group(1)][1] > thresholds[watched.group(1)])
            assert task.answers["breached"] == (variant == "breach")
        elif variant == "multi_service":
            assert task.answers["breached"] == sorted(s for s, v in final.items() if v[1] > thresholds[s])
        else:
            assert watched
            series = final[watched.group(1)][1:]
            flags = [v > thresholds[watched.group(1)] for v in series]
            k = next(i for i in range(1, len(flags)) if flags[i] and flags[i - 1])
            assert task.answers["alert_at"] == f"{times[k] // 60:02d}:{times[k] % 60:02d}"
            assert task.answers["value"] == series[k]
        assert task.deadline > times[0] and (task.latest_deadline or 0) >= task.deadline


def test_several_watch_tasks_on_one_day_are_all_solvable() -> None:
    spec = SuiteSpec(name="watch", families=[FAMILY], tasks_per_day=(3, 3))
    for seed in range(8):
        company = seeded_company("watch-crowd", seed)
        scenario_seed = derive_seed("watch-crowd", seed)
        meta = [(FAMILY, VARIANTS[(seed + i) % len(VARIANTS)], ("easy", "medium", "hard")[i]) for i in range(3)]
        day, _ = generate_day(company, spec, scenario_seed, 0, meta)  # type: ignore[arg-type]
        scenario = Scenario(scenario_id=f"watch-{seed}", seed=scenario_seed, company=company, days=[day])
        result = run_agent("oracle", scenario, day)
        assert result.score.metrics.score == 1.0 and not result.score.metrics.unsupported_rate, describe_episode(
            result, day)


def test_message_check_window_counts_only_alerts_soon_after_the_change() -> None:
    check = MessageCheck(to="ana", expected="v", since=600, within_minutes=30)
    answers = {"v": "93.4"}

    def outcome(*sent: tuple[int, str]) -> tuple[bool, str]:
        record = DayRecord(messages=[SentMessage(time=t, to=[to], text="disk at 93.4%") for t, to in sent])
        out = check.evaluate(record, "t1", answers, 1000)
        return out.passed, out.detail

    assert outcome((600, "ana"))[0] and outcome((630, "ana"))[0]
    assert outcome((631, "ana")) == (False, "the message reached the colleague it was meant for more than 30 minutes "
                                            "after the change")  # never by name: whom to tell may be the secret
    assert not outcome((599, "ana"))[0] and not outcome((620, "bob"))[0]
    assert outcome((700, "ana"), (610, "ana"))[0]  # one timely alert is enough
    assert not check.evaluate(DayRecord(messages=[SentMessage(time=610, to=["ana"], text="x")]), "t1", answers,
                              1000).passed
    with pytest.raises(ValueError):
        MessageCheck(to="ana", expected="v", within_minutes=30)


def _late(task: TaskInstance, minutes: int) -> list[ToolCall]:
    """The oracle's plan, but it waits ``minutes`` past the refresh that decides the task before looking."""
    plan = []
    for call in task.solution:
        if call.name == "wait" and isinstance(call.arguments, dict) and "until" in call.arguments:
            call = ToolCall(name="wait", arguments={"until": fmt(parse(str(call.arguments["until"])) + minutes)})
        plan.append(call)
    return plan


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "all_clear"])
def test_an_alert_after_the_window_fails_even_before_the_deadline(variant: str) -> None:
    """Alerting correctly but only after ALERT_WITHIN minutes (still before the deadline) fails the notify
    checkpoints; the oracle, which looks right after the refresh, passes them."""
    tested = 0
    for seed in range(40):
        scenario, day = single_task_day((FAMILY, variant, ("easy", "medium", "hard")[seed % 3]), seed,
                                        label="watch-late")
        task = day.tasks[0]
        since = next(cp.check.visible_from for cp in task.checkpoints if isinstance(cp.check, MessageOnlyCheck))
        assert since is not None
        late = since + ALERT_WITHIN + 5
        if task.deadline < late + 20 or any(m.start - 10 < late + 20 and m.end > late for m in day.meetings):
            continue  # no room to be late before the deadline (or the team meeting takes it)
        oracle = run_agent("oracle", scenario, day)
        assert oracle.score.metrics.score == 1.0, describe_episode(oracle, day)
        late_day = day.model_copy(deep=True)
        late_day.tasks[0].solution = _late(task, ALERT_WITHIN + 5)
        result = run_agent("oracle", scenario, late_day)  # the oracle replays the late plan
        ts = result.score.tasks[0]
        assert ts.submitted_on_time, describe_episode(result, late_day)
        for c in ts.checkpoints:
            if c.cp_id.startswith("notify-"):
                assert not c.passed and not c.passed_late, c
                assert f"more than {ALERT_WITHIN} minutes after the change" in c.feedback
            else:
                assert c.passed, (c, describe_episode(result, late_day))
        tested += 1
        if tested == 3:
            break
    assert tested == 3


def test_the_objective_states_the_alert_window() -> None:
    for variant in VARIANTS:
        _, day = single_task_day((FAMILY, variant, "medium"), 0, label="watch-window")
        task = day.tasks[0]
        windows = {cp.check.within_minutes for cp in task.checkpoints if isinstance(cp.check, MessageOnlyCheck)}
        assert windows <= {ALERT_WITHIN} and (windows or variant == "all_clear")
        assert f"within {ALERT_WITHIN} minutes of" in task.objective


# --- several watches on one day ----------------------------------------------------------------------------
def _alert_services(task: TaskInstance) -> set[str]:
    return {cp.cp_id.removeprefix("notify-") for cp in task.checkpoints if cp.cp_id.startswith("notify-")}


def test_no_two_watches_of_a_day_alert_about_one_service() -> None:
    """Seed 6003 s035 of ``standard`` (the oracle sweep): three watches need 16 dashboard rows of 12 services, so
    t19 drew from all of them and watched ``auth``, which t18 alerts about too, to the same owner. The oracle's
    t18 alert ("auth is at 88.0 %") then broke t19's rule that every message naming auth carries t19's value,
    which the sweep reported as an alert 35 minutes after the refresh. Now a watch never alerts about a
    service another watch of the day alerts about, and the oracle solves every watch of that day."""
    from firstday.suites import generate_scenario, preset

    scenario = generate_scenario(preset("standard", seed=6003), 35)
    (day,) = scenario.days
    watches = [t for t in day.tasks if t.family == FAMILY]
    assert len(watches) >= 3
    seen: set[str] = set()
    for task in watches:
        mine = _alert_services(task)
        assert not mine & seen, (task.task_id, mine & seen)
        seen |= mine
    result = run_agent("oracle", scenario, day)
    cards = {ts.task_id: ts for ts in result.score.tasks}
    for task in watches:
        if task.task_id not in day.skipped:
            assert cards[task.task_id].score == 1.0, describe_episode(result, day)
