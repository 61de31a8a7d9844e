"""Test adversaries: built-in agents that try to earn credit without deciding anything.

``spray`` is privileged, like the oracle: it reads each task's oracle plan and hidden answers (it is a test
of the checks, not a baseline). For every task it replays the plan's exploration (reads, pages, questions
and the waits for their replies, meetings), then takes the task's kind of action on *every plausible
target* instead of the right one, the way an unsure agent hedges:

- a message that carries one of the task's values (a page, an approval request, a code, a reminder), in
  form ``everyone`` (the default), goes to every colleague with the oracle's own text, followed by one
  message listing every candidate value to every colleague; in form ``target`` it goes only to the
  oracle's own recipient, once per candidate (the oracle's text with the value swapped for that candidate:
  several messages, one guess each, the right one among them), then as one message listing every
  candidate. The two forms are separate agents (``--option form=target``) because the first one's strays
  would fail a check before the second one's guesses were looked at;
- a file write goes to every workspace file of the task, holding the original text, the oracle's text for
  that file and every candidate value (every link seen, every id);
- a booking is made in every room;
- a submission lists every candidate for each field instead of choosing (every colleague for a handle,
  every value of the task's candidate lists for a value, both truth values for a flag).

A benchmark that measures prudence must score this as wrong: ``tests/test_spray.py`` runs it over every
family and asserts that it passes no answer-bearing checkpoint.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Literal, cast

from firstday.agents.base import AgentContext
from firstday.agents.builtin import OracleAgent
from firstday.errors import ConfigError
from firstday.tasks.checks import MessageOnlyCheck
from firstday.tasks.model import TaskInstance
from firstday.world.company import Company
from firstday.world.tools import ToolCall

# Answer-bearing checkpoints the spray may pass, each with why listing every candidate *is* the answer there
# (no check can tell the spray from a right answer). Keys: (family, variant, difficulty, checkpoint id).
SPRAY_EXEMPT: dict[tuple[str, str, str, str], str] = {
    ("whiteboard_actions", "action_list", "easy", "open-items"):
        "nothing is struck through at easy: every item on the whiteboard is open, so the list of all is right",
    **{("form_data_entry", variant, difficulty, "entered"): "no form is invalid below hard: every form is entered"
       for variant in ("visitor_registration", "equipment_request", "expense_claim")
       for difficulty in ("easy", "medium")},
}

# calls that only look (or let time pass): replayed as the oracle makes them
READ_ONLY = frozenset({"read_file", "list_files", "open_page", "list_colleagues", "lookup_colleague", "read_inbox",
                       "list_rooms", "room_schedule", "list_meetings", "wait", "attend_meeting", "run_python",
                       "calculator", "list_tasks", "notebook"})
GROUP_LIMIT = 50  # recipients per group message (send_message refuses more)
PLACEHOLDER = "unknown"  # listed beside a value no other candidate is known for: still not a choice
MAX_SWAPS = 12  # one message per candidate only for values with at most this many (a handle has every colleague)


def _scalars(value: Any) -> list[str]:
    """Every scalar inside an answer value, as text."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _scalars(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _scalars(v)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


_TITLED = re.compile(r"[A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*)*")


def _shape(value: str) -> re.Pattern[str] | None:
    """A pattern for tokens shaped like ``value``: ``REQ-96095`` -> ``REQ-\\d{5}`` (ids and numbers), a
    capitalised name of n words -> any capitalised run of n words (vendors, products, places)."""
    if len(value) > 60:
        return None
    if not any(ch.isdigit() for ch in value):
        if not _TITLED.fullmatch(value):
            return None
        n = value.count(" ")
        return re.compile(r"(?<![\w-])[A-Z][\w&'.-]*" + r"(?: [A-Z][\w&'.-]*)" * n + r"(?![\w-])")
    body = "".join(rf"\d{{{len(run)}}}" if run[0].isdigit() else re.escape(run)
                   for run in re.findall(r"\d+|\D+", value))
    return re.compile(rf"(?<![\w.]){body}(?![\w]|\.\d)")


