"""The trainee's notebook: notes the agent writes with the ``notebook`` tool.

Within a day the notebook is an ordinary service. With memory on (``EnvConfig.memory``), the notes
carry over to the next day of the same scenario (and to no other scenario): the runner saves them with
each day's memory (:class:`firstday.env.memory.Memory`) and hands them to the next day's world.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

MAX_NOTE_CHARS = 4_000
MAX_NOTES = 500
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> set[str]:
    """Lower-case word tokens of ``text`` (for lexical matching of notes and lessons)."""
    return set(_WORD.findall(text.lower()))


class Note(BaseModel):
    note_id: int = Field(description="1, 2, ... in the order written, across days")
    day_index: int = Field(description="the day it was written on")
    time: int = Field(description="virtual minute it was written at")
    title: str
    text: str


class Notebook:
    """The notes of one trainee: those carried in from earlier days, then today's."""

    def __init__(self, notes: list[Note] | None = None) -> None:
        self.notes: list[Note] = [n.model_copy() for n in notes or []]

    def add(self, title: str, text: str, day_index: int, time: int) -> Note:
        note = Note(note_id=max((n.note_id for n in self.notes), default=0) + 1, day_index=day_index, time=time,
                    title=title, text=text)
        self.notes.append(note)
        return note

    def search(self, query: str) -> list[Note]:
        """Notes sharing words with ``query``, most shared words first (ties: newest first)."""
        q = words(query)
        scored = [(len(q & words(n.title + " " + n.text)), n.note_id, n) for n in self.notes]
        return [n for s, _, n in sorted(scored, key=lambda x: (-x[0], -x[1])) if s > 0]
