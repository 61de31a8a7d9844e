"""The deterministic, grounded colleague responder (DESIGN.md §4).

A colleague answers from its knowledge card only: the trainee's message is matched lexically against
each fact's keywords, the best match is revealed (or its gate reply, if a condition such as an approval
code is not met), and otherwise the colleague says it does not know. It never invents a fact, and the
same message always gets the same reply.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from firstday.world.assets import Fact
from firstday.world.company import Employee

_WORD = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_SEPARATOR = re.compile(r"[._-]")
_SUFFIXES = ("ing", "es", "s", "ed")


@functools.lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    # light, deterministic stemming so "suppliers"/"supplier" and "booking"/"book" meet
    # (cached: a pure function of the word, and every message to a colleague is tokenized)
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokenize(text: str) -> set[str]:
    """Lower-cased word stems; handles like ``dana.kim`` are kept whole and also split."""
    out: set[str] = set()
    for tok in _WORD.findall(text.lower()):
        out.add(_stem(tok))
        if not tok.isalnum():  # tokens are [a-z0-9._-]: not alphanumeric means it holds a separator
            out.update(_stem(p) for p in _SEPARATOR.split(tok) if p)
    return out


@functools.lru_cache(maxsize=4096)
def phrase_tokens(phrase: str) -> frozenset[str]:
    # cached: a pure function, and cards reuse a small vocabulary of phrases day after day
    return frozenset(tokenize(phrase))


@functools.lru_cache(maxsize=1024)
def message_tokens(message: str) -> frozenset[str]:
    # cached: a pure function, and the same questions are asked in every trial of a day
    return frozenset(tokenize(message))


def _phrases(texts: list[str]) -> list[frozenset[str]]:
    return [p for p in map(phrase_tokens, texts) if p]


@dataclass(frozen=True)
class Reply:
    sender: str
    text: str
    fact_id: str | None = None
    clue_ids: tuple[str, ...] = ()
    shares_files: tuple[str, ...] = ()


@dataclass
class _CompiledFact:
    fact: Fact
    keywords: list[frozenset[str]]
    require_any: list[frozenset[str]]
    gate: list[frozenset[str]]


@dataclass
class KnowledgeCard:
    holder: Employee
    facts: list[_CompiledFact] = field(default_factory=list)


def _compile(fact: Fact) -> _CompiledFact:
    return _CompiledFact(
        fact=fact,
        keywords=_phrases(fact.keywords),
        require_any=_phrases(fact.require_any),
        gate=_phrases(fact.gate_tokens),
    )


def _score(cf: _CompiledFact, words: AbstractSet[str]) -> int:
    if cf.require_any and not any(p <= words for p in cf.require_any):
        return 0
    return sum(len(p) for p in cf.keywords if p <= words)


class Responder:
    """Holds every colleague's card. Cards are private: no tool returns them."""

    def __init__(self, employees: list[Employee], facts: list[Fact]) -> None:
        # cards only for the colleagues who hold facts (a day builds one responder; most colleagues
        # know nothing); the others get an empty card when asked
        self._employees = {e.handle: e for e in employees}
        self._cards: dict[str, KnowledgeCard] = {}
        self.add_facts(facts)

    def add_facts(self, facts: list[Fact]) -> None:
        """Teach the holders these facts (a task's facts arrive with the task: before it, nobody knows them)."""
        for fact in facts:
            holder = self._employees.get(fact.holder)
            if holder is None:
                raise ValueError(f"fact {fact.fact_id!r} is held by unknown colleague {fact.holder!r}")
            self._cards.setdefault(fact.holder, KnowledgeCard(holder=holder)).facts.append(_compile(fact))

    def _card_of(self, handle: str) -> KnowledgeCard:
        """``handle``'s card (``KeyError`` if no such colleague)."""
        card = self._cards.get(handle)
        return card if card is not None else KnowledgeCard(holder=self._employees[handle])

    def respond(self, handle: str, message: str, *, group: bool = False) -> Reply | None:
        """The reply of ``handle`` to ``message``; ``None`` if a group member stays silent."""
        card = self._card_of(handle)
        # a colleague who holds no facts never matches: no need to read the message
        words = message_tokens(message) if card.facts else frozenset()
        # every fact with the best score is answered (in card order): two tasks of the same kind on one day
        # must not hide each other's facts
        top = 0
        best: list[_CompiledFact] = []
        for cf in card.facts:
            s = _score(cf, words)
            if s > top:
                top, best = s, [cf]
            elif s == top and s:
                best.append(cf)
        if top == 0:
            if group:
                return None
            return Reply(handle, f"Hi, {card.holder.first_name} here. Sorry, I don't know anything about that.")
        texts: list[str] = []
        fact_ids: list[str] = []
        clues: list[str] = []
        shares: list[str] = []
        for cf in best:
            fact = cf.fact
            if cf.gate and not all(g <= words for g in cf.gate):
                texts.append(fact.gate_reply or "I can't help with that yet.")
                continue
            texts.append(fact.reply)
            fact_ids.append(fact.fact_id)
            clues.extend(fact.clue_ids)
            shares.extend(fact.shares_files)
        return Reply(handle, " ".join(dict.fromkeys(texts)), fact_id=",".join(fact_ids) or None,
                     clue_ids=tuple(clues), shares_files=tuple(shares))

    def facts_of(self, handle: str) -> list[Fact]:
        """For the scorer and the LLM responder only (never exposed through a tool)."""
        return [cf.fact for cf in self._card_of(handle).facts]
