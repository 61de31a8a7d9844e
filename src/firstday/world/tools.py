"""The trainee's tools: typed functions whose JSON schemas come from their signatures and docstrings.

Every call goes through :meth:`Toolbox.execute`, which never raises: unknown tools, malformed JSON,
wrong types, oversized arguments and refused actions all come back as an error result that says what
was wrong, and cost a minute of virtual time like any other action. Every call is first admitted
(:func:`admit_call`): its strings made safe for UTF-8 JSON, and arguments that are not plain JSON
refused (docs/invariants.md, "Robust at the boundary").
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from math import isfinite
from typing import Any, Literal, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from firstday.errors import InfrastructureError, ToolError
from firstday.jsonsafe import (
    MAX_INT_DIGITS,
    NotJSON,
    checked_json,
    exception_text,
    json_safe,
    needs_care,
    safe_text,
    type_name,
)
from firstday.sandbox import run_code
from firstday.timefmt import fmt, parse
from firstday.trusted import trusted
from firstday.world.calculator import CalcError, evaluate
from firstday.world.clock import ColleagueReply
from firstday.world.notebook import MAX_NOTE_CHARS, MAX_NOTES
from firstday.world.records import Attendance, Meeting
from firstday.world.world import World, normalize_path

MAX_ARGUMENT_CHARS = 200_000
MAX_ARGUMENT_DEPTH = 32
MAX_RESULT_CHARS = 20_000
MAX_NAME_CHARS = 200  # a tool name or call id longer than this is refused (and cut where it is echoed)
ERROR_COST = 1
#: tools whose results carry text from outside the environment (a subprocess's output, file names read
#: from a disk, which Python decodes with lone surrogates for undecodable bytes): made safe like arguments
OUTSIDE_TEXT_TOOLS = frozenset({"run_python"})

#: what a message to more than one colleague costs (``send_message`` to one costs its declared cost)
GROUP_MESSAGE_COST = 10


class ImagePart(BaseModel):
    media_type: str
    data_b64: str
    path: str


class ToolCall(BaseModel):
    """A call from the agent: ``arguments`` may be a dict or a raw JSON string (as LLMs send them)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    id: str = ""


class RefusedCall(ToolCall):
    """A call refused where it entered (see :func:`admit_call`): its fields are safe to record, ``reason``
    is the tool error it gets. Never serialised as such (the trace records its name, id and arguments)."""

    reason: str


class AgentOutputError(Exception):
    """An agent's ``act()`` returned something that is not a list of tool calls (ends the episode as an
    agent error)."""


def agent_calls(value: object) -> list[ToolCall]:
    """What an agent's ``act()`` returned, as admitted calls (:func:`admit_call`); raises
    :class:`AgentOutputError` unless it is a list (or tuple) of :class:`ToolCall`."""
    t = type(value)
    if t is not list and t is not tuple:
        raise AgentOutputError(f"act() must return a list of ToolCall objects, not a {type_name(value)}")
    calls: list[Any] = list(value)  # type: ignore[call-overload]  # (exact list or tuple)
    for i, c in enumerate(calls):
        if not issubclass(type(c), ToolCall):  # by type: isinstance could call a hostile __class__
            raise AgentOutputError(f"act() must return a list of ToolCall objects; item {i} is a {type_name(c)}")
    return [admit_call(c) for c in calls]


def admit_call(call: ToolCall) -> ToolCall:
    """``call`` as the environment takes it in: every string safe for UTF-8 JSON (lone surrogates
    replaced by U+FFFD), or a :class:`RefusedCall` whose fields are safe to record and whose ``reason``
    says what is wrong (non-JSON arguments, a name or id that is not a string, a subclass of ToolCall,
    ...). It never raises, whatever ``call`` holds.

    This is the one place a call from an agent is made safe: an honest call (plain strings, flat JSON
    arguments) comes back as the same object after a few type checks.
    """
    return call if _plain_call(call) else _admit_slowly(call)


def _plain_call(call: ToolCall) -> bool:
    """Whether ``call`` is a ToolCall with ASCII name and id of sane length, and ASCII JSON text or
    flat and small arguments (:func:`_flat_and_small`): nothing to make safe, nothing to refuse."""
    if type(call) is not ToolCall:
        return False
    d = call.__dict__
    try:  # (subscripts: cheaper than .get on this path, which every call takes)
        name, args, cid = d["name"], d["arguments"], d["id"]
    except KeyError:  # built with model_construct and fields left out
        return False
    return (type(name) is str and type(cid) is str and name.isascii() and cid.isascii()
            and len(name) <= MAX_NAME_CHARS and len(cid) <= MAX_NAME_CHARS
            and ((type(args) is str and len(args) <= MAX_ARGUMENT_CHARS and args.isascii()) or _flat_and_small(args)))


def _admit_slowly(call: ToolCall) -> ToolCall:
    try:
        return _admit_fields(call)
    except Exception as exc:  # a hostile object may still find a way: refuse it, never raise
        return trusted(RefusedCall, {"name": "", "arguments": {}, "id": "",
                                     "reason": f"the tool call could not be read ({exception_text(exc, 200)})"})



