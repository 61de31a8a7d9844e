"""Tiered hints: what a task's hint discloses at each tier, and its text (docs/hints.md).

A hint is derived from the hidden side of one task (its checkpoints' clues, where the clues live, the
oracle plan) and handed to the agent with the task when it arrives. The *required clues* are the
clues the task's checkpoints depend on. Each tier promises exactly this:

``none``
    nothing (no hint at all).
``where`` (where to look)
    for every required clue, the kind of source and a coarse place: a file or an image by its folder
    (never the file name); a colleague by the holder's department (never the handle or the name); a
    meeting by the fact that it comes up in a meeting; an internal page by its site and section (never
    the full address). A document that is shared on request also gets the sharer's department.
``whom`` (whom to ask)
    everything of ``where``, plus the exact source of every required clue: the holder's handle, name and
    role for a colleague, the referral chain when the holder is reached through other colleagues (first
    person to ask first), the exact path of a file (and who shares it, if it is shared on request), the
    address of a page (and from when it shows the information, if it changes during the day), the id,
    time and room of a meeting.
``steps`` (step by step)
    everything of ``whom``, plus the oracle plan in order as instructions: every exploration step with
    its arguments (files to read, pages to open, meetings to attend, whom to message and with what
    question, whom to wait for); deliverable steps (submit, write_file, edit_file, book_meeting,
    cancel_meeting, and any message whose recipient or text carries a hidden answer) are described
    without their content.

No tier ever contains a *hidden answer value*: a string of the task's answers (flattened, at least 3
characters) or a non-trivial number (not an integer between -100 and 100), unless the value is public
anyway (it appears in the objective, in the path of a visible file, or in a visible file that carries
no clue, or it is one of several colleagues one group question in the plan goes to: candidates, not
the answer). Colleagues whose handle is a hidden answer value (the site owner to find, the person to
page) are never named: the hint then names the colleague who points you to them, or only their
department, and says so (``SourceHint.withheld``). No tier contains checkpoint definitions or data of
other tasks: hints are built from this task's assets only. A task that builds on an earlier one
(``TaskInstance.depends_on``) counts the earlier task's clues its checkpoints rest on among the pieces it
depends on, and says that they are the earlier task's result; it does not locate them (the earlier task's
own hint, at the same tier, does).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from firstday.tasks.model import TaskInstance
from firstday.timefmt import fmt
from firstday.world.company import Company
from firstday.world.tools import ToolCall

HintTier = Literal["none", "where", "whom", "steps"]
HINT_TIERS: tuple[HintTier, ...] = ("none", "where", "whom", "steps")
TIER_TITLES: dict[str, str] = {"none": "no hint", "where": "where to look", "whom": "whom to ask",
                               "steps": "step by step"}
SourceKind = Literal["colleague", "file", "image", "meeting", "page"]
#: plan steps that deliver work: always described without their content
DELIVERABLE_TOOLS = frozenset({"submit", "write_file", "edit_file", "book_meeting", "cancel_meeting"})
TRIVIAL_NUMBER = 100  # integers with |n| < this are not treated as answer values (counts, step numbers, times)


class SourceHint(BaseModel):
    """One place where required clues live, as far as the tier discloses it."""

    kind: SourceKind
    clue_ids: list[str] = Field(description="required clues observed at this source")
    place: str = Field(description="where: the coarse place (a department, a folder, a site and section, 'a meeting')")
    shared_by_departments: list[str] = Field(
        default_factory=list, description="where: for a document shared on request, the sharers' departments")
    exact: str | None = Field(default=None, description="whom: handle, file path, page address or meeting id")
    label: str = Field(default="", description="whom: the source in words (name, role; meeting title and time)")
    shared_by: list[str] = Field(default_factory=list, description="whom: handles of who shares this document")
    referrers: list[str] = Field(
        default_factory=list, description="whom: colleagues who point you to the holder (or sharer), first one first")
    after: int | None = Field(default=None, description="whom: a page shows the information from this minute on")
    withheld: str | None = Field(default=None, description="why the exact source is not named (it is an answer)")
    count: int = Field(default=1, description="where: how many sources of this kind in this place")


class HintStep(BaseModel):
    """One step of the oracle plan as the ``steps`` tier gives it."""

    n: int = Field(description="position in the plan, from 1")
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict, description="the arguments shown")
    withheld: list[str] = Field(default_factory=list, description="argument names not shown (they carry answers)")
    deliverable: bool = Field(description="a step that delivers work (described without its content)")
    text: str


class HintDisclosure(BaseModel):
    """Everything a tier's hint discloses, as data (the text is rendered from it)."""

    task_id: str
    tier: HintTier
    clue_ids: list[str] = Field(default_factory=list, description="required clues the hint locates")
    sources: list[SourceHint] = Field(default_factory=list)
    handles: list[str] = Field(default_factory=list, description="colleague handles named")
    paths: list[str] = Field(default_factory=list, description="exact file paths named")
    urls: list[str] = Field(default_factory=list, description="exact page addresses named")
    meeting_ids: list[str] = Field(default_factory=list, description="meeting ids named")
    departments: list[str] = Field(default_factory=list, description="departments named")
    folders: list[str] = Field(default_factory=list, description="folders named")
    steps: list[HintStep] = Field(default_factory=list, description="steps: the plan, in order")
    builds_on: list[str] = Field(default_factory=list, description="ids of the earlier tasks this task builds on")
    earlier_clue_ids: list[str] = Field(
        default_factory=list, description="required clues that are the earlier tasks' (their own hints locate them)")


