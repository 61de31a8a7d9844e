"""An external agent for ``firstday serve``: the official MCP client SDK driving an OpenAI-compatible model.

One run of this script plays one episode (one MCP session):

    # over streamable HTTP (firstday serve SUITE --out DIR --transport http prints the URL)
    FIRSTDAY_MCP_URL=http://127.0.0.1:PORT/mcp FIRSTDAY_MODEL=gpt-4o python examples/mcp_agent.py
    # over stdio: the script starts the server itself
    FIRSTDAY_MCP_COMMAND="firstday serve SUITE --out DIR" FIRSTDAY_MODEL=gpt-4o python examples/mcp_agent.py

Environment: ``FIRSTDAY_MODEL`` (the model name), ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` (the
OpenAI-compatible endpoint, read by the ``openai`` SDK), ``FIRSTDAY_MCP_URL`` or ``FIRSTDAY_MCP_COMMAND``,
``FIRSTDAY_MCP_TOKEN`` (a bearer token, when the server asks for one), ``FIRSTDAY_MAX_STEPS`` (model calls,
default 400). Needs ``pip install mcp openai``. See docs/mcp.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import sys
from collections.abc import AsyncIterator
from typing import Any

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from openai import AsyncOpenAI

SYSTEM = ("You are a new trainee on your first day at work. Use the tools to do the tasks you are given; every "
          "tool call takes virtual minutes. Check facts rather than guess, and finish each task with submit. "
          "Call end_day when you are done for the day.")
NUDGE = "Please continue by calling a tool (wait lets time pass; end_day ends your day)."


@contextlib.asynccontextmanager
async def mcp_session() -> AsyncIterator[ClientSession]:
    """A session with the server named by FIRSTDAY_MCP_URL (streamable HTTP) or FIRSTDAY_MCP_COMMAND (stdio)."""
    url, command = os.environ.get("FIRSTDAY_MCP_URL"), os.environ.get("FIRSTDAY_MCP_COMMAND")
    async with contextlib.AsyncExitStack() as stack:
        if url:
            http_client = None
            if token := os.environ.get("FIRSTDAY_MCP_TOKEN"):
                import httpx2  # the MCP SDK's HTTP client

                http_client = await stack.enter_async_context(httpx2.AsyncClient(
                    headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30, read=300)))
            read, write = await stack.enter_async_context(streamable_http_client(url, http_client=http_client))
        elif command:
            argv = shlex.split(command)
            params = StdioServerParameters(command=argv[0], args=argv[1:], env=dict(os.environ))
            read, write = await stack.enter_async_context(stdio_client(params))
        else:
            sys.exit("set FIRSTDAY_MCP_URL (streamable HTTP) or FIRSTDAY_MCP_COMMAND (a stdio server command)")
        session = await stack.enter_async_context(ClientSession(read, write))
        await session.initialize()
        yield session


def text_of(result: Any) -> str:
    return "\n".join(part.text for part in result.content if part.type == "text")


def images_of(result: Any) -> list[dict[str, Any]]:
    return [{"type": "image_url", "image_url": {"url": f"data:{part.mime_type};base64,{part.data}"}}
            for part in result.content if part.type == "image"]


async def play(session: ClientSession, model: AsyncOpenAI, model_name: str, max_steps: int) -> None:
    tools: list[Any] = [{"type": "function", "function": {"name": t.name, "description": t.description or "",
                                               "parameters": t.input_schema}}
             for t in (await session.list_tools()).tools]
    first = await session.call_tool("notifications", {})  # the briefing and the day's first tasks
    messages: list[Any] = [{"role": "system", "content": SYSTEM},
                                      {"role": "user", "content": text_of(first)}]
    for _ in range(max_steps):
        reply = (await model.chat.completions.create(model=model_name, messages=messages, tools=tools)).choices[0]
        calls: list[Any] = list(reply.message.tool_calls or [])
        message: dict[str, Any] = {"role": "assistant", "content": reply.message.content or ""}
        if calls:
            message["tool_calls"] = [{"id": c.id, "type": "function",
                                      "function": {"name": c.function.name, "arguments": c.function.arguments}}
                                     for c in calls]
        messages.append(message)
        if not calls:
            messages.append({"role": "user", "content": NUDGE})
            continue
        images: list[dict[str, Any]] = []
        done = False
        for c in calls:
            try:
                arguments = json.loads(c.function.arguments or "{}")
            except ValueError as exc:
                messages.append({"role": "tool", "tool_call_id": c.id,
                                 "content": f"error: the arguments are not valid JSON ({exc}); nothing was done"})
                continue
            result = await session.call_tool(c.function.name, arguments if isinstance(arguments, dict) else {})
            messages.append({"role": "tool", "tool_call_id": c.id, "content": text_of(result)})
            images += images_of(result)
            done = done or bool((result.meta or {}).get("firstday/done"))
        if images:
            messages.append({"role": "user", "content": [{"type": "text", "text": "Images from the tools:"},
                                                         *images]})
        if done:
            return
    await session.call_tool("end_day", {})  # out of model calls: end the day (it is scored as it stands)


async def main() -> None:
    model_name = os.environ.get("FIRSTDAY_MODEL", "").removeprefix("openai/")  # firstday's openai/<model> works too
    if not model_name:
        sys.exit("set FIRSTDAY_MODEL (and OPENAI_BASE_URL / OPENAI_API_KEY for the endpoint)")
    model = AsyncOpenAI()
    async with mcp_session() as session:
        await play(session, model, model_name, int(os.environ.get("FIRSTDAY_MAX_STEPS", "400")))
    await model.close()


if __name__ == "__main__":
    asyncio.run(main())
