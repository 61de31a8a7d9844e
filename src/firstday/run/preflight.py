"""Failing fast on a dead model: the preflight, the endpoints a run records, and the circuit breaker.

* :func:`preflight`: before a run's first episode, one cheap request to each configured model endpoint
  (the agent's ``--model``, the LLM colleagues' ``--colleague-model``); an endpoint that does not answer
  is a :class:`PreflightError` naming its URL, the HTTP status or connection error, and what to check —
  in seconds, instead of every episode burning its retries against it (docs/running.md, "Failing fast").
* :func:`endpoint_records`: where those endpoints are (the effective base URL and where it came from),
  recorded in ``run.json``; :func:`check_endpoints` refuses a resume against another server unless asked.
* :class:`CircuitBreaker`: the same endpoint failing ``limit`` episodes in a row stops the run
  (:class:`CircuitOpen`); what finished is saved and the same command resumes.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from firstday.env.episode import EnvConfig
from firstday.errors import CircuitOpen, ConfigError
from firstday.models.base import gave_up_where
from firstday.models.registry import ModelSettings, provider_from_settings, split_model_name
from firstday.run.results import EndpointRecord, EpisodeSummary, RunManifest

__all__ = ["DEFAULT_STOP_AFTER_ERRORS", "CircuitBreaker", "CircuitOpen", "EndpointCheck", "PreflightError",
           "check_endpoints", "configured_models", "endpoint_record", "endpoint_records", "preflight",
           "probe_endpoints", "recorded_endpoints"]

Role = Literal["agent", "colleague"]

#: episodes in a row failing on one endpoint that stop a run (``--stop-after-errors``)
DEFAULT_STOP_AFTER_ERRORS = 10
#: seconds one preflight request may take
PREFLIGHT_TIMEOUT_S = 10.0


class PreflightError(ConfigError):
    """A configured model endpoint does not answer: nothing was run and no run folder was made."""


def configured_models(agent_options: Mapping[str, Any], env_config: EnvConfig | None = None
                      ) -> list[tuple[Role, ModelSettings]]:
    """The models a run is configured with, by role: the agent's (``model`` among its options) and the LLM
    colleagues' (``EnvConfig.colleague_model``). A role without a usable model is left out (``-O model=gpt``
    given to an agent that has no model: the CLI checks ``--model`` itself, the agent its options)."""
    wanted: list[tuple[Role, dict[str, Any]]] = [("agent", dict(agent_options))]
    if env_config is not None and env_config.colleague_model:
        wanted.append(("colleague", {**env_config.colleague_options, "model": env_config.colleague_model}))
    out: list[tuple[Role, ModelSettings]] = []
    for role, options in wanted:
        try:
            settings = ModelSettings.from_options(options, what=role)
            split_model_name(settings.model)  # a name without a provider prefix (an option of another agent)
        except ConfigError:  # the agent reports its own options when it is made
            continue
        out.append((role, settings))
    return out


def endpoint_record(role: Role, settings: ModelSettings) -> EndpointRecord:
    """Where ``settings`` sends its requests, and why (never the key). As the providers resolve it: an
    ``openai/`` model uses the option, else ``$OPENAI_BASE_URL``, else OpenAI's own URL."""
    from firstday.models.openai_compat import OPENAI_DEFAULT_URL  # imports no SDK

    prefix = settings.model.partition("/")[0]
    if settings.base_url:
        return EndpointRecord(role=role, model=settings.model, base_url=settings.base_url, source="--base-url")
    if prefix == "openai":
        env_url = os.environ.get("OPENAI_BASE_URL")
        if env_url:
            return EndpointRecord(role=role, model=settings.model, base_url=env_url, source="$OPENAI_BASE_URL")
        return EndpointRecord(role=role, model=settings.model, base_url=OPENAI_DEFAULT_URL, source="provider default")
    if prefix == "hf":
        return EndpointRecord(role=role, model=settings.model, source="local")
    return EndpointRecord(role=role, model=settings.model, source="provider default")


def endpoint_records(agent_options: Mapping[str, Any], env_config: EnvConfig | None = None) -> list[EndpointRecord]:
    """The run's endpoints as ``run.json`` records them (see :func:`endpoint_record`)."""
    return [endpoint_record(role, s) for role, s in configured_models(agent_options, env_config)]


def recorded_endpoints(manifest: RunManifest) -> list[EndpointRecord]:
    """The endpoints a saved run recorded; for a run made before they were recorded, those its options
    name (``--base-url`` was saved as an agent option); an endpoint taken from the environment then is
    unknown, and nothing is compared for it."""
    if manifest.endpoints:
        return manifest.endpoints
    return [r for r in endpoint_records(manifest.agent_options, manifest.env_config) if r.source == "--base-url"]


def check_endpoints(saved: RunManifest, now: RunManifest, path: object, allow_change: bool) -> list[EndpointRecord]:
    """The saved endpoints that differ from ``now``'s (empty: the same, or unknown). A difference is a
    ConfigError unless ``allow_change``: resuming against another server would mix two servers' results."""
    current = {(r.role, r.model): r for r in now.endpoints}
    changed = [r for r in recorded_endpoints(saved)
               if (r.role, r.model) in current and current[(r.role, r.model)].base_url != r.base_url]
    if changed and not allow_change:
        diffs = "; ".join(f"{r.describe()} then, {current[(r.role, r.model)].describe()} now" for r in changed)
        raise ConfigError(f"{path} was run against another endpoint ({diffs}); resuming would mix two servers' "
                          "results: pass --allow-endpoint-change to resume anyway, or use another --out")
    return changed


