"""The leaderboard: averaging rules, error handling, schema file, HTML."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Literal

import pytest
from rich.console import Console

from firstday.env import EnvConfig
from firstday.errors import ConfigError
from firstday.report import Report, aggregate_run, build_report, render_html, render_report, report_schema_json
from firstday.run import EpisodeSummary, RunFolder, RunManifest
from firstday.scoring.cards import CheckpointResult, DayMetrics, TaskScore

ROOT = Path(__file__).resolve().parents[1]


def _task(task_id: str, score: float | None, *, family: str = "fam_a", priority: str = "normal",
          on_time: bool = True, latency: int | None = 10, clues: tuple[int, int] = (1, 1),
          unsupported: bool = False, error: str | None = None) -> TaskScore:
    cp = CheckpointResult(cp_id="c1", description="d", weight=1.0, passed=bool(score), answer_bearing=True,
                          attempted_at=100 if latency is not None else None, unsupported=unsupported, feedback="")
    return TaskScore(
        task_id=task_id, family=family, variant="v", difficulty="easy", meta_task=f"{family}/v/easy",
        priority=priority, arrival=0, deadline=100, score=score, success=None if score is None else score == 1.0,
        submitted_at=latency, on_time=on_time, latency=latency, clues_required=clues[0], clues_observed=clues[1],
        checkpoints=[cp], error=error,
    )


def _day(missed: int = 0, work_left: int = 0, qpc: float | None = None) -> DayMetrics:
    return DayMetrics(tasks=0, scored_tasks=0, score=None, success_rate=None, priority_weighted_score=None,
                      on_time_rate=None, urgent_latency=None, meetings_required=1, meetings_missed=missed,
                      meetings_late=0, work_left=work_left, clue_discovery=None, unsupported_rate=None,
                      questions_per_clue=qpc, messages_sent=0, tool_calls=0, errors=0)


def _episode(sid: str, tasks: list[TaskScore], *, status: Literal["ok", "error"] = "ok", missed: int = 0,
             work_left: int = 0, qpc: float | None = None,
             kind: Literal["agent", "infrastructure"] | None = "infrastructure") -> EpisodeSummary:
    return EpisodeSummary(scenario_id=sid, day_index=0, agent="a", status=status,
                          error="boom" if status == "error" else None, turns=3,
                          metrics=_day(missed, work_left, qpc), tasks=tasks,
                          error_kind=kind if status == "error" else None)


def _manifest(agent: str = "a", suite_hash: str = "h" * 64, n: int = 4) -> RunManifest:
    return RunManifest(agent=agent, env_config=EnvConfig(), suite_path="s", suite_name="smoke",
                       suite_hash=suite_hash, n_episodes=n, firstday_version="0", created_at="2020-01-01T00:00:00")


def test_micro_averages_over_tasks_and_day_means() -> None:
    episodes = [
        # day 1: one task, perfect, urgent
        _episode("s0", [_task("t1", 1.0, priority="urgent", latency=20)], missed=1, work_left=0, qpc=2.0),
        # day 2: three tasks, all zero, one not on time
        _episode("s1", [_task("t2", 0.0, clues=(2, 0), unsupported=True), _task("t3", 0.0, on_time=False),
                        _task("t4", 0.0, family="fam_b", priority="low")], missed=0, work_left=1),
    ]
    row = aggregate_run("r", "r", _manifest(), episodes)
    assert row.tasks == 4 and row.episodes == 2 and row.error_episodes == 0
    assert row.score == pytest.approx(0.25)  # micro over tasks, not the mean of day means (0.5)
    assert row.success_rate == pytest.approx(0.25)
    assert row.priority_weighted_score == pytest.approx(4 / (4 + 2 + 2 + 1))
    assert row.on_time_rate == pytest.approx((4 + 2 + 1) / 9)
    assert row.urgent_latency == pytest.approx(20)
    assert row.meetings_missed == pytest.approx(0.5) and row.work_left == pytest.approx(0.5)
    assert row.questions_per_clue == pytest.approx(2.0)  # days where undefined are left out
    assert row.clue_discovery == pytest.approx(3 / 5)
    assert row.unsupported_rate == pytest.approx(1 / 4)
    fams = {f.family: f for f in row.families}
    assert fams["fam_a"].tasks == 3 and fams["fam_a"].score == pytest.approx(1 / 3)
    assert fams["fam_b"].tasks == 1 and fams["fam_b"].success_rate == 0.0


def test_weights_are_per_task_when_task_ids_repeat_across_scenarios() -> None:
    # every scenario numbers its tasks t1, t2, ...: a task's weight is its own priority, not that of the last
    # task with the same id; the point estimate is the ratio its interval resamples
    episodes = [_episode("s0", [_task("t1", 1.0, priority="urgent"), _task("t2", 0.0, on_time=False)]),
                _episode("s1", [_task("t1", 0.0, priority="low", on_time=False), _task("t2", 0.0, on_time=False)])]
    row = aggregate_run("r", "r", _manifest(), episodes)
    assert row.priority_weighted_score == pytest.approx(4 / (4 + 2 + 1 + 2))
    assert row.on_time_rate == pytest.approx(4 / 9) and row.submitted_on_time_rate == pytest.approx(0.0)


def test_infrastructure_errors_are_left_out_and_scoring_defects_count_zero() -> None:
    episodes = [
        _episode("s0", [_task("t1", 1.0), _task("t2", 0.0, error="scoring defect in checkpoint c1: KeyError")]),
        _episode("s1", [_task("t3", 0.0)], status="error", missed=3),
    ]
    row = aggregate_run("r", "r", _manifest(), episodes)
    assert row.error_episodes == 1 and row.infrastructure_errors == 1 and row.agent_errors == 0
    assert row.task_errors == 1 and row.tasks == 2
    assert row.score == 0.5 and row.success_rate == 0.5, "a scoring defect counts 0, never dropped"
    assert row.meetings_missed == 0.0  # the error day's figures are left out
    # an older run folder stored a defect's score as None: it still counts 0
    old = aggregate_run("r", "r", _manifest(), [_episode("s0", [_task("t1", 1.0), _task("t2", None, error="x")])])
    assert old.score == 0.5 and old.task_errors == 1


@pytest.mark.parametrize("kind", ["agent", None])  # None: saved before attribution, charged to the agent
def test_agent_errors_score_every_task_zero_and_stay_in_the_averages(kind: Literal["agent"] | None) -> None:
    episodes = [
        _episode("s0", [_task("t1", 1.0)]),
        # checkpoints say 1.0, and a task whose scoring failed: all count as 0 in an agent-error episode
        _episode("s1", [_task("t2", 1.0), _task("t3", None, error="checkpoint c1: KeyError")], status="error",
                 missed=3, kind=kind),
    ]
    row = aggregate_run("r", "r", _manifest(), episodes)
    assert row.error_episodes == 1 and row.agent_errors == 1 and row.infrastructure_errors == 0
    assert row.tasks == 3 and row.task_errors == 0
    assert row.score == pytest.approx(1 / 3) and row.success_rate == pytest.approx(1 / 3)
    assert row.meetings_missed == pytest.approx(1.5)  # the agent-error day's figures count too


def test_nothing_scored_gives_none_not_zero() -> None:
    row = aggregate_run("r", "r", _manifest(), [_episode("s0", [], status="error")])
    assert row.tasks == 0 and row.score is None and row.success_rate is None and row.error_episodes == 1


def _write_run(path: Path, manifest: RunManifest, episodes: list[EpisodeSummary]) -> Path:
    folder = RunFolder(path)
    folder.write_manifest(manifest)
    for ep in episodes:
        folder.write_episode(ep, [])
    return path


def test_build_report_sorts_labels_and_warns(tmp_path: Path) -> None:
    weak = _write_run(tmp_path / "x" / "weak", _manifest("a"), [_episode("s0", [_task("t1", 0.0)])])
    strong = _write_run(tmp_path / "y" / "strong", _manifest("b", suite_hash="g" * 64),
                        [_episode("s0", [_task("t1", 1.0)]), _episode("s1", [], status="error")])
    report = build_report([weak, strong])
    assert [r.label for r in report.runs] == ["strong", "weak"]
    text = " ".join(report.warnings)
    assert "different suites" in text and "incomplete" in text and "error episode" in text
    assert report.families == ["fam_a"]
    assert Report.model_validate_json(report.model_dump_json()) == report
    out = io.StringIO()
    render_report(report, Console(file=out, width=120))
    assert "100.0%" in out.getvalue() and "Per family" in out.getvalue()


def test_scoring_defects_are_flagged_in_red(tmp_path: Path) -> None:
    run = _write_run(tmp_path / "run", _manifest(), [_episode("s0", [
        _task("t1", 1.0), _task("t2", 0.0, error="scoring defect in checkpoint c1: KeyError: 'x'")])])
    report = build_report([run])
    assert any("scoring defects: 1" in w for w in report.warnings)
    out = io.StringIO()
    render_report(report, Console(file=out, width=200, force_terminal=True, color_system="standard"))
    line = next(ln for ln in out.getvalue().splitlines() if "scoring defects: 1" in ln)
    assert "\x1b[1;31m" in line, "the defect count is printed in bold red"
    assert report.runs[0].score == 0.5, "the defective task counts 0"


def test_same_folder_names_get_distinct_labels(tmp_path: Path) -> None:
    a = _write_run(tmp_path / "1" / "run", _manifest(), [])
    b = _write_run(tmp_path / "2" / "run", _manifest(), [])
    labels = [r.label for r in build_report([a, b], sort=False).runs]
    assert len(set(labels)) == 2


def test_non_run_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a run folder"):
        build_report([tmp_path])
    with pytest.raises(ConfigError, match="does not exist"):
        build_report([tmp_path / "missing"])
    with pytest.raises(ConfigError, match="no run folders"):
        build_report([])


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    run = _write_run(tmp_path / "<b>run", _manifest(), [_episode("s0", [_task("t1", 1.0)])])
    html = render_html(build_report([run]), title="demo")
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    for external in ("http://", "https://", "<script", "<link", "src=", "@import"):
        assert external not in html
    assert "&lt;b&gt;run" in html and "<b>run" not in html
    assert "100.0%" in html and "fam_a" in html


def test_report_schema_file_is_up_to_date() -> None:
    saved = (ROOT / "docs" / "report-schema.json").read_text(encoding="utf-8")
    assert json.loads(saved) == json.loads(report_schema_json()), (
        "docs/report-schema.json is stale; regenerate it with: python -c \"from firstday.report import "
        "report_schema_json; open('docs/report-schema.json', 'w').write(report_schema_json())\"")