def _short_text(value: Any, what: str, reasons: list[str]) -> str:
    """A name or id from an agent as a safe string of at most MAX_NAME_CHARS; what is wrong goes to ``reasons``."""
    if not issubclass(type(value), str):
        reasons.append(f"{what} must be a string, not a {type_name(value)}")
        return ""
    text = str.__str__(value)  # a plain str (cut before it is made safe: it may be 10 MB)
    if len(text) > MAX_NAME_CHARS:
        reasons.append(f"{what} is {len(text)} characters long ({MAX_NAME_CHARS} at most)")
        text = text[:MAX_NAME_CHARS]
    return safe_text(text)

def _admit_fields(call: ToolCall) -> ToolCall:
    try:
        # the instance's own fields: a subclass's properties, __getattr__ or __eq__ are never called
        d = object.__getattribute__(call, "__dict__")
        fields = dict.copy(d) if issubclass(type(d), dict) else {}
    except Exception:
        fields = {}
    reasons: list[str] = []
    if type(call) is RefusedCall and type(fields.get("reason")) is str:
        reasons.append(safe_text(fields["reason"]))
    elif type(call) is not ToolCall:
        # a subclass may override anything (__eq__, __hash__, __str__, properties): never acted on
        reasons.append(f"a tool call must be a plain ToolCall, not a {type_name(call)}")
    name: Any = fields.get("name")
    cid: Any = fields.get("id", "")
    args: Any = fields.get("arguments", {})
    name = _short_text(name, "the tool name", reasons)
    cid = _short_text(cid, "the call id", reasons)
    if issubclass(type(args), str):  # raw JSON text: parsed (and its values checked) by Toolbox.execute
        args = str.__str__(args)
        if len(args) > MAX_ARGUMENT_CHARS:
            reasons.append(f"arguments too large ({len(args)} characters; {MAX_ARGUMENT_CHARS} at most)")
            args = args[:1000] + "[cut]"  # recorded in the trace for the record only
        args = safe_text(args)
    elif type(args) is not dict:
        reasons.append(f"arguments must be a JSON object mapping argument names to values, not a {type_name(args)}")
        args = {"[refused]": _refused_record(args)}
    else:
        try:
            args = _checked_arguments(args)
        except NotJSON as exc:
            reasons.append(str(exc))
            # recorded in the trace for the record only (cut: it may be anything up to 10 MB or 10,000 deep)
            args = _refused_record(args)
    if reasons:
        return trusted(RefusedCall, {"name": name, "arguments": args, "id": cid, "reason": "; ".join(reasons)})
    return trusted(ToolCall, {"name": name, "arguments": args, "id": cid})


class ToolResult(BaseModel):
    call_id: str = ""
    name: str
    ok: bool
    content: str
    images: list[ImagePart] = Field(default_factory=list)
    started: int
    ended: int


class ToolSpec(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]
    cost_minutes: int = Field(description="virtual minutes a successful call takes (this run's costs)")
    read_only: bool = Field(description="whether the tool only reads the world (no file, message, booking, "
                                        "submission or note changes); every call still moves the clock")

    def openai_schema(self) -> dict[str, Any]:
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}


@dataclass
class _Tool:
    name: str
    fn: Callable[..., Any]
    model: type[BaseModel]
    spec: ToolSpec
    fields: tuple[str, ...] = ()  # argument names, in order (read per call: cheaper than model_fields)


@dataclass
class Outcome:
    """What a tool method returns: text, optional images, and an optional extra time cost."""

    text: str
    images: list[ImagePart] = field(default_factory=list)
    cost: int | None = None