def _task_texts(task: TaskInstance) -> str:
    """Everything the task shows an agent (files, image text alternatives, pages, replies, objective)."""
    parts = [task.objective]
    parts += [f.content for f in task.files if f.render is None] + [f.text_alternative or "" for f in task.files]
    parts += [p.content for p in task.pages] + [v.content for p in task.pages for v in p.versions]
    parts += [f.reply for f in task.facts]
    return "\n".join(parts)


class Candidates:
    """The values a task's agent had to choose among, from the hidden data (privileged)."""

    def __init__(self, task: TaskInstance, company: Company) -> None:
        checked = {getattr(cp.check, "expected", None) for cp in task.checkpoints}
        self.handles = sorted(e.handle for e in company.employees if e.handle != company.trainee.handle)
        self.names = sorted(e.name for e in company.employees)
        self.texts = _task_texts(task)
        # lists among the hidden answers that no check expects are candidate sets (services on a board, times
        # on a whiteboard, links); an expected list is the answer itself, which a sprayer does not know
        self.lists = [[str(x) for x in v] for k, v in task.answers.items() if k not in checked
                      and isinstance(v, list) and v and all(isinstance(x, str | int | float) for x in v)]
        self.values = [s for s in dict.fromkeys(s for v in task.answers.values() for s in _scalars(v))
                       if len(s.strip()) >= 3]

    def of(self, value: str) -> list[str]:
        """Every candidate for a value: all colleagues for a handle; for a name, month or weekday all of them;
        for an id or number every token of its shape the task shows; and every hidden list holding it."""
        if value in self.handles:
            return list(self.handles)
        found = dict.fromkeys(x for lst in self.lists if value in lst for x in lst)
        found[value] = None
        for every in (self.names, MONTHS, WEEKDAYS):
            if value in every:
                found.update(dict.fromkeys(every))
        shape = _shape(value)
        if shape is not None:  # every id or number of the same shape the task shows
            found.update(dict.fromkeys(shape.findall(self.texts)))
        if len(found) == 1:
            found[PLACEHOLDER] = None
        return list(found)

    def spread(self, value: Any) -> Any:
        """A submitted value listing every candidate instead of one."""
        if isinstance(value, dict):
            return {k: self.spread(v) for k, v in value.items()}
        if isinstance(value, bool):
            return [True, False]
        if isinstance(value, list | tuple):
            return list(dict.fromkeys(c for v in value for c in (self.of(str(v)) if not isinstance(v, dict | list)
                                                                  else [str(v)])))
        if isinstance(value, int | float):
            return [value, PLACEHOLDER]
        return self.of(str(value))

    def swaps(self, text: str) -> list[str]:
        """``text`` once per other candidate of each value it carries (the value swapped for the candidate),
        for values with a short candidate list. The right text comes after one guess for each value and
        before the other guesses, so a deadline that cuts the list short still leaves a guess of each value
        in time, and neither "the first message" nor "the last message" is the right one."""
        swaps: list[list[str]] = []
        for value in (v for v in self.values if v in text):
            others = [c for c in self.of(value) if c not in (value, PLACEHOLDER)]
            if 0 < len(others) <= MAX_SWAPS:
                swaps.append([text.replace(value, c) for c in others])
        if not swaps:
            return []
        return [*(s[0] for s in swaps), text, *(x for s in swaps for x in s[1:])]

    def listing(self) -> str:
        """One message naming every candidate value."""
        every = dict.fromkeys([*self.values, *(x for lst in self.lists for x in lst)])
        return "It is one of these: " + ", ".join(every)


def _is_question(plan: list[ToolCall], i: int) -> bool:
    """A message the plan waits for a reply to: exploration (asking), not the task's action."""
    raw = plan[i].arguments
    to = raw.get("to") if isinstance(raw, dict) else None
    return isinstance(to, str) and any(
        c.name == "wait" and isinstance(c.arguments, dict) and c.arguments.get("for_message_from") == to
        for c in plan[i + 1:])


