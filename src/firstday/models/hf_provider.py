"""``hf/<local path>``: a local ``transformers`` causal LM, prompted through its chat template.

The folder must hold a model and a tokenizer with a chat template (``save_pretrained`` output).
Nothing is downloaded. Generation runs in a worker thread so the event loop stays free; calls to
one model are serialised. Tool schemas are handed to the chat template (``tools=``); tool calls are
read back from ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks (the Hermes /
Qwen convention). A chat template without a tools block (it renders the same with and without tools)
would drop them silently: then the tools go into the system prompt in the text format of the ``react``
agent (``firstday.models.textcalls``), earlier calls and results are written in that format, and the
reply's ``Action:`` lines are read back as tool calls (a warning says so once per model).
Images are not supported: image parts become a short text placeholder.
``transformers`` and ``torch`` are imported only when such a model is used.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import warnings
from pathlib import Path
from typing import Any

from firstday.errors import ConfigError
from firstday.models._usage import UsageLedger
from firstday.models.base import (
    ModelError,
    ModelProvider,
    ModelRequest,
    ModelResponse,
    ModelToolCall,
    PriceTable,
    ProviderConfig,
    Usage,
    missing_package,
)
from firstday.models.textcalls import OBSERVATION_STOP, action_line, split_actions, tools_prompt

_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
DEFAULT_MAX_NEW_TOKENS = 512
_PROBE_TOOL = "firstday_probe_tool"
_warned: set[str] = set()  # models already warned about (once per model and process)
_warn_lock = threading.Lock()


class ToolsInPromptWarning(UserWarning):
    """A local model's chat template has no tools block: the tools are described in the system prompt."""


def _flatten(content: Any) -> str:
    """Text of an OpenAI-style content (a string or a list of parts); images become a placeholder."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    out = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text":
            out.append(str(part.get("text", "")))
        elif isinstance(part, dict) and part.get("type") == "image_url":
            out.append("[image not shown: this local model reads text only]")
    return "\n".join(out)


def hf_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI chat messages -> the shape chat templates expect (string content, dict tool arguments)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        msg: dict[str, Any] = {"role": m["role"], "content": _flatten(m.get("content"))}
        if m.get("tool_calls"):
            calls = []
            for tc in m["tool_calls"]:
                fn = tc.get("function", {})
                try:
                    args: Any = json.loads(fn.get("arguments") or "{}")
                except ValueError:
                    args = fn.get("arguments")
                calls.append({"type": "function", "id": tc.get("id"),
                              "function": {"name": fn.get("name"), "arguments": args}})
            msg["tool_calls"] = calls
        if m.get("tool_call_id"):
            msg["tool_call_id"] = m["tool_call_id"]
        out.append(msg)
    return out


def parse_tool_calls(text: str) -> tuple[str, list[ModelToolCall]]:
    """Split generated text into (remaining text, tool calls); malformed JSON stays a raw argument string."""
    calls: list[ModelToolCall] = []
    for i, m in enumerate(_TOOL_CALL.finditer(text)):
        body = m.group(1)
        name, arguments = "", body
        try:
            obj = json.loads(body)
            if isinstance(obj, dict):
                name = str(obj.get("name", ""))
                args = obj.get("arguments", {})
                arguments = args if isinstance(args, str) else json.dumps(args)
        except ValueError:
            hit = re.search(r'"name"\s*:\s*"([^"]+)"', body)
            name = hit.group(1) if hit else ""
        if name:
            calls.append(ModelToolCall(id=f"call_{i}", name=name, arguments=arguments))
    rest = _TOOL_CALL.sub("", text).strip() if calls else text
    return rest, calls


def template_renders_tools(tokenizer: Any) -> bool:
    """Whether the tokenizer's chat template shows the model its tools: a probe tool's name must appear in
    the rendered prompt (a template without a tools block ignores ``tools=``, or fails on it)."""
    probe = [{"role": "user", "content": "hello"}]
    tool = {"type": "function", "function": {"name": _PROBE_TOOL, "description": "a probe",
                                             "parameters": {"type": "object", "properties": {}}}}
    try:
        text = tokenizer.apply_chat_template(probe, tools=[tool], add_generation_prompt=True, tokenize=False)
    except ImportError:  # jinja2 missing: not the template's fault
        raise
    except Exception:  # any template error means the tools cannot be rendered this way
        return False
    return _PROBE_TOOL in str(text)


def text_tool_messages(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat-template messages (``hf_messages`` output) for a template without tools: the tools and the call
    format join the system prompt, earlier calls become ``Action:`` lines and their results one
    ``Observation:`` user message per turn, as the ``react`` agent writes them."""
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool_call_id -> tool name, for the observations
    block = tools_prompt(tools)
    if messages and messages[0]["role"] == "system":
        out.append({"role": "system", "content": f"{messages[0]['content']}\n\n{block}".strip()})
        messages = messages[1:]
    else:
        out.append({"role": "system", "content": block})
    observations: list[str] = []

    def flush() -> None:
        if observations:
            out.append({"role": "user", "content": "Observation:\n" + "\n".join(observations)})
            observations.clear()

    for m in messages:
        if m["role"] == "tool":
            cid = str(m.get("tool_call_id") or "")
            observations.append(f"[{len(observations) + 1}] {names.get(cid, '?')}:\n{m.get('content') or ''}")
            continue
        flush()
        if m["role"] == "assistant" and m.get("tool_calls"):
            lines = [m["content"]] if m.get("content") else []
            for tc in m["tool_calls"]:
                fn = tc.get("function", {})
                names[str(tc.get("id") or "")] = str(fn.get("name"))
                lines.append(action_line(str(fn.get("name")), fn.get("arguments") or {}))
            out.append({"role": "assistant", "content": "\n".join(lines)})
        else:
            out.append({k: v for k, v in m.items() if k != "tool_call_id"})
    flush()
    return out


