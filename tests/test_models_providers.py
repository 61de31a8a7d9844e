"""Model providers: retries, timeouts, cache, usage and cost, the registry, lazy imports.

The OpenAI provider is exercised through the real ``openai`` SDK against the loopback server in
``llm_server.py``; no test depends on machine speed (timeouts are 0.5 s against a 2 s server sleep).
"""

from __future__ import annotations

import asyncio
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from firstday.errors import ConfigError
from firstday.models import (
    ModelError,
    ModelRequest,
    ModelSettings,
    PriceTable,
    ProviderConfig,
    UsageLedger,
    get_provider,
)
from firstday.models.base import ModelProvider, ModelResponse, TransientModelError, Usage
from firstday.models.openai_compat import OpenAIProvider
from llm_server import LLMServer, Policy

pytestmark = pytest.mark.usefixtures("openai_env")


def fast_config(tmp_path: Path, **kw: Any) -> ProviderConfig:
    base: dict[str, Any] = {"timeout_s": 0.5, "max_retries": 3, "backoff_base_s": 0.001, "backoff_max_s": 0.05,
                            "cache_dir": str(tmp_path / "cache")}
    return ProviderConfig(**{**base, **kw})


def ledger_of(p: ModelProvider) -> UsageLedger:
    """The provider's own ledger (the tests give each provider one)."""
    assert p.ledger is not None
    return p.ledger


def provider(server: LLMServer, tmp_path: Path, model: str = "scripted", **kw: Any) -> tuple[OpenAIProvider,
                                                                                            list[float]]:
    p = OpenAIProvider(model, fast_config(tmp_path, **kw), base_url=server.base_url, ledger=UsageLedger())
    sleeps: list[float] = []

    async def record(s: float) -> None:
        sleeps.append(s)

    p._sleep = record  # record the backoff instead of sleeping
    return p, sleeps


def ask(p: ModelProvider, request: ModelRequest, role: str = "agent") -> ModelResponse:
    return asyncio.run(p.complete(request, role=role))


REQ = ModelRequest(model="scripted", messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
                   tools=[{"type": "function", "function": {"name": "wait", "description": "", "parameters": {}}}])


def test_backoff_is_seeded_exponential_and_honours_retry_after() -> None:
    class Dummy(ModelProvider):
        kind = "dummy"

        async def _complete(self, request: ModelRequest, timeout_s: float) -> ModelResponse:
            raise AssertionError

    cfg = ProviderConfig(backoff_base_s=1.0, backoff_max_s=60.0, cache=False)
    a, b = Dummy("m", cfg), Dummy("m", cfg)
    delays = [a.backoff(i, None) for i in range(1, 6)]
    assert delays == [b.backoff(i, None) for i in range(1, 6)]  # same seed, same jitter
    for i, d in enumerate(delays, 1):
        assert 2 ** (i - 1) * 0.5 <= d <= 2 ** (i - 1)
    assert a.backoff(1, 7.5) >= 7.5  # Retry-After is a floor
    assert a.backoff(10, 500.0) == 60.0  # ... capped by backoff_max_s
    other = Dummy("m", cfg.model_copy(update={"jitter_seed": 1}))
    assert [other.backoff(i, None) for i in range(1, 6)] != delays


def test_cache_key_covers_the_whole_request() -> None:
    key = REQ.cache_key("openai")
    assert key == REQ.model_copy(deep=True).cache_key("openai")
    changes: list[dict[str, Any]] = [{"model": "x"}, {"messages": [{"role": "user", "content": "v"}]}, {"tools": None},
                                     {"temperature": 0.5}, {"seed": 3}, {"max_tokens": 9}, {"stop": ["x"]},
                                     {"extra": {"top_p": 0.9}}]
    for change in changes:
        assert REQ.model_copy(update=change).cache_key("openai") != key, change
    assert REQ.cache_key("litellm") != key


