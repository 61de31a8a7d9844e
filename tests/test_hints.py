"""Tiered hints (docs/hints.md): each tier discloses exactly what it promises, never an answer.

Every (family, variant, difficulty) over several seeds: the oracle's required clues (the checkpoints'
clue ids) are checked against what each tier's disclosure and text give away.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import all_meta_tasks, preset_days, run_agent, single_task_day
from firstday.agents import AgentContext, make_agent
from firstday.cli import app
from firstday.env import EnvConfig, events_of
from firstday.env.episode import HINT_TIERS as ENV_TIERS
from firstday.env.trace import ObservationEvent, ToolCallEvent
from firstday.report.hints import HintLadder
from firstday.suites import Day, Scenario
from firstday.tasks.hints import (
    DELIVERABLE_TOOLS,
    HINT_TIERS,
    disclosure,
    hidden_values,
    leaks,
    public_text,
    required_clues,
    task_hint,
)
from firstday.tasks.model import TaskInstance
from firstday.world import Company

SEEDS = (0, 1, 2)
runner = CliRunner()


@functools.cache
def _instances() -> list[tuple[TaskInstance, Company]]:
    out = []
    for meta in all_meta_tasks():
        for seed in SEEDS:
            scenario, day = single_task_day(meta, seed, label="hints")
            out += [(t, scenario.company) for t in day.tasks]
    return out


def _ids(pairs: list[tuple[TaskInstance, Company]]) -> list[str]:
    return [p[0].meta_task for p in pairs]


def _token(text: str, value: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", text, re.IGNORECASE) is not None


def _clue_files(task: TaskInstance) -> list[str]:
    req = set(required_clues(task))
    return [f.path for f in task.files if set(f.clue_ids) & req]


def _clue_urls(task: TaskInstance) -> list[str]:
    req = set(required_clues(task))
    return [p.url for p in task.pages if (set(p.clue_ids) | {c for v in p.versions for c in v.clue_ids}) & req]


def test_the_environment_uses_the_one_definition_of_the_tiers() -> None:
    assert ENV_TIERS is HINT_TIERS


def test_every_family_is_covered() -> None:
    from firstday.tasks import families

    assert {t.family for t, _ in _instances()} == set(families())


@pytest.mark.parametrize("i", range(len(SEEDS)))
def test_none_discloses_nothing(i: int) -> None:
    for task, company in _instances()[i::len(SEEDS)]:
        d = disclosure(task, company, "none")
        assert not (d.clue_ids or d.sources or d.handles or d.paths or d.urls or d.meeting_ids or d.steps)
        assert task_hint(task, company, "none") is None


def test_where_locates_every_required_clue_coarsely() -> None:
    for task, company in _instances():
        d = disclosure(task, company, "where")
        text = task_hint(task, company, "where") or ""
        assert d.clue_ids == required_clues(task), task.meta_task
        for s in d.sources:
            assert s.place and s.exact is None and not s.shared_by and not s.referrers and not s.label
        located = {c for s in d.sources for c in s.clue_ids}
        assert located == set(required_clues(task)), task.meta_task
        assert not (d.handles or d.paths or d.urls or d.meeting_ids or d.steps)
        # never a colleague's handle or name, never a clue file's path or a page's full address
        for e in company.employees:
            assert not _token(text, e.handle), (task.meta_task, e.handle, text)
            assert e.name not in text, (task.meta_task, e.name, text)
        for p in _clue_files(task):
            assert p not in text, (task.meta_task, p)
        for u in _clue_urls(task):
            assert u not in text, (task.meta_task, u)
        for s in d.sources:  # the coarse place is in the text
            if s.kind in ("file", "image", "page"):
                assert s.place in text
            if s.kind == "colleague" and s.place:
                assert f"in {s.place}" in text


def test_whom_names_every_required_clues_source() -> None:
    withheld_families = set()
    for task, company in _instances():
        d = disclosure(task, company, "whom")
        text = task_hint(task, company, "whom") or ""
        hidden = hidden_values(task, company)
        assert d.clue_ids == required_clues(task), task.meta_task
        for clue in required_clues(task):
            sources = [s for s in d.sources if clue in s.clue_ids]
            assert sources, (task.meta_task, clue)
            for s in sources:
                if s.exact is not None:
                    assert _token(text, s.exact) if s.kind == "colleague" else s.exact in text, (task.meta_task, s)
                else:  # withheld only because naming the source would name an answer
                    withheld_families.add(task.family)
                    assert s.kind == "colleague" and s.withheld and s.withheld in text, (task.meta_task, s)
                    holders = {f.holder for f in task.facts if clue in f.clue_ids}
                    assert holders <= hidden, (task.meta_task, holders)
                    assert s.referrers or (s.place and s.place in text), (task.meta_task, s)
                for h in [*s.shared_by, *s.referrers]:
                    assert _token(text, h), (task.meta_task, h)
        # every clue file is named exactly, and who shares a hidden one (unless that is an answer)
        for f in task.files:
            if set(f.clue_ids) & set(required_clues(task)):
                assert f.path in text and f.path in d.paths, (task.meta_task, f.path)
                sharers = {x.holder for x in task.facts if f.path in x.shares_files}
                if f.hidden and sharers - hidden:
                    assert any(_token(text, h) for h in sharers - hidden), (task.meta_task, f.path)
        for u in _clue_urls(task):
            assert u in text and u in d.urls
        req = set(required_clues(task))
        for m in task.meetings:
            if set(m.clue_ids) & req:
                assert m.meeting_id in text and m.meeting_id in d.meeting_ids
        # the colleagues the text names are the disclosure's
        for e in company.employees:
            if _token(text, e.handle) and not _token(task.objective, e.handle):
                assert e.handle in d.handles, (task.meta_task, e.handle)
    # the only families whose whom tier cannot name a holder: the holder is the answer to find
    assert withheld_families <= {"website_monitor"}, withheld_families


def test_steps_lists_every_exploration_step() -> None:
    for task, company in _instances():
        d = disclosure(task, company, "steps")
        text = task_hint(task, company, "steps") or ""
        whom = task_hint(task, company, "whom") or ""
        hidden = hidden_values(task, company)
        # everything of whom
        for line in whom.splitlines()[1:]:
            assert line in text, (task.meta_task, line)
        assert len(d.steps) == len(task.solution)
        for st, call in zip(d.steps, task.solution, strict=True):
            args = call.arguments if isinstance(call.arguments, dict) else {}
            assert st.tool == call.name and f"{st.n}. " in text
            if call.name in DELIVERABLE_TOOLS:
                assert st.deliverable
                assert set(st.arguments) <= {"task_id", "path"}
                continue
            for k, v in args.items():
                carries = bool(leaks(v if isinstance(v, str) else json.dumps(v), hidden))
                if k in st.withheld:
                    assert carries or call.name == "send_message", (task.meta_task, call, k)
                else:
                    assert st.arguments[k] == v, (task.meta_task, call, k)
            shown = st.arguments
            for key in ("path", "url", "meeting_id", "until", "for_message_from"):
                if key in shown:
                    assert str(shown[key]) in text, (task.meta_task, key, shown[key])
            if call.name == "send_message" and "to" in shown:
                for h in [shown["to"]] if isinstance(shown["to"], str) else shown["to"]:
                    assert _token(text, h)
            if call.name == "send_message" and "text" in shown:
                assert json.dumps(shown["text"]) in text


def _answer_strings(task: TaskInstance) -> set[str]:
    """An independent flattening of the answers (strings of 3+ characters, numbers beyond +-100)."""
    out: set[str] = set()

    def walk(v: object) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, bool) or v is None:
            return
        elif isinstance(v, int | float):
            if abs(v) >= 100:
                out.add(str(int(v)) if float(v).is_integer() else str(v))
        elif isinstance(v, str) and len(v.strip()) >= 3:
            out.add(v.strip())

    walk(task.answers)
    return out


@pytest.mark.parametrize("tier", ["where", "whom", "steps"])
def test_no_tier_leaks_answers_or_checkpoints(tier: str) -> None:
    for task, company in _instances():
        text = task_hint(task, company, tier) or ""
        assert not leaks(text, hidden_values(task, company)), task.meta_task
        public = public_text(task)
        for v in _answer_strings(task):
            if not _token(public, v):
                assert not _token(text, v), (task.meta_task, tier, v, text)
        # answers of the deliverable steps (the submitted answer, a written file) never appear
        for call in task.solution:
            if call.name in ("submit", "write_file", "edit_file"):
                args = call.arguments if isinstance(call.arguments, dict) else {}
                body = args.get("answer", args.get("content", args.get("new_text")))
                if isinstance(body, str) and len(body) >= 20:
                    assert body not in text
        for cp in task.checkpoints:
            if len(cp.description) >= 15 and cp.description not in task.objective:
                assert cp.description not in text, (task.meta_task, cp.description)
            assert json.dumps(cp.check.model_dump()) not in text


def test_hints_name_nothing_of_other_tasks() -> None:
    for scenario, day in preset_days("hard", seed=5, scenarios=3):
        for task in day.tasks:
            own = {f.path for f in task.files} | {p.url for p in task.pages} | {m.meeting_id for m in task.meetings}
            others = {x for t in day.tasks if t.task_id != task.task_id
                      for x in [*(f.path for f in t.files), *(p.url for p in t.pages),
                                *(m.meeting_id for m in t.meetings)]} - own
            for tier in ("where", "whom", "steps"):
                text = task_hint(task, scenario.company, tier) or ""
                for x in others:
                    if x not in task.objective:
                        assert not _token(text, x), (task.meta_task, tier, x)


# ---- delivery ------------------------------------------------------------------------------------------

def _day() -> tuple[Scenario, Day]:
    return preset_days("smoke", seed=3, scenarios=1)[0]


def test_env_delivers_hints_in_observations_and_trace() -> None:
    scenario, day = _day()
    result = run_agent("heuristic", scenario, day, EnvConfig(hints="whom"))
    delivered = [h for e in events_of(result.trace, ObservationEvent) for h in e.data.hints]
    assert {h.task_id for h in delivered} == {t.task_id for t in day.tasks}
    by_id = {t.task_id: t for t in day.tasks}
    for h in delivered:
        assert h.tier == "whom"
        assert h.text == task_hint(by_id[h.task_id], scenario.company, "whom")
    plain = run_agent("heuristic", scenario, day, EnvConfig())
    assert not any(e.data.hints for e in events_of(plain.trace, ObservationEvent))


def test_heuristic_reads_and_asks_what_the_hint_names() -> None:
    scenario, day = _day()
    with_hint = run_agent("heuristic", scenario, day, EnvConfig(hints="whom"))
    made = [(e.data.name, e.data.arguments) for e in events_of(with_hint.trace, ToolCallEvent)
            if isinstance(e.data.arguments, dict)]
    read = {args.get("path") for name, args in made if name == "read_file"}
    asked = {args.get("to") for name, args in made if name == "send_message"}
    for task in day.tasks:
        d = disclosure(task, scenario.company, "whom")
        assert set(d.paths) <= read
        assert {h for h in d.handles if h != scenario.company.trainee.handle} <= asked


def test_heuristic_without_hints_is_unchanged() -> None:
    """No hint: the extra-sources hook gives nothing, and the calls are those of the objective alone."""
    scenario, day = _day()
    agent = make_agent("heuristic", AgentContext(scenario=scenario, day=day))
    assert agent._extra_sources(day.tasks[0].public()) == ([], [])  # type: ignore[attr-defined]
    a = run_agent("heuristic", scenario, day, EnvConfig())
    b = run_agent("heuristic", scenario, day, EnvConfig(hints="none"))
    calls = [[e.data for e in events_of(r.trace, ToolCallEvent)] for r in (a, b)]
    assert calls[0] == calls[1]


# ---- the ladder over the CLI ---------------------------------------------------------------------------

def test_ladder_command(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    res = runner.invoke(app, ["generate", "--preset", "smoke", "--seed", "4", "--out", str(suite)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "ladder"
    args = ["hints", str(suite), "--agent", "oracle", "--out", str(out), "--tiers", "none,whom,steps", "-c", "2"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Hint ladder" in res.output
    ladder = HintLadder.model_validate_json((out / "hints.json").read_text())
    assert ladder.tiers == ["none", "whom", "steps"]
    for tier in ladder.tiers:  # the oracle solves everything whatever the hint
        row = ladder.row(tier)
        assert row is not None and row.tasks > 0 and row.score == 1.0 and row.success_rate == 1.0
    assert (out / "hints.png").read_bytes()[:4] == b"\x89PNG"
    trace = next((out / "whom" / "traces").glob("*.jsonl")).read_text()
    assert '"hints"' in trace
    # resumable: a rerun runs nothing new
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "0 episode(s) run" in res.output
    # errors are one line, exit code 2
    res = runner.invoke(app, ["hints", str(suite), "--agent", "oracle", "--out", str(out), "--tiers", "none,lots"])
    assert res.exit_code == 2 and "error:" in res.output and "--tiers" in res.output


def test_run_hint_ladder_without_the_cli(tmp_path: Path) -> None:
    """The library function behind 'firstday hints': one run per tier, in order, each with its tier and the
    base config's other settings; bad tiers are refused before anything runs."""
    from firstday.errors import ConfigError
    from firstday.report.hints import build_ladder
    from firstday.run import RunFolder, run_hint_ladder
    from firstday.suites import generate_suite, preset, save_suite

    spec = preset("smoke", 5).model_copy(update={"scenarios": 1})
    save_suite(spec, generate_suite(spec), tmp_path / "suite")
    done: list[str] = []
    summaries = run_hint_ladder(tmp_path / "suite", "oracle", tmp_path / "ladder", ["steps", "none"],
                                env_config=EnvConfig(text_only=True),
                                on_run=lambda tier, summary, seconds: done.append(tier))
    assert list(summaries) == done == ["steps", "none"]
    for tier, summary in summaries.items():
        config = RunFolder(summary.out_dir).read_manifest().env_config
        assert summary.out_dir == tmp_path / "ladder" / tier and config.hints == tier and config.text_only
    assert build_ladder(tmp_path / "ladder", ["none", "steps"]).row("steps") is not None
    for bad in (["none", "lots"], [], ["none", "none"]):
        with pytest.raises(ConfigError, match="--tiers"):
            run_hint_ladder(tmp_path / "suite", "oracle", tmp_path / "bad", bad)
    assert not (tmp_path / "bad").exists()