# ---- hidden answer values -------------------------------------------------------------------------------

def _flatten(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from _flatten(v)
    else:
        yield value


def answer_values(task: TaskInstance) -> set[str]:
    """The task's answer values as text: strings of 3+ characters and non-trivial numbers (several spellings)."""
    out: set[str] = set()
    for v in _flatten(task.answers):
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int | float):
            if float(v).is_integer():
                n = int(v)
                if abs(n) >= TRIVIAL_NUMBER:
                    out.update({str(n), f"{n:,}"})
            else:
                out.update({repr(float(v)), f"{v:.2f}", f"{v:,.2f}"})
        elif isinstance(v, str) and len(v.strip()) >= 3:
            out.add(v.strip())
    return out


def _contains(text: str, value: str) -> bool:
    """``value`` occurs in ``text`` as a whole token (case-insensitive)."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", text, re.IGNORECASE) is not None


def _group_candidates(task: TaskInstance) -> set[str]:
    """Handles asked together in one group message of the plan, unless the group is (part of) one list in
    the answers: naming them names candidates (e.g. everyone in a department), not the answer."""
    lists = [{x for x in v if isinstance(x, str)} for v in _lists(task.answers)]
    out: set[str] = set()
    for call in task.solution:
        args = call.arguments if isinstance(call.arguments, dict) else {}
        to = args.get("to")
        if call.name == "send_message" and isinstance(to, list) and len(to) > 1:
            group = {h for h in to if isinstance(h, str)}
            if not any(group <= values for values in lists):
                out |= group
    return out


def _lists(value: Any) -> Iterable[list[Any]]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _lists(v)
    elif isinstance(value, list | tuple):
        yield list(value)
        for v in value:
            yield from _lists(v)


def public_text(task: TaskInstance) -> str:
    """What the agent can read without the hidden side: the objective, visible file paths, and the content
    of visible files that carry no clue."""
    parts = [task.objective, task.requester]
    for f in task.files:
        if not f.hidden:
            parts.append(f.path)
            if not f.clue_ids and not f.is_image:
                parts.append(f.content)
    parts.extend(sorted(_group_candidates(task)))
    return "\n".join(parts)


def hidden_values(task: TaskInstance, company: Company | None = None) -> set[str]:
    """Answer values a hint must never contain: those not public anyway (see the module docstring); for a
    colleague's handle, their full name too."""
    public = public_text(task)
    hidden = {v for v in answer_values(task) if not _contains(public, v)}
    if company is not None:
        names = {e.handle: e.name for e in company.employees}
        hidden |= {names[v] for v in list(hidden) if v in names and not _contains(public, names[v])}
    return hidden