# ---- the preflight ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EndpointCheck:
    """One endpoint's preflight: ``problem`` None when it answered."""

    record: EndpointRecord
    problem: str | None
    note: str | None
    seconds: float


def _hint(problem: str, record: EndpointRecord, settings: ModelSettings) -> str:
    flag = "--base-url" if record.role == "agent" else "--colleague-base-url"
    if problem.startswith("HTTP 401") or problem.startswith("HTTP 403"):
        return f"check the key in ${settings.api_key_env}"
    if problem.startswith("HTTP 404"):
        return f"check {flag} (it usually ends in /v1) and the model name"
    if problem.startswith("HTTP"):
        return f"check the server's log, {flag} and the model name"
    where = "$OPENAI_BASE_URL" if record.source == "$OPENAI_BASE_URL" else flag
    return f"is the server running? check {where} (and ${settings.api_key_env})"


async def probe_endpoints(agent_options: Mapping[str, Any], env_config: EnvConfig | None = None,
                          timeout_s: float = PREFLIGHT_TIMEOUT_S) -> list[EndpointCheck]:
    """One cheap request to each configured endpoint at once (:meth:`ModelProvider.probe`); an endpoint
    shared by two roles is probed once."""
    models = configured_models(agent_options, env_config)
    seen: dict[tuple[str, str | None, str], int] = {}
    unique: list[tuple[Role, ModelSettings]] = []
    for role, settings in models:
        key = (settings.model, endpoint_record(role, settings).base_url, settings.api_key_env)
        if key not in seen:
            seen[key] = len(unique)
            unique.append((role, settings))

    async def one(role: Role, settings: ModelSettings) -> EndpointCheck:
        record = endpoint_record(role, settings)
        started = time.perf_counter()
        try:
            provider = provider_from_settings(settings)
        except ConfigError:  # not a model this process can build (an unknown prefix...): the agent says so
            return EndpointCheck(record, None, None, 0.0)
        try:
            result = await asyncio.wait_for(provider.probe(timeout_s), timeout_s + 5.0)
            problem, note = result.problem, result.note
        except TimeoutError:
            problem, note = f"no answer within {timeout_s:g} s", None
        if problem is not None:
            problem = f"{problem}; {_hint(problem, record, settings)}"
        return EndpointCheck(record, problem, note, time.perf_counter() - started)

    return list(await asyncio.gather(*(one(r, s) for r, s in unique)))


def preflight(agent_options: Mapping[str, Any], env_config: EnvConfig | None = None,
              timeout_s: float = PREFLIGHT_TIMEOUT_S) -> list[EndpointCheck]:
    """:func:`probe_endpoints` from synchronous code; raises :class:`PreflightError` naming every endpoint
    that does not answer (its URL, the status or connection error, what to check). Returns the checks
    (their notes are worth printing)."""
    checks = asyncio.run(probe_endpoints(agent_options, env_config, timeout_s))
    failed = [c for c in checks if c.problem is not None]
    if failed:
        lines = "; ".join(f"{c.record.role} model {c.record.model}"
                          + (f" at {c.record.base_url}" if c.record.base_url else "") + f": {c.problem}"
                          for c in failed)
        raise PreflightError(f"preflight failed: {lines} (nothing was run; --no-preflight skips this check)")
    return checks


# ---- the circuit breaker ------------------------------------------------------------------------------

class CircuitBreaker:
    """Counts, per endpoint, the finished episodes in a row that ended because its provider gave up
    (infrastructure errors naming it: :func:`firstday.models.base.gave_up_where`); an episode that ends ok
    or in an agent error resets every count, another infrastructure error (a lost worker, the days of a
    memory chain left unrun after a failed one) neither counts nor resets. At ``limit`` (0: never)
    :meth:`record` returns the :class:`CircuitOpen` error to stop the run with."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ConfigError(f"stop_after_errors must be 0 (never) or more, got {limit}")
        self.limit = limit
        self.counts: dict[str, int] = {}
        self.tripped: CircuitOpen | None = None

    def record(self, summary: EpisodeSummary) -> CircuitOpen | None:
        if not summary.infrastructure_error:  # the episode got through (or the agent failed): endpoints answer
            self.counts.clear()
            return None
        where = gave_up_where(summary.error)
        if where is None:  # another cause (a lost worker, the rest of a memory chain not run): says nothing
            return self.tripped
        self.counts[where] = self.counts.get(where, 0) + 1
        if self.limit and self.counts[where] >= self.limit and self.tripped is None:
            self.tripped = CircuitOpen(
                f"stopped: {self.counts[where]} episode(s) in a row failed on {where} (the model endpoint does "
                f"not answer: last error: {_last_error(summary.error)}); finished episodes are saved; fix the "
                "cause and rerun the same command with --retry-errors to resume")
        return self.tripped


def _last_error(error: str | None) -> str:
    text = (error or "").rpartition("last error: ")[2] or (error or "")
    return " ".join(text.split())[:200]
