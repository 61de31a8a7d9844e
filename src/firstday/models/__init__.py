"""Model providers: one ABC, retries, cache, usage and cost; SDKs imported only when used.

``get_provider("openai/gpt-4o")`` talks to any OpenAI-compatible endpoint; ``litellm/<model>`` and
``hf/<local path>`` import their packages on first use; :func:`model_api` and the ``firstday.models`` entry
point group add other prefixes.
"""

from firstday.models._usage import RoleUsage, UsageByRole, UsageLedger, current_usage, usage_scope
from firstday.models.base import (
    ModelError,
    ModelProvider,
    ModelRequest,
    ModelResponse,
    ModelToolCall,
    Price,
    PriceTable,
    ProviderConfig,
    Role,
    TransientModelError,
    Usage,
)
from firstday.models.cache import ResponseCache, default_cache_dir
from firstday.models.registry import (
    ModelSettings,
    ProviderArgs,
    ProviderFactory,
    clear_providers,
    get_provider,
    model_api,
    model_api_names,
    provider_from_settings,
)

__all__ = [
    "ModelError", "ModelProvider", "ModelRequest", "ModelResponse", "ModelSettings", "ModelToolCall",
    "Price", "PriceTable", "ProviderArgs", "ProviderConfig", "ProviderFactory", "ResponseCache", "Role", "RoleUsage",
    "TransientModelError", "Usage", "UsageByRole", "UsageLedger", "clear_providers", "current_usage",
    "default_cache_dir", "get_provider", "model_api", "model_api_names", "provider_from_settings", "usage_scope",
]
