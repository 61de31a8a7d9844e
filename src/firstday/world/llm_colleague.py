"""LLM colleagues (DESIGN.md §4): the deterministic responder's reply, said in the colleague's voice.

The deterministic responder still decides *what* a colleague reveals (facts, clues, shared files,
referrals, gates); the model only rephrases it in persona, and is given nothing but the facts that
responder matched. Every rephrasing is checked against that card: a value-like token (a number, a
code, a date or time, a path, a link, a handle) that is not on the card is an *invented value*, and
a value of the deterministic reply that the rephrasing lost is a *dropped value*. Either is logged
as a colleague defect and the deterministic reply is delivered instead, so an LLM colleague can
never hand the agent a wrong or missing clue. Model failures fall back the same way (logged).

Not blocking the event loop: ``World.send`` is synchronous and stays so. It records what to
rephrase; :meth:`LLMColleagues.rewrite` — awaited by ``DayEnv.settle`` before each agent turn —
starts every pending rephrasing as an asyncio task (so replies still in flight are computed while
the agent's own model call runs) and awaits only those delivered in this observation, whose text it
then replaces (in the observation, the inbox and the trace). Replies go through the provider's cache,
so a rerun is reproducible and makes no calls.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from firstday.models.base import ModelError, ModelProvider, ModelRequest
from firstday.world.assets import Fact
from firstday.world.colleagues import Reply, Responder
from firstday.world.company import Company
from firstday.world.records import Notification
from firstday.world.world import World

# value-like tokens: links and paths, compound tokens holding a digit (amounts, codes, dates, times, ids),
# and dotted/underscored names (handles, file names)
_TOKEN = re.compile(
    r"https?://[^\s,;)\"']+"
    r"|(?<![\w/])/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+"
    r"|[A-Za-z0-9]+(?:[.,:/_-][A-Za-z0-9]+)*"
)
_NAME = re.compile(r"[A-Za-z]{2,}[._][A-Za-z0-9]{2,}(?:[._-][A-Za-z0-9]+)*")
_DIGIT = re.compile(r"\d")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")

PERSONA_PROMPT = """You are {name}, {role} in the {department} department at {company}. {persona}
You are answering a chat message from {trainee_name} ({trainee}), a new trainee. Reply in your own voice, \
briefly (one to three sentences), as a chat message.
Strict rules: convey the information in "What to tell them" completely, and write every name, number, code, \
date, time, file path, link and handle in it exactly as given. Add no other facts, numbers, codes, dates, \
names, paths or links. If it says you do not know, say so without guessing."""


def value_tokens(text: str) -> set[str]:
    """Normalised value-like tokens of ``text`` (numbers compared by value: '1,200.50' == '1200.5')."""
    out = set()
    for raw in _TOKEN.findall(text):
        if not (raw[0] == "/" or raw.startswith("http") or _DIGIT.search(raw) or _NAME.fullmatch(raw)):
            continue
        tok = _THOUSANDS.sub("", raw.rstrip(".,;:!?")).lower()
        try:
            num = float(tok)
            tok = repr(num)
        except ValueError:
            pass
        if tok:
            out.add(tok)
    return out


def check_reply(llm_text: str, deterministic: str, card: list[str]) -> list[str]:
    """Defects of a rephrasing: values not on the card, and values of the deterministic reply it lost."""
    allowed = set().union(*(value_tokens(c) for c in card), value_tokens(deterministic))
    said = value_tokens(llm_text)
    defects = [f"invented value {t!r}" for t in sorted(said - allowed)]
    defects += [f"dropped value {t!r}" for t in sorted(value_tokens(deterministic) - said)]
    return defects


@dataclass
class _Job:
    sender: str
    message: str
    reply: Reply
    facts: list[Fact]
    task: asyncio.Task[tuple[str, dict[str, Any]]] | None = None


class LLMColleagues(Responder):
    """A :class:`Responder` whose delivered replies are rephrased in persona by a model."""

    def __init__(self, base: Responder, company: Company, provider: ModelProvider, *,
                 temperature: float = 0.0, max_tokens: int = 300, seed: int = 0) -> None:
        employees = list(company.employees)
        super().__init__(employees, [f for e in employees for f in base.facts_of(e.handle)])
        self.company = company
        self.provider = provider
        self.temperature, self.max_tokens, self.seed = temperature, max_tokens, seed
        self.jobs: dict[tuple[str, str], _Job] = {}
        self.log: list[dict[str, Any]] = []  # every delivered reply: deterministic, model text, used, defects

    @property
    def defects(self) -> list[dict[str, Any]]:
        return [e for e in self.log if e["defects"]]

    def respond(self, handle: str, message: str, *, group: bool = False) -> Reply | None:
        reply = super().respond(handle, message, group=group)
        if reply is not None and (handle, reply.text) not in self.jobs:
            # a cheap record only: the model is asked from rewrite(), inside the event loop
            revealed = set((reply.fact_id or "").split(","))
            facts = [f for f in self.facts_of(handle) if f.fact_id in revealed]
            self.jobs[(handle, reply.text)] = _Job(handle, message, reply, facts)
        return reply

    def _request(self, job: _Job) -> ModelRequest:
        e = self.company.employee(job.sender)
        trainee = self.company.trainee
        system = PERSONA_PROMPT.format(name=e.name, role=e.role, department=e.department, company=self.company.name,
                                       persona=e.persona, trainee_name=trainee.name, trainee=trainee.handle)
        known = "\n".join(f"- {f.topic}: {f.reply}" for f in job.facts) or "- nothing about this"
        user = (f"Their message: {job.message}\n\nWhat you know that is relevant:\n{known}\n\n"
                f"What to tell them: {job.reply.text}")
        return ModelRequest(model=self.provider.model, messages=[{"role": "system", "content": system},
                                                                 {"role": "user", "content": user}],
                            temperature=self.temperature, seed=self.seed, max_tokens=self.max_tokens)

    def _card(self, job: _Job) -> list[str]:
        e = self.company.employee(job.sender)
        trainee = self.company.trainee
        return [job.reply.text, *(f"{f.topic} {f.reply}" for f in job.facts),
                f"{e.name} {e.handle} {e.department} {e.role}", f"{trainee.name} {trainee.handle}", self.company.name]

    async def _rephrase(self, job: _Job) -> tuple[str, dict[str, Any]]:
        entry: dict[str, Any] = {"sender": job.sender, "deterministic": job.reply.text, "llm": None,
                                 "used": "deterministic", "defects": [], "error": None}
        try:
            response = await self.provider.complete(self._request(job), role="colleague")
        except ModelError as exc:
            entry["error"] = str(exc)
            return job.reply.text, entry
        text = (response.text or "").strip()
        entry["llm"] = text
        entry["defects"] = check_reply(text, job.reply.text, self._card(job)) if text else ["empty reply"]
        if entry["defects"]:
            return job.reply.text, entry
        entry["used"] = "llm"
        return text, entry

    async def rewrite(self, notes: list[Notification]) -> list[dict[str, Any]]:
        """Replace the text of the colleagues' replies in ``notes``; return their log entries."""
        for job in self.jobs.values():
            if job.task is None:
                job.task = asyncio.ensure_future(self._rephrase(job))
        entries = []
        for n in notes:
            if n.kind != "message" or n.sender is None or n.task_id is not None:
                continue  # task arrivals and follow-ups are the scenario's words, not replies
            prefix = f"Message from {self.company.employee(n.sender).name} ({n.sender}): "
            found = self.jobs.get((n.sender, n.text[len(prefix):])) if n.text.startswith(prefix) else None
            if found is None or found.task is None:
                continue
            text, entry = await found.task
            n.text = prefix + text
            entry = {**entry, "time": n.time}
            self.log.append(entry)
            entries.append(entry)
        return entries

    async def aclose(self) -> None:
        """Cancel rephrasings of replies that were never delivered (the day ended first)."""
        for job in self.jobs.values():
            if job.task is not None and not job.task.done():
                job.task.cancel()
        pending = [j.task for j in self.jobs.values() if j.task is not None]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def install_llm_colleagues(world: World, provider: ModelProvider, *, temperature: float = 0.0, max_tokens: int = 300,
                           seed: int = 0) -> LLMColleagues:
    """Replace ``world.responder`` by LLM colleagues holding the same cards."""
    colleagues = LLMColleagues(world.responder, world.company, provider, temperature=temperature,
                               max_tokens=max_tokens, seed=seed)
    world.responder = colleagues
    return colleagues


def colleagues_from_config(world: World, model: str, options: dict[str, Any], *, seed: int = 0) -> LLMColleagues:
    """LLM colleagues for ``world`` from ``EnvConfig.colleague_model`` / ``colleague_options``."""
    from firstday.errors import ConfigError
    from firstday.models.registry import ModelSettings, provider_from_settings

    own = {"temperature", "max_tokens"}
    settings = ModelSettings.from_options({**{k: v for k, v in options.items() if k not in own}, "model": model},
                                          what="colleague")
    unknown = sorted(set(options) - own - set(ModelSettings.model_fields))
    if unknown:
        raise ConfigError(f"unknown colleague option(s) {', '.join(unknown)}")
    return install_llm_colleagues(world, provider_from_settings(settings),
                                  temperature=float(options.get("temperature", 0.0)),
                                  max_tokens=int(options.get("max_tokens", 300)), seed=seed % 2**31)
