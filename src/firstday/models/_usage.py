"""Model usage (calls, tokens, cost) per role, counted in the scope where the call is made.

A :class:`UsageLedger` holds the totals per role (``agent``, ``colleague``, ``judge``). Which ledger a model
call counts in is a context variable, not a process-wide object: :func:`usage_scope` sets it for the code it
wraps, and asyncio hands it to every task started inside (each task gets a copy of its creator's context),
so two runs, or two episodes, in flight in one process never count in each other's ledgers. Scopes do not
add up by themselves: a call counts in the innermost scope, and the owner of a scope passes its totals on
(the runner adds each episode's usage to its run's, also when the episode ran in a worker process or on a
Ray actor and its usage came back with its result).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, TypeAdapter

if TYPE_CHECKING:
    from firstday.models.base import ModelResponse


class RoleUsage(BaseModel):
    calls: int = Field(default=0, description="model calls answered (HTTP or cache)")
    cached_calls: int = 0
    retries: int = 0
    failures: int = Field(default=0, description="calls that failed for good (ModelError)")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = Field(default=0.0, description="cost of the calls actually made (cache hits are free)")
    unpriced_models: list[str] = Field(default_factory=list)

    def add(self, other: RoleUsage) -> None:
        self.calls += other.calls
        self.cached_calls += other.cached_calls
        self.retries += other.retries
        self.failures += other.failures
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd
        self.unpriced_models.extend(m for m in other.unpriced_models if m not in self.unpriced_models)


#: a ledger's totals as plain data, by role (what an episode's result carries)
UsageByRole = dict[str, RoleUsage]
_BY_ROLE = TypeAdapter(UsageByRole)


class UsageLedger:
    """Token and cost totals per role. Thread-safe (colleague calls may run in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_role: dict[str, RoleUsage] = {}

    def _role(self, role: str) -> RoleUsage:
        return self.by_role.setdefault(role, RoleUsage())

    def record(self, role: str, model: str, response: ModelResponse, *, priced: bool) -> None:
        with self._lock:
            r = self._role(role)
            r.calls += 1
            r.cached_calls += response.cached
            r.prompt_tokens += response.usage.prompt_tokens
            r.completion_tokens += response.usage.completion_tokens
            if not response.cached:
                r.cost_usd += response.cost_usd
            if not priced and model not in r.unpriced_models:
                r.unpriced_models.append(model)

    def record_retry(self, role: str) -> None:
        with self._lock:
            self._role(role).retries += 1

    def record_failure(self, role: str) -> None:
        with self._lock:
            self._role(role).failures += 1

    def add(self, usage: Mapping[str, RoleUsage]) -> None:
        """Add totals by role (another ledger's :meth:`snapshot`, or an episode's usage)."""
        with self._lock:
            for role, u in usage.items():
                self._role(role).add(u)

    @property
    def cost_usd(self) -> float:
        with self._lock:
            return sum(r.cost_usd for r in self.by_role.values())

    def snapshot(self) -> UsageByRole:
        with self._lock:
            return {k: v.model_copy(deep=True) for k, v in sorted(self.by_role.items())}

    def reset(self) -> None:
        with self._lock:
            self.by_role.clear()


def usage_json(usage: Mapping[str, RoleUsage]) -> str:
    """Usage by role as JSON text (shipped from a worker with the episode's result)."""
    return _BY_ROLE.dump_json(dict(usage)).decode()


def usage_from_json(text: str) -> UsageByRole:
    return _BY_ROLE.validate_json(text)


_CURRENT: ContextVar[UsageLedger | None] = ContextVar("firstday_usage", default=None)


def current_usage() -> UsageLedger | None:
    """The ledger model calls made here count in (None: outside any :func:`usage_scope`)."""
    return _CURRENT.get()


@contextlib.contextmanager
def usage_scope(ledger: UsageLedger | None = None) -> Iterator[UsageLedger]:
    """Count the model calls made inside (by this code and the asyncio tasks it starts) in ``ledger``, a new
    one by default; yields it. ``asyncio.run`` and ``run_suite`` called inside see the scope too::

        with firstday.usage_scope() as usage:
            asyncio.run(firstday.run_episode(env, agent))
        print(usage.snapshot())
    """
    ledger = ledger if ledger is not None else UsageLedger()
    token = _CURRENT.set(ledger)
    try:
        yield ledger
    finally:
        _CURRENT.reset(token)
