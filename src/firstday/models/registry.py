"""Model names -> providers: ``openai/<model>``, ``litellm/<model>``, ``hf/<local path>``.

Providers are shared within a process: the same name and settings give the same instance, so the
concurrency limit and the network clients are shared by every episode of a run.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from pydantic import Field, ValidationError

from firstday.errors import ConfigError
from firstday.models.base import LEDGER, ModelProvider, PriceTable, ProviderConfig, UsageLedger

PREFIXES = ("openai", "litellm", "hf")


class ModelSettings(ProviderConfig):
    """A model and how to reach it: what ``--model``/``--base-url`` and the agent options hold."""

    model: str = Field(description="openai/<model>, litellm/<model> or hf/<local path>")
    base_url: str | None = Field(default=None, description="endpoint of an OpenAI-compatible server")
    api_key_env: str = Field(default="OPENAI_API_KEY", description="environment variable holding the key")
    prices: str | None = Field(default=None, description="JSON price table file (added to the defaults)")
    device: str | None = Field(default=None, description="hf/: torch device (default: cuda if available)")

    @classmethod
    def from_options(cls, options: dict[str, Any], *, what: str = "agent") -> ModelSettings:
        """Settings from an options dict; unknown keys are ignored (they belong to the agent)."""
        keys = set(cls.model_fields)
        picked = {k: v for k, v in options.items() if k in keys}
        if "model" not in picked:
            raise ConfigError(f"the {what} needs a model: give --model openai/<model> (or the option model=...)")
        try:
            return cls.model_validate(picked)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"invalid {what} model option {'.'.join(map(str, first['loc']))}: "
                              f"{first['msg']}") from None

    def provider_config(self) -> ProviderConfig:
        return ProviderConfig.model_validate(
            {k: getattr(self, k) for k in ProviderConfig.model_fields})


def split_model_name(name: str) -> tuple[str, str]:
    prefix, sep, rest = name.partition("/")
    if not sep or not rest or prefix not in PREFIXES:
        raise ConfigError(f"model {name!r} needs a provider prefix: openai/<model> (any OpenAI-compatible "
                          "endpoint), litellm/<model> or hf/<local path>")
    return prefix, rest


_PROVIDERS: dict[str, ModelProvider] = {}
_LOCK = threading.Lock()


def get_provider(name: str, *, base_url: str | None = None, config: ProviderConfig | None = None,
                 prices: PriceTable | None = None, ledger: UsageLedger | None = None,
                 api_key_env: str = "OPENAI_API_KEY", device: str | None = None,
                 shared: bool = True) -> ModelProvider:
    """The provider for ``name`` (e.g. ``openai/gpt-4o``); built once per name and settings when ``shared``."""
    prefix, model = split_model_name(name)
    config = config or ProviderConfig()
    memo_key = json.dumps([name, base_url, api_key_env, device, config.model_dump(),
                           prices.model_dump() if prices else None], sort_keys=True, default=str)
    shared = shared and (ledger is None or ledger is LEDGER)
    with _LOCK:
        if shared and memo_key in _PROVIDERS:
            return _PROVIDERS[memo_key]
        provider: ModelProvider
        if prefix == "openai":
            from firstday.models.openai_compat import OpenAIProvider

            provider = OpenAIProvider(model, config, base_url=base_url, api_key_env=api_key_env, prices=prices,
                                      ledger=ledger)
        elif prefix == "litellm":
            from firstday.models.litellm_provider import LiteLLMProvider

            provider = LiteLLMProvider(model, config, base_url=base_url, prices=prices, ledger=ledger)
        else:
            from firstday.models.hf_provider import HFProvider

            provider = HFProvider(model, config, device=device, prices=prices, ledger=ledger)
        if shared:
            _PROVIDERS[memo_key] = provider
        return provider


def provider_from_settings(settings: ModelSettings, *, ledger: UsageLedger | None = None) -> ModelProvider:
    prices = PriceTable.load(settings.prices) if settings.prices else None
    return get_provider(settings.model, base_url=settings.base_url, config=settings.provider_config(),
                        prices=prices, ledger=ledger, api_key_env=settings.api_key_env, device=settings.device)


def clear_providers() -> None:
    """Forget the shared providers (tests; or to pick up a changed environment)."""
    with _LOCK:
        _PROVIDERS.clear()
