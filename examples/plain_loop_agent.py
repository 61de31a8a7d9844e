"""The agent of mcp_agent.py in one plain loop: the MCP client SDK and the standard library, nothing else.

    FIRSTDAY_MCP_URL=http://127.0.0.1:PORT/mcp FIRSTDAY_MODEL=gpt-4o OPENAI_BASE_URL=... python plain_loop_agent.py
    (or FIRSTDAY_MCP_COMMAND="firstday serve SUITE --out DIR" for stdio). See docs/mcp.md.
"""

import asyncio
import json
import os
import shlex
import urllib.request
from typing import Any

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent


def chat(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
    """One OpenAI-compatible chat completion, over plain HTTP."""
    base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
    body = {"model": os.environ["FIRSTDAY_MODEL"].removeprefix("openai/"), "messages": messages, "tools": tools}
    request = urllib.request.Request(f"{base}/chat/completions", json.dumps(body).encode(), headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {os.environ.get('OPENAI_API_KEY', '')}"})
    with urllib.request.urlopen(request, timeout=300) as response:
        message: dict[str, Any] = json.load(response)["choices"][0]["message"]
        return message


async def play(session: ClientSession) -> None:
    await session.initialize()
    tools = [{"type": "function", "function": {"name": t.name, "description": t.description or "",
                                               "parameters": t.input_schema}}
             for t in (await session.list_tools()).tools]
    first = await session.call_tool("notifications", {})  # briefing, clock, first tasks
    briefing = "\n".join(p.text for p in first.content if isinstance(p, TextContent))
    system = "You are a new trainee. Do your tasks with the tools; submit each."
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}, {"role": "user", "content": briefing}]
    for _ in range(int(os.environ.get("FIRSTDAY_MAX_STEPS", "400"))):
        message = await asyncio.to_thread(chat, messages, tools)
        calls = message.get("tool_calls") or []
        messages.append({"role": "assistant", "content": message.get("content") or "", **(
            {"tool_calls": calls} if calls else {})})
        if not calls:
            messages.append({"role": "user", "content": "Call a tool (wait lets time pass; end_day ends the day)."})
        for call in calls:
            try:
                arguments = json.loads(call["function"]["arguments"] or "{}")
            except ValueError:
                arguments = {"__invalid_json__": call["function"]["arguments"]}  # the tool reports the error
            result = await session.call_tool(call["function"]["name"], arguments)
            text = "\n".join(p.text for p in result.content if isinstance(p, TextContent))
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": text})
            if (result.meta or {}).get("firstday/done"):
                return
    await session.call_tool("end_day", {})


async def main() -> None:
    transport: Any
    if url := os.environ.get("FIRSTDAY_MCP_URL"):
        transport = streamable_http_client(url)
    else:
        argv = shlex.split(os.environ["FIRSTDAY_MCP_COMMAND"])
        transport = stdio_client(StdioServerParameters(command=argv[0], args=argv[1:], env=dict(os.environ)))
    async with transport as (read, write), ClientSession(read, write) as session:
        await play(session)


if __name__ == "__main__":
    asyncio.run(main())
