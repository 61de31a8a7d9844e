"""A loopback OpenAI-compatible server for the model tests (FastAPI + uvicorn on 127.0.0.1, random port).

Its replies come from a policy chosen by the request's ``model``:

- ``scripted``: replays a list of tool calls, one per request of a conversation (a conversation is
  keyed by its first two messages: system prompt and briefing). As native ``tool_calls`` when the
  request has ``tools``, else as ReAct text (``Action: name {json}``). Faults can be injected at given
  request numbers of a conversation: ``429`` (with Retry-After), ``500``, ``timeout`` (sleeps past the
  client's timeout), ``truncated_json``, ``unknown_tool``, ``text_only``, ``bad_react`` (prose without
  an action). A faulty answer never advances the script, so the next request gets the scripted call.
  A step may give ``raw_arguments`` (the arguments text sent verbatim, e.g. malformed JSON) and
  ``content`` (text sent with the call). Replies are ASCII JSON: a lone surrogate goes as ``"\ud800"``.
- ``colleague-echo`` / ``colleague-liar`` / ``colleague-dropper``: LLM colleague rephrasings that keep
  the values, invent a value, or lose the values.
- ``echo``: a short fixed text (the benchmark's call).
- ``always-500``: every request fails (an outage).

Every request body is recorded (``server.requests``) so tests can assert on what the SDK sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

FAULTS = ("429", "500", "timeout", "truncated_json", "unknown_tool", "text_only", "bad_react")


@dataclass
class Conversation:
    pos: int = 0  # next scripted call
    requests: int = 0  # requests seen, faulty ones included


@dataclass
class Policy:
    script: list[dict[str, Any]] = field(default_factory=list)  # [{"name": ..., "arguments": {...}}]
    faults: dict[int, str] = field(default_factory=dict)  # conversation request number -> fault
    retry_after: str = "0.01"
    timeout_sleep_s: float = 2.0
    usage: tuple[int, int] = (100, 10)


class LLMServer:
    def __init__(self) -> None:
        self.policy = Policy()
        self.requests: list[dict[str, Any]] = []
        self.conversations: dict[str, Conversation] = {}
        self.faults_served: list[str] = []
        self._lock = threading.Lock()
        self.app = self._build_app()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ---- lifecycle ----------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LLMServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False,
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test LLM server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def reset(self, policy: Policy | None = None) -> None:
        with self._lock:
            self.policy = policy or Policy()
            self.requests.clear()
            self.conversations.clear()
            self.faults_served.clear()

    @property
    def count(self) -> int:
        return len(self.requests)

    # ---- the app ------------------------------------------------------------------------------------
    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            names = ["scripted", "colleague-echo", "colleague-liar", "colleague-dropper", "echo", "always-500"]
            return {"object": "list", "data": [{"id": n, "object": "model", "owned_by": "firstday-tests"}
                                               for n in names]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            with self._lock:
                self.requests.append(body)
            return await self._answer(body)

        return app

    async def _answer(self, body: dict[str, Any]) -> JSONResponse:
        model = body.get("model", "")
        if model == "always-500":
            return JSONResponse({"error": {"message": "service unavailable", "type": "server_error"}}, 500)
        if model == "unauthorized":
            return JSONResponse({"error": {"message": "invalid api key", "type": "auth_error"}}, 401)
        if model == "echo":
            return self._completion(body, text="ok")
        if model.startswith("colleague-"):
            return self._completion(body, text=self._colleague(model, body))
        return await self._scripted(body)

    def _colleague(self, model: str, body: dict[str, Any]) -> str:
        user = body["messages"][-1]["content"]
        said = user.rsplit("What to tell them: ", 1)[-1]
        if model == "colleague-liar":
            return f"Happy to help! {said} Also, the reference number is 987654."
        if model == "colleague-dropper":
            return "Hmm, I'm not sure, let me get back to you."
        return f"Happy to help! {said}"

    async def _scripted(self, body: dict[str, Any]) -> JSONResponse:
        msgs = body.get("messages", [])
        key = hashlib.sha256(json.dumps(msgs[:2], sort_keys=True).encode()).hexdigest()
        react = not body.get("tools")
        with self._lock:
            conv = self.conversations.setdefault(key, Conversation())
            n = conv.requests
            conv.requests += 1
            fault = self.policy.faults.get(n)
            if fault:
                self.faults_served.append(fault)
            step = self.policy.script[conv.pos] if conv.pos < len(self.policy.script) else {
                "name": "end_day", "arguments": {}}
            if fault is None:
                conv.pos += 1
        if fault == "429":
            return JSONResponse({"error": {"message": "rate limited", "type": "rate_limit_error"}}, 429,
                                headers={"retry-after": self.policy.retry_after})
        if fault == "500":
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, 500)
        if fault == "timeout":
            # the client gives up first and retries; the retry gets the scripted step
            await asyncio.sleep(self.policy.timeout_sleep_s)
            return self._completion(body, text="too late")
        if fault == "text_only":
            return self._completion(body, text="Let me think about the best way to approach this.")
        if fault == "bad_react":
            return self._completion(body, text="Thought: I will now read the manual, I think.")
        # "raw_arguments": the arguments text exactly as given (malformed JSON, raw lone surrogates ...)
        name = str(step["name"])
        args_text = str(step["raw_arguments"]) if "raw_arguments" in step else json.dumps(step["arguments"])
        if fault == "truncated_json":
            args_text = args_text[: max(1, len(args_text) // 2)]
        elif fault == "unknown_tool":
            name, args_text = "teleport_to_office", "{}"
        if react:
            return self._completion(body, text=f"Thought: next step.\nAction: {name} {args_text}")
        content = step.get("content")
        return self._completion(body, calls=[(f"call_{n}", name, args_text)],
                                text=content if isinstance(content, str) else None)

    def _completion(self, body: dict[str, Any], *, text: str | None = None,
                    calls: list[tuple[str, str, str]] | None = None) -> JSONResponse:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = [{"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                                     for cid, name, args in calls]
        prompt, completion = self.policy.usage
        # ASCII JSON (as json.dumps writes it): a lone surrogate in a reply travels as its "\ud800" escape
        return _AsciiJSONResponse({
            "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        })


class _AsciiJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode("ascii")


def image_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The image content parts of a recorded request."""
    return [p for m in body.get("messages", []) if isinstance(m.get("content"), list)
            for p in m["content"] if p.get("type") == "image_url"]


if __name__ == "__main__":  # serve standalone (the benchmark runs it in its own process): prints the port
    import sys

    srv = LLMServer().start()
    print(srv.port, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    srv.stop()
