"""The sandbox end to end: the two escapes of the original report through the run_python tool of a real episode
whose suite is saved on disk, the run manifest recording the runner, the report showing it, and the CLI
flags (--require-sandbox on a kernel without Landlock: exit 2 with one line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from conftest import saved_suite
from firstday.cli import app
from firstday.env import DayEnv, EnvConfig
from firstday.report import build_report, render_report
from firstday.run import run_suite
from firstday.run.results import RunFolder
from firstday.sandbox import BACKENDS, _check, _registry
from firstday.suites import load_suite
from firstday.world.tools import ToolCall

needs_landlock = pytest.mark.skipif(BACKENDS["landlock"].available() is not None,
                                    reason=f"kernel sandbox unavailable: {BACKENDS['landlock'].available()}")


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("sbx") / "suite", "smoke", seed=0, scenarios=1)


def _escapes(suite_dir: Path) -> str:
    """Hostile code: escape 1 (patch the bootstrap's globals), then os.system('id'), the parent's command line
    and the suite's files; escape 2 (a workspace symlink + dir_fd) on the suite's scenario file."""
    scenario = str(next((suite_dir / "scenarios").glob("*.json")))
    return f"""
import os, sys
def attempt(name, fn):
    try:
        print(name, "->", repr(fn())[:400])
    except BaseException as exc:
        print(name, "refused", type(exc).__name__)
m = sys.modules["__main__"]
m._blocked = ("nothing",); m._inside = lambda *a: True
attempt("system", lambda: os.system("id"))
attempt("cmdline", lambda: open(f"/proc/{{os.getppid()}}/cmdline", "rb").read())
attempt("suite-list", lambda: os.listdir({str(suite_dir)!r}))
attempt("suite-read", lambda: open({scenario!r}).read())
""" + _check.DIR_FD_READ.format(secret=scenario)


def _episode_env(suite_dir: Path, sandbox: str) -> DayEnv:
    suite = load_suite(suite_dir)
    scenario = suite.scenario(suite.scenario_ids[0])
    return DayEnv(scenario, scenario.days[0], EnvConfig(sandbox=sandbox))


@needs_landlock
def test_the_reported_escapes_fail_through_run_python_of_a_real_episode(suite_dir: Path) -> None:
    scenario_file = next((suite_dir / "scenarios").glob("*.json"))
    secret_piece = scenario_file.read_text()[:60]
    res = _episode_env(suite_dir, "landlock").tools.execute(
        ToolCall(name="run_python", arguments={"code": _escapes(suite_dir)}))
    assert res.ok, res.content
    assert secret_piece not in res.content and "uid=" not in res.content, res.content
    for name in ("cmdline", "suite-list", "suite-read"):
        assert f"{name} refused PermissionError" in res.content, res.content
    assert "system -> 32512" in res.content or "system -> -1" in res.content  # no shell could start
    assert "refused: [Errno 13] Permission denied" in res.content  # escape 2: the kernel refuses the open
    assert "manifest.json" not in res.content  # the suite folder could not even be listed


def test_the_same_escapes_work_under_the_audit_runner(suite_dir: Path) -> None:
    """The contrast that makes the test above meaningful: the audit hook alone lets them through."""
    scenario_file = next((suite_dir / "scenarios").glob("*.json"))
    res = _episode_env(suite_dir, "audit").tools.execute(
        ToolCall(name="run_python", arguments={"code": _escapes(suite_dir)}))
    assert "uid=0" in res.content or "uid=" in res.content
    assert "suite-list -> [" in res.content and scenario_file.read_text()[:60] in res.content


@needs_landlock
def test_manifest_records_the_runner_and_the_report_shows_it(suite_dir: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    kernel = run_suite(suite_dir, "noop", tmp_path / "kernel")
    weak = run_suite(suite_dir, "noop", tmp_path / "weak", env_config=EnvConfig(sandbox="audit"))
    assert kernel.manifest.sandbox == "landlock" and weak.manifest.sandbox == "audit"
    assert RunFolder(tmp_path / "kernel").read_manifest().sandbox == "landlock"
    rep = build_report([tmp_path / "kernel", tmp_path / "weak"], sort=False)
    assert [r.sandbox for r in rep.runs] == ["landlock", "audit"]
    assert any("weak: run_python ran without the kernel sandbox" in w for w in rep.warnings)
    assert any("different run_python runners" in w for w in rep.warnings)
    console = Console(record=True, width=200)
    render_report(rep, console)
    text = console.export_text()
    assert f"kernel: suite {kernel.manifest.suite_hash[:12]}, run_python sandbox landlock" in text
    assert "weak: suite" in text and "run_python sandbox audit" in text
    assert not build_report([tmp_path / "kernel"]).warnings or all(
        "sandbox" not in w and "runners" not in w for w in build_report([tmp_path / "kernel"]).warnings)
    # an old manifest without the field still loads (and reports as unrecorded)
    path = tmp_path / "kernel" / "run.json"
    data = json.loads(path.read_text())
    del data["sandbox"]
    del data["env_config"]["sandbox"], data["env_config"]["require_sandbox"]
    path.write_text(json.dumps(data))
    assert RunFolder(tmp_path / "kernel").read_manifest().sandbox == ""
    assert build_report([tmp_path / "kernel"]).runs[0].sandbox == ""
    # resumed where the kernel sandbox is missing: both runners are recorded, and require_sandbox is no new run
    monkeypatch.setattr(type(BACKENDS["landlock"]), "available", lambda self: "no Landlock (test)")
    monkeypatch.setattr(_registry, "_warned", True)
    resumed = run_suite(suite_dir, "noop", tmp_path / "kernel", trials=2)
    assert resumed.manifest.sandbox == "audit+unrecorded"
    with pytest.raises(_registry.SandboxUnavailable):
        run_suite(suite_dir, "noop", tmp_path / "kernel", env_config=EnvConfig(require_sandbox=True))


runner = CliRunner()


@pytest.mark.parametrize("command", ["run", "hints", "learn"])
def test_cli_require_sandbox_without_landlock_exits_2_with_one_line(
        command: str, suite_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(type(BACKENDS["landlock"]), "available", lambda self: "this kernel has no Landlock (test)")
    out = tmp_path / "out"
    res = runner.invoke(app, [command, str(suite_dir), "-a", "noop", "-o", str(out), "--require-sandbox"])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "this kernel has no Landlock (test)" in res.stderr and "Traceback" not in res.output
    assert not out.exists(), "nothing may run before the check"


def test_cli_sandbox_check_prints_a_table_and_fails_on_a_surprise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_check, "_ATTEMPTS", _check._ATTEMPTS[:2])  # a few attempts: the full suite is tested
    res = runner.invoke(app, ["sandbox", "check", "--backend", "audit"])
    assert res.exit_code == 0, res.output
    assert "read-outside-file/hook-off" in res.stdout and "audit: 2 of 4 attempts refused, as expected" in res.stdout
    surprise = [[_check.Attempt(name="etc-passwd", description="expects refusal",
                                code="print('ESCAPED:etc-passwd')", disarm=False)]]
    monkeypatch.setattr(_check, "_ATTEMPTS", surprise)
    res = runner.invoke(app, ["sandbox", "check", "--backend", "audit"])
    assert res.exit_code == 1 and "NOT as expected: etc-passwd" in res.stdout
    bad = runner.invoke(app, ["sandbox", "check", "--backend", "docker"])
    assert bad.exit_code == 2 and "unknown docker" in bad.stderr
