"""``hf/<path>``: a tiny randomly initialised causal LM built here (no download), loaded through the
provider, prompted through its chat template."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from firstday.models import ModelRequest, ProviderConfig, UsageLedger, get_provider
from firstday.models.hf_provider import HFProvider, parse_tool_calls

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
tokenizers = pytest.importorskip("tokenizers")

TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
            "{% if tools %}<|tools|>{% for t in tools %}{{ t['function']['name'] }} {% endfor %}\n{% endif %}"
            "{% if add_generation_prompt %}<|assistant|>{% endif %}")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder = tmp_path_factory.mktemp("tiny-lm")
    words = ["<unk>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>", "<|tools|>", "hello", "world", "read_file",
             "wait", "the", "trainee", "a", "b", "c"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>",
                                                pad_token="<eos>")
    fast.add_tokens(["<|system|>", "<|user|>", "<|assistant|>", "<|tools|>"])  # one token each
    fast.chat_template = TEMPLATE
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(words), n_positions=128, n_embd=32, n_layer=1, n_head=2,
                                     bos_token_id=1, eos_token_id=1)
    lm = transformers.GPT2LMHeadModel(config)
    lm.generation_config.suppress_tokens = [0, 1]  # a random model would mostly emit <unk>: make it say words
    lm.save_pretrained(folder)
    return folder


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