SprayForm = Literal["everyone", "target"]


def spray_plan(task: TaskInstance, company: Company, form: SprayForm = "everyone") -> list[ToolCall]:
    """The task's oracle plan with every action taken on every plausible target (``form``: how messages are
    sprayed, see the module docstring)."""
    cands = Candidates(task, company)
    everyone = cands.handles
    groups = [everyone[i:i + GROUP_LIMIT] for i in range(0, len(everyone), GROUP_LIMIT)]
    workspace = [f.path for f in task.files if f.path.startswith("/workspace/") and f.render is None]
    original = {f.path: f.content or "" for f in task.files}
    plan = task.solution
    out: list[ToolCall] = []

    def broadcast(text: str) -> None:
        out.extend(ToolCall(name="send_message", arguments={"to": g, "text": text}) for g in groups)

    for i, call in enumerate(plan):
        args = dict(call.arguments) if isinstance(call.arguments, dict) else {}
        if call.name in READ_ONLY:
            out.append(call)
        elif call.name == "send_message":
            text = str(args.get("text", ""))
            carries = any(v in text for v in cands.values)
            if _is_question(plan, i):
                out.append(call)  # ask as the oracle does (its replies are exploration) ...
                if carries and form == "everyone":
                    broadcast(text)  # ... and hedge a question that hands over a value, too
            elif form == "everyone":
                broadcast(text)
                broadcast(cands.listing())
            else:
                out.extend(ToolCall(name="send_message", arguments={**args, "text": t})
                           for t in [*(cands.swaps(text) or [text]), cands.listing()])
        elif call.name == "write_file":
            target = str(args.get("path", ""))
            block = "\n".join(dict.fromkeys([*cands.values, *(x for lst in cands.lists for x in lst)]))
            for path in dict.fromkeys([*workspace, target]):
                mine = str(args.get("content", "")) if path == target else ""
                out.append(ToolCall(name="write_file", arguments={
                    "path": path, "content": "\n".join(x for x in (original.get(path, ""), mine, block) if x)}))
        elif call.name == "book_meeting":
            out.extend(ToolCall(name="book_meeting", arguments={**args, "room": room.name})
                       for room in company.rooms)
        elif call.name == "submit":
            out.append(ToolCall(name="submit", arguments={**args, "answer": cands.spread(args.get("answer"))}))
        else:
            # a call this module does not know how to spray (edit_file, cancel_meeting...): made as planned, so
            # a family that starts using one shows up in tests/test_spray.py as a checkpoint the spray passes
            out.append(call)
    return out


def sprays_checkpoint(task: TaskInstance, company: Company, cp_id: str, form: SprayForm) -> bool:
    """Whether ``form`` acts on the decision a checkpoint checks. ``everyone`` sprays every action; ``target``
    only varies what a message to the right recipient says, so it tests just the targeted-message checks whose
    value has other candidates (sent to the right person, the one right value *is* the right answer)."""
    if form == "everyone":
        return True
    check = next(c.check for c in task.checkpoints if c.cp_id == cp_id)
    if not isinstance(check, MessageOnlyCheck):
        return False
    value = str(task.answers[check.expected])
    return any(c not in (value, PLACEHOLDER) for c in Candidates(task, company).of(value))


class SprayAgent(OracleAgent):
    """The oracle's schedule and exploration, with every action sprayed (see the module docstring)."""

    name = "spray"

    def __init__(self, ctx: AgentContext) -> None:
        company = ctx.scenario.company
        form = str(ctx.options.get("form", "everyone"))
        if form not in ("everyone", "target"):
            raise ConfigError(f"spray: unknown form {form!r} (use --option form=everyone or --option form=target)")
        tasks = [t.model_copy(update={"solution": spray_plan(t, company, cast(SprayForm, form))})
                 for t in ctx.day.tasks]
        day = ctx.day.model_copy(update={"tasks": tasks})
        super().__init__(dataclasses.replace(ctx, day=day))
