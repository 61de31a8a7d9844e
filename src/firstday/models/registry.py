"""Model names -> providers: ``openai/<model>``, ``litellm/<model>``, ``hf/<local path>``, and plug-ins.

A model name is ``<prefix>/<model>``; the prefix names a *model API*: a factory registered with
:func:`model_api` that imports its SDK inside (so an SDK is imported only when one of its models is used)
and builds the provider. Other packages add prefixes through the ``firstday.models`` entry point group
(``prefix = "package.module:factory"``), loaded when the prefix is first asked for.

Providers are shared within a process: the same name and settings give the same instance, so the
concurrency limit and the network clients are shared by every episode of a run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationError

from firstday._plugins import entry_point_targets, load_object
from firstday.errors import ConfigError, UnknownNameError, plugin_hint
from firstday.models._usage import UsageLedger
from firstday.models.base import ModelProvider, PriceTable, ProviderConfig

ENTRY_POINT_GROUP = "firstday.models"


@dataclass(frozen=True)
class ProviderArgs:
    """What :func:`get_provider` hands a model API's factory besides the model name (each factory uses the
    settings that apply to it: ``base_url`` for an endpoint, ``device`` for a local model...)."""

    config: ProviderConfig
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    device: str | None = None
    prices: PriceTable | None = None
    ledger: UsageLedger | None = None


#: builds the provider of ``<prefix>/<model>`` from the model (without the prefix) and the settings
ProviderFactory = Callable[[str, ProviderArgs], ModelProvider]
_MODEL_APIS: dict[str, ProviderFactory] = {}


def model_api(prefix: str) -> Callable[[ProviderFactory], ProviderFactory]:
    """Register a factory for the models ``<prefix>/<model>`` (a decorator). The factory imports its SDK
    inside, and its provider's ``kind`` is ``prefix``."""

    def deco(factory: ProviderFactory) -> ProviderFactory:
        _MODEL_APIS[prefix] = factory
        return factory

    return deco


@model_api("openai")
def _openai(model: str, args: ProviderArgs) -> ModelProvider:
    """Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, ...)."""
    from firstday.models.openai_compat import OpenAIProvider

    return OpenAIProvider(model, args.config, base_url=args.base_url, api_key_env=args.api_key_env,
                          prices=args.prices, ledger=args.ledger)


@model_api("litellm")
def _litellm(model: str, args: ProviderArgs) -> ModelProvider:
    """Hosted providers through LiteLLM (``pip install 'firstday[litellm]'``)."""
    from firstday.models.litellm_provider import LiteLLMProvider

    return LiteLLMProvider(model, args.config, base_url=args.base_url, prices=args.prices, ledger=args.ledger)


@model_api("hf")
def _hf(model: str, args: ProviderArgs) -> ModelProvider:
    """A local transformers model folder (``pip install 'firstday[hf]'``)."""
    from firstday.models.hf_provider import HFProvider

    return HFProvider(model, args.config, device=args.device, prices=args.prices, ledger=args.ledger)


def model_api_names() -> list[str]:
    """Every model prefix: registered ones and those of the ``firstday.models`` entry point group (not loaded)."""
    return sorted({*_MODEL_APIS, *entry_point_targets(ENTRY_POINT_GROUP)})


def _model_api(prefix: str) -> ProviderFactory:
    factory = _MODEL_APIS.get(prefix)
    if factory is None:
        plugin = entry_point_targets(ENTRY_POINT_GROUP).get(prefix)
        if plugin is None:
            raise UnknownNameError("model provider", prefix, model_api_names(), plugin_hint(
                "model provider", ENTRY_POINT_GROUP, '@firstday.models.model_api("PREFIX") on a factory'))
        factory = _MODEL_APIS[prefix] = load_object(plugin.target)
    return factory


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
    if not sep or not prefix or not rest:
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
    factory = _model_api(prefix)
    config = config or ProviderConfig()
    memo_key = json.dumps([name, base_url, api_key_env, device, config.model_dump(),
                           prices.model_dump() if prices else None], sort_keys=True, default=str)
    shared = shared and ledger is None  # a provider with a ledger of its own is the caller's alone
    with _LOCK:
        if shared and memo_key in _PROVIDERS:
            return _PROVIDERS[memo_key]
        provider = factory(model, ProviderArgs(config=config, base_url=base_url, api_key_env=api_key_env,
                                               device=device, prices=prices, ledger=ledger))
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
