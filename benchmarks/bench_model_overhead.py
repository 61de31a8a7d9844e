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
- ``provider, cache hit``: no HTTP at all (hash + read);
- ``harness only``: ``complete()`` of a provider whose ``_complete`` returns a canned response at once
  (no SDK, no HTTP): the harness's own cost, measured without any network noise.

The server runs in its own process, so the client's CPU time per call (``time.process_time``) is
the client's own work only: that is the robust measure on a busy machine (wall-clock round trips
include the server and the scheduler). Calls are interleaved (one of each variant per round) so
drift in machine load hits all variants alike. Harness overhead = client CPU of ``provider, cache
off`` minus that of ``SDK only``; target: a small fraction of a millisecond.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, median, percentile, table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from firstday.models import ModelRequest, ProviderConfig, UsageLedger, get_provider  # noqa: E402
from firstday.models.base import ModelProvider, ModelResponse  # noqa: E402
from firstday.models.openai_compat import request_kwargs  # noqa: E402
from firstday.suites import generate_scenario, preset  # noqa: E402


class CannedProvider(ModelProvider):
    kind = "canned"

    async def _complete(self, request: ModelRequest, timeout_s: float) -> ModelResponse:
        return ModelResponse(text="ok")


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


Samples = dict[str, list[tuple[float, float]]]  # variant -> [(wall µs, client CPU µs)]


async def measure(n: int, base_url: str, cache_dir: Path) -> Samples:
    import httpx

    request = realistic_request()
    body = request_kwargs(request)
    cfg = ProviderConfig(timeout_s=30, max_retries=0, cache=False)
    plain = get_provider("openai/echo", base_url=base_url, config=cfg, ledger=UsageLedger(), shared=False)
    cached = get_provider("openai/echo", base_url=base_url, ledger=UsageLedger(), shared=False,
                          config=cfg.model_copy(update={"cache": True, "cache_dir": str(cache_dir)}))
    samples: Samples = {k: [] for k in (
        "bare httpx POST", "SDK only", "provider, cache off", "provider, cache miss", "provider, cache hit",
        "harness only")}
    canned = CannedProvider("echo", cfg, ledger=UsageLedger())
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
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

        async def harness() -> None:
            await canned.complete(request)

        await cached.complete(request)  # the entry the hits read
        variants = {"bare httpx POST": bare, "SDK only": sdk, "provider, cache off": full,
                    "provider, cache miss": miss, "provider, cache hit": hit, "harness only": harness}
        for fn in variants.values():  # warm-up: connections, imports, first-call costs
            for _ in range(5):
                await fn()
        for _ in range(n):
            for name, fn in variants.items():
                c0, t0 = time.process_time_ns(), time.perf_counter_ns()
                await fn()
                t1, c1 = time.perf_counter_ns(), time.process_time_ns()
                samples[name].append(((t1 - t0) / 1000, (c1 - c0) / 1000))
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
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "llm_server.py")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            samples = asyncio.run(measure(n, f"http://127.0.0.1:{port}/v1", Path(tmp)))
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)
    wall = {k: median([w for w, _ in xs]) for k, xs in samples.items()}
    cpu = {k: median([c for _, c in xs]) for k, xs in samples.items()}
    base_w, base_c = wall["bare httpx POST"], cpu["bare httpx POST"]
    rows = []
    for name, xs in samples.items():
        rows.append([name, wall[name], percentile([w for w, _ in xs], 0.9), wall[name] - base_w, cpu[name],
                     cpu[name] - base_c, cpu[name] - cpu["SDK only"]])
    print(f"model call overhead, {n} calls per variant, server in another process; {machine()}")
    print(table(["variant", "wall median µs", "wall p90 µs", "wall vs bare µs", "client CPU µs",
                 "CPU vs bare µs", "CPU vs SDK µs"], rows))
    print(f"\nharness overhead: {cpu['harness only']:.0f} µs client CPU per call (no HTTP); "
          f"provider cache off - SDK only: {cpu['provider, cache off'] - cpu['SDK only']:.0f} µs")
    print(f"SDK + harness overhead (client CPU, provider cache off - bare httpx): "
          f"{cpu['provider, cache off'] - base_c:.0f} µs per call")

if __name__ == "__main__":
    main()
