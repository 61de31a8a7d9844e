"""The model-provider ABC and the data it speaks: requests, responses, usage and cost.

A provider implements one coroutine, :meth:`ModelProvider._complete`, that turns a
:class:`ModelRequest` into a :class:`ModelResponse` (or raises :class:`TransientModelError` for
failures worth retrying). Everything else is shared and lives here: the response cache, retries
with exponential backoff and seeded jitter (``Retry-After`` honoured), the per-call timeout, the
concurrency limit, and token/cost accounting per role (in the ledger of the current usage scope:
:mod:`firstday.models._usage`).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import weakref
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from firstday.errors import ConfigError, FirstdayError
from firstday.jsonsafe import needs_care, safe_text
from firstday.models._usage import UsageLedger, current_usage
from firstday.seeding import make_rng

Role = Literal["agent", "colleague", "judge"]
ROLES: tuple[Role, ...] = ("agent", "colleague", "judge")
CACHE_FORMAT = "firstday.model-cache/1"


# ---- errors ------------------------------------------------------------------------------------------

class ModelError(FirstdayError):
    """A model call failed for good (after retries, or a non-retryable error such as a bad key).

    The runner counts it as an *infrastructure* error (left out of the scores, rerun by
    ``--retry-errors``) only when it is the exception the provider layer raised on giving up after
    retries (:func:`provider_gave_up`); otherwise, like any exception out of the agent, it is an
    *agent* error (docs/scoring.md, "Error attribution").
    """


#: an endpoint of the provider layer: (provider spec such as ``openai/gpt-4o``, base URL or None)
Endpoint = tuple[str, str | None]
#: every exception the provider layer raised when it gave up on a model call after retrying transient
#: failures, with the serial number of that give-up and the endpoint that gave up (see :func:`provider_gave_up`)
_GAVE_UP: weakref.WeakKeyDictionary[BaseException, tuple[int, Endpoint]] = weakref.WeakKeyDictionary()
_give_up_serials = itertools.count(1)
_last_give_up = 0


def _record_give_up(exc: BaseException, endpoint: Endpoint) -> None:
    global _last_give_up
    serial = next(_give_up_serials)
    _GAVE_UP[exc] = (serial, endpoint)
    _last_give_up = serial


def give_up_mark() -> int:
    """A mark to pass to :func:`provider_gave_up`: give-ups after it have a higher serial."""
    return _last_give_up


def provider_gave_up(exc: BaseException, since: int = 0, endpoints: Collection[Endpoint] | None = None) -> bool:
    """Whether ``exc`` is the very exception object :meth:`ModelProvider.complete` raised, after ``since``,
    when the model endpoint kept failing through every retry (an *infrastructure* failure).

    The runner classifies an episode's error by this identity, never by the exception's type: an agent that
    raises a ``ModelError`` of its own (or re-raises one it kept from earlier in the day) is not excused.
    Non-retryable errors (HTTP 4xx: a bad request, key or model name) are not marked: the request is the
    agent's, and a failure it can provoke must not let it leave a day out of its score.

    With ``endpoints`` (the run's own: its ``--model`` and ``--base-url``), only a give-up of one of them
    counts: an agent that builds a provider of its own and points it at a dead address is not excused either.
    """
    try:
        mark = _GAVE_UP.get(exc)
    except TypeError:  # a built-in exception (no weak references): never one the provider layer raised
        return False
    if mark is None or mark[0] <= since:
        return False
    return endpoints is None or mark[1] in endpoints


#: what a give-up's message says after the endpoint (``openai/m at URL: no answer after 7 attempt(s); ...``)
GAVE_UP_TEXT = "no answer after"
_GAVE_UP_RE = re.compile(r"ModelError: (.+?): " + GAVE_UP_TEXT + r" \d+ attempt")


def gave_up_where(error: str | None) -> str | None:
    """The endpoint (``openai/m at URL``) named by a saved infrastructure error in which a provider gave up
    after its retries, or None (another cause). The run's circuit breaker counts failures by it."""
    found = _GAVE_UP_RE.search(error or "")
    return found.group(1) if found else None


@dataclass(frozen=True)
class ProbeResult:
    """What a provider's :meth:`ModelProvider.probe` found: ``problem`` (the endpoint cannot be used: the
    HTTP status or the connection error, one line) or None; ``note``: worth saying but not fatal (e.g. the
    model is not among those the server lists)."""

    problem: str | None = None
    note: str | None = None


class TransientModelError(Exception):
    """Raised by providers for failures worth retrying: rate limits, server errors, timeouts."""

    def __init__(self, message: str, *, retry_after: float | None = None, kind: str = "error") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.kind = kind  # "rate_limit", "server", "timeout", "connection"


def missing_package(package: str, extra: str, prefix: str) -> ConfigError:
    return ConfigError(f"the '{prefix}/' models need the '{package}' package, which is not installed; "
                       f"install it with: pip install 'firstday[{extra}]' (or: pip install {package})")


# ---- requests and responses ---------------------------------------------------------------------------

class ModelRequest(BaseModel):
    """One chat completion request, in the OpenAI chat format (every provider speaks it)."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(description="the provider's model name (without the 'openai/' prefix)")
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = Field(default=None, description="OpenAI function-tool schemas")
    tool_choice: str | None = None
    temperature: float | None = 0.0
    seed: int | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    extra: dict[str, Any] = Field(default_factory=dict, description="provider-specific parameters")

    def cache_key(self, provider: str) -> str:
        """Hash of the full request (and the provider kind): equal keys mean equal requests."""
        body = json.dumps([CACHE_FORMAT, provider, self.model_dump(mode="json")], sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


class ModelToolCall(BaseModel):
    id: str
    name: str
    arguments: str = Field(description="the raw JSON text the model produced (possibly malformed)")


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ModelResponse(BaseModel):
    text: str | None = None
    tool_calls: list[ModelToolCall] = Field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    cached: bool = Field(default=False, description="served from the on-disk cache (no call made)")
    cost_usd: float = 0.0


def safe_response(response: ModelResponse) -> ModelResponse:
    """``response`` with lone surrogates in its text and tool calls replaced by U+FFFD (a model can send
    them, e.g. as the JSON escape "\\ud800"): the reply is kept in the conversation, sent back to the
    model and recorded, all as UTF-8. A reply without any is returned as it is."""
    texts = [response.text or "", *(x for c in response.tool_calls for x in (c.id, c.name, c.arguments))]
    if not any(needs_care(t) for t in texts):
        return response
    return response.model_copy(update={
        "text": None if response.text is None else safe_text(response.text),
        "tool_calls": [c.model_copy(update={"id": safe_text(c.id), "name": safe_text(c.name),
                                            "arguments": safe_text(c.arguments)}) for c in response.tool_calls]})


# ---- prices and usage ---------------------------------------------------------------------------------

class Price(BaseModel):
    input_per_mtok: float = Field(ge=0, description="USD per million prompt tokens")
    output_per_mtok: float = Field(ge=0, description="USD per million completion tokens")


# list prices (USD per million tokens) of a few common models; override or extend with --prices FILE
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o": Price(input_per_mtok=2.50, output_per_mtok=10.00),
    "gpt-4o-2024-*": Price(input_per_mtok=2.50, output_per_mtok=10.00),
    "gpt-4o-mini*": Price(input_per_mtok=0.15, output_per_mtok=0.60),
    "gpt-4.1": Price(input_per_mtok=2.00, output_per_mtok=8.00),
    "gpt-4.1-mini": Price(input_per_mtok=0.40, output_per_mtok=1.60),
    "gpt-4.1-nano": Price(input_per_mtok=0.10, output_per_mtok=0.40),
}


class PriceTable(BaseModel):
    """Model name (or ``fnmatch`` pattern) -> price. Exact names win over patterns; unknown models cost 0."""

    prices: dict[str, Price] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    _memo: dict[str, Price | None] = PrivateAttr(default_factory=dict)  # lookups per call: remembered

    def price(self, model: str) -> Price | None:
        if model not in self._memo:
            self._memo[model] = self.prices.get(model) or next(
                (p for pattern, p in self.prices.items() if fnmatchcase(model, pattern)), None)
        return self._memo[model]

    def cost(self, model: str, usage: Usage) -> float:
        p = self.price(model)
        if p is None:
            return 0.0
        return (usage.prompt_tokens * p.input_per_mtok + usage.completion_tokens * p.output_per_mtok) / 1e6

    @classmethod
    def load(cls, path: Path | str, *, with_defaults: bool = True) -> PriceTable:
        """A JSON file ``{"model-or-pattern": {"input_per_mtok": x, "output_per_mtok": y}, ...}``."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            given = {k: Price.model_validate(v) for k, v in raw.items()}
        except (OSError, ValueError, AttributeError) as exc:
            raise ConfigError(f"cannot read the price table {path}: {exc}") from None
        return cls(prices={**(DEFAULT_PRICES if with_defaults else {}), **given})


# ---- provider -----------------------------------------------------------------------------------------

class ProviderConfig(BaseModel):
    """Operational settings shared by every provider."""

    model_config = ConfigDict(extra="forbid")
    timeout_s: float = Field(default=120.0, gt=0, description="limit of one model call (one attempt)")
    max_retries: int = Field(default=6, ge=0, description="retries after the first attempt")
    backoff_base_s: float = Field(default=1.0, ge=0, description="first backoff; doubled per retry")
    backoff_max_s: float = Field(default=60.0, ge=0, description="longest single wait (Retry-After included)")
    max_concurrency: int = Field(default=16, ge=1, description="model calls in flight at once")
    cache: bool = Field(default=True, description="use the on-disk response cache")
    cache_dir: str | None = Field(default=None, description="default: $FIRSTDAY_CACHE_DIR or ~/.cache/firstday")
    jitter_seed: int = Field(default=0, description="seed of the backoff jitter")


class ModelProvider(ABC):
    """Base of every provider. Subclasses implement :meth:`_complete` only.

    Use :meth:`complete` from an event loop. A provider may be shared by many episodes: its
    semaphore limits the calls in flight across all of them.
    """

    kind: str = "base"  # the prefix: "openai", "litellm", "hf"

    def __init__(self, model: str, config: ProviderConfig | None = None, *, prices: PriceTable | None = None,
                 ledger: UsageLedger | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        from firstday.models.cache import ResponseCache  # cache imports this module

        self.model = model
        self.config = config or ProviderConfig()
        self.prices = prices or PriceTable()
        self.ledger = ledger  # counts this provider's calls too, besides the usage scope of each call
        self.cache: ResponseCache | None = ResponseCache(self.config.cache_dir) if self.config.cache else None
        self._sleep = sleep or asyncio.sleep
        self._rng = make_rng("model-backoff", self.kind, model, self.config.jitter_seed)
        self._semaphores: dict[int, asyncio.Semaphore] = {}
        self.http_calls = 0  # attempts that reached _complete (for tests and benchmarks)

    def _ledgers(self) -> list[UsageLedger]:
        """Where a call made now counts: the current usage scope's ledger and this provider's own, if any."""
        scoped = current_usage()
        own = self.ledger if self.ledger is not scoped else None
        return [x for x in (scoped, own) if x is not None]

    @property
    def spec(self) -> str:
        return f"{self.kind}/{self.model}"

    @property
    def endpoint(self) -> Endpoint:
        """What this provider talks to: its spec and base URL (None for a provider's default)."""
        base_url = getattr(self, "base_url", None)
        return self.spec, base_url if isinstance(base_url, str) else None

    @property
    def where(self) -> str:
        """``openai/gpt-4o at http://host:8000/v1`` for messages: the spec and the URL it talks to (the
        provider's default URL when none was given, if it has one; never the key)."""
        url = self.endpoint[1] or getattr(self, "default_url", None)
        return f"{self.spec} at {url}" if url else self.spec

    async def probe(self, timeout_s: float = 10.0) -> ProbeResult:
        """One cheap request showing that the endpoint answers (the run's preflight, before its first
        episode): a problem names the HTTP status or the connection error. Never retried, never cached,
        not counted as usage. The default has nothing to reach (a local model): nothing to check."""
        return ProbeResult()

    @abstractmethod
    async def _complete(self, request: ModelRequest, timeout_s: float) -> ModelResponse:
        """One attempt. Raise :class:`TransientModelError` to have it retried, :class:`ModelError` to fail."""

    def _semaphore(self) -> asyncio.Semaphore:
        # one per event loop: a semaphore is bound to the loop it first waits in
        loop = asyncio.get_running_loop()
        sem = self._semaphores.get(id(loop))
        if sem is None:
            if len(self._semaphores) > 8:
                self._semaphores.clear()
            sem = self._semaphores[id(loop)] = asyncio.Semaphore(self.config.max_concurrency)
        return sem

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry ``attempt`` (1-based): exponential with jitter, at least Retry-After."""
        cfg = self.config
        expo = min(cfg.backoff_max_s, cfg.backoff_base_s * 2.0 ** (attempt - 1))
        delay = expo * (0.5 + 0.5 * self._rng.random())  # "equal jitter": never less than half
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, cfg.backoff_max_s)

    async def complete(self, request: ModelRequest, *, role: Role | str = "agent") -> ModelResponse:
        """The completion of ``request``: from the cache, or from the model with retries.

        Raises :class:`ModelError` when the model cannot answer (after retries).
        """
        key = request.cache_key(self.kind) if self.cache is not None else ""
        priced = self.prices.price(request.model) is not None
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                hit.cached = True
                for ledger in self._ledgers():
                    ledger.record(role, request.model, hit, priced=priced)
                return hit
        # made safe before anything keeps it (the cache, the conversation, the trace)
        response = safe_response(await self._call_with_retries(request, role))
        response.cost_usd = self.prices.cost(request.model, response.usage)
        if self.cache is not None:
            self.cache.put(key, request, response)
        for ledger in self._ledgers():
            ledger.record(role, request.model, response, priced=priced)
        return response

    async def _call_with_retries(self, request: ModelRequest, role: str) -> ModelResponse:
        cfg = self.config
        last = ""
        for attempt in range(cfg.max_retries + 1):
            if attempt:
                for ledger in self._ledgers():
                    ledger.record_retry(role)
            try:
                async with self._semaphore():
                    self.http_calls += 1
                    # the provider enforces the timeout itself; this guard catches one that does not
                    return await asyncio.wait_for(self._complete(request, cfg.timeout_s), cfg.timeout_s + 5.0)
            except TransientModelError as exc:
                last, retry_after = f"{exc.kind}: {exc}", exc.retry_after
            except TimeoutError:
                last, retry_after = f"timeout: no answer within {cfg.timeout_s:g} s", None
            except ModelError:
                for ledger in self._ledgers():
                    ledger.record_failure(role)
                raise
            if attempt < cfg.max_retries:
                await self._sleep(self.backoff(attempt + 1, retry_after))
        for ledger in self._ledgers():
            ledger.record_failure(role)
        gave_up = ModelError(f"{self.where}: {GAVE_UP_TEXT} {cfg.max_retries + 1} attempt(s); last error: {last}")
        if type(self)._complete.__module__.startswith("firstday.models."):  # a provider of ours, not an agent's own
            _record_give_up(gave_up, self.endpoint)
        raise gave_up

    async def aclose(self) -> None:
        """Release network clients (optional)."""
        return None

