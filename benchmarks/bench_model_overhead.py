"""Harness overhead per model call, against the loopback OpenAI-compatible test server.

    python benchmarks/bench_model_overhead.py            # 400 calls per variant
    python benchmarks/bench_model_overhead.py --quick    # 30 calls per variant (a check that it runs)

Every variant sends the same realistic request (the day's 21 tool schemas and a 40-message
conversation, about 25 kB of JSON) to the same server in the same process and event loop:

- ``bare httpx POST``: the JSON body posted with one reused ``httpx.AsyncClient`` (the baseline);
- ``SDK only``: the provider's ``_complete`` (the ``openai`` SDK's request building and parsing);
- ``provider, cache off``: ``complete()``: SDK plus the harness (retry loop, timeout guard,
  concurrency semaphore, usage and cost accounting);
- ``provider, cache miss``: the same plus hashing the request and writing the cache file;
- ``provider, cache hit``: no HTTP at all (hash + read).

Calls are interleaved (one of each variant per round) so drift in machine load hits all alike.
Overhead = median(variant) - median(bare). Target: the harness (``cache off`` minus ``SDK only``)
well under a millisecond.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, median, percentile, table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from llm_server import LLMServer  # noqa: E402

from firstday.models import ModelRequest, ProviderConfig, UsageLedger, get_provider  # noqa: E402
from firstday.models.openai_compat import request_kwargs  # noqa: E402
from firstday.suites import generate_scenario, preset  # noqa: E402


def realistic_request() -> ModelRequest:
    from firstday.env import DayEnv

    spec = preset("smoke", seed=0)
    scenario = generate_scenario(spec, 0)
    env = DayEnv(scenario, scenario.days[0])
    tools = [t.openai_schema() for t in env.tools.specs]
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a trainee. " * 40},
                                      {"role": "user", "content": env.briefing().instructions}]
    for i in range(19):
        messages.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": "read_file",
                                                            "arguments": '{"path": "/shared/a.md"}'}}]})
        messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": "Some file content. " * 50})
    return ModelRequest(model="echo", messages=messages, tools=tools, temperature=0.0, seed=1, max_tokens=256)


async def measure(n: int, server: LLMServer, cache_dir: Path) -> dict[str, list[float]]:
    import httpx

    request = realistic_request()
    body = request_kwargs(request)
    cfg = ProviderConfig(timeout_s=30, max_retries=0, cache=False)
    plain = get_provider("openai/echo", base_url=server.base_url, config=cfg, ledger=UsageLedger(), shared=False)
    cached = get_provider("openai/echo", base_url=server.base_url, ledger=UsageLedger(), shared=False,
                          config=cfg.model_copy(update={"cache": True, "cache_dir": str(cache_dir)}))
    samples: dict[str, list[float]] = {k: [] for k in (
        "bare httpx POST", "SDK only", "provider, cache off", "provider, cache miss", "provider, cache hit")}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        async def bare() -> None:
            r = await client.post("/chat/completions", json=body, headers={"Authorization": "Bearer dummy"})
            r.json()

        async def sdk() -> None:
            await plain._complete(request, cfg.timeout_s)

        async def full() -> None:
            await plain.complete(request)

        counter = [0]

        async def miss() -> None:
            counter[0] += 1  # a fresh seed each time: always a miss
            await cached.complete(request.model_copy(update={"seed": 10_000 + counter[0]}))

        async def hit() -> None:
            await cached.complete(request)

        await cached.complete(request)  # the entry the hits read
        variants = {"bare httpx POST": bare, "SDK only": sdk, "provider, cache off": full,
                    "provider, cache miss": miss, "provider, cache hit": hit}
        for fn in variants.values():  # warm-up: connections, imports, first-call costs
            for _ in range(5):
                await fn()
        for _ in range(n):
            for name, fn in variants.items():
                t0 = time.perf_counter_ns()
                await fn()
                samples[name].append((time.perf_counter_ns() - t0) / 1000)
    await plain.aclose()
    await cached.aclose()
    return samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--quick", action="store_true", help="30 calls per variant")
    args = ap.parse_args()
    n = 30 if args.quick else args.calls
    os.environ.setdefault("OPENAI_API_KEY", "dummy")
    server = LLMServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            samples = asyncio.run(measure(n, server, Path(tmp)))
    finally:
        server.stop()
    base = median(samples["bare httpx POST"])
    sdk = median(samples["SDK only"])
    rows = []
    for name, xs in samples.items():
        med = median(xs)
        rows.append([name, med, percentile(xs, 0.9), med - base, med / base, med - sdk])
    print(f"model call overhead, {n} calls per variant; {machine()}")
    print(table(["variant", "median µs", "p90 µs", "vs bare µs", "vs bare ×", "vs SDK µs"], rows))
    harness = median(samples["provider, cache off"]) - sdk
    print(f"\nharness overhead (provider, cache off - SDK only): {harness:.0f} µs per call")


if __name__ == "__main__":
    main()
