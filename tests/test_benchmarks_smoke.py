"""The benchmark scripts run (tiny mode, no timing assertions) and docs/tools.md matches the tool specs."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"


def _run(script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("bench_generate.py", ("--quick",), ["generate in memory (s)", "save to disk (s)", "files written"]),
        (
            "bench_tool_overhead.py",
            ("--quick", "--calls", "50"),
            ["bare Python call (baseline)", "list_tasks", "send_message", "wait"],
        ),
        ("bench_oracle.py", ("--quick", "--agents", "oracle,noop"), ["oracle", "noop", "episodes/s"]),
        ("bench_model_overhead.py", ("--calls", "5"), ["bare httpx POST", "provider, cache hit", "harness overhead"]),
        ("bench_throughput.py", ("--quick",), ["in flight", "episodes/s", "efficiency", "MB/episode", "CPU stolen"]),
        ("bench_families.py", ("--quick",), ["family", "first render ms", "transaction_review", "baseline"]),
        ("bench_sandbox.py", ("--quick",), ["tiny script", "import pandas", "audit", "child CPU ms/call"]),
        ("bench_mcp.py", ("--quick",), ["in-process", "MCP stdio", "MCP HTTP", "server CPU ms", "efficiency"]),
    ],
)
def test_benchmark_runs(script: str, args: tuple[str, ...], expected: list[str]) -> None:
    out = _run(script, *args)
    for text in expected:
        assert text in out, f"{script}: {text!r} missing from the output:\n{out}"


def test_benchmarks_cover_every_script() -> None:
    scripts = sorted(p.name for p in BENCHMARKS.glob("bench_*.py"))
    assert scripts == ["bench_families.py", "bench_generate.py", "bench_mcp.py", "bench_model_overhead.py",
                       "bench_oracle.py",
                       "bench_sandbox.py", "bench_throughput.py", "bench_tool_overhead.py"], (
        "a new benchmark script needs a smoke test here"
    )


def _load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tools_doc_is_up_to_date() -> None:
    gen = _load_script(ROOT / "scripts" / "gen_tool_docs.py")
    current = (ROOT / "docs" / "tools.md").read_text(encoding="utf-8")
    assert current == gen.render(), "docs/tools.md is out of date: run `python scripts/gen_tool_docs.py`"


def test_world_doc_links_to_the_generated_cost_table_instead_of_repeating_it() -> None:
    """The costs are written once, next to the tools; docs/tools.md is generated from them (checked above)."""
    from firstday.world.tools import DEFAULT_COSTS

    text = (ROOT / "docs" / "world.md").read_text(encoding="utf-8")
    section = text.split("### Tool costs", 1)[1].split("\n## ", 1)[0]
    assert "(tools.md)" in section
    tables = [line for line in section.splitlines() if line.lstrip().startswith("|")]
    assert not any(f"`{name}`" in line for line in tables for name in DEFAULT_COSTS), (
        "docs/world.md repeats the tool cost table: link to docs/tools.md instead")


def test_stolen_cpu_share_reads_the_steal_column(tmp_path: Path) -> None:
    common = _load_script(BENCHMARKS / "_common.py")
    stat = tmp_path / "stat"
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text("cpu  100 0 50 800 0 0 0 50 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    meter = common.StolenCPU(str(stat))
    stat.write_text("cpu  160 0 70 1020 0 0 0 150 0 0\n")  # +60 +20 +220 +100 steal = 400 in all
    assert meter.share() == pytest.approx(100 / 400)
    assert common.StolenCPU(str(tmp_path / "missing")).share() is None
    stat.write_text("intr 1 2 3\n")
    assert common.StolenCPU(str(stat)).share() is None