def leaks(text: str, hidden: Iterable[str]) -> list[str]:
    """The hidden values that occur in ``text``."""
    return sorted(v for v in hidden if _contains(text, v))


# ---- sources of the required clues ----------------------------------------------------------------------

def required_clues(task: TaskInstance) -> list[str]:
    """The clues the task's checkpoints depend on, in first-use order."""
    seen: list[str] = []
    for cp in task.checkpoints:
        seen.extend(c for c in cp.clue_ids if c not in seen)
    return seen


def _site_section(url: str) -> str:
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    base = f"{parts.scheme}://{parts.netloc}" if parts.scheme else parts.netloc
    if len(segments) >= 2:
        return f"{base}/{segments[0]}/"
    return f"{base}/"


def _employee_label(company: Company, handle: str, hidden: set[str]) -> str:
    """``Dana Kim (dana.kim, Accountant, Finance)``; without the name if the name is a hidden answer value
    (e.g. an employee who is also in a list to find)."""
    try:
        e = company.employee(handle)
    except KeyError:
        return handle
    head = any(d.head == handle for d in company.departments if d.name == e.department)
    role = f"head of {e.department}" if head else f"{e.role}, {e.department}"
    if any(_contains(e.name, v) for v in hidden):
        return f"{handle} ({role})"
    return f"{e.name} ({handle}, {role})"


def _department(company: Company, handle: str) -> str:
    try:
        return company.employee(handle).department
    except KeyError:
        return ""


def _referrers(task: TaskInstance, company: Company, handle: str, hidden: set[str]) -> list[str]:
    """Colleagues whose knowledge points to ``handle`` (a reply naming them), first person to ask first."""
    chain: list[str] = []
    target, seen = handle, {handle}
    for _ in range(4):
        try:
            name = company.employee(target).name
        except KeyError:
            name = target
        found = [f.holder for f in task.facts if f.holder not in seen
                 and (_contains(f.reply, target) or _contains(f.reply, name))]
        if not found:
            break
        nxt = found[0]
        if nxt in hidden:
            break
        chain.insert(0, nxt)
        seen.add(nxt)
        target = nxt
    return chain


def _sources(task: TaskInstance, company: Company, hidden: set[str]) -> list[SourceHint]:
    required = required_clues(task)
    req = set(required)
    out: list[SourceHint] = []

    def clues_of(ids: Iterable[str]) -> list[str]:
        ids = set(ids)
        return [c for c in required if c in ids]

    for f in task.files:
        ids = clues_of(f.clue_ids)
        if not ids:
            continue
        sharers = [x.holder for x in task.facts if f.path in x.shares_files]
        kind: SourceKind = "image" if f.is_image else "file"
        src = SourceHint(kind=kind, clue_ids=ids, place=posixpath.dirname(f.path) or "/",
                         shared_by_departments=sorted({d for h in sharers if (d := _department(company, h))}),
                         exact=f.path, label=f.path)
        if f.hidden:
            named = [h for h in sharers if h not in hidden]
            src.shared_by = named
            src.referrers = [r for h in named for r in _referrers(task, company, h, hidden) if r not in named]
            if sharers and not named:
                src.withheld = "who shares it is part of your answer"
        out.append(src)
    holders: dict[str, list[str]] = {}
    for fact in task.facts:
        for c in clues_of(fact.clue_ids):
            holders.setdefault(fact.holder, [])
            if c not in holders[fact.holder]:
                holders[fact.holder].append(c)
    for h, ids in holders.items():
        dept = _department(company, h)
        src = SourceHint(kind="colleague", clue_ids=clues_of(ids), place=dept)
        if h in hidden:
            src.withheld = "this colleague is part of your answer"
            src.referrers = _referrers(task, company, h, hidden)
        else:
            src.exact, src.label = h, _employee_label(company, h, hidden)
            src.referrers = _referrers(task, company, h, hidden)
        out.append(src)
    for m in task.meetings:
        ids = clues_of(m.clue_ids)
        if ids:
            out.append(SourceHint(kind="meeting", clue_ids=ids, place="a meeting", exact=m.meeting_id,
                                  label=f"meeting {m.meeting_id} '{m.title}' at {fmt(m.start)} in {m.room}"))
    for p in task.pages:
        ids = clues_of([*p.clue_ids, *(c for v in p.versions for c in v.clue_ids)])
        if not ids:
            continue
        after = None
        if not (set(p.clue_ids) & req):
            times = [v.time for v in p.versions if set(v.clue_ids) & req]
            after = min(times) if times else None
        out.append(SourceHint(kind="page", clue_ids=ids, place=_site_section(p.url), exact=p.url,
                              label=f"the page {p.url} ('{p.title}')", after=after))
    return out