def test_openai_call_through_the_sdk(server: LLMServer, tmp_path: Path) -> None:
    server.reset(Policy(script=[{"name": "read_file", "arguments": {"path": "/shared/a.md"}}], usage=(1000, 200)))
    p, _ = provider(server, tmp_path, cache=False)
    r = ask(p, REQ.model_copy(update={"temperature": 0.3, "seed": 42, "max_tokens": 77}))
    assert [(c.name, json.loads(c.arguments)) for c in r.tool_calls] == [("read_file", {"path": "/shared/a.md"})]
    assert r.usage == Usage(prompt_tokens=1000, completion_tokens=200)
    sent = server.requests[-1]
    assert (sent["temperature"], sent["seed"], sent["max_tokens"]) == (0.3, 42, 77)  # passed through
    assert sent["tools"] == REQ.tools
    assert ledger_of(p).by_role["agent"].calls == 1


@pytest.mark.parametrize("fault", ["429", "500", "timeout"])
def test_transient_faults_are_retried(server: LLMServer, tmp_path: Path, fault: str) -> None:
    server.reset(Policy(script=[{"name": "wait", "arguments": {}}], faults={0: fault}, retry_after="0.04"))
    p, sleeps = provider(server, tmp_path, cache=False)
    r = ask(p, REQ)
    assert [c.name for c in r.tool_calls] == ["wait"]
    assert server.count == 2 and server.faults_served == [fault]
    assert len(sleeps) == 1 and ledger_of(p).by_role["agent"].retries == 1
    if fault == "429":
        assert sleeps[0] >= 0.04  # Retry-After honoured


def test_outage_raises_model_error_after_retries(server: LLMServer, tmp_path: Path) -> None:
    server.reset()
    p, sleeps = provider(server, tmp_path, model="always-500", max_retries=2)
    with pytest.raises(ModelError, match="after 3 attempt"):
        ask(p, REQ.model_copy(update={"model": "always-500"}))
    assert server.count == 3 and len(sleeps) == 2
    assert ledger_of(p).by_role["agent"].failures == 1


def test_client_errors_are_not_retried(server: LLMServer, tmp_path: Path) -> None:
    server.reset()
    p, sleeps = provider(server, tmp_path, model="unauthorized")
    with pytest.raises(ModelError, match="401"):
        ask(p, REQ.model_copy(update={"model": "unauthorized"}))
    assert server.count == 1 and sleeps == []


def test_cache_makes_a_rerun_free(server: LLMServer, tmp_path: Path) -> None:
    server.reset(Policy(script=[{"name": "wait", "arguments": {}}]))
    p, _ = provider(server, tmp_path)
    first = ask(p, REQ)
    again, _ = provider(server, tmp_path)  # a new process would build a new provider
    second = ask(again, REQ)
    assert server.count == 1
    assert second.cached and not first.cached
    assert second.tool_calls == first.tool_calls and second.usage == first.usage
    assert ledger_of(again).by_role["agent"].cached_calls == 1 and ledger_of(again).by_role["agent"].cost_usd == 0
    ask(again, REQ.model_copy(update={"seed": 1}))  # another request: a real call
    assert server.count == 2


def test_prices_and_usage_per_role(server: LLMServer, tmp_path: Path) -> None:
    server.reset(Policy(usage=(1_000_000, 500_000)))
    table = tmp_path / "prices.json"
    table.write_text(json.dumps({"scripted": {"input_per_mtok": 2.0, "output_per_mtok": 8.0}}))
    prices = PriceTable.load(table)
    assert prices.price("gpt-4o-mini-2024-07-18") is not None  # defaults kept, patterns match
    p = OpenAIProvider("scripted", fast_config(tmp_path, cache=False), base_url=server.base_url, prices=prices,
                       ledger=UsageLedger())
    r = ask(p, REQ, role="agent")
    assert r.cost_usd == pytest.approx(2.0 + 4.0)
    ask(p, REQ, role="colleague")
    snap = ledger_of(p).snapshot()
    assert snap["agent"].cost_usd == pytest.approx(6.0) and snap["colleague"].cost_usd == pytest.approx(6.0)
    assert snap["agent"].prompt_tokens == 1_000_000 and ledger_of(p).cost_usd == pytest.approx(12.0)
    unpriced = OpenAIProvider("echo", fast_config(tmp_path, cache=False), base_url=server.base_url,
                              ledger=UsageLedger())
    ask(unpriced, REQ.model_copy(update={"model": "echo"}), role="judge")
    assert ledger_of(unpriced).by_role["judge"].unpriced_models == ["echo"]
    with pytest.raises(ConfigError, match="price table"):
        PriceTable.load(tmp_path / "missing.json")


