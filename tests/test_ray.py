"""The Ray executor on a real local Ray cluster: the same scores as the local executor, resume included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import saved_suite
from firstday.run import RunFolder, run_suite
from llm_server import LLMServer

ray = pytest.importorskip("ray")

from firstday.run.ray_executor import RayExecutor  # noqa: E402


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_gives_the_local_scores_and_resumes(cluster: None, tmp_path: Path) -> None:
    suite = saved_suite(tmp_path / "suite", "smoke", seed=8, scenarios=3)
    local = run_suite(suite, "heuristic", tmp_path / "local", trials=2, concurrency=4)
    out = tmp_path / "ray"
    distributed = run_suite(suite, "heuristic", out, trials=2, executor=RayExecutor())
    assert distributed.ran == 6 and distributed.errors == 0
    for key in RunFolder(tmp_path / "local").episode_keys():
        assert (out / "episodes" / f"{key}.json").read_bytes() == (tmp_path / "local" / "episodes" /
                                                                   f"{key}.json").read_bytes()
        assert (out / "traces" / f"{key}.jsonl").read_bytes() == (tmp_path / "local" / "traces" /
                                                                  f"{key}.jsonl").read_bytes()
    assert [e.metrics for e in distributed.episodes] == [e.metrics for e in local.episodes]
    # resume: a lost episode is redone on the cluster, the others are kept
    (out / "episodes" / "s001-d0-t1.json").unlink()
    again = run_suite(suite, "heuristic", out, trials=2, executor=RayExecutor(max_in_flight=1))
    assert again.ran == 1 and again.skipped == 5


def test_a_plugin_agent_runs_on_the_actors(cluster: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import firstday.agents.base as agent_registry
    from firstday.agents import register_agent
    from firstday.errors import ConfigError

    suite = saved_suite(tmp_path / "suite", "smoke", seed=9, scenarios=2)
    # a module found through this process's sys.path only (the cluster's workers were started without it): the
    # actors import the factory from the folder the driver found it in
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "fd_ray_agents.py").write_text(
        "from firstday.agents.builtin import NoopAgent\n\n\nclass Idle(NoopAgent):\n    name = 'ray-idle'\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    summary = run_suite(suite, "fd_ray_agents:Idle", tmp_path / "ok", executor=RayExecutor(max_in_flight=2))
    assert summary.ran == 2 and summary.errors == 0 and {e.agent for e in summary.episodes} == {"ray-idle"}
    # registered in this (driver) process only, as a lambda: the actors could not build it, so it is refused
    register_agent("test-driver-only", "tests only")(lambda ctx: None)  # type: ignore[arg-type,return-value]
    try:
        with pytest.raises(ConfigError, match="registered in this process only"):
            run_suite(suite, "test-driver-only", tmp_path / "r", executor=RayExecutor())
    finally:
        agent_registry._AGENTS.pop("test-driver-only", None)
    assert not (tmp_path / "r").exists()


def test_ray_runs_the_days_of_a_scenario_in_order_with_their_memory(cluster: None, tmp_path: Path) -> None:
    from firstday.env import EnvConfig

    suite = saved_suite(tmp_path / "suite", "continual", seed=4, scenarios=2)
    config = EnvConfig(memory=True)
    run_suite(suite, "heuristic", tmp_path / "local", env_config=config, concurrency=2)
    out = tmp_path / "ray"
    distributed = run_suite(suite, "heuristic", out, env_config=config, executor=RayExecutor())
    assert distributed.ran == 6 and distributed.errors == 0
    for key in RunFolder(tmp_path / "local").episode_keys():
        for sub, ext in (("memory", "json"), ("traces", "jsonl"), ("episodes", "json")):
            assert (out / sub / f"{key}.{ext}").read_bytes() == (tmp_path / "local" / sub / f"{key}.{ext}").read_bytes()
    assert RunFolder(out).read_memory("s001-d2").days == [0, 1, 2]


def _max_overlap(rows: list[dict[str, object]]) -> int:
    import datetime as dt

    edges = []
    for r in rows:
        end = dt.datetime.fromisoformat(str(r["finished_at"])).timestamp()
        wall = float(r["wall_seconds"])  # type: ignore[arg-type]
        edges += [(end - wall, 1), (end, -1)]
    level = peak = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        level += step
        peak = max(peak, level)
    return peak


def test_many_episodes_in_flight_per_cpu(cluster: None, tmp_path: Path) -> None:
    suite = saved_suite(tmp_path / "suite", "smoke", seed=10, scenarios=4)
    out = tmp_path / "r"
    # ~24 model calls of 0.1 s per episode: 8 in flight over 2 CPUs must overlap far beyond 2 at a time
    summary = run_suite(suite, "sim-oracle", out, agent_options={"latency_s": 0.1}, trials=2,
                        executor=RayExecutor(max_in_flight=8))
    assert summary.ran == 8 and summary.errors == 0
    assert _max_overlap(RunFolder(out).index_rows()) >= 5


def test_an_actor_that_dies_is_restarted_and_its_episodes_retried(cluster: None, tmp_path: Path) -> None:
    suite = saved_suite(tmp_path / "suite", "smoke", seed=11, scenarios=3)
    flag = tmp_path / "died-once"
    options = {"latency_s": 0.01, "exit_at_step": 3, "exit_flag": str(flag)}
    summary = run_suite(suite, "sim-oracle", tmp_path / "r", agent_options=options,
                        executor=RayExecutor(max_in_flight=4))
    assert flag.exists(), "an actor process exited mid-episode"
    assert summary.ran == 3 and summary.errors == 0  # Ray restarted the actor and reran its calls
    assert all(e.metrics and e.metrics.success_rate == 1.0 for e in summary.episodes)


def test_usage_by_role_comes_back_from_the_cluster(cluster: None, server: LLMServer, tmp_path: Path) -> None:
    """Model calls made on the actors count in the driver's run summary, as with the local executor."""
    suite = saved_suite(tmp_path / "suite", "smoke", seed=3, scenarios=1)
    # the loopback server takes any key: read it from a variable every actor has
    options = {"model": "openai/echo", "base_url": server.base_url, "api_key_env": "PATH", "cache": False}
    server.reset()
    local = run_suite(suite, "llm", tmp_path / "local", agent_options=options)
    calls = server.count
    distributed = run_suite(suite, "llm", tmp_path / "ray", agent_options=options, executor=RayExecutor())
    assert server.count == 2 * calls > 0
    usage = distributed.model_usage.snapshot()
    assert usage == local.model_usage.snapshot() and usage["agent"].calls == calls
