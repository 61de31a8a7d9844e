"""A worker process of :class:`firstday.run.process_executor.ProcessExecutor`.

Started as ``python -m firstday.run._worker JOBS_FD RESULTS_FD TOOL_SLOTS EVENT_LOOP`` (a fresh interpreter: it
never imports the caller's main module, so scripts need no ``if __name__ == "__main__"`` guard). It reads
``(seq, EpisodeJob)`` messages from the job pipe, runs them concurrently on one asyncio loop (as the
local executor does) and sends ``("done", seq, summary JSON, trace JSON lines, wall seconds, memory
JSON or None, model usage JSON)`` for each. When the job pipe closes (the driver is done, or died) it exits at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import traceback
import warnings
from multiprocessing.connection import Connection

from firstday.run.episode import ScenarioCache
from firstday.run.runner import EpisodeJob, event_loop_factory, gc_tuned, run_job_serialised
from firstday.sandbox import SandboxFallbackWarning


async def serve(jobs: Connection, results: Connection, tool_slots: int) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[int, EpisodeJob] | None] = asyncio.Queue()

    def receive() -> None:
        # a thread, so a long message never stalls the loop and the driver's sends never wait on it
        while True:
            try:
                msg = jobs.recv()
            except (EOFError, OSError):  # the driver closed the pipe (done) or died
                msg = None
            loop.call_soon_threadsafe(inbox.put_nowait, msg)
            if msg is None:
                return

    threading.Thread(target=receive, name="firstday-jobs", daemon=True).start()
    caches: dict[str, ScenarioCache] = {}
    slots = asyncio.Semaphore(tool_slots)
    running: set[asyncio.Task[None]] = set()

    async def one(seq: int, job: EpisodeJob) -> None:
        result = await run_job_serialised(job, caches, slots)
        # a blocking send on the loop: the driver's reader thread drains the pipe at once
        results.send(("done", seq, *result))

    with gc_tuned():
        while (msg := await inbox.get()) is not None:
            task = asyncio.create_task(one(*msg))
            running.add(task)
            task.add_done_callback(running.discard)


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the driver decides
    # the driver resolved the sandbox before the run and warned of a fallback once: not once more per worker
    warnings.filterwarnings("ignore", category=SandboxFallbackWarning)
    jobs_fd, results_fd, tool_slots = (int(a) for a in argv[:3])
    code = 0
    try:
        with asyncio.Runner(loop_factory=event_loop_factory(argv[3])) as runner:
            runner.run(serve(Connection(jobs_fd, writable=False), Connection(results_fd, readable=False), tool_slots))
    except BrokenPipeError:  # the driver died while we were sending: nobody is left to tell
        code = 1
    except BaseException:  # a bug here: the driver records the episodes in flight as a WorkerCrash
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # episodes still running have nobody to report to, and a thread stuck in a tool call must not keep
    # the process alive
    os._exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