def test_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = get_provider("openai/gpt-4o", base_url="http://127.0.0.1:9/v1")
    assert get_provider("openai/gpt-4o", base_url="http://127.0.0.1:9/v1") is a  # shared within a process
    assert get_provider("openai/gpt-4o", base_url="http://127.0.0.1:8/v1") is not a
    assert a.spec == "openai/gpt-4o"
    for bad in ("gpt-4o", "openai/"):
        with pytest.raises(ConfigError, match="prefix"):
            get_provider(bad)
    with pytest.raises(ConfigError, match="unknown model provider 'foo'; known model providers: hf, litellm, openai"):
        get_provider("foo/bar")
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY=dummy"):
        get_provider("openai/x", base_url="http://127.0.0.1:9/v1", shared=False)
    with pytest.raises(ConfigError, match="needs a model"):
        ModelSettings.from_options({})
    with pytest.raises(ConfigError, match="timeout_s"):
        ModelSettings.from_options({"model": "openai/x", "timeout_s": -1})


def test_missing_optional_packages_give_an_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'firstday\[litellm\]'"):
        get_provider("litellm/anthropic/claude")
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ConfigError, match=r"need the 'torch' package.*pip install 'firstday\[hf\]'"):
        get_provider("hf/" + str(tmp_path))  # the missing package is named (torch is not in the dev set)
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ConfigError, match=r"pip install 'firstday\[hf\]'"):
        get_provider("hf/" + str(tmp_path))


def test_litellm_provider_maps_responses_and_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = types.ModuleType("litellm")

    class RateLimitError(Exception):
        pass

    class Timeout(Exception):
        pass

    calls: list[dict[str, Any]] = []
    plan: list[Exception | None] = [RateLimitError("slow down"), Timeout("t"), None]

    async def acompletion(**kw: Any) -> Any:
        calls.append(kw)
        exc = plan.pop(0)
        if exc is not None:
            raise exc
        fn = types.SimpleNamespace(name="wait", arguments="{}")
        msg = types.SimpleNamespace(content=None, tool_calls=[types.SimpleNamespace(id="c1", function=fn)])
        return types.SimpleNamespace(choices=[types.SimpleNamespace(message=msg, finish_reason="tool_calls")],
                                     usage=types.SimpleNamespace(prompt_tokens=5, completion_tokens=2), model="m")

    fake.acompletion = acompletion  # type: ignore[attr-defined]
    fake.RateLimitError, fake.Timeout = RateLimitError, Timeout  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "litellm", fake)
    p = get_provider("litellm/anthropic/claude-x", config=fast_config(tmp_path, cache=False), ledger=UsageLedger())
    r = ask(p, REQ.model_copy(update={"model": "anthropic/claude-x", "seed": 4}))
    assert [c.name for c in r.tool_calls] == ["wait"] and r.usage.total_tokens == 7
    assert len(calls) == 3 and calls[-1]["seed"] == 4 and calls[-1]["num_retries"] == 0
    plan.append(ValueError("bad request"))
    with pytest.raises(ModelError, match="bad request"):
        ask(p, REQ.model_copy(update={"model": "anthropic/claude-x", "seed": 5}))


def test_transient_error_carries_retry_after() -> None:
    exc = TransientModelError("x", retry_after=3.0, kind="rate_limit")
    assert exc.retry_after == 3.0 and exc.kind == "rate_limit"
