"""``litellm/<model>``: hosted providers through LiteLLM (Anthropic, Gemini, Bedrock, Mistral, ...).

The model name after the prefix is LiteLLM's own (e.g. ``litellm/anthropic/claude-3-5-sonnet-latest``);
keys come from the environment variables LiteLLM documents. ``litellm`` is imported only when used.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from firstday.models._usage import UsageLedger
from firstday.models.base import (
    ModelError,
    ModelProvider,
    ModelRequest,
    ModelResponse,
    PriceTable,
    ProbeResult,
    ProviderConfig,
    TransientModelError,
    missing_package,
)
from firstday.models.openai_compat import request_kwargs, response_from_openai, retry_after_seconds


def _import_litellm() -> ModuleType:
    try:
        return importlib.import_module("litellm")
    except ImportError:
        raise missing_package("litellm", "litellm", "litellm") from None


class LiteLLMProvider(ModelProvider):
    kind = "litellm"

    def __init__(self, model: str, config: ProviderConfig | None = None, *, base_url: str | None = None,
                 prices: PriceTable | None = None, ledger: UsageLedger | None = None) -> None:
        self._litellm = _import_litellm()
        super().__init__(model, config, prices=prices, ledger=ledger)
        self.base_url = base_url

    def _is(self, exc: BaseException, *names: str) -> bool:
        types = tuple(t for n in names if isinstance(t := getattr(self._litellm, n, None), type))
        return bool(types) and isinstance(exc, types)

    async def _complete(self, request: ModelRequest, timeout_s: float) -> ModelResponse:
        kw: dict[str, Any] = {**request_kwargs(request), **request.extra, "timeout": timeout_s, "num_retries": 0}
        if self.base_url:
            kw["api_base"] = self.base_url
        try:
            completion = await self._litellm.acompletion(**kw)
        except Exception as exc:
            if self._is(exc, "Timeout"):
                raise TransientModelError(f"no answer within {timeout_s:g} s", kind="timeout") from None
            if self._is(exc, "RateLimitError"):
                headers = getattr(getattr(exc, "response", None), "headers", None)
                raise TransientModelError(str(exc), kind="rate_limit",
                                          retry_after=retry_after_seconds(headers)) from None
            if self._is(exc, "InternalServerError", "ServiceUnavailableError", "APIConnectionError",
                        "BadGatewayError"):
                raise TransientModelError(str(exc), kind="server") from None
            raise ModelError(f"{self.spec}: {type(exc).__name__}: {exc}") from None
        return response_from_openai(completion, request.model)

    async def probe(self, timeout_s: float = 10.0) -> ProbeResult:
        """A 1-token completion (LiteLLM has no provider-neutral listing): a fraction of a cent at most."""
        kw: dict[str, Any] = {"model": self.model, "messages": [{"role": "user", "content": "ping"}],
                              "max_tokens": 1, "timeout": timeout_s, "num_retries": 0}
        if self.base_url:
            kw["api_base"] = self.base_url
        try:
            await self._litellm.acompletion(**kw)
        except Exception as exc:  # LiteLLM maps every provider's errors to its own types: name the type
            return ProbeResult(f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
        return ProbeResult()