# ---- the plan, step by step -----------------------------------------------------------------------------

def _arg_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _recipients(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [h for h in (value or []) if isinstance(h, str)]


def _step(n: int, call: ToolCall, hidden: set[str], task_id: str) -> HintStep:
    args = call.arguments if isinstance(call.arguments, dict) else {}
    unsafe = {k for k, v in args.items() if leaks(_arg_text(v), hidden)}
    name = call.name
    if name == "submit":
        return HintStep(n=n, tool=name, arguments={"task_id": args.get("task_id", task_id)},
                        withheld=[k for k in args if k != "task_id"], deliverable=True,
                        text=f"submit your answer for {args.get('task_id', task_id)} (submit); what to submit "
                             "is yours to work out")
    if name in ("write_file", "edit_file"):
        path = args.get("path")
        shown = {"path": path} if isinstance(path, str) and "path" not in unsafe else {}
        where = f" {path}" if shown else ""
        return HintStep(n=n, tool=name, arguments=shown, withheld=[k for k in args if k not in shown],
                        deliverable=True, text=f"save your result to the file{where} ({name}); its content is yours "
                                               "to work out")
    if name in DELIVERABLE_TOOLS:
        return HintStep(n=n, tool=name, withheld=list(args), deliverable=True,
                        text=f"do what the task asks with {name}; its details (time, room, attendees) are yours to "
                             "work out")
    if name == "send_message":
        to = _recipients(args.get("to"))
        if "to" in unsafe:
            return HintStep(n=n, tool=name, withheld=list(args), deliverable=True,
                            text="send the message the task asks for (send_message); whom to send it to and what "
                                 "to write are part of your answer")
        who = ", ".join(to)
        if "text" in unsafe:
            return HintStep(n=n, tool=name, arguments={"to": args.get("to")},
                            withheld=[k for k in args if k != "to"], deliverable=True,
                            text=f"message {who} (send_message) with what the task needs you to tell them; the "
                                 "content is yours to work out")
        text = args.get("text")
        return HintStep(n=n, tool=name, arguments=dict(args), deliverable=False,
                        text=f"message {who} (send_message), for example: {json.dumps(text)}")
    shown = {k: v for k, v in args.items() if k not in unsafe}
    withheld = sorted(unsafe)
    if name == "wait":
        if "for_message_from" in args:
            h = args["for_message_from"]
            text = f"wait for {h}'s reply (wait for_message_from={h})" if "for_message_from" in shown else \
                "wait for the reply (wait)"
        elif "until" in shown:
            text = f"wait until {shown['until']} (wait until={shown['until']})"
        elif "minutes" in shown:
            text = f"wait {shown['minutes']} minutes for the replies (wait)"
        else:
            text = "wait (wait)"
    elif name == "read_file" and "path" in shown:
        text = f"read {shown['path']} (read_file)"
    elif name == "open_page" and "url" in shown:
        text = f"open the page {shown['url']} (open_page)"
    elif name == "attend_meeting" and "meeting_id" in shown:
        text = f"attend meeting {shown['meeting_id']} when it starts (attend_meeting)"
    else:
        inner = ", ".join(f"{k}={_arg_text(v)}" for k, v in shown.items())
        text = f"{name}({inner})" + (" with the arguments the task needs" if withheld else "")
    return HintStep(n=n, tool=name, arguments=shown, withheld=withheld, deliverable=False, text=text)


# ---- disclosure and text --------------------------------------------------------------------------------

def disclosure(task: TaskInstance, company: Company, tier: str) -> HintDisclosure:
    """What ``tier``'s hint for ``task`` discloses (the text of :func:`task_hint` is rendered from it)."""
    if tier not in HINT_TIERS:
        raise ValueError(f"unknown hint tier {tier!r}; use one of {', '.join(HINT_TIERS)}")
    out = HintDisclosure(task_id=task.task_id, tier=tier)
    if tier == "none":
        return out
    hidden = hidden_values(task, company)
    sources = _sources(task, company, hidden)
    located = {c for s in sources for c in s.clue_ids}
    out.clue_ids = [c for c in required_clues(task) if c in located]
    if task.depends_on:  # a follow-up's result rests on the earlier task's clues: counted, located by its own hint
        own = {c.clue_id for c in task.clues}
        out.builds_on = list(task.depends_on)
        out.earlier_clue_ids = [c for c in required_clues(task) if c not in located and c not in own]
    if tier == "where":  # coarse: sources of one kind in one place merge
        merged: dict[tuple[str, str, tuple[str, ...]], SourceHint] = {}
        for s in sources:
            key = (s.kind, s.place, tuple(s.shared_by_departments))
            m = merged.setdefault(key, SourceHint(kind=s.kind, clue_ids=[], place=s.place,
                                                  shared_by_departments=s.shared_by_departments))
            m.clue_ids += [c for c in s.clue_ids if c not in m.clue_ids]
            m.count += 1
        out.sources = list(merged.values())
    else:
        out.sources = sources
    depts: list[str] = []
    for s in out.sources:
        for d in ([s.place] if s.kind == "colleague" else []) + s.shared_by_departments:
            if d and d not in depts:
                depts.append(d)
    out.departments = depts
    out.folders = sorted({s.place for s in out.sources if s.kind in ("file", "image")})
    if tier in ("whom", "steps"):
        handles: list[str] = []
        for s in sources:
            for h in [*(s.referrers), *([s.exact] if s.kind == "colleague" and s.exact else []), *s.shared_by]:
                if h not in handles:
                    handles.append(h)
        out.handles = handles
        out.paths = [s.exact for s in sources if s.kind in ("file", "image") and s.exact]
        out.urls = [s.exact for s in sources if s.kind == "page" and s.exact]
        out.meeting_ids = [s.exact for s in sources if s.kind == "meeting" and s.exact]
    if tier == "steps":
        out.steps = [_step(i, call, hidden, task.task_id) for i, call in enumerate(task.solution, start=1)]
        for st in out.steps:
            args = st.arguments
            if st.tool == "read_file" and isinstance(args.get("path"), str) and args["path"] not in out.paths:
                out.paths.append(args["path"])
            if st.tool == "open_page" and isinstance(args.get("url"), str) and args["url"] not in out.urls:
                out.urls.append(args["url"])
            if st.tool == "attend_meeting" and isinstance(args.get("meeting_id"), str) \
                    and args["meeting_id"] not in out.meeting_ids:
                out.meeting_ids.append(args["meeting_id"])
            names = _recipients(args.get("to")) if st.tool == "send_message" else []
            if st.tool == "wait" and isinstance(args.get("for_message_from"), str):
                names = [args["for_message_from"]]
            out.handles.extend(h for h in names if h not in out.handles)
    return out


def _count(n: int) -> str:
    return "1 piece" if n == 1 else f"{n} pieces"


def _of(n: int) -> str:
    return "1 of them is" if n == 1 else f"{n} of them are"


def _where_line(s: SourceHint) -> str:
    n = len(s.clue_ids)
    if s.kind == "colleague":
        who = "a colleague" if s.count == 1 else f"{s.count} colleagues"
        know = ("knows" if s.count == 1 else "know") + (" 1 of them" if n == 1 else f" {n} of them")
        return f"{who} in {s.place} {know}" if s.place else f"{who} {know}"
    if s.kind in ("file", "image"):
        what = {("image", True): "an image", ("image", False): "images", ("file", True): "a document",
                ("file", False): "documents"}[(s.kind, s.count == 1)]
        line = f"{_of(n)} in {what} in the folder {s.place}"
        if s.shared_by_departments:
            line += f" (shared on request by someone in {' or '.join(s.shared_by_departments)})"
        return line
    if s.kind == "meeting":
        return f"{_of(n)} said in a meeting: attend it"
    return f"{_of(n)} on an internal web page under {s.place}"


def _whom_line(s: SourceHint, company: Company, hidden: set[str]) -> str:
    n = len(s.clue_ids)
    refer = ""
    if s.referrers:
        refer = "; " + ", then ".join(_employee_label(company, r, hidden) for r in s.referrers) + " will point you on"
    if s.kind == "colleague":
        know = "knows 1 of them" if n == 1 else f"knows {n} of them"
        if s.exact is None:
            who = f"a colleague in {s.place}" if s.place else "a colleague"
            return f"{who} {know} (not named: {s.withheld}){refer}"
        return f"{s.label} {know}: ask them{refer}"
    if s.kind in ("file", "image"):
        what = "the image" if s.kind == "image" else "the file"
        line = f"{_of(n)} in {what} {s.exact}"
        if s.shared_by:
            sharers = " or ".join(_employee_label(company, h, hidden) for h in s.shared_by)
            line += f" (hidden until shared: ask {sharers}{refer})"
        elif s.withheld:
            line += f" (hidden until shared; who shares it is not named: {s.withheld})"
        return line
    if s.kind == "meeting":
        return f"{_of(n)} said in {s.label}: attend it"
    when = f" (it shows this from {fmt(s.after)} on: open it after then)" if s.after is not None else ""
    return f"{_of(n)} on {s.label}{when}"


def render(d: HintDisclosure, task: TaskInstance, company: Company) -> str | None:
    """The hint's text (None for tier ``none``)."""
    if d.tier == "none":
        return None
    hidden = hidden_values(task, company)
    n = len(d.clue_ids) + len(d.earlier_clue_ids)
    lines = [f"Hint ({TIER_TITLES[d.tier]}) for task {d.task_id}: it depends on {_count(n)} of information."]
    if d.earlier_clue_ids:
        lines.append(f"- {_of(len(d.earlier_clue_ids))} what your result of {' and '.join(d.builds_on)} rests on "
                     "(that task's own hint shows where)")
    if d.tier == "where":
        lines += [f"- {_where_line(s)}" for s in d.sources]
    else:
        done: set[int] = set()
        for i, s in enumerate(d.sources):
            if i in done:
                continue
            same = [j for j, t in enumerate(d.sources) if j > i and t.kind == s.kind and s.kind in ("file", "image")
                    and t.clue_ids == s.clue_ids and not (t.shared_by or s.shared_by or t.withheld or s.withheld)]
            if same:  # one clue over several files (e.g. every receipt of a claim): one line
                done.update(same)
                what = "the images" if s.kind == "image" else "the files"
                paths = ", ".join(x.exact or "" for x in [s, *(d.sources[j] for j in same)])
                lines.append(f"- {_of(len(s.clue_ids))} in {what} {paths}")
            else:
                lines.append(f"- {_whom_line(s, company, hidden)}")
    if d.tier == "steps":
        lines.append("Step by step (how a colleague who did this task before went about it):")
        lines += [f"{st.n}. {st.text}" for st in d.steps]
    return "\n".join(lines)


def task_hint(instance: TaskInstance, company: Company, tier: str) -> str | None:
    """The hint text delivered with ``instance`` at ``tier`` (None for ``none``).

    A last guard: a line that would contain a hidden answer value is left out (the disclosure never
    produces one for the built-in families; tests check it)."""
    text = render(disclosure(instance, company, tier), instance, company)
    if text is None:
        return None
    hidden = hidden_values(instance, company)
    return "\n".join(line if not leaks(line, hidden) else "- (one source not shown: it would reveal an answer)"
                     for line in text.splitlines())
