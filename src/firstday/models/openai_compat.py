"""``openai/<model>``: any OpenAI-compatible chat endpoint through the official ``openai`` SDK.

OpenAI itself, vLLM, Ollama, LM Studio, SGLang, llama.cpp's server... The endpoint comes from
``base_url`` (``--base-url``) or ``OPENAI_BASE_URL``; the key from ``OPENAI_API_KEY`` (or the
variable named by ``api_key_env``). Local servers accept any key: set ``OPENAI_API_KEY=dummy``.
The SDK's own retries are switched off: the base class retries, with the run's seeded jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING, Any

from firstday.errors import ConfigError
from firstday.models._usage import UsageLedger
from firstday.models.base import (
    ModelError,
    ModelProvider,
    ModelRequest,
    ModelResponse,
    ModelToolCall,
    PriceTable,
    ProbeResult,
    ProviderConfig,
    TransientModelError,
    Usage,
    missing_package,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI

RETRYABLE_STATUS = frozenset({408, 409, 425, 429})


def request_kwargs(request: ModelRequest) -> dict[str, Any]:
    """The keyword arguments of ``chat.completions.create`` (unset fields are left out, not sent as null)."""
    kw: dict[str, Any] = {"model": request.model, "messages": request.messages}
    if request.tools:
        kw["tools"] = request.tools
        if request.tool_choice is not None:
            kw["tool_choice"] = request.tool_choice
    for name in ("temperature", "seed", "max_tokens", "stop"):
        value = getattr(request, name)
        if value is not None:
            kw[name] = value
    return kw


def response_from_openai(completion: Any, model: str) -> ModelResponse:
    """Convert an OpenAI-style completion object (from ``openai`` or ``litellm``) to a :class:`ModelResponse`."""
    choices = getattr(completion, "choices", None) or []
    if not choices:
        raise TransientModelError("the response has no choices", kind="bad_response")
    choice = choices[0]
    message = choice.message
    calls = []
    for i, tc in enumerate(getattr(message, "tool_calls", None) or []):
        fn = getattr(tc, "function", None)
        if fn is None:
            continue
        args = fn.arguments
        calls.append(ModelToolCall(id=tc.id or f"call_{i}", name=fn.name or "",
                                   arguments=args if isinstance(args, str) else _json(args)))
    usage = getattr(completion, "usage", None)
    return ModelResponse(
        text=message.content if isinstance(message.content, str) else None,
        tool_calls=calls,
        finish_reason=getattr(choice, "finish_reason", None),
        usage=Usage(prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                    completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0)),
        model=str(getattr(completion, "model", None) or model),
    )


def _short(text: str, limit: int = 200) -> str:
    """One line of at most ``limit`` characters (a server's error page can be long)."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit - 3] + "..."


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def retry_after_seconds(headers: Any) -> float | None:
    """``retry-after-ms`` or ``retry-after`` (seconds) from response headers; None if absent or a date."""
    if headers is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return max(0.0, float(raw) / divisor)
        except ValueError:
            continue
    return None


#: where the SDK sends requests when no base URL is given
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"


class OpenAIProvider(ModelProvider):
    kind = "openai"
    default_url = OPENAI_DEFAULT_URL

    def __init__(self, model: str, config: ProviderConfig | None = None, *, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", prices: PriceTable | None = None,
                 ledger: UsageLedger | None = None) -> None:
        try:
            import openai  # noqa: F401
        except ImportError:
            raise missing_package("openai", "llm", "openai") from None
        super().__init__(model, config, prices=prices, ledger=ledger)
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.api_key_env = api_key_env
        if not os.environ.get(api_key_env):
            raise ConfigError(f"set {api_key_env} to use openai/{model}"
                              + (" (any value works for a local server such as vLLM or Ollama, e.g. "
                                 f"{api_key_env}=dummy)" if self.base_url else ""))
        self._clients: dict[int, AsyncOpenAI] = {}

    def _client(self) -> AsyncOpenAI:
        from openai import AsyncOpenAI

        # one client per event loop: its connection pool belongs to the loop that opened it
        loop_id = id(asyncio.get_running_loop())
        client = self._clients.get(loop_id)
        if client is None:
            self._clients.clear()
            client = self._clients[loop_id] = AsyncOpenAI(
                api_key=os.environ.get(self.api_key_env), base_url=self.base_url, max_retries=0,
                timeout=self.config.timeout_s)
        return client

    async def _complete(self, request: ModelRequest, timeout_s: float) -> ModelResponse:
        import openai
        from openai.types.chat import ChatCompletion

        body = {**request_kwargs(request), **request.extra}
        try:
            # the SDK's low-level post: same auth, errors and response parsing as chat.completions.create,
            # without its per-call walk of the params against their TypedDicts (tens of ms for a long
            # conversation with tool schemas; see benchmarks/bench_model_overhead.py)
            completion = await self._client().post("/chat/completions", cast_to=ChatCompletion, body=body,
                                                    options={"timeout": timeout_s})
        except openai.APITimeoutError:
            raise TransientModelError(f"no answer within {timeout_s:g} s", kind="timeout") from None
        except openai.APIConnectionError as exc:  # the SDK says "Connection error."; its cause says which
            cause = f" ({exc.__cause__})" if exc.__cause__ is not None and str(exc.__cause__) else ""
            raise TransientModelError(f"connection failed: {exc}{cause}", kind="connection") from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            if status in RETRYABLE_STATUS or status >= 500:
                kind = "rate_limit" if status == 429 else "server"
                raise TransientModelError(f"HTTP {status}: {exc.message}", kind=kind,
                                          retry_after=retry_after_seconds(exc.response.headers)) from None
            raise ModelError(f"{self.spec}: HTTP {status}: {exc.message}") from None
        except openai.APIResponseValidationError as exc:
            raise TransientModelError(f"malformed response: {exc}", kind="bad_response") from None
        return response_from_openai(completion, request.model)

    async def probe(self, timeout_s: float = 10.0) -> ProbeResult:
        """``GET /models`` (no tokens spent); a server without that route (404) gets a 1-token completion.
        A model the listing leaves out is a note, not a problem: some servers list other names (aliases)."""
        import openai
        from openai import AsyncOpenAI

        async with AsyncOpenAI(api_key=os.environ.get(self.api_key_env), base_url=self.base_url, max_retries=0,
                               timeout=timeout_s) as client:  # its own client: the run's belong to its loop
            try:
                try:
                    listing = await client.get("/models", cast_to=object)
                except openai.NotFoundError:
                    await client.post("/chat/completions", cast_to=object, body={
                        "model": self.model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1})
                    return ProbeResult()
            except openai.APITimeoutError:
                return ProbeResult(f"no answer within {timeout_s:g} s")
            except openai.APIConnectionError as exc:
                return ProbeResult(f"connection failed ({exc.__cause__ or exc})")
            except openai.APIStatusError as exc:
                return ProbeResult(f"HTTP {exc.status_code}: {_short(exc.message)}")
        data = listing.get("data") if isinstance(listing, dict) else None
        names = {m.get("id") for m in data if isinstance(m, dict)} if isinstance(data, list) else set()
        if names and self.model not in names:
            listed = ", ".join(sorted(str(n) for n in names)[:8]) + (", ..." if len(names) > 8 else "")
            return ProbeResult(note=f"the server does not list the model {self.model!r} (it lists: {listed})")
        return ProbeResult()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for c in clients:
            with contextlib.suppress(RuntimeError):  # opened in an event loop that is gone
                await c.close()
