"""A damaged run folder is told from an unfinished one: 'firstday report' reports the intact episodes and
says what is damaged, 'firstday run' repairs it (moves damaged files aside, rebuilds the index) and
reruns exactly what is missing or damaged, never an intact episode."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import saved_suite
from firstday.cli import app
from firstday.run import RunFolder, run_suite

KEY = "s001-d0"  # the episode the damage hits


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("suite") / "suite", "smoke", seed=5, scenarios=3)


@pytest.fixture(scope="module")
def pristine(suite_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pristine") / "run"
    run_suite(suite_dir, "oracle", out, trials=2)  # 6 episodes
    return out


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _episode(root: Path) -> Path:
    return root / "episodes" / f"{KEY}.json"


DAMAGE: dict[str, tuple[Callable[[Path], object], int]] = {
    # name: (what is done to the folder, episodes that must run again)
    "truncated episode": (lambda r: _truncate(_episode(r)), 1),
    "empty episode": (lambda r: _episode(r).write_bytes(b""), 1),
    "non-UTF-8 episode": (lambda r: _episode(r).write_bytes(b"\xff\xfe" + _episode(r).read_bytes()[2:]), 1),
    "edited episode": (lambda r: _episode(r).write_text(_episode(r).read_text().replace('"turns": ', '"turns": 1'),
                                                       encoding="utf-8"), 1),
    "removed episode": (lambda r: _episode(r).unlink(), 1),
    "truncated trace": (lambda r: _truncate(r / "traces" / f"{KEY}.jsonl"), 1),
    "garbage index": (lambda r: (r / "results.sqlite").write_bytes(b"this is not a database\n" * 200), 0),
    "zero-byte index": (lambda r: (r / "results.sqlite").write_bytes(b""), 0),
    "missing index": (lambda r: (r / "results.sqlite").unlink(), 0),
    "malformed index": (lambda r: _truncate(r / "results.sqlite"), 0),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_report_and_run_on_a_damaged_folder(damage: str, pristine: Path, suite_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(pristine, out)
    for leftover in out.glob("results.sqlite-*"):  # a closed index has none; be sure
        leftover.unlink()
    spoil, rerun = DAMAGE[damage]
    spoil(out)
    runner = CliRunner()

    rep = runner.invoke(app, ["report", str(out), "--json"])
    assert rep.exit_code == 0, rep.output
    assert "Traceback" not in rep.output
    report = json.loads(rep.stdout)
    row = report["runs"][0]
    assert row["episodes"] == 6 - rerun and row["damaged_episodes"] == rerun
    if damage != "missing index":  # a missing index is not damage the report must flag (older folders had none)
        warning = next(w for w in report["warnings"] if "damaged run folder" in w)
        assert "firstday run" in warning and (str(rerun) in warning)

    res = runner.invoke(app, ["run", str(suite_dir), "--agent", "oracle", "--out", str(out), "--trials", "2",
                              "--quiet"])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert f"{rerun} episode(s) run, {6 - rerun} already done, 0 error(s)" in res.output
    repairs = [line for line in res.output.splitlines() if line.startswith("repair:")]
    assert repairs, res.output  # said what was wrong and what was done
    if rerun:
        assert any(KEY in line and "run again" in line for line in repairs)
        moved = [p.name for p in out.rglob("*.corrupt")]
        if damage != "removed episode":
            assert moved, "the damaged file is moved aside, not deleted"
    elif damage != "missing index":
        assert (out / "results.sqlite.corrupt").is_file()

    # repaired: same episodes, files and figures as the undamaged run
    assert RunFolder(out).inspect().damaged == {}
    assert RunFolder(out).episode_keys() == RunFolder(pristine).episode_keys()
    for key in RunFolder(pristine).episode_keys():
        assert (out / "traces" / f"{key}.jsonl").read_bytes() == (pristine / "traces" / f"{key}.jsonl").read_bytes()
    again = runner.invoke(app, ["report", str(out), "--json"])
    fixed, original = json.loads(again.stdout)["runs"][0], json.loads(
        runner.invoke(app, ["report", str(pristine), "--json"]).stdout)["runs"][0]
    for field in ("episodes", "tasks", "score", "success_rate", "damaged_episodes"):
        assert fixed[field] == original[field], field
    assert not [w for w in json.loads(again.stdout)["warnings"] if "damaged" in w]


def test_an_unchanged_folder_is_not_touched_and_reruns_nothing(pristine: Path, suite_dir: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(pristine, out)
    notes: list[str] = []
    summary = run_suite(suite_dir, "oracle", out, trials=2, notice=notes.append)
    assert summary.ran == 0 and summary.skipped == 6 and notes == [] and summary.repairs == []
    assert not list(out.rglob("*.corrupt"))


def test_an_index_row_written_before_checksums_gets_one(pristine: Path, suite_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(pristine, out)
    with sqlite3.connect(out / "results.sqlite") as db:
        db.execute("UPDATE episodes SET sha256 = NULL, trace_size = NULL")
    db.close()
    assert run_suite(suite_dir, "oracle", out, trials=2).ran == 0
    with sqlite3.connect(out / "results.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM episodes WHERE sha256 IS NULL OR trace_size IS NULL").fetchone() == (0,)
    db.close()
    _truncate(out / "traces" / f"{KEY}.jsonl")  # now detected by the saved size
    assert RunFolder(out).inspect().damaged.keys() == {KEY}


def test_an_index_of_the_format_before_attribution_and_checksums_is_upgraded(pristine: Path, suite_dir: Path,
                                                                              tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(pristine, out)
    with sqlite3.connect(out / "results.sqlite") as db:
        for column in ("error_kind", "sha256", "trace_size"):
            db.execute(f"ALTER TABLE episodes DROP COLUMN {column}")
    db.close()
    assert RunFolder(out).inspect().damaged == {}  # read as it is, without changing it
    assert run_suite(suite_dir, "oracle", out, trials=2).ran == 0
    with sqlite3.connect(out / "results.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM episodes WHERE sha256 IS NOT NULL").fetchone() == (6,)
    db.close()
