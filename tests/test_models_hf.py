"""``hf/<path>``: a tiny randomly initialised causal LM built here (no download), loaded through the
provider, prompted through its chat template; chat templates without a tools block fall back to the
react text format."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from firstday.models import ModelRequest, ProviderConfig, UsageLedger, get_provider
from firstday.models.hf_provider import (
    HFProvider,
    ToolsInPromptWarning,
    decode_reply,
    parse_tool_calls,
    render_prompt,
    template_renders_tools,
)
from firstday.models.textcalls import FORMAT

# the tokenizer side needs no torch (these run in `make test`); generating needs torch (`make test-hf`)
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
            "{% if tools %}<|tools|>{% for t in tools %}{{ t['function']['name'] }} {% endfor %}\n{% endif %}"
            "{% if add_generation_prompt %}<|assistant|>{% endif %}")
# SmolLM2-135M-Instruct's chat template: no tools block, so ``tools=`` is ignored
NO_TOOLS_TEMPLATE = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                     "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                     "<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
                     "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
                     "{% endif %}")
WORDS = ["<unk>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>", "<|tools|>", "hello", "world", "read_file",
         "wait", "the", "trainee", "a", "b", "c"]
TOOLS = [{"type": "function", "function": {"name": "wait", "description": "let time pass", "parameters": {}}},
         {"type": "function", "function": {
             "name": "read_file", "description": "read a file",
             "parameters": {"type": "object", "required": ["path"],
                            "properties": {"path": {"type": "string", "description": "where"}}}}}]


def save_tokenizer(folder: Path, template: str) -> Any:
    """A word-level tokenizer with ``template`` as its chat template, saved to ``folder`` and loaded back the
    way the provider loads it."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>",
                                                pad_token="<eos>")
    fast.add_tokens(["<|system|>", "<|user|>", "<|assistant|>", "<|tools|>"])  # one token each
    fast.chat_template = template
    fast.save_pretrained(folder)
    return transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)


def save_tiny_model(folder: Path, template: str) -> Path:
    """A tiny randomly initialised GPT-2 with the tokenizer above: enough to generate through the provider."""
    torch = pytest.importorskip("torch")
    save_tokenizer(folder, template)
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(WORDS), n_positions=1024, n_embd=32, n_layer=1, n_head=2,
                                     bos_token_id=1, eos_token_id=1)
    lm = transformers.GPT2LMHeadModel(config)
    lm.generation_config.suppress_tokens = [0, 1]  # a random model would mostly emit <unk>: make it say words
    lm.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("tiny-lm"), TEMPLATE)


