"""Tool calls written as text (the ReAct format), for models that have no native tool calling.

One mechanism, two users: the ``react`` agent (``firstday.agents.react``) prompts any model this way, and
the ``hf/`` provider falls back to it when a local model's chat template has no tools block. The tools are
described in the system prompt (:func:`describe_tools`) with :data:`FORMAT`; the model writes::

    Thought: what I know and what to do next
    Action: tool_name {"argument": "value"}

and :func:`parse_actions` reads every ``Action:`` back (LangChain's ``Action Input:`` line is accepted
too). Arguments stay raw text, so invalid JSON is answered with the environment's error message.
Results go back as an ``Observation:`` message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_ACTION = re.compile(
    r"^[ \t]*\**Action\**[ \t]*:[ \t]*`?([A-Za-z_][\w.-]*)`?(.*?)"
    r"(?=^[ \t]*\**(?:Action|Observation|Thought)\**[ \t]*:|\Z)",
    re.S | re.M)
_INPUT = re.compile(r"^\s*\**Action Input\**\s*:\s*", re.S)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)

FORMAT = """Answer in this format, and nothing after the last action:

Thought: <what you know and what you will do next>
Action: <tool name> <arguments as one JSON object>

For example:
Thought: I should read the manual first.
Action: read_file {"path": "/shared/finance/manual.md"}

You may write several Action lines to call several tools in one turn. The results come back as
"Observation:". Never write an Observation yourself."""

FORMAT_FEEDBACK = ("I could not find an action in your reply. Write 'Action: <tool name> <JSON arguments>' on a "
                   "line of its own, e.g. Action: wait {}")

# where a reply that goes on to invent the environment's answer is cut (also the stop sequence)
OBSERVATION_STOP = "\nObservation:"


def describe_tools(schemas: Iterable[dict[str, Any]]) -> str:
    """One entry per tool, with its arguments, from OpenAI-style function schemas
    (``{"type": "function", "function": {"name", "description", "parameters"}}``)."""
    lines = []
    for schema in schemas:
        fn = schema.get("function", schema)
        params = fn.get("parameters") or {}
        props = params.get("properties", {})
        required = set(params.get("required", []))
        args = []
        for name, arg in props.items():
            kind = arg.get("type") or "|".join(str(x.get("type", "any")) for x in arg.get("anyOf", [])) or "any"
            desc = arg.get("description", "")
            args.append(f"    {name} ({kind}{'' if name in required else ', optional'}): {desc}".rstrip(": "))
        lines.append(f"- {fn.get('name', '?')}: {fn.get('description', '')}"
                     + ("\n" + "\n".join(args) if args else " (no arguments)"))
    return "\n".join(lines)


def tools_prompt(schemas: Iterable[dict[str, Any]]) -> str:
    """The tools block of a system prompt: the tools, then how to call them."""
    return f"Tools:\n{describe_tools(schemas)}\n\n{FORMAT}"


def parse_actions(text: str) -> list[tuple[str, str]]:
    """(tool name, raw JSON arguments) of every ``Action:`` in ``text``; empty arguments become ``{}``."""
    out = []
    for m in _ACTION.finditer(text):
        raw = _INPUT.sub("", m.group(2).strip(), count=1).strip()
        fence = _FENCE.match(raw)
        if fence:
            raw = fence.group(1)
        out.append((m.group(1), raw or "{}"))
    return out


def action_line(name: str, arguments: dict[str, Any] | str) -> str:
    """How a call is written in this format (raw argument text is kept as it is)."""
    return f"Action: {name} {arguments if isinstance(arguments, str) else json.dumps(arguments)}"


def split_actions(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(the text before the first ``Action:``, every action): the thought and the calls of a reply."""
    first = _ACTION.search(text)
    if first is None:
        return text, []
    return text[:first.start()].strip(), parse_actions(text)