def _parse_doc(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (summary, {arg: description})."""
    doc = inspect.cleandoc(doc or "")
    summary, _, rest = doc.partition("\nArgs:\n")
    args: dict[str, str] = {}
    current = None
    for line in rest.splitlines():
        m = re.match(r"^\s{0,4}(\w+):\s*(.*)$", line)
        if m:
            current = m.group(1)
            args[current] = m.group(2).strip()
        elif current and line.strip():
            args[current] += " " + line.strip()
    return " ".join(summary.split()), args


@dataclass(frozen=True)
class ToolMeta:
    """What a tool declares about itself, next to its definition (``@tool(cost=..., writes=...)``)."""

    cost: int  # virtual minutes a successful call takes (EnvConfig.costs may override it per run)
    writes: bool  # whether a call can change the world (files, messages, calendar, submissions, notebook, ...)


F = TypeVar("F", bound=Callable[..., Any])


def tool(*, cost: int, writes: bool) -> Callable[[F], F]:
    """Mark a :class:`Toolbox` method as a tool: its schema comes from its signature and docstring, and
    it declares its cost in virtual minutes and whether it changes the world (``writes=False``: it only
    reads; every call moves the clock all the same)."""
    if type(cost) is not int or cost < 0:
        raise ValueError(f"a tool's cost is a number of minutes (0 or more), not {cost!r}")

    def mark(fn: F) -> F:
        fn.__firstday_tool__ = ToolMeta(cost=cost, writes=writes)  # type: ignore[attr-defined]
        return fn

    return mark


_META_OF: dict[type, dict[str, ToolMeta]] = {}


def tool_meta(cls: type) -> dict[str, ToolMeta]:
    """The tools of toolbox class ``cls`` (its ``@tool`` methods) by name, with what they declare; treat as
    read-only (cached per class)."""
    found = _META_OF.get(cls)
    if found is None:
        members = {name: getattr(member, "__firstday_tool__", None)
                   for name, member in inspect.getmembers(cls, predicate=inspect.isfunction)}
        found = _META_OF[cls] = {name: meta for name, meta in members.items() if isinstance(meta, ToolMeta)}
    return found


@functools.lru_cache(maxsize=512)
def _build(name: str, fn: Callable[..., Any], cost: int, read_only: bool) -> _Tool:
    """Argument model and spec of the (unbound) tool method ``fn``; cached because building pydantic
    models costs ~2 ms per tool, which would otherwise dominate the start of every day."""
    summary, arg_docs = _parse_doc(fn.__doc__ or "")
    hints = get_type_hints(fn)
    fields: dict[str, Any] = {}
    for pname, param in inspect.signature(fn).parameters.items():
        if pname == "self":
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (hints[pname], Field(default, description=arg_docs.get(pname, "")))
    model = create_model(
        f"{name}_args", __config__=ConfigDict(extra="forbid"), **fields
    )
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    schema.setdefault("properties", {})
    spec = ToolSpec(name=name, description=summary, parameters=schema, cost_minutes=cost, read_only=read_only)
    return _Tool(name=name, fn=fn, model=model, spec=spec, fields=tuple(model.model_fields))


_TOOLS_OF: dict[tuple[type, tuple[tuple[str, int], ...]], dict[str, _Tool]] = {}


def _tools_of(cls: type, costs: tuple[tuple[str, int], ...]) -> dict[str, _Tool]:
    """The tools of toolbox class ``cls`` (unbound methods) with these costs; treat as read-only."""
    found = _TOOLS_OF.get((cls, costs))
    if found is None:
        cost = dict(costs)
        found = {name: _build(name, getattr(cls, name), cost.get(name, meta.cost), not meta.writes)
                 for name, meta in tool_meta(cls).items()}
        if len(_TOOLS_OF) < 64:  # bounded: costs come from configurations, a handful per process
            _TOOLS_OF[(cls, costs)] = found
    return found


# Upper bounds of serialised JSON lengths, shared by the size checks below: a character of a string can
# take up to 12 (a surrogate pair of \uXXXX escapes), a float, bool or None up to 24
# ('-1.2345678901234567e-308'), an int of magnitude below _SMALL_INT up to 16.
_CHAR_CHARS = 12
_SCALAR_CHARS = 24
_INT_CHARS = 16
_SMALL_INT = 10**15


def _json_fits(value: Any, limit: int) -> bool:
    """Whether ``len(json.dumps(value, default=str)) <= limit``.

    Serialising every call's arguments only to measure them costs more than most tools, so a cheap
    upper bound of the serialised length is tried first; the exact measure is used only when the bound
    is inconclusive (large or unusual arguments), so the limit behaves exactly as the exact measure.
    """
    bound, stack = 0, [value]
    while stack:
        v = stack.pop()
        t = type(v)  # exact types only: subclasses take the exact path below
        if t is str:
            bound += _CHAR_CHARS * len(v) + 2  # and the quotes
        elif t is dict:
            bound += 2
            for k, x in v.items():
                if type(k) is not str:
                    bound = limit + 1
                    break
                bound += _CHAR_CHARS * len(k) + 6  # quoted key, ': ' and ', '
                stack.append(x)
        elif t is list or t is tuple:
            bound += 2 + 2 * len(v)
            stack.extend(v)
        elif v is None or t is bool or t is float:
            bound += _SCALAR_CHARS
        elif t is int and -_SMALL_INT < v < _SMALL_INT:
            bound += _INT_CHARS
        else:
            bound = limit + 1  # anything else (huge ints, other objects): measure exactly
        if bound > limit or len(stack) > 10_000:
            return len(json.dumps(value, default=str)) <= limit
    return True


def _flat_and_small(args: Any) -> bool:
    """Whether ``args`` is a dict of str keys to scalars (str without lone surrogates, bool, None, finite
    float, not-huge int) whose
    serialised length is surely within ``MAX_ARGUMENT_CHARS``: the usual call, which then needs neither
    the depth nor the size check (the bounds of ``_json_fits``, one level deep and without its stack;
    anything else takes those checks)."""
    if type(args) is not dict:
        return False
    bound = 2
    for k, v in args.items():
        t = type(v)
        if type(k) is not str:
            return False
        if not k.isascii() and needs_care(k):
            return False  # a lone surrogate: made safe by the full check
        if t is str:
            if not v.isascii() and needs_care(v):
                return False
            bound += _CHAR_CHARS * (len(k) + len(v)) + 8  # two pairs of quotes, ': ' and ', '
        elif v is None or t is bool or (t is int and -_SMALL_INT < v < _SMALL_INT) or (t is float and isfinite(v)):
            bound += _CHAR_CHARS * len(k) + 6 + _SCALAR_CHARS
        else:
            return False
    return bound <= MAX_ARGUMENT_CHARS


def _refused_record(args: Any) -> Any:
    """Refused arguments as the trace records them: JSON-safe and cut (they may be 10 MB or 10,000 deep)."""
    return json_safe(args, max_chars=1000, max_depth=MAX_ARGUMENT_DEPTH, max_nodes=200)


def _checked_arguments(args: Any) -> Any:
    """``args`` as plain JSON within the argument bounds, strings made safe (else :class:`NotJSON`).
    The node budget is the size limit: every value takes at least one character of JSON."""
    return checked_json(args, max_depth=MAX_ARGUMENT_DEPTH, max_nodes=MAX_ARGUMENT_CHARS, max_chars=MAX_ARGUMENT_CHARS)


def _fmt_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "arguments"
        if err["type"] == "missing":
            parts.append(f"missing required argument '{loc}'")
        elif err["type"] == "extra_forbidden":
            parts.append(f"unknown argument '{loc}'")
        else:
            parts.append(f"argument '{loc}': {err['msg']}")
    return "; ".join(parts)


class Toolbox:
    """The public tools bound to one day's :class:`World`."""

    def __init__(self, world: World, costs: dict[str, int] | None = None, *, run_timeout_s: float = 10.0,
                 sandbox: str = "auto", require_sandbox: bool = False) -> None:
        self.world = world
        self.costs = {**{name: meta.cost for name, meta in tool_meta(type(self)).items()}, **(costs or {})}
        self.run_timeout_s = run_timeout_s
        # run_python's backend by name (EnvConfig.sandbox): firstday.sandbox resolves it and applies the fallback
        self.sandbox = sandbox
        self.require_sandbox = require_sandbox
        # unbound methods, shared by every toolbox with these costs: no bound method per tool per day,
        # and no reference cycle (toolbox -> bound method -> toolbox), so a finished day is freed at once
        self._tools: dict[str, _Tool] = _tools_of(type(self), tuple(sorted(self.costs.items())))

    @property
    def specs(self) -> list[ToolSpec]:
        # shared by every toolbox with the same costs (built once): treat as read-only
        return [t.spec for t in self._tools.values()]

    # --- dispatch -------------------------------------------------------------------------------
    def execute(self, call: ToolCall) -> ToolResult:
        # the one place a call from an agent is made safe (a few type checks for an honest or admitted call)
        plain = _plain_call(call)
        if not plain:
            call = _admit_slowly(call)
        w = self.world
        started = w.now
        try:
            if w.ended:
                raise ToolError("the working day is over; no more actions are possible")
            if type(call) is RefusedCall:
                raise ToolError(call.reason)
            t = self._tools.get(call.name)
            if t is None:
                raise ToolError(f"unknown tool {call.name!r}; available tools: {', '.join(sorted(self._tools))}")
            args = call.arguments
            if type(args) is str:  # admitted: at most MAX_ARGUMENT_CHARS characters
                try:
                    args = json.loads(args) if args.strip() else {}
                except json.JSONDecodeError as exc:
                    raise ToolError(f"arguments are not valid JSON ({exc.msg} at position {exc.pos})") from None
                except RecursionError:
                    raise ToolError(f"arguments are nested too deeply ({MAX_ARGUMENT_DEPTH} levels at most)") from None
                except ValueError:  # e.g. an integer literal of thousands of digits
                    raise ToolError(f"arguments hold an integer too large to read (more than {MAX_INT_DIGITS} "
                                    "digits)") from None
                if not _flat_and_small(args):
                    # escapes such as "\ud800" decode to lone surrogates, NaN and Infinity parse: check again
                    try:
                        args = _checked_arguments(args)
                    except NotJSON as exc:
                        raise ToolError(str(exc)) from None
                    if type(args) is not dict:
                        raise ToolError("arguments must be a JSON object mapping argument names to values")
            elif not plain and not _flat_and_small(args) and not _json_fits(args, MAX_ARGUMENT_CHARS):
                # admitted by _admit_slowly: a dict of plain JSON, not too deep, of bounded size; measured here
                raise ToolError(f"arguments too large ({MAX_ARGUMENT_CHARS} characters at most)")
            try:
                parsed = t.model.model_validate(args)
            except ValidationError as exc:
                raise ToolError(f"invalid arguments for {call.name}: {_fmt_validation(exc)}") from None
            # the validated model's fields, in order (extra arguments are forbidden, so nothing else)
            out: Outcome = t.fn(self, **parsed.__dict__)
            cost = t.spec.cost_minutes if out.cost is None else out.cost
            if cost:
                w.advance(cost)
            w.record.tool_calls += 1
            text = out.text
            if t.name in OUTSIDE_TEXT_TOOLS:  # (the others return the world's text and admitted arguments)
                text = safe_text(text)
            if len(text) > MAX_RESULT_CHARS:
                text = text[:MAX_RESULT_CHARS] + f"\n[truncated: result longer than {MAX_RESULT_CHARS} characters]"
            call_id = call.id
            if type(call_id) is str and type(text) is str:
                # the name is a known tool's, the rest comes from the world: nothing to validate
                return trusted(ToolResult, {"call_id": call_id, "name": t.name, "ok": True, "content": text,
                                            "images": out.images, "started": started, "ended": w.now})
            return ToolResult(call_id=call_id, name=call.name, ok=True, content=text, images=out.images,
                              started=started, ended=w.now)
        except ToolError as exc:
            msg = safe_text(f"error: {exc}")  # messages quote what they refuse
        except InfrastructureError:  # the environment itself failed (never raised on the agent's input): not
            raise  # a tool error charged to the agent, but an infrastructure error of the episode
        except Exception as exc:  # a bug in a tool must not end the episode
            msg = f"error: internal error in tool {call.name!r} ({exception_text(exc)}); the call had no effect"
        self.world.record.tool_calls += 1
        if not w.ended:
            w.advance(ERROR_COST)
        return ToolResult(call_id=call.id, name=call.name, ok=False, content=msg, started=started, ended=w.now)

    # --- helpers --------------------------------------------------------------------------------
    def _colleague(self, handle: str) -> str:
        h = handle.strip().lstrip("@").lower()
        try:
            self.world.employee(h)
        except KeyError:
            if h == self.world.company.trainee.handle:
                raise ToolError("that is you; messages go to colleagues") from None
            raise ToolError(f"no colleague with handle {handle!r}; use list_colleagues to find handles") from None
        return h

    def _task(self, task_id: str) -> str:
        if task_id not in self.world.arrived:
            known = ", ".join(self.world.arrived) or "none yet"
            raise ToolError(f"no task {task_id!r} has been assigned to you; your tasks: {known}")
        return task_id

    # --- tasks ----------------------------------------------------------------------------------
    @tool(cost=1, writes=False)
    def list_tasks(self) -> Outcome:
        """List the tasks assigned to you so far, with priority, deadline and whether you submitted them."""
        w = self.world
        lines = []
        for tid in w.arrived:
            t = w.tasks[tid]
            done = any(s.task_id == tid for s in w.record.submissions)
            lines.append(f"{tid} [{t.priority}] due {fmt(t.deadline)} ({'submitted' if done else 'open'}) "
                         f"from {t.requester}: {t.objective}")
        return Outcome("\n".join(lines) or "No tasks yet.")

    @tool(cost=2, writes=True)
    def submit(self, task_id: str, answer: Any) -> Outcome:
        """Submit the deliverable for a task. You may resubmit; the last submission before the deadline counts.

        Args:
            task_id: the task's id, e.g. 't2'
            answer: the answer in the format the task asks for (usually a JSON object)
        """
        tid = self._task(task_id)
        sub = self.world.submit(tid, answer)
        late = sub.time > self.world.tasks[tid].deadline
        return Outcome(f"Submitted {tid} at {fmt(sub.time)}" + (" (after the deadline)." if late else "."))

    @tool(cost=0, writes=True)
    def end_day(self) -> Outcome:
        """Declare your working day finished. No further actions are possible afterwards."""
        self.world.ended = True
        return Outcome("You have ended your working day.")

    @tool(cost=0, writes=False)
    def wait(
        self, minutes: int | None = None, until: str | None = None, for_message_from: str | None = None
    ) -> Outcome:
        """Idle until something happens. Without arguments, wait until the next event (a message, task or meeting).
        Any wait ends early when an urgent task arrives.

        Args:
            minutes: wait this many minutes (1 to 540)
            until: wait until this time today, 'HH:MM'
            for_message_from: wait until the pending reply from this colleague (handle) arrives
        """
        w = self.world
        given = [x is not None for x in (minutes, until, for_message_from)]
        if sum(given) > 1:
            raise ToolError("give at most one of minutes, until, for_message_from")
        if minutes is not None:
            if minutes <= 0 or minutes > 540:
                raise ToolError("minutes must be between 1 and 540")
            target = w.now + minutes
        elif until is not None:
            try:
                target = parse(until)
            except ValueError as exc:
                raise ToolError(str(exc)) from None
            if target <= w.now:
                raise ToolError(f"{until} is not in the future (it is {fmt(w.now)}); the clock cannot go back")
        elif for_message_from is not None:
            handle = self._colleague(for_message_from)
            pending = [time for time, e in w.events.pending(ColleagueReply) if e.reply.sender == handle]
            if not pending:
                raise ToolError(f"no reply from {handle} is pending (they may have nothing to say)")
            target = pending[0]
        else:
            nxt = w.events.next_time()
            target = nxt if nxt is not None else w.day_end
        target = min(max(target, w.now), w.day_end)
        # an urgent arrival ends the wait at its minute, as a colleague at the desk would interrupt
        hit = w.advance_until(target)
        if hit is not None and w.now < target:
            return Outcome(f"Waited until {fmt(w.now)}: interrupted by urgent task {hit.task_id} "
                           f"(you meant to wait until {fmt(target)}).", cost=0)
        return Outcome(f"Waited until {fmt(w.now)}.", cost=0)

    # --- notebook -------------------------------------------------------------------------------
    @tool(cost=1, writes=True)
    def notebook(self, action: Literal["write", "read", "search"], title: str = "", text: str = "",
                 query: str = "") -> Outcome:
        """Your own notebook: write a note, read every note, or search notes by words. Notes you write are
        yours alone; in a multi-day training with memory they are still there on your later days.

        Args:
            action: 'write' a note (title and text), 'read' all notes, or 'search' them (query)
            title: with 'write': a short title, e.g. the kind of task it is about
            text: with 'write': the note itself
            query: with 'search': words to look for
        """
        book = self.world.notebook
        if action == "write":
            if not text.strip():
                raise ToolError("give the note's text (text='...')")
            if len(title) + len(text) > MAX_NOTE_CHARS:
                raise ToolError(f"note too long ({len(title) + len(text)} characters; {MAX_NOTE_CHARS} at most)")
            if len(book.notes) >= MAX_NOTES:
                raise ToolError(f"the notebook is full ({MAX_NOTES} notes)")
            note = book.add(title.strip() or "(untitled)", text.strip(), self.world.day_index, self.world.now)
            return Outcome(f"Saved note {note.note_id}: {note.title}")
        if action == "search" and not query.strip():
            raise ToolError("give words to search for (query='...')")
        notes = book.notes if action == "read" else book.search(query)
        if not notes:
            return Outcome("Your notebook is empty." if action == "read" else f"No note matches {query!r}.")
        return Outcome("\n".join(f"[{n.note_id}] day {n.day_index + 1}, {fmt(n.time)} · {n.title}: {n.text}"
                                 for n in notes))

    # --- colleagues -----------------------------------------------------------------------------
    @tool(cost=1, writes=False)
    def list_colleagues(self, department: str | None = None) -> Outcome:
        """List colleagues (handle, name, department, role, manager), optionally for one department.

        Args:
            department: department name, e.g. 'Finance'; omit for everyone
        """
        c = self.world.company
        people = c.employees
        if department is not None:
            names = [d.name for d in c.departments]
            match = [n for n in names if n.lower() == department.strip().lower()]
            if not match:
                raise ToolError(f"no department {department!r}; departments: {', '.join(names)}")
            people = [e for e in people if e.department == match[0]]
        rows = [" | ".join(e.directory_entry().values()) for e in people]
        header = "handle | name | department | role | manager"
        depts = "; ".join(f"{d.name} (head: {d.head})" for d in c.departments)
        return Outcome(f"Departments: {depts}\n{header}\n" + "\n".join(rows))

    @tool(cost=1, writes=False)
    def lookup_colleague(self, handle: str) -> Outcome:
        """Show one colleague's profile: role, team, manager, persona and working hours.

        Args:
            handle: the colleague's handle, e.g. 'dana.kim'
        """
        e = self.world.company.employee(self._colleague(handle))
        return Outcome(json.dumps(e.profile(), indent=1))

    @tool(cost=5, writes=True)
    def send_message(self, to: str | list[str], text: str) -> Outcome:
        """Send a message to one colleague (direct) or several (group). Replies arrive later in your inbox.

        Args:
            to: a colleague's handle, or a list of handles for a group message
            text: the message
        """
        handles = [to] if isinstance(to, str) else list(to)
        if not handles:
            raise ToolError("'to' needs at least one handle")
        if len(handles) > 50:
            raise ToolError("a group message can have at most 50 recipients")
        if not text.strip():
            raise ToolError("the message is empty")
        if len(text) > 4000:
            raise ToolError("the message is too long (4000 characters at most)")
        resolved = list(dict.fromkeys(self._colleague(h) for h in handles))
        self.world.send(resolved, text)
        cost = self.costs["send_message"] if len(resolved) == 1 else GROUP_MESSAGE_COST
        return Outcome(f"Message sent to {', '.join(resolved)}.", cost=cost)

    @tool(cost=1, writes=False)
    def read_inbox(self, last: int = 20) -> Outcome:
        """Re-read your most recent notifications and messages.

        Args:
            last: how many of the latest entries to show (1 to 200)
        """
        if not 1 <= last <= 200:
            raise ToolError("last must be between 1 and 200")
        notes = self.world.inbox[-last:]
        return Outcome("\n".join(f"[{fmt(n.time)}] {n.text}" for n in notes) or "Your inbox is empty.")

    # --- drive ----------------------------------------------------------------------------------
    @tool(cost=1, writes=False)
    def list_files(self, path: str = "/") -> Outcome:
        """List the files you can see under a folder of the drive (/shared is read-only, /workspace is yours).

        Args:
            path: folder to list, e.g. '/shared' or '/workspace/kb'
        """
        root = normalize_path(path)
        prefix = "/" if root == "/" else root + "/"
        found = [p for p in self.world.listing() if p.startswith(prefix) or p == root]
        if not found:
            return Outcome(f"No files under {root}.")
        return Outcome("\n".join(found))

    @tool(cost=2, writes=False)
    def read_file(self, path: str, offset: int = 0) -> Outcome:
        """Open a file from the drive. Text is returned (from a character offset); images are shown to you.

        Args:
            path: absolute path, e.g. '/shared/finance/manual.md'
            offset: character offset to start reading text from
        """
        w = self.world
        p = normalize_path(path)
        content, asset = w.read(p)
        if asset is not None:
            w.pending_clues.update(asset.clue_ids)
        if asset is not None and asset.is_image:
            if w.text_only:
                return Outcome(f"[image {p}, text alternative]\n{asset.text_alternative or ''}")
            return Outcome(f"[image {p}]", images=[ImagePart(media_type=asset.media_type, data_b64=content, path=p)])
        if offset < 0:
            raise ToolError("offset must be 0 or more")
        chunk = content[offset: offset + MAX_RESULT_CHARS - 200]
        rest = len(content) - offset - len(chunk)
        more = f"\n[{rest} more characters; read again with offset={offset + len(chunk)}]" if rest > 0 else ""
        return Outcome(chunk + more)

    @tool(cost=3, writes=True)
    def write_file(self, path: str, content: str) -> Outcome:
        """Create or overwrite a text file in your workspace.

        Args:
            path: path under /workspace
            content: the full new text of the file
        """
        p = normalize_path(path)
        self.world.write(p, content)
        return Outcome(f"Wrote {len(content)} characters to {p}.")

    @tool(cost=3, writes=True)
    def edit_file(self, path: str, old: str, new: str) -> Outcome:
        """Replace one exact occurrence of a piece of text in a workspace file.

        Args:
            path: path under /workspace
            old: the exact text to replace (must occur exactly once)
            new: the replacement text
        """
        p = normalize_path(path)
        if not p.startswith("/workspace/"):
            raise ToolError(f"{p} is read-only; only files under /workspace can be edited")
        content, _ = self.world.read(p)
        n = content.count(old) if old else 0
        if n != 1:
            raise ToolError(f"the text to replace occurs {n} times in {p}; it must occur exactly once")
        self.world.write(p, content.replace(old, new, 1))
        return Outcome(f"Edited {p}.")

    @tool(cost=2, writes=False)
    def open_page(self, url: str) -> Outcome:
        """Open an internal web page or dashboard by its URL.

        Args:
            url: e.g. 'http://intranet/status'
        """
        page = self.world.pages.get(url.strip())
        if page is None:
            raise ToolError(f"page {url!r} not found on the intranet")
        content, clues = page.at(self.world.now)  # pages may change during the day: the current version
        self.world.pending_clues.update(clues)
        return Outcome(f"# {page.title}\n{content}")

    # --- calendar -------------------------------------------------------------------------------
    @tool(cost=1, writes=False)
    def list_rooms(self) -> Outcome:
        """List the meeting rooms with their capacity and floor."""
        return Outcome("\n".join(f"{r.name}: capacity {r.capacity}, floor {r.floor}" for r in self.world.company.rooms))

    @tool(cost=1, writes=False)
    def room_schedule(self, room: str | None = None) -> Outcome:
        """Show today's bookings of one room, or of every room.

        Args:
            room: room name; omit for all rooms
        """
        rooms = [r.name for r in self.world.company.rooms]
        if room is not None and room not in rooms:
            raise ToolError(f"no room {room!r}; rooms: {', '.join(rooms)}")
        lines = []
        for name in [room] if room else rooms:
            busy = sorted((m.start, m.end) for m in self.world.live_meetings() if m.room == name)
            slots = ", ".join(f"{fmt(s)}-{fmt(e)}" for s, e in busy) or "free all day"
            lines.append(f"{name}: booked {slots}")
        return Outcome("\n".join(lines))

    @tool(cost=5, writes=True)
    def book_meeting(self, title: str, start: str, duration_minutes: int, room: str, attendees: list[str]) -> Outcome:
        """Book a room for a meeting today and invite colleagues (you attend as organizer).

        Args:
            title: meeting title
            start: start time today, 'HH:MM'
            duration_minutes: length in minutes (5 to 480)
            room: a room name from list_rooms
            attendees: handles of the colleagues to invite
        """
        w = self.world
        try:
            s = parse(start)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        if not 5 <= duration_minutes <= 480:
            raise ToolError("duration_minutes must be between 5 and 480")
        if s < w.now:
            raise ToolError(f"{start} is in the past (it is {fmt(w.now)})")
        e = s + duration_minutes
        if e > 22 * 60:
            raise ToolError("meetings must end by 22:00")
        r = next((x for x in w.company.rooms if x.name == room), None)
        if r is None:
            raise ToolError(f"no room {room!r}; rooms: {', '.join(x.name for x in w.company.rooms)}")
        people = list(dict.fromkeys(self._colleague(a) for a in attendees))
        if len(people) + 1 > r.capacity:
            raise ToolError(f"room {room} holds {r.capacity} people; you invited {len(people)} plus yourself")
        clash = w.room_busy(room, s, e)
        if clash is not None:
            raise ToolError(f"room {room} is booked {fmt(clash.start)}-{fmt(clash.end)}; choose another room or time")
        mid = w.new_meeting_id()
        w.record.meetings[mid] = Meeting(
            meeting_id=mid, title=title, start=s, end=e, room=room, organizer=w.company.trainee.handle,
            attendees=people, created_at=w.now, booked_by_trainee=True,
        )
        return Outcome(f"Booked {mid}: '{title}' in {room} {fmt(s)}-{fmt(e)} with {', '.join(people) or 'nobody'}.")

    @tool(cost=2, writes=True)
    def cancel_meeting(self, meeting_id: str) -> Outcome:
        """Cancel a meeting that you booked.

        Args:
            meeting_id: the id returned by book_meeting
        """
        m = self.world.record.meetings.get(meeting_id)
        if m is None or not m.booked_by_trainee or m.cancelled_at is not None:
            raise ToolError(f"you have no active booking {meeting_id!r}")
        m.cancelled_at = self.world.now
        return Outcome(f"Cancelled {meeting_id}.")

    @tool(cost=1, writes=False)
    def list_meetings(self) -> Outcome:
        """List the meetings on your calendar today (those you booked or were invited to)."""
        me = self.world.company.trainee.handle
        rows = [
            f"{m.meeting_id}: '{m.title}' {fmt(m.start)}-{fmt(m.end)} in {m.room}, organizer {m.organizer}, "
            f"attendees {', '.join(m.attendees)}"
            for m in sorted(self.world.live_meetings(), key=lambda m: m.start)
            if m.booked_by_trainee or m.trainee_required or me in m.attendees
        ]
        return Outcome("\n".join(rows) or "No meetings on your calendar.")

    @tool(cost=0, writes=True)
    def attend_meeting(self, meeting_id: str) -> Outcome:
        """Join a meeting on your calendar. If it has not started yet you wait for it; you stay until it ends.

        Args:
            meeting_id: the meeting's id
        """
        w = self.world
        me = w.company.trainee.handle
        m = w.record.meetings.get(meeting_id)
        mine = m is not None and (m.booked_by_trainee or m.trainee_required or me in m.attendees)
        if m is None or m.cancelled_at is not None or not mine:
            raise ToolError(f"no meeting {meeting_id!r} on your calendar")
        if w.now >= m.end:
            raise ToolError(f"meeting {meeting_id} ended at {fmt(m.end)}")
        if m.start - w.now > 30:
            raise ToolError(f"meeting {meeting_id} starts at {fmt(m.start)}; you can join at most 30 minutes early")
        w.advance_to(max(w.now, m.start))
        joined = w.now
        w.record.attendance.append(Attendance(meeting_id=meeting_id, joined_at=joined))
        asset = w.meeting_assets.get(meeting_id)
        notes = asset.notes if asset is not None else ""
        if asset is not None:
            w.pending_clues.update(asset.clue_ids)
        w.advance_to(min(m.end, w.day_end))
        late = " (late)" if joined > m.start else ""
        return Outcome(f"You attended '{m.title}' from {fmt(joined)}{late} to {fmt(w.now)}."
                       + (f"\nMeeting notes: {notes}" if notes else ""), cost=0)

    # --- computation ----------------------------------------------------------------------------
    @tool(cost=1, writes=False)
    def calculator(self, expression: str) -> Outcome:
        """Evaluate an arithmetic expression, e.g. '(1200 + 350) * 0.2' or 'max(3, 7) / 2'.

        Args:
            expression: the expression
        """
        try:
            return Outcome(repr(evaluate(expression)))
        except (CalcError, OverflowError) as exc:
            raise ToolError(str(exc)) from None

    @tool(cost=5, writes=True)
    def run_python(self, code: str) -> Outcome:
        """Run Python (numpy and pandas available) on a copy of your workspace; prints are returned.

        The code's working directory holds your workspace files; visible shared files are under ../shared.
        Regular files it writes in the working directory are saved back to /workspace.

        Args:
            code: the Python source to run
        """
        w = self.world
        ws = {p[len("/workspace/"):]: v.content for p in w.listing() if p.startswith("/workspace/")
              and (v := w.record.file_at(p, w.now)) is not None}
        shared: dict[str, tuple[str, bool]] = {}
        for p in w.listing():
            if p.startswith("/shared/"):
                asset = w.file_assets.get(p)
                is_img = asset is not None and asset.is_image
                content, _ = w.read(p)
                if is_img and w.text_only:
                    continue
                shared[p[len("/shared/"):]] = (content, is_img)
        res = run_code(code, ws, shared, sandbox=self.sandbox, require_sandbox=self.require_sandbox,
                       timeout_s=self.run_timeout_s)
        if res.started is False:
            # the sandbox could not be set up; the child said so before it read the code, so it is not the
            # agent's doing: the episode ends as an infrastructure error (rerun by --retry-errors)
            raise InfrastructureError(f"run_python: the {res.sandbox} sandbox could not be set up; nothing was run")
        for rel, text in res.written.items():
            w.write(f"/workspace/{rel}", text, author="runner")
        parts = [res.output or "(no output)"]
        if res.exit_code not in (0, None):
            parts.append(f"[exit code {res.exit_code}]")
        if res.written:
            parts.append("[saved to /workspace: " + ", ".join(sorted(res.written)) + "]")
        if res.refused:
            parts.append("[not saved: " + ", ".join(res.refused) + "]")
        return Outcome("\n".join(parts))


#: each tool's declared cost in minutes (from its ``@tool``), e.g. for estimates of a plan's duration
DEFAULT_COSTS: dict[str, int] = {name: meta.cost for name, meta in tool_meta(Toolbox).items()}
