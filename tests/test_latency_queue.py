"""The simulated model's latency queue: each wait lasts at least its latency, waits end in the order
they began, a cancelled wait leaves the others alone, and each loop and latency has its own queue."""

from __future__ import annotations

import asyncio
import gc

import pytest

from firstday.run.simulated import LatencyQueue


def test_waits_last_at_least_the_latency_and_end_in_order() -> None:
    async def main() -> list[tuple[int, float]]:
        loop = asyncio.get_running_loop()
        ended: list[tuple[int, float]] = []

        async def one(i: int) -> None:
            start = loop.time()
            await LatencyQueue.of(0.02).wait()
            ended.append((i, loop.time() - start))

        tasks = []
        for i in range(20):
            tasks.append(asyncio.create_task(one(i)))
            await asyncio.sleep(0.001 * (i % 3))  # staggered starts
        await asyncio.gather(*tasks)
        return ended

    ended = asyncio.run(main())
    assert [i for i, _ in ended] == list(range(20))
    assert all(waited >= 0.02 for _, waited in ended)


def test_a_cancelled_wait_does_not_disturb_the_others() -> None:
    async def main() -> tuple[bool, int]:
        queue = LatencyQueue.of(0.01)
        first = asyncio.create_task(queue.wait())
        rest = [asyncio.create_task(queue.wait()) for _ in range(3)]
        await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await asyncio.wait_for(asyncio.gather(*rest), 2)
        return first.cancelled(), len(queue._waiting)

    assert asyncio.run(main()) == (True, 0)


def test_each_loop_and_latency_has_its_own_queue() -> None:
    async def queues() -> tuple[LatencyQueue, LatencyQueue, LatencyQueue]:
        return LatencyQueue.of(0.01), LatencyQueue.of(0.01), LatencyQueue.of(0.02)

    a, b, c = asyncio.run(queues())
    assert a is b and a is not c and a.latency_s == 0.01 and c.latency_s == 0.02
    d, _, _ = asyncio.run(queues())  # a new loop: a new queue
    assert d is not a


def test_a_finished_loop_and_its_queues_are_freed() -> None:
    async def used() -> None:
        await LatencyQueue.of(0.001).wait()

    before = len(LatencyQueue._queues)
    for _ in range(3):
        asyncio.run(used())
    gc.collect()
    assert len(LatencyQueue._queues) <= before  # the queues do not keep their loops alive
