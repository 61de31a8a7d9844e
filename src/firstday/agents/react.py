"""The text ReAct agent (``react``) for models without native tool calling.

The tools are described in the system prompt (the format lives in ``firstday.models.textcalls``, shared
with the ``hf/`` provider's fallback for chat templates without tools); the model writes::

    Thought: what I know and what to do next
    Action: tool_name {"argument": "value"}

One or more ``Action:`` lines per reply (LangChain's ``Action Input:`` line is accepted too). The
arguments are handed to the environment as raw text, so invalid JSON is answered with the
environment's error message; a reply without any action is answered with the expected format. Results
come back as an ``Observation:`` user message (with images as image parts unless ``images=false``).
"""

from __future__ import annotations

from typing import Any

from firstday.agents.llm import ChatAgent, unique_ids
from firstday.models.base import ModelResponse
from firstday.models.textcalls import (
    FORMAT,
    FORMAT_FEEDBACK,
    OBSERVATION_STOP,
    action_line,
    parse_actions,
    tools_prompt,
)
from firstday.models.textcalls import describe_tools as describe_schemas
from firstday.world.tools import ToolCall, ToolResult, ToolSpec

__all__ = ["FORMAT", "FORMAT_FEEDBACK", "ReActAgent", "action_line", "describe_tools", "parse_actions"]


def describe_tools(tools: list[ToolSpec]) -> str:
    return describe_schemas(t.openai_schema() for t in tools)


class ReActAgent(ChatAgent):
    name = "react"

    def _base_system_prompt(self, tools: list[ToolSpec]) -> str:
        return f"{self.system_prompt}\n\n{tools_prompt(t.openai_schema() for t in tools)}"

    def _stop_sequences(self) -> list[str] | None:
        return [OBSERVATION_STOP]  # the model must not write the environment's part

    def _decode(self, response: ModelResponse) -> tuple[dict[str, Any], list[ToolCall], str | None]:
        text = response.text or ""
        if not text and response.tool_calls:
            # a server that does tool calling anyway: read its calls as actions
            text = "\n".join(action_line(c.name, c.arguments) for c in response.tool_calls)
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

