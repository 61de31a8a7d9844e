"""``hf/<local path>``: a local ``transformers`` causal LM, prompted through its chat template.

The folder must hold a model and a tokenizer with a chat template (``save_pretrained`` output).
Nothing is downloaded. Generation runs in a worker thread so the event loop stays free; calls to
one model are serialised. Tool schemas are handed to the chat template (``tools=``); tool calls are
read back from ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks (the Hermes /
Qwen convention). Images are not supported: image parts become a short text placeholder.
``transformers`` and ``torch`` are imported only when such a model is used.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
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

_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
DEFAULT_MAX_NEW_TOKENS = 512


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


class HFProvider(ModelProvider):
    kind = "hf"

    def __init__(self, model: str, config: ProviderConfig | None = None, *, device: str | None = None,
                 prices: PriceTable | None = None, ledger: UsageLedger | None = None) -> None:
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError:
            raise missing_package("transformers", "hf", "hf") from None
        if not Path(model).is_dir():
            raise ConfigError(f"hf/{model}: no such folder; give the path of a saved model "
                              "(a folder written by save_pretrained, with a tokenizer and a chat template)")
        super().__init__(model, config, prices=prices, ledger=ledger)
        self.device = device
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None

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
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            lm.to(device).eval()
            self._loaded = (tok, lm)
        return self._loaded

    def render_prompt(self, request: ModelRequest) -> str:
        """The prompt text the chat template makes of ``request`` (what the model is given)."""
        with self._lock:
            tok, _ = self._load()
        text = tok.apply_chat_template(hf_messages(request.messages), tools=request.tools or None,
                                       add_generation_prompt=True, tokenize=False)
        return str(text)

    def _generate(self, request: ModelRequest) -> ModelResponse:
        import torch

        with self._lock:
            tok, lm = self._load()
            prompt = tok.apply_chat_template(hf_messages(request.messages), tools=request.tools or None,
                                             add_generation_prompt=True, tokenize=False)
            inputs = tok(prompt, return_tensors="pt", add_special_tokens=False).to(lm.device)
            sample = bool(request.temperature)
            gen: dict[str, Any] = {"max_new_tokens": request.max_tokens or DEFAULT_MAX_NEW_TOKENS,
                                   "do_sample": sample,
                                   "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None
                                   else tok.eos_token_id}
            if sample:
                gen["temperature"] = request.temperature
                torch.manual_seed(request.seed or 0)  # seeded sampling: same request, same text
            if request.stop:
                gen["stop_strings"], gen["tokenizer"] = request.stop, tok
            with torch.no_grad():
                out = lm.generate(**inputs, **gen)
            n_in = int(inputs["input_ids"].shape[1])
            new = out[0][n_in:]
            text = tok.decode(new, skip_special_tokens=True)
        rest, calls = parse_tool_calls(text)
        finish = "length" if len(new) >= gen["max_new_tokens"] else "stop"
        return ModelResponse(text=rest if calls else text, tool_calls=calls,
                             finish_reason="tool_calls" if calls else finish,
                             usage=Usage(prompt_tokens=n_in, completion_tokens=len(new)), model=self.model)

    async def _complete(self, request: ModelRequest, timeout_s: float) -> ModelResponse:
        # a worker thread keeps the event loop free; a generation past the timeout is abandoned, not killed
        return await asyncio.to_thread(self._generate, request)
