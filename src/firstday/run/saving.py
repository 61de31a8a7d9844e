"""Saving finished episodes off the event loop, in batches, without holding up the next episode.

An episode's slot is free as soon as its outcome is handed over: the next episode starts while a
single writer thread saves this one (:meth:`RunFolder.write_episodes`). Episodes handed over while the
thread was busy are saved together, with one index commit, so the thread wakes once per batch rather
than once per episode (each wake-up is a hand-off of the GIL the event loop then waits for).

What this keeps from saving each episode before the next starts:

* an episode counts as finished (progress, ``RunSummary``) only once its index row is committed;
* episodes are saved in the order they were handed over, so the day before is always committed
  no later than the day after it in a chain with memory;
* a run killed with episodes handed over but not committed loses exactly those, as if they had still
  been running: the next run redoes them;
* a failed write (a full disk, say) stops the run: the next hand-off raises it, and so does
  :meth:`EpisodeSaver.drain`; everything committed before it is kept.

At most ``max_pending`` episodes wait to be saved; a hand-off beyond that waits for the disk (memory
stays bounded when the disk is slower than the episodes).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable

from firstday.errors import SaveError
from firstday.run.results import EpisodeRecord, RunFolder

#: an episode saved (called on the event loop, in hand-over order)
Committed = Callable[[EpisodeRecord], None]


class EpisodeSaver:
    """The writer thread of one run folder (create and use on the run's event loop)."""

    def __init__(self, folder: RunFolder, committed: Committed, max_pending: int = 256) -> None:
        self.folder, self.committed, self.max_pending = folder, committed, max(1, max_pending)
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[EpisodeRecord | None] = queue.SimpleQueue()
        self._pending = 0
        self._changed = asyncio.Event()  # a batch was committed (or failed)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="firstday-writer", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Episodes handed over and not committed yet."""
        return self._pending

    async def save(self, record: EpisodeRecord) -> None:
        """Hand ``record`` over (returns at once unless ``max_pending`` episodes are waiting already)."""
        self._raise_error()
        while self._pending >= self.max_pending:
            self._changed.clear()
            await self._changed.wait()
            self._raise_error()
        self._pending += 1
        self._queue.put(record)
        # a hand-off is a turn of the loop, as saving in the thread used to be: episodes interleave
        # even when the agent never waits (a CPU-bound agent in a run with --concurrency)
        await asyncio.sleep(0)

    async def drain(self) -> None:
        """Wait until everything handed over is committed; raise the write error, if there was one."""
        while self._pending and self._error is None:
            self._changed.clear()
            await self._changed.wait()
        self._raise_error()

    def close(self) -> None:
        """Stop the thread after it has saved what was handed over (blocking: also safe when the loop is
        being torn down, e.g. after Ctrl-C, so finished work is still kept)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        stop = False
        failure: BaseException | None = None  # after a failure nothing more is written: the run is stopping
        while not stop:
            batch = [self._queue.get()]
            while True:  # everything handed over meanwhile joins this batch
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = None in batch
            records = [r for r in batch if r is not None]
            if not records:
                continue
            if failure is None:
                try:
                    self.folder.write_episodes(records)
                except BaseException as exc:  # reported on the loop, where the run can stop cleanly
                    reason = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.strerror else exc
                    failure = SaveError(
                        f"could not save finished episodes in {self.folder.path} ({reason}); the episodes saved "
                        "before are kept: fix the cause (e.g. free disk space) and run the same command again "
                        "to continue")
                    failure.__cause__ = exc
            with contextlib.suppress(RuntimeError):  # the loop is closed (the run was torn down): nobody waits
                self._loop.call_soon_threadsafe(self._done, records, failure)

    def _done(self, records: list[EpisodeRecord], error: BaseException | None) -> None:
        self._pending -= len(records)
        if error is not None:
            self._error = self._error or error
        else:
            for r in records:
                self.committed(r)
        self._changed.set()
