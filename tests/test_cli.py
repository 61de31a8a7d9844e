"""The command line: demo, families, agents, generate, run, report, and clear errors (exit code 2)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from firstday.agents import agent_names
from firstday.cli import app
from firstday.report import Report
from firstday.tasks.family import families

runner = CliRunner()


def invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def _hash(output: str) -> str:
    found = re.search(r"content hash: ([0-9a-f]{64})", output)
    assert found, output
    return found.group(1)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "suite"
    res = invoke("generate", "--preset", "smoke", "--seed", "2", "--out", out)
    assert res.exit_code == 0, res.output
    assert "dropped: 0 drawn task(s)" in res.stdout  # the count is printed even when nothing was left out
    return out


def test_generate_prints_how_many_drawn_tasks_were_left_out(tmp_path: Path) -> None:
    # six hard inbox-triage tasks cannot all fit one working day (tests/test_generate_stream.py)
    spec = {"name": "crowded", "scenarios": 1, "tasks_per_day": [5, 6], "families": ["inbox_triage"],
            "difficulty": {"hard": 1}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    res = invoke("generate", "--spec", tmp_path / "spec.json", "--out", tmp_path / "suite")
    assert res.exit_code == 0, res.output
    n_dropped = json.loads((tmp_path / "suite" / "manifest.json").read_text())["n_dropped"]
    assert n_dropped > 0 and f"dropped: {n_dropped} drawn task(s)" in res.stdout


def _row(output: str, name: str) -> str:
    """The leaderboard line of one run (the first table that lists it)."""
    return next(line for line in output.splitlines() if line.strip().startswith(name + " "))


def test_demo_prints_leaderboard_and_writes_everything(tmp_path: Path) -> None:
    res = invoke("demo", "--out", tmp_path / "demo")
    assert res.exit_code == 0, res.output
    assert "Leaderboard" in res.stdout and "Scheduling and exploration" in res.stdout
    assert _row(res.stdout, "oracle").count("100.0%") == 3  # success, score, priority-weighted score
    assert _row(res.stdout, "noop").count("0.0%") == 3
    assert (tmp_path / "demo" / "report.html").is_file()
    assert "learning gain" in res.stdout and (tmp_path / "demo" / "learning" / "score_by_day.png").is_file()
    learning = json.loads((tmp_path / "demo" / "learning" / "learning.json").read_text())
    assert learning["agent"] == "heuristic-learning" and learning["gain"]["value"] > 0
    report = Report.model_validate_json(invoke("report", "--json", *sorted(
        (tmp_path / "demo" / "runs").iterdir())).stdout)
    by_agent = {r.agent: r for r in report.runs}
    assert set(by_agent) == {"oracle", "heuristic", "guess", "noop"}
    assert by_agent["oracle"].success_rate == 1.0 and by_agent["noop"].score == 0.0
    assert by_agent["guess"].unsupported_rate == 1.0  # the guessing agent is caught
    again = invoke("demo", "--out", tmp_path / "demo")
    assert again.exit_code == 0 and "reusing" in again.stdout and "already done" in again.stdout


def test_demo_in_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    proc = subprocess.run([sys.executable, "-m", "firstday.cli", "demo", "--out", str(tmp_path / "demo")],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Leaderboard" in proc.stdout and "report.html" in proc.stdout and not proc.stderr
    version = subprocess.run([sys.executable, "-m", "firstday", "--version"], capture_output=True, text=True,
                             timeout=60, check=False)
    assert version.returncode == 0 and version.stdout.startswith("firstday ")


def test_families_lists_the_registry() -> None:
    res = invoke("families", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    registry = families()
    assert [r["name"] for r in rows] == list(registry)
    for r in rows:
        assert r["n_meta_tasks"] == len(registry[r["name"]].variants) * 3 == len(r["meta_tasks"])
        assert r["knobs"] and r["domains"] and r["modalities"] and r["title"]
        assert r["dependent_meta_tasks"] == [f"{r['name']}/{v}/{d}" for v in r["dependent_variants"]
                                             for d in ("easy", "medium", "hard")]
    by_name = {r["name"]: r for r in rows}
    assert by_name["sales_analysis"]["dependent_variants"] == ["bonus_payout"]  # the follow-ups are listed
    assert "sales_analysis/bonus_payout/hard" in by_name["sales_analysis"]["dependent_meta_tasks"]
    table = invoke("families")
    assert table.exit_code == 0 and all(name in table.stdout for name in registry)
    assert "(builds on)" in table.stdout


def test_agents_lists_every_agent() -> None:
    res = invoke("agents")
    assert res.exit_code == 0
    assert all(name in res.stdout for name in agent_names())


def test_generate_prints_hash_and_is_deterministic(tmp_path: Path) -> None:
    a = invoke("generate", "--preset", "smoke", "--seed", "7", "--out", tmp_path / "a")
    b = invoke("generate", "--preset", "smoke", "--seed", "7", "--out", tmp_path / "b")
    c = invoke("generate", "--preset", "smoke", "--seed", "8", "--out", tmp_path / "c")
    assert a.exit_code == b.exit_code == c.exit_code == 0, a.output
    assert _hash(a.stdout) == _hash(b.stdout) != _hash(c.stdout)
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["content_hash"] == _hash(a.stdout)
    assert "scenarios" in a.stdout and "tasks" in a.stdout and "generated in" in a.stdout


def test_generate_from_spec_file(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "mine", "scenarios": 1, "seed": 3}))
    res = invoke("generate", "--spec", spec, "--out", tmp_path / "s")
    assert res.exit_code == 0, res.output
    assert "'mine' (seed 3)" in res.stdout and "1 scenarios" in res.stdout


def test_run_and_report_json_round_trip(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = invoke("run", suite, "--agent", "oracle", "--out", out)
    assert res.exit_code == 0, res.output
    assert "Leaderboard" in res.stdout
    rep = invoke("report", out, "--json", "--html", tmp_path / "r.html")
    assert rep.exit_code == 0, rep.output
    report = Report.model_validate_json(rep.stdout)
    (row,) = report.runs
    n_tasks = json.loads((suite / "manifest.json").read_text())["n_tasks"]
    assert row.agent == "oracle" and row.success_rate == 1.0 and row.tasks == n_tasks
    assert row.episodes == row.episodes_expected and row.error_episodes == 0
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


def test_run_resume_and_refusal(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert invoke("run", suite, "--agent", "heuristic", "--out", out).exit_code == 0
    episodes = sorted((out / "episodes").iterdir())
    episodes[0].unlink()
    res = invoke("run", suite, "--agent", "heuristic", "--out", out)
    assert res.exit_code == 0, res.output
    assert f"1 episode(s) run, {len(episodes) - 1} already done" in res.stdout
    assert episodes[0].exists()
    refused = invoke("run", suite, "--agent", "noop", "--out", out)
    assert refused.exit_code == 2
    assert "agent: 'heuristic' (saved) vs 'noop' (now)" in refused.stderr and "another --out" in refused.stderr


def test_agent_options_are_recorded(suite: Path, tmp_path: Path) -> None:
    res = invoke("run", suite, "--agent", "noop", "--out", tmp_path / "r", "-O", "temperature=0.5", "-O",
                 "model=gpt")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "r" / "run.json").read_text())
    assert manifest["agent_options"] == {"temperature": 0.5, "model": "gpt"}


def _bad_inputs(suite: Path, tmp: Path) -> list[tuple[list[str | Path], str]]:
    (tmp / "bad.json").write_text("{not json")
    (tmp / "invalid.json").write_text(json.dumps({"scenarios": 0}))
    (tmp / "fam.json").write_text(json.dumps({"families": ["no_such_family"]}))
    (tmp / "full").mkdir()
    (tmp / "full" / "x.txt").write_text("x")
    return [
        (["generate", "--preset", "nope", "--out", tmp / "g1"], "unknown preset 'nope'; known presets: "),
        (["generate", "--out", tmp / "g2"], "exactly one of --preset NAME or --spec FILE"),
        (["generate", "--spec", tmp / "bad.json", "--out", tmp / "g3"], "is not valid json"),
        (["generate", "--spec", tmp / "invalid.json", "--out", tmp / "g4"], "scenarios: "),
        (["generate", "--spec", tmp / "missing.json", "--out", tmp / "g5"], "does not exist"),
        (["generate", "--spec", tmp / "fam.json", "--out", tmp / "g6"], "unknown family 'no_such_family'"),
        (["generate", "--preset", "smoke", "--out", tmp / "full"], "already exists and is not empty"),
        (["run", tmp / "no-suite", "--agent", "oracle", "--out", tmp / "r1"], "does not exist; create one with"),
        (["run", tmp / "full", "--agent", "oracle", "--out", tmp / "r2"], "is not a suite"),
        (["run", suite, "--agent", "nobody", "--out", tmp / "r3"], "unknown agent 'nobody'; known agents:"),
        (["run", suite, "--agent", "oracle", "--out", tmp / "full"], "is not a run folder"),
        (["run", suite, "--agent", "oracle", "--out", tmp / "r4", "-O", "novalue"], "KEY=VALUE"),
        (["report", suite], "is not a run folder"),
        (["report", tmp / "no-run"], "does not exist"),
        (["demo", "--out", tmp / "full" / "x.txt"], "Not a directory"),
    ]


def test_bad_input_exits_2_with_one_line_message(suite: Path, tmp_path: Path) -> None:
    for args, expect in _bad_inputs(suite, tmp_path):
        res = invoke(*args)
        assert res.exit_code == 2, (args, res.output)
        assert expect in res.stderr, (args, res.stderr)
        assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
        assert "Traceback" not in res.output
        assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
