"""The text ReAct agent (``react``) for models without native tool calling.

The tools are described in the system prompt; the model writes::

    Thought: what I know and what to do next
    Action: tool_name {"argument": "value"}

One or more ``Action:`` lines per reply (LangChain's ``Action Input:`` line is accepted too). The
arguments are handed to the environment as raw text, so invalid JSON is answered with the
environment's error message; a reply without any action is answered with the expected format. Results
come back as an ``Observation:`` user message (with images as image parts unless ``images=false``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from firstday.agents.llm import ChatAgent, unique_ids
from firstday.models.base import ModelResponse
from firstday.world.tools import ToolCall, ToolResult, ToolSpec

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


def describe_tools(tools: list[ToolSpec]) -> str:
    lines = []
    for t in tools:
        props = t.parameters.get("properties", {})
        required = set(t.parameters.get("required", []))
        args = []
        for name, schema in props.items():
            kind = schema.get("type") or "|".join(str(x.get("type", "any")) for x in schema.get("anyOf", [])) or "any"
            desc = schema.get("description", "")
            args.append(f"    {name} ({kind}{'' if name in required else ', optional'}): {desc}".rstrip(": "))
        lines.append(f"- {t.name}: {t.description}" + ("\n" + "\n".join(args) if args else " (no arguments)"))
    return "\n".join(lines)


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


class ReActAgent(ChatAgent):
    name = "react"

    def _base_system_prompt(self, tools: list[ToolSpec]) -> str:
        return f"{self.system_prompt}\n\nTools:\n{describe_tools(tools)}\n\n{FORMAT}"

    def _stop_sequences(self) -> list[str] | None:
        return ["\nObservation:"]  # the model must not write the environment's part

    def _decode(self, response: ModelResponse) -> tuple[dict[str, Any], list[ToolCall], str | None]:
        text = response.text or ""
        if not text and response.tool_calls:
            # a server that does tool calling anyway: read its calls as actions
            text = "\n".join(f"Action: {c.name} {c.arguments}" for c in response.tool_calls)
        actions = unique_ids([(f"a{self.steps}-{i}", name, args) for i, (name, args) in enumerate(parse_actions(text))])
        calls = [ToolCall(name=name, arguments=args, id=cid) for cid, name, args in actions]
        return {"role": "assistant", "content": text}, calls, None if calls else FORMAT_FEEDBACK

    def _result_messages(self, results: dict[str, ToolResult]) -> tuple[list[dict[str, Any]], list[str]]:
        lines = ["Observation:"]
        for i, cid in enumerate(self.pending, 1):
            r = results.get(cid)
            name = self.pending_names.get(cid, "?")
            if r is None:
                lines.append(f"[{i}] {name}: error: no result was returned for this call")
                continue
            status = "ok" if r.ok else "failed"
            lines.append(f"[{i}] {name} ({status}):\n{r.content}")
        return [], lines


def action_line(name: str, arguments: dict[str, Any]) -> str:
    """How a call is written in the ReAct format (used by tests and scripted servers)."""
    return f"Action: {name} {json.dumps(arguments)}"