def test_tiny_local_model_generates_through_the_chat_template(tiny_model: Path) -> None:
    p = get_provider(f"hf/{tiny_model}", config=ProviderConfig(cache=False), ledger=UsageLedger(), shared=False)
    assert isinstance(p, HFProvider)
    req = ModelRequest(model=p.model, max_tokens=6, messages=[
        {"role": "system", "content": "the trainee"},
        {"role": "user", "content": [{"type": "text", "text": "hello world"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,xx"}}]}],
        tools=[{"type": "function", "function": {"name": "wait", "description": "", "parameters": {}}}])
    prompt = p.render_prompt(req)
    assert prompt.startswith("<|system|>the trainee\n<|user|>hello world\n[image not shown")
    assert "<|tools|>wait" in prompt and prompt.endswith("<|assistant|>")
    r = asyncio.run(p.complete(req))
    assert r.text and r.usage.completion_tokens == 6 and r.usage.prompt_tokens > 5
    again = asyncio.run(p.complete(req))
    assert again.text == r.text  # greedy: same request, same text
    sampled = [asyncio.run(p.complete(req.model_copy(update={"temperature": 1.0, "seed": 5}))).text for _ in range(2)]
    assert sampled[0] == sampled[1]  # seeded sampling


def test_tool_call_blocks_are_parsed() -> None:
    text = ('ok <tool_call>{"name": "read_file", "arguments": {"path": "/shared/a"}}</tool_call>'
            '<tool_call>{"name": "wait", "arguments": {"minutes": 5</tool_call>')
    rest, calls = parse_tool_calls(text)
    assert rest == "ok"
    assert [(c.name, c.arguments) for c in calls] == [("read_file", json.dumps({"path": "/shared/a"})),
                                                      ("wait", '{"name": "wait", "arguments": {"minutes": 5')]


def test_template_without_tools_block_is_detected(tmp_path: Path) -> None:
    assert template_renders_tools(save_tokenizer(tmp_path / "with", TEMPLATE))
    assert not template_renders_tools(save_tokenizer(tmp_path / "without", NO_TOOLS_TEMPLATE))
    broken = "{{ tools[0]['nope']['x'] }}{% for m in messages %}{{ m['content'] }}{% endfor %}"
    assert not template_renders_tools(save_tokenizer(tmp_path / "broken", broken))


def conversation() -> list[dict[str, Any]]:
    """A system prompt, a task, two tool calls in one turn and their results, as the llm agent sends them."""
    return [{"role": "system", "content": "the trainee"},
            {"role": "user", "content": "hello world"},
            {"role": "assistant", "content": "reading first",
             "tool_calls": [{"id": "c1", "type": "function",
                             "function": {"name": "read_file", "arguments": '{"path": "/shared/a"}'}},
                            {"id": "c2", "type": "function", "function": {"name": "wait", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "the manual"},
            {"role": "tool", "tool_call_id": "c2", "content": "waited"},
            {"role": "user", "content": "b"}]


def test_a_template_without_tools_gets_them_in_the_system_prompt(tmp_path: Path) -> None:
    tok = save_tokenizer(tmp_path, NO_TOOLS_TEMPLATE)
    req = ModelRequest(model="m", messages=conversation(), tools=TOOLS)
    prompt = render_prompt(tok, req, tools_in_template=False)
    system = prompt.split("<|im_end|>")[0]
    assert system.startswith("<|im_start|>system\nthe trainee\n\nTools:\n- wait: let time pass (no arguments)")
    assert "- read_file: read a file\n    path (string): where" in system and FORMAT in system
    # the earlier calls as Action lines, both results in one Observation, in call order
    assert ('<|im_start|>assistant\nreading first\nAction: read_file {"path": "/shared/a"}\nAction: wait {}'
            '<|im_end|>') in prompt
    assert "<|im_start|>user\nObservation:\n[1] read_file:\nthe manual\n[2] wait:\nwaited<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>user\nb<|im_end|>\n<|im_start|>assistant\n")
    # without tools in the request, or with a template that shows them, the conversation is rendered as it is
    plain = render_prompt(tok, req.model_copy(update={"tools": None}), tools_in_template=False)
    assert "Tools:" not in plain and "Action:" not in plain
    templated = render_prompt(save_tokenizer(tmp_path / "t", TEMPLATE), req, tools_in_template=True)
    assert "<|tools|>wait read_file" in templated and "Action:" not in templated


def test_actions_in_a_reply_are_read_back_as_tool_calls() -> None:
    reply = ('Thought: the manual first.\nAction: read_file {"path": "/shared/a"}\nAction: wait\n'
             "Observation: an answer the model made up")
    text, calls = decode_reply(reply, text_tools=True)
    assert text == "Thought: the manual first."
    assert [(c.id, c.name, c.arguments) for c in calls] == [("call_0", "read_file", '{"path": "/shared/a"}'),
                                                            ("call_1", "wait", "{}")]
    assert decode_reply("no action here", text_tools=True) == ("no action here", [])
    # with native tools the Action lines are just text; <tool_call> blocks are read either way
    assert decode_reply(reply, text_tools=False)[1] == []
    hermes = '<tool_call>{"name": "wait", "arguments": {}}</tool_call>'
    assert [c.name for c in decode_reply(hermes, text_tools=True)[1]] == ["wait"]


def test_the_provider_falls_back_and_warns_once(tmp_path: Path) -> None:
    folder = save_tiny_model(tmp_path / "smol", NO_TOOLS_TEMPLATE)
    p = get_provider(f"hf/{folder}", config=ProviderConfig(cache=False), ledger=UsageLedger(), shared=False)
    assert isinstance(p, HFProvider)
    req = ModelRequest(model=p.model, max_tokens=4, messages=conversation(), tools=TOOLS)
    with pytest.warns(ToolsInPromptWarning, match="no tools block") as caught:
        prompt = p.render_prompt(req)
        r = asyncio.run(p.complete(req))
        asyncio.run(p.complete(req.model_copy(update={"seed": 3})))
    assert len(caught) == 1
    assert "Tools:\n- wait" in prompt and r.usage.completion_tokens >= 1
    bare = asyncio.run(p.complete(req.model_copy(update={"tools": None})))
    assert r.usage.prompt_tokens > bare.usage.prompt_tokens + 50  # the model was given the tools' descriptions
