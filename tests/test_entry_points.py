"""Third-party families register through the ``firstday.families`` entry point group and show up in
``firstday families`` (issue 3), without any change to firstday itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

PLUGIN = '''
from firstday.tasks.library.transaction_review import TransactionReview


class PluginReview(TransactionReview):
    """A third-party family: the transaction review rules under another name."""

    name = "plugin_review"
    title = "Plugin review"
'''

ENTRY_POINTS = """[firstday.families]
plugin_review = fd_plugin:PluginReview
"""


def _install_fake_distribution(root: Path) -> None:
    """A minimal installed distribution: a module plus a dist-info folder with entry_points.txt."""
    (root / "fd_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = root / "fd_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fd-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")


def test_an_entry_point_family_is_listed_and_generates(tmp_path: Path) -> None:
    _install_fake_distribution(tmp_path)
    # the source tree under test stays on the path (its own PYTHONPATH, if any)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)}
    listed = subprocess.run([sys.executable, "-m", "firstday", "families", "--json"], env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert "plugin_review" in rows
    assert rows["plugin_review"]["n_meta_tasks"] == rows["transaction_review"]["n_meta_tasks"]

    out = tmp_path / "suite"
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "plugin", "scenarios": 1, "tasks_per_day": [1, 1],
                                "families": ["plugin_review"]}), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "firstday", "generate", "--spec", str(spec), "--out", str(out)],
                   env=env, capture_output=True, text=True, timeout=120, check=True)
    task = json.loads(next((out / "scenarios").glob("*.json")).read_text())["days"][0]["tasks"][0]
    assert task["family"] == "plugin_review"


# ---- agents and model providers: the firstday.agents and firstday.models groups -------------------------------

PLUGINS = '''
import firstday
from firstday.models import ModelProvider, ModelRequest, ModelResponse, ProviderArgs, Usage


class IdleAgent:
    """A third-party agent: does nothing all day."""

    name = "plugin-idle"

    def __init__(self, ctx: firstday.AgentContext) -> None:
        self.seed = ctx.seed

    async def reset(self, briefing: firstday.Briefing) -> None:
        return None

    async def act(self, observation: firstday.Observation) -> list[firstday.ToolCall]:
        return []


class EchoProvider(ModelProvider):
    """A third-party model API: answers every request with the last message's text."""

    kind = "echo"

    async def _complete(self, request: ModelRequest, timeout_s: float) -> ModelResponse:
        return ModelResponse(text=str(request.messages[-1]["content"]), model=request.model,
                             usage=Usage(prompt_tokens=3, completion_tokens=2))


def echo_api(model: str, args: ProviderArgs) -> ModelProvider:
    return EchoProvider(model, args.config, prices=args.prices, ledger=args.ledger)
'''

PLUGIN_ENTRY_POINTS = """[firstday.agents]
plugin-idle = fd_plugins:IdleAgent

[firstday.models]
echo = fd_plugins:echo_api
"""


def _install_plugins(root: Path) -> dict[str, str]:
    """The fake distribution fd-plugins on a PYTHONPATH of its own; returns the environment that sees it."""
    root.mkdir()
    (root / "fd_plugins.py").write_text(PLUGINS, encoding="utf-8")
    info = root / "fd_plugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fd-plugins\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(PLUGIN_ENTRY_POINTS, encoding="utf-8")
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _firstday(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "firstday", *args], env=env, capture_output=True, text=True,
                          timeout=180)


def test_an_entry_point_agent_is_listed_and_runs_in_worker_processes(tmp_path: Path) -> None:
    env = _install_plugins(tmp_path / "site")
    listed = _firstday(env, "agents")
    assert listed.returncode == 0, listed.stderr
    assert "plugin-idle" in listed.stdout and "plug-in from fd-plugins" in listed.stdout
    # its privilege is declared on its factory: known once imported, so listing (which imports none) says so
    rows = {row["name"]: row for row in json.loads(_firstday(env, "agents", "--json").stdout)}
    assert rows["plugin-idle"]["privileged"] is None and rows["oracle"]["privileged"] is True
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "plugin", "scenarios": 1, "tasks_per_day": [1, 1]}), encoding="utf-8")
    made = _firstday(env, "generate", "--spec", str(spec), "--out", str(tmp_path / "suite"))
    assert made.returncode == 0, made.stderr
    ran = _firstday(env, "run", str(tmp_path / "suite"), "--agent", "plugin-idle", "--out", str(tmp_path / "run"),
                    "--executor", "processes", "--workers", "1", "--jsonl")
    assert ran.returncode == 0, ran.stderr
    line = json.loads(ran.stdout.splitlines()[0])
    assert line["status"] == "ok" and line["score"] == 0.0, line


def test_an_entry_point_model_api_serves_its_prefix(tmp_path: Path) -> None:
    env = _install_plugins(tmp_path / "site")
    code = """
import asyncio
from firstday.models import ModelRequest, ProviderConfig, UsageLedger, get_provider, model_api_names

print(",".join(model_api_names()))
ledger = UsageLedger()
provider = get_provider("echo/any-model", config=ProviderConfig(cache=False), ledger=ledger)
response = asyncio.run(provider.complete(ModelRequest(model="any-model", messages=[{"role": "user", "content": "hi"}])))
print(type(provider).__name__, provider.spec, response.text, ledger.snapshot()["agent"].prompt_tokens)
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["echo,hf,litellm,openai", "EchoProvider echo/any-model hi 3"]


def test_unknown_names_say_how_to_install_or_register_them() -> None:
    import pytest

    from firstday.agents import AgentContext, make_agent
    from firstday.errors import UnknownNameError
    from firstday.models import get_provider
    from firstday.tasks import get_family

    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: make_agent("nope", cast(AgentContext, None)), "'firstday.agents' entry point group"),
        (lambda: get_provider("nope/model"), "'firstday.models' entry point group"),
        (lambda: get_family("nope"), "'firstday.families' entry point group")]
    for call, group in cases:
        with pytest.raises(UnknownNameError, match=r"known .*: .*install it") as err:
            call()
        assert group in str(err.value) and "register" in str(err.value)
