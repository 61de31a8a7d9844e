"""The README, followed as a new user follows it: every command of its "Using it" section, in order, in a
fresh folder, each in its own shell, with a loopback OpenAI-compatible server standing in for the hosted
models (``OPENAI_BASE_URL``, and the README's local server address swapped for it).

The lines are the README's own. To keep the test short, the presets it generates are swapped for spec files
of the same presets with two scenarios (the same spec otherwise), ``check-family`` runs 2 seeds instead of
20, and the worker pool has 2 processes: nothing else of a line is changed. A line that says what to install
first (``pip install -e '.[ray]'``) runs when that is installed, and must otherwise fail at once with exit
2, the install command, and no run folder left behind.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import firstday
from firstday.cli import app
from firstday.errors import ConfigError
from llm_server import LLMServer

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
LOCAL_SERVER = "http://localhost:8000/v1"  # the README's example of a model server of your own
EXTRA_MODULES = {"ray": "ray", "parquet": "pyarrow"}  # extra -> the module it installs
SMALL_SCENARIOS = 2


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def bash_lines(markdown: str) -> list[str]:
    """The commands of the fenced ```bash blocks, in order (blank lines and whole-line comments skipped)."""
    blocks = re.findall(r"^```bash\n(.*?)^```", markdown, re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def out_folders(lines: list[str]) -> set[str]:
    return {m.group(1).rstrip("/") for line in lines for m in re.finditer(r"--out\s+(\S+)", line)}


def test_the_readme_opens_with_two_commands_for_a_fresh_machine() -> None:
    opening = README.read_text(encoding="utf-8").split("\n## ", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in bash_lines(opening)]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.M), "CI must run the README's test command"


@pytest.fixture(scope="module")
def server() -> Iterator[LLMServer]:
    s = LLMServer().start()  # no script: every conversation ends its day at once (the hosted models' stand-in)
    yield s
    s.stop()


def small_specs(folder: Path) -> dict[str, str]:
    """``--preset NAME`` -> ``--spec FILE``: the preset itself with fewer scenarios."""
    swaps = {}
    for name in ("standard", "hard", "continual"):
        spec = firstday.preset(name).model_copy(update={"scenarios": SMALL_SCENARIOS})
        path = folder / f"{name}-small.json"
        path.write_text(spec.model_dump_json(), encoding="utf-8")
        swaps[f"--preset {name} "] = f"--spec {shlex.quote(str(path))} "
    return swaps


def faster(line: str, swaps: dict[str, str]) -> str:
    for old, new in swaps.items():
        line = line.replace(old, new)
    return line


def needed_extra(line: str) -> str | None:
    """The extra a line says to install first (``pip install -e '.[ray]'`` in its comment)."""
    m = re.search(r"pip install -e '\.\[(\w+)\]'", line)
    return m.group(1) if m else None


def kernel_sandbox_here() -> bool:
    from firstday.sandbox import resolve_backend

    try:
        resolve_backend("auto", require_sandbox=True)
    except ConfigError:
        return False
    return True


def run_line(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)


def uses_folders(line: str) -> bool:
    """Whether a line reads or writes the folders of other lines (a path in its command)."""
    return "/" in line.split("#", 1)[0]


def follow(lines: list[str], tmp_path: Path, server: LLMServer) -> None:
    """Run ``lines`` in order in a fresh folder as the README's reader would, checking each."""
    work = tmp_path / "clone"
    work.mkdir()
    # `make demo` made .venv: here its activate script puts a `firstday` that runs this checkout on the PATH
    bin_dir = work / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "firstday").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m firstday "$@"\n')
    (bin_dir / "firstday").chmod(0o755)
    (bin_dir / "activate").write_text(f'export PATH={shlex.quote(str(bin_dir))}:"$PATH"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "FIRSTDAY_", "RAY_"))}
    env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="dummy", FIRSTDAY_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    swaps = {**small_specs(tmp_path), LOCAL_SERVER: server.base_url, "--seeds 20": "--seeds 2",
             "--workers 4": "--workers 2"}
    readme_folders = out_folders(bash_lines(section("Using it")))
    took: list[tuple[float, str]] = []  # (seconds, command): shown with -s, to see what makes this test long
    for line in lines:
        command = faster(line, swaps)
        if line.startswith("source "):
            done = run_line(f"set -e\n{command}\nenv -0", work, env)  # (the line may end in a comment)
            assert done.returncode == 0, done.stderr
            env = dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)
            continue
        started = time.monotonic()
        done = run_line(command, work, env)
        took.append((time.monotonic() - started, line.split("#", 1)[0].strip()))
        said = f"README line failed: {line}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        extra = needed_extra(line)
        if extra is not None and importlib.util.find_spec(EXTRA_MODULES[extra]) is None:
            # not installed: one clear error at once, saying what to install, and nothing half-made
            hint = (f"firstday[{extra}]", f"pip install {EXTRA_MODULES[extra]}")
            assert done.returncode == 2 and any(h in done.stderr for h in hint), said
            assert not any((work / f).exists() for f in out_folders([line])), said
            continue
        if "--require-sandbox" in line and not kernel_sandbox_here():
            assert done.returncode == 2 and "sandbox" in done.stderr, said
            continue
        assert done.returncode == 0, said
        if " generate " in f" {line}":
            # its "next:" command must not write into a folder the README itself uses
            nxt = re.search(r"next: .*--out (\S+)", done.stdout.replace("\n", " "))
            assert nxt is not None and nxt.group(1) not in readme_folders, said
        if line.startswith("firstday report runs/oracle runs/heuristic"):
            assert "oracle" in done.stdout and "heuristic" in done.stdout, said
    print("\n".join(f"{s:6.1f} s  {c}" for s, c in sorted(took, reverse=True)))


# Two tests so that pytest-xdist runs them side by side: the lines that make and read folders, in order,
# and the lines that stand alone (demo, families, check-family, agents, sandbox check), in order.

@pytest.mark.slow
def test_the_commands_that_make_and_read_folders_run_in_order(tmp_path: Path, server: LLMServer) -> None:
    lines = bash_lines(section("Using it"))
    assert lines[0].startswith("source .venv/bin/activate")
    chain = [lines[0], *filter(uses_folders, lines[1:])]
    assert len(chain) >= 15
    follow(chain, tmp_path, server)
    work = tmp_path / "clone"  # what the lines say they make
    assert (work / "learn" / "hl" / "learning.json").is_file()
    assert (work / "ladder" / "h" / "hints.json").is_file()
    assert list((work / "tables").glob("*.parquet"))
    assert server.count > 0  # the model lines reached the stand-in server


@pytest.mark.slow
def test_the_commands_that_stand_alone_run(tmp_path: Path, server: LLMServer) -> None:
    lines = bash_lines(section("Using it"))
    alone = [lines[0], *(line for line in lines[1:] if not uses_folders(line))]
    assert [line.split()[1] for line in alone[1:]] == ["demo", "families", "check-family", "agents", "sandbox"]
    follow(alone, tmp_path, server)
    assert (tmp_path / "clone" / "firstday-demo").is_dir()


def test_extras_not_installed_are_refused_before_anything_is_made(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    suite = tmp_path / "suite"
    firstday.write_suite(firstday.preset("smoke"), suite)
    run = firstday.run_suite(suite, "noop", tmp_path / "runs" / "noop").out_dir
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    out = tmp_path / "runs" / "h3"
    result = CliRunner().invoke(app, ["run", str(suite), "-a", "heuristic", "--executor", "ray", "--out", str(out)])
    assert result.exit_code == 2 and "pip install 'firstday[ray]'" in result.output, result.output
    assert not out.exists()  # no half-made run folder
    tables = tmp_path / "tables"
    result = CliRunner().invoke(app, ["report", str(run), "--export", "parquet", str(tables)])
    assert result.exit_code == 2 and "pip install pyarrow" in result.output, result.output
    assert not tables.exists()