def render_prompt(tokenizer: Any, request: ModelRequest, tools_in_template: bool) -> str:
    """The prompt text for ``request``: tools through the template when it renders them, else in the text
    format (``text_tool_messages``)."""
    messages = hf_messages(request.messages)
    if request.tools and not tools_in_template:
        messages, tools = text_tool_messages(messages, request.tools), None
    else:
        tools = request.tools or None
    return str(tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=True, tokenize=False))


def decode_reply(text: str, text_tools: bool) -> tuple[str, list[ModelToolCall]]:
    """(text, tool calls) of a generated reply; with ``text_tools`` the ``Action:`` lines are the calls
    (``<tool_call>`` blocks are still read first), and an invented ``Observation:`` is cut off."""
    rest, calls = parse_tool_calls(text)
    if calls or not text_tools:
        return rest, calls
    text = text.split(OBSERVATION_STOP, 1)[0]
    thought, actions = split_actions(text)
    if not actions:
        return text, []
    return thought, [ModelToolCall(id=f"call_{i}", name=name, arguments=args)
                     for i, (name, args) in enumerate(actions)]


def _warn_tools_in_prompt(spec: str) -> None:
    with _warn_lock:
        if spec in _warned:
            return
        _warned.add(spec)
    warnings.warn(f"{spec}: the chat template has no tools block, so the tools are described in the system "
                  "prompt and calls are read from 'Action: <tool> <JSON arguments>' lines (the react format; "
                  "docs/models.md)", ToolsInPromptWarning, stacklevel=2)


class HFProvider(ModelProvider):
    kind = "hf"

    def __init__(self, model: str, config: ProviderConfig | None = None, *, device: str | None = None,
                 prices: PriceTable | None = None, ledger: UsageLedger | None = None) -> None:
        try:
            import jinja2  # noqa: F401  (chat templates; transformers does not require it)
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as exc:  # name the package that is missing
            raise missing_package(exc.name or "transformers", "hf", "hf") from None
        if not Path(model).is_dir():
            raise ConfigError(f"hf/{model}: no such folder; give the path of a saved model "
                              "(a folder written by save_pretrained, with a tokenizer and a chat template)")
        super().__init__(model, config, prices=prices, ledger=ledger)
        self.device = device
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None
        self._tools_in_template = True

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            import torch
            import transformers

            auto_tok: Any = transformers.AutoTokenizer
            auto_lm: Any = transformers.AutoModelForCausalLM
            try:
                tok = auto_tok.from_pretrained(self.model, local_files_only=True)
                lm = auto_lm.from_pretrained(self.model, local_files_only=True)
            except (OSError, ValueError) as exc:
                raise ModelError(f"{self.spec}: cannot load the model: {exc}") from None
            if not getattr(tok, "chat_template", None):
                raise ModelError(f"{self.spec}: the tokenizer has no chat template")
            self._tools_in_template = template_renders_tools(tok)
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            lm.to(device).eval()
            self._loaded = (tok, lm)
        return self._loaded

    def _text_tools(self, request: ModelRequest) -> bool:
        """Whether this request's tools go into the prompt as text (the template has no tools block)."""
        text_tools = bool(request.tools) and not self._tools_in_template
        if text_tools:
            _warn_tools_in_prompt(self.spec)
        return text_tools

    def render_prompt(self, request: ModelRequest) -> str:
        """The prompt text the chat template makes of ``request`` (what the model is given)."""
        with self._lock:
            tok, _ = self._load()
        return render_prompt(tok, request, tools_in_template=not self._text_tools(request))

    def _generate(self, request: ModelRequest) -> ModelResponse:
        import torch

        with self._lock:
            tok, lm = self._load()
            text_tools = self._text_tools(request)
            prompt = render_prompt(tok, request, tools_in_template=not text_tools)
            inputs = tok(prompt, return_tensors="pt", add_special_tokens=False).to(lm.device)
            sample = bool(request.temperature)
            gen: dict[str, Any] = {"max_new_tokens": request.max_tokens or DEFAULT_MAX_NEW_TOKENS,
                                   "do_sample": sample,
                                   "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None
                                   else tok.eos_token_id}
            if sample:
                gen["temperature"] = request.temperature
                torch.manual_seed(request.seed or 0)  # seeded sampling: same request, same text
            # (an invented "Observation:" in the text format is cut by decode_reply, not by a stop string:
            # transformers' stop strings fail on some tokenizers)
            if request.stop:
                gen["stop_strings"], gen["tokenizer"] = request.stop, tok
            with torch.no_grad():
                out = lm.generate(**inputs, **gen)
            n_in = int(inputs["input_ids"].shape[1])
            new = out[0][n_in:]
            text = tok.decode(new, skip_special_tokens=True)
        rest, calls = decode_reply(text, text_tools)
        finish = "length" if len(new) >= gen["max_new_tokens"] else "stop"
        return ModelResponse(text=rest, tool_calls=calls,
                             finish_reason="tool_calls" if calls else finish,
                             usage=Usage(prompt_tokens=n_in, completion_tokens=len(new)), model=self.model)

    async def _complete(self, request: ModelRequest, timeout_s: float) -> ModelResponse:
        # a worker thread keeps the event loop free; a generation past the timeout is abandoned, not killed
        return await asyncio.to_thread(self._generate, request)
