"""How an external agent's process ran (``--agent-cmd``: sealed by the kernel or not) is kept per episode
(``EpisodeSummary.agent_sandbox``) and per run (``run.json``'s ``agent_sandbox``), and ``firstday report`` shows it
next to the run_python sandbox, warns of an unsealed one, and carries it in ``--json`` (issue 19, item 4); run
folders made before it was recorded still report."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from firstday.cli import app
from firstday.run.results import RunFolder, merge_agent_sandbox
from firstday.sandbox import agent_process as ap
from firstday.serve.command import PROTECTED_ENV, REQUIRE_ENV

pytest.importorskip("mcp")

REASON = ap.seal_unavailable_reason()
needs_seal = pytest.mark.skipif(REASON is not None, reason=f"agent seal unavailable: {REASON}")

# the suite fixture of the examples' tests (module-scoped: one suite for this module)
from test_serve_examples import suite  # noqa: E402, F401

#: a command that says hello and exits at once (its episodes end as agent errors: how it ran is recorded all the same)
SCRIPT = f"{sys.executable} -c \"print('hello')\""
UNSEALED_WARNING = "ran without the kernel seal"


@pytest.fixture(autouse=True)
def _harness_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (PROTECTED_ENV, REQUIRE_ENV):  # the CLI sets them for its workers: restored after each test
        monkeypatch.setenv(name, "")


def _unsealed_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ap, "seal_unavailable_reason", lambda: "this kernel has no Landlock (test)")


def _run(suite: Path, out: Path, *args: str) -> None:  # noqa: F811
    res = CliRunner().invoke(app, ["run", str(suite), "--out", str(out), "-q", *args])
    assert res.exit_code == 0, res.output


def _report(*outs: Path) -> tuple[str, dict[str, Any]]:
    runner = CliRunner()
    text = runner.invoke(app, ["report", *map(str, outs)], terminal_width=400)
    assert text.exit_code == 0, text.output
    as_json = runner.invoke(app, ["report", "--json", *map(str, outs)])
    assert as_json.exit_code == 0, as_json.output
    return " ".join(text.output.split()), json.loads(as_json.stdout)


def _manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return data


def _episode_backends(out: Path) -> set[str | None]:
    folder = RunFolder(out)
    try:
        return {e.agent_sandbox for e in folder.read_episodes()}
    finally:
        folder.close()


@needs_seal
def test_a_sealed_agent_cmd_run_shows_agent_process_in_run_json_and_the_report(
        suite: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "sealed"
    _run(suite, out, "--agent-cmd", SCRIPT, "--require-sandbox")
    assert _episode_backends(out) == {"agent-process"}
    assert _manifest(out)["agent_sandbox"] == "agent-process"
    text, data = _report(out)
    assert "run_python sandbox landlock, agent process sealed (agent-process)" in text
    assert UNSEALED_WARNING not in text
    assert data["runs"][0]["agent_sandbox"] == "agent-process"
    assert not any(UNSEALED_WARNING in w for w in data["warnings"])


def test_an_unsealed_agent_cmd_run_is_recorded_and_warned_of(
        suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _unsealed_kernel(monkeypatch)
    out = tmp_path / "unsealed"
    _run(suite, out, "--agent-cmd", SCRIPT)
    assert _episode_backends(out) == {"none"}
    assert _manifest(out)["agent_sandbox"] == "none"
    text, data = _report(out)
    assert "agent process NOT sealed (none)" in text
    assert f"unsealed: the external agent's process {UNSEALED_WARNING}" in text
    assert data["runs"][0]["agent_sandbox"] == "none"
    assert any(UNSEALED_WARNING in w for w in data["warnings"])


@needs_seal
def test_a_run_resumed_sealed_after_an_unsealed_start_is_mixed(
        suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    out = tmp_path / "run"
    with monkeypatch.context() as patched:
        _unsealed_kernel(patched)
        _run(suite, out, "--agent-cmd", SCRIPT)
    assert _manifest(out)["agent_sandbox"] == "none"
    _run(suite, out, "--agent-cmd", SCRIPT, "--trials", "2")  # the second trial's episodes run sealed
    assert _episode_backends(out) == {"none", "agent-process"}
    assert _manifest(out)["agent_sandbox"] == "mixed"
    text, data = _report(out)
    assert "agent process sealed in some episodes only (mixed)" in text
    assert data["runs"][0]["agent_sandbox"] == "mixed"
    assert any(UNSEALED_WARNING in w for w in data["warnings"])


def _strip_agent_sandbox(out: Path) -> None:
    """Make ``out`` look like a folder saved before the field existed: no ``agent_sandbox`` in run.json nor in the
    episode files (and their index rows, checksums included, to match)."""
    manifest = _manifest(out)
    del manifest["agent_sandbox"]
    (out / "run.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    db = sqlite3.connect(out / "results.sqlite")
    try:
        for file in sorted((out / "episodes").glob("*.json")):
            data = json.loads(file.read_text(encoding="utf-8"))
            del data["agent_sandbox"]
            text = json.dumps(data, indent=1) + "\n"
            file.write_text(text, encoding="utf-8")
            db.execute("UPDATE episodes SET summary = ?, sha256 = ? WHERE key = ?",
                       (text, hashlib.sha256(text.encode()).hexdigest(), file.stem))
        db.commit()
    finally:
        db.close()


def test_old_folders_without_the_field_still_report(
        suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _unsealed_kernel(monkeypatch)
    external, in_process = tmp_path / "external", tmp_path / "oracle"
    _run(suite, external, "--agent-cmd", SCRIPT)
    _run(suite, in_process, "-a", "oracle")
    assert _manifest(in_process)["agent_sandbox"] is None and _episode_backends(in_process) == {None}
    _strip_agent_sandbox(external)
    _strip_agent_sandbox(in_process)
    text, data = _report(external, in_process)
    rows = {r["label"]: r for r in data["runs"]}
    assert rows["external"]["agent_sandbox"] is None and rows["oracle"]["agent_sandbox"] is None
    assert rows["external"]["episodes"] == rows["external"]["episodes_expected"]  # nothing counted as damaged
    assert "external: suite" in text and "agent process unrecorded" in text
    assert "external: whether the external agent's process was sealed is not recorded" in text
    assert UNSEALED_WARNING not in text
    # the in-process agent's line says nothing about an agent process (it is the line before the external run's)
    oracle_line = text[text.index("oracle: suite"):]
    oracle_line = oracle_line[:oracle_line.index("external: suite")] if "external: suite" in oracle_line else \
        oracle_line[:oracle_line.index("Scheduling")]
    assert "run_python sandbox" in oracle_line and "agent process" not in oracle_line


def test_merging_the_episodes_backends() -> None:
    assert merge_agent_sandbox() is None and merge_agent_sandbox(None, None) is None
    assert merge_agent_sandbox("agent-process", None, "agent-process") == "agent-process"
    assert merge_agent_sandbox("none") == "none"
    assert merge_agent_sandbox("none", "agent-process") == "mixed"
    assert merge_agent_sandbox("mixed", "agent-process") == "mixed"