def test_ladder_refuses_different_instances(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from firstday.errors import ConfigError
    from firstday.report.hints import build_ladder
    from firstday.run import RunFolder, run_suite
    from firstday.suites import generate_suite, preset, save_suite

    suites = []
    for seed in (6, 7):
        path = tmp_path / f"suite{seed}"
        spec = preset("smoke", seed).model_copy(update={"scenarios": 1})
        save_suite(spec, generate_suite(spec), path)
        suites.append(path)
    run_suite(suites[0], "noop", tmp_path / "a" / "none", env_config=EnvConfig(hints="none"))
    run_suite(suites[0], "noop", tmp_path / "a" / "whom", env_config=EnvConfig(hints="whom"))
    assert build_ladder(tmp_path / "a", ["none", "whom"]).row("whom") is not None
    run_suite(suites[1], "noop", tmp_path / "a" / "steps", env_config=EnvConfig(hints="steps"))
    with pytest.raises(ConfigError, match="different suites"):
        build_ladder(tmp_path / "a", ["none", "whom", "steps"])
    original = RunFolder.read_episodes

    def tampered(self: RunFolder) -> list:  # type: ignore[type-arg]
        eps = original(self)
        if self.path.name == "whom":
            eps = [e.model_copy(update={"instance_hash": "0" * 64}) for e in eps]
        return eps

    monkeypatch.setattr(RunFolder, "read_episodes", tampered)
    with pytest.raises(ConfigError, match="instance hashes differ"):
        build_ladder(tmp_path / "a", ["none", "whom"])


def test_a_follow_up_hint_counts_the_clues_of_the_task_it_builds_on() -> None:
    """A dependent task's checkpoints rest on the earlier task's clues too: its hint counts them among the pieces
    it depends on and says they are the earlier task's result, without locating them (no data of another task
    in a hint: the earlier task's own hint, at the same tier, locates them)."""
    from firstday.tasks.hints import disclosure, required_clues

    scenario, day = single_task_day(("sales_analysis", "bonus_payout", "medium"), seed=1, label="follow-up-hint")
    earlier, task = day.tasks
    assert task.depends_on == [earlier.task_id]
    earlier_clues = {c.clue_id for c in earlier.clues}
    for tier in ("where", "whom", "steps"):
        d = disclosure(task, scenario.company, tier)
        assert d.builds_on == [earlier.task_id]
        assert d.earlier_clue_ids and set(d.earlier_clue_ids) <= earlier_clues
        assert sorted([*d.clue_ids, *d.earlier_clue_ids]) == sorted(required_clues(task))
        text = task_hint(task, scenario.company, tier)
        assert text is not None
        assert f"depends on {len(required_clues(task))} pieces" in text and f"result of {earlier.task_id}" in text
        assert not any(p in text for f in earlier.files for p in [f.path])  # the earlier task's sources: not here
    assert disclosure(earlier, scenario.company, "where").earlier_clue_ids == []
