"""Plug-in agents (issue 19, items 1 and 2): ``--agent package.module:factory`` on every executor, a factory
that cannot be imported or built refused before anything is written, and hidden data out of reach of every
agent that does not declare itself privileged (runs of a privileged one are marked in run.json and the report).
The entry point group ``firstday.agents`` is tested in test_entry_points.py; Ray in test_ray.py."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import saved_suite
from firstday.agents import AgentContext, PublicContext, agent_privileges, make_agent, register_agent, resolve_agent
from firstday.agents import base as agent_registry
from firstday.checkers._sealed import public_corpus, secrets_of_day
from firstday.errors import ConfigError, UnknownNameError
from firstday.run import RunFolder, run_suite
from firstday.suites import Day, Scenario, load_suite
from firstday.tasks.model import TaskInstance

AGENTS = '''
from firstday.agents.builtin import NoopAgent, OracleAgent


class Idle(NoopAgent):
    """A third-party agent named by module:factory: does nothing."""

    name = "plugin-idle"


class Peek(OracleAgent):
    """A third-party agent that declares itself privileged: it replays the oracle's plans."""

    name = "plugin-peek"
    privileged = True


def failing(ctx):
    raise ValueError("no API key in MY_AGENT_KEY")


not_a_factory = 42
'''

BROKEN = "import a_module_that_does_not_exist\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the plug-in modules (nothing installed)."""
    root = tmp_path_factory.mktemp("site")
    (root / "fd_agents.py").write_text(AGENTS, encoding="utf-8")
    (root / "fd_broken.py").write_text(BROKEN, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("suite") / "suite", "smoke", seed=5, scenarios=2)


def _env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)}


def _firstday(env: dict[str, str], *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "firstday", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=300, cwd=cwd)


# ---- module:factory on the command line, on the local and process executors -------------------------------------

@pytest.mark.parametrize("executor", ["local", "processes"])
def test_a_module_factory_runs_from_the_cli(site: Path, suite: Path, tmp_path: Path, executor: str) -> None:
    extra = ["--workers", "1"] if executor == "processes" else []
    ran = _firstday(_env(site), "run", suite, "--agent", "fd_agents:Idle", "--out", tmp_path / "run", "--executor",
                    executor, *extra, "--jsonl")
    assert ran.returncode == 0, ran.stderr
    lines = [json.loads(line) for line in ran.stdout.splitlines()]
    assert len(lines) == 2 and all(line["status"] == "ok" for line in lines)
    assert {e.agent for e in RunFolder(tmp_path / "run").read_episodes()} == {"plugin-idle"}
    manifest = RunFolder(tmp_path / "run").read_manifest()
    assert manifest.agent == "fd_agents:Idle" and manifest.privileged is False


def test_a_module_in_the_current_folder_is_found(site: Path, suite: Path, tmp_path: Path) -> None:
    # no PYTHONPATH entry for it: the current folder, as 'python -m' and the console script both look there
    ran = _firstday(dict(os.environ), "run", suite, "--agent", "fd_agents:Idle", "--out", tmp_path / "run",
                    "--executor", "processes", "--workers", "1", "--jsonl", cwd=site)
    assert ran.returncode == 0, ran.stderr
    assert [json.loads(line)["status"] for line in ran.stdout.splitlines()] == ["ok", "ok"]


@pytest.mark.parametrize(("agent", "message"), [
    ("fd_broken:Agent", "cannot import 'fd_broken:Agent': ModuleNotFoundError: No module named "
                        "'a_module_that_does_not_exist' (a module it imports)"),
    ("fd_missing:Agent", "cannot import 'fd_missing:Agent': ModuleNotFoundError: No module named 'fd_missing' "
                         "(is it installed, or on PYTHONPATH?)"),
    ("fd_agents:Nope", "cannot import 'fd_agents:Nope'"),
    ("fd_agents:not_a_factory", "is a int, not an agent factory"),
    ("fd_agents:failing", "could not be built (for s000 day 0): ValueError: no API key in MY_AGENT_KEY"),
])
def test_a_factory_that_cannot_be_imported_or_built_is_refused_before_anything_is_written(
        site: Path, suite: Path, tmp_path: Path, agent: str, message: str) -> None:
    ran = _firstday(_env(site), "run", suite, "--agent", agent, "--out", tmp_path / "run", "--executor", "processes",
                    "--workers", "1")
    assert ran.returncode == 2, ran.stderr
    assert ran.stderr.startswith("error:") and message in " ".join(ran.stderr.split()), ran.stderr
    assert "Traceback" not in ran.stderr
    assert not (tmp_path / "run").exists()


def test_agents_lists_every_agent_with_its_privilege(site: Path) -> None:
    listed = _firstday(_env(site), "agents", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row["privileged"] for row in json.loads(listed.stdout)}
    assert {name for name, privileged in rows.items() if privileged} == {"oracle", "oracle-fifo", "spray",
                                                                         "sim-oracle"}
    assert rows["heuristic"] is False and rows["llm"] is False
    table = _firstday(_env(site), "agents")
    assert "sim-oracle" in table.stdout and "package.module:factory" in " ".join(table.stdout.split())


def test_every_agent_the_docs_run_is_listed() -> None:
    import re

    from firstday.agents import agent_names

    root = Path(__file__).resolve().parents[1]
    texts = [p.read_text(encoding="utf-8") for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))]]
    named = {m for t in texts for m in re.findall(r"(?:--agent|-a) ([a-z][\w.-]*(?::\w+)?)", t)}
    assert {"heuristic", "llm", "sim-oracle"} <= named  # the search finds them
    # the docs' own examples: a factory given as module:factory, and the agent agents.md registers itself
    unknown = {n for n in named if ":" not in n and n != "read-everything"} - set(agent_names())
    assert not unknown


def test_the_builtin_privileges_are_the_factories_own() -> None:
    from firstday.agents.base import BUILTIN_AGENTS, BUILTIN_PRIVILEGED

    for name in BUILTIN_AGENTS:
        assert resolve_agent(name).privileged is (name in BUILTIN_PRIVILEGED), name
    assert agent_privileges()["oracle"] is True and agent_privileges()["guess"] is False


def test_unknown_names_and_bad_specs(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UnknownNameError, match=r"unknown agent 'nobody'.*'package.module:factory'"):
        resolve_agent("nobody")
    monkeypatch.syspath_prepend(str(site))
    spec = resolve_agent("fd_agents:Peek")
    assert spec.privileged and spec.target == "fd_agents:Peek" and spec.import_root == str(site)


# ---- privileged agents: marked in run.json and the report ----------------------------------------------------------

def test_a_privileged_plugin_gets_the_day_and_its_run_is_marked(site: Path, suite: Path, tmp_path: Path) -> None:
    env = _env(site)
    ran = _firstday(env, "run", suite, "--agent", "fd_agents:Peek", "--out", tmp_path / "peek", "-q")
    assert ran.returncode == 0, ran.stderr
    assert RunFolder(tmp_path / "peek").read_manifest().privileged is True
    assert all(e.metrics and (e.metrics.score or 0) > 0.9 for e in RunFolder(tmp_path / "peek").read_episodes())
    assert _firstday(env, "run", suite, "--agent", "heuristic", "--out", tmp_path / "heur", "-q").returncode == 0
    report = _firstday(env, "report", tmp_path / "peek", tmp_path / "heur")
    assert report.returncode == 0, report.stderr
    text = " ".join(report.stdout.split())
    assert text.count("(privileged)") == 1 and "heuristic (privileged)" not in text  # the agent column
    assert "peek: suite" in text and "privileged agent" in text
    rows = {r["agent"]: r["privileged"] for r in json.loads(_firstday(env, "report", tmp_path / "peek",
                                                                       tmp_path / "heur", "--json").stdout)["runs"]}
    assert rows == {"fd_agents:Peek": True, "heuristic": False}


def test_an_old_run_folder_without_the_marker_still_loads(suite: Path, tmp_path: Path) -> None:
    run_suite(suite, "oracle", tmp_path / "run")
    manifest = tmp_path / "run" / "run.json"
    data = json.loads(manifest.read_text())
    del data["privileged"]  # as written before the marker existed
    manifest.write_text(json.dumps(data))
    assert RunFolder(tmp_path / "run").read_manifest().privileged is False
    again = run_suite(suite, "oracle", tmp_path / "run")  # resumed: nothing to run, the marker is added
    assert again.skipped == 2 and RunFolder(tmp_path / "run").read_manifest().privileged is True


# ---- the seal: what a non-privileged factory receives holds no answer ---------------------------------------------

CAPTURED: list[Any] = []


def _capture(ctx: Any) -> Any:
    from firstday.agents.builtin import NoopAgent

    CAPTURED.append(ctx)
    return NoopAgent()


@pytest.fixture()
def capturing() -> Iterator[None]:
    CAPTURED.clear()
    register_agent("test-capture", "keeps what its factory receives (tests only)")(_capture)
    register_agent("test-capture-privileged", "tests only", privileged=True)(_capture)
    yield
    for name in ("test-capture", "test-capture-privileged"):
        agent_registry._AGENTS.pop(name, None)


def _reachable(root: object) -> Iterator[object]:
    """Every object reachable from ``root`` (through containers and instances, not through modules or classes)."""
    seen, todo = {id(root)}, [root]
    while todo:
        obj = todo.pop()
        yield obj
        for ref in gc.get_referents(obj):
            if id(ref) not in seen and not isinstance(ref, type | type(sys)):
                seen.add(id(ref))
                todo.append(ref)


def _secrets(scenario: Scenario, day: Day) -> dict[str, str]:
    return secrets_of_day(day, public_corpus(scenario, day), triggered=set(), shared=set())


def test_a_non_privileged_factory_receives_no_hidden_data(tmp_path: Path, capturing: None) -> None:
    suite_dir = saved_suite(tmp_path / "suite", "standard", seed=2, scenarios=4)  # many families
    run_suite(suite_dir, "test-capture", tmp_path / "run", concurrency=2)
    suite = load_suite(suite_dir)
    public = [c for c in CAPTURED if isinstance(c, PublicContext)]
    assert len(public) == len(CAPTURED) == 4 + 1  # every episode, and the preflight build
    leaks = 0
    for ctx in public:
        scenario = suite.scenario(ctx.scenario_id)
        day = scenario.days[ctx.day_index]
        secrets = _secrets(scenario, day)
        assert len(secrets) > 20  # answers, checkpoint definitions, plans, facts: the test has teeth
        dump = repr(ctx) + json.dumps(ctx.options) + ctx.company.model_dump_json() + (
            ctx.briefing.model_dump_json() if ctx.briefing else "")
        leaks += sum(secret in dump for secret in secrets)
        # nothing of the hidden side is even reachable from it (not only not printed)
        assert not [o for o in _reachable(ctx) if isinstance(o, Scenario | Day | TaskInstance)]
        assert ctx.briefing is not None and ctx.briefing.tools  # the briefing-level information is there
        with pytest.raises(AttributeError, match="privileged"):
            ctx.day  # noqa: B018
        # the directory as the tools show it: no colleague's reply delay
        assert {e.reply_delay for e in ctx.company.employees} == {0}
        assert [e.handle for e in ctx.company.employees] == [e.handle for e in scenario.company.employees]
    assert leaks == 0
    # the same check finds the answers in what a privileged factory receives
    CAPTURED.clear()
    run_suite(suite_dir, "test-capture-privileged", tmp_path / "privileged", concurrency=2)
    full = CAPTURED[-1]
    assert isinstance(full, AgentContext)
    assert sum(secret in repr(full.day) for secret in _secrets(full.scenario, full.day)) > 20
    assert RunFolder(tmp_path / "privileged").read_manifest().privileged is True
    assert RunFolder(tmp_path / "run").read_manifest().privileged is False


def test_make_agent_seals_a_full_context(suite: Path, capturing: None) -> None:
    scenario = load_suite(suite).scenario("s000")
    ctx = AgentContext(scenario=scenario, day=scenario.days[0], options={"k": 1}, seed=3)
    make_agent("test-capture", ctx)
    make_agent("test-capture-privileged", ctx)
    make_agent(resolve_agent("test-capture"), ctx)
    sealed, full, again = CAPTURED
    assert isinstance(sealed, PublicContext) and isinstance(again, PublicContext) and full is ctx
    assert (sealed.scenario_id, sealed.day_index, sealed.options, sealed.seed) == ("s000", 0, {"k": 1}, 3)


def test_a_registered_lambda_needs_the_local_executor(suite: Path, tmp_path: Path, capturing: None) -> None:
    from firstday.run import ProcessExecutor

    register_agent("test-lambda", "tests only")(lambda ctx: _capture(ctx))
    try:
        assert run_suite(suite, "test-lambda", tmp_path / "local").errors == 0
        with pytest.raises(ConfigError, match="registered in this process only"):
            run_suite(suite, "test-lambda", tmp_path / "proc", executor=ProcessExecutor(1, 1))
    finally:
        agent_registry._AGENTS.pop("test-lambda", None)
    assert not (tmp_path / "proc").exists()
