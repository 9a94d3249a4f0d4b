"""The local backend end to end on the bundled SmolLM2-135M-Instruct GGUF (real llama.cpp, xllamacpp runtime)."""

from __future__ import annotations

import pytest

from catalog.errors import BadInput
from generators.chat import ChatError, load_chat_model
from generators.chat.local import loaded_models

pytestmark = pytest.mark.slow

ASK = [{"role": "system", "content": "You are a concise assistant."},
       {"role": "user", "content": "Name one colour of the sky."}]
PAIR_SCHEMA = {"type": "object", "required": ["question", "answer"],
               "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}}


@pytest.fixture(scope="module")
def model():
    return load_chat_model("local", threads=1, timeout=60)


def test_short_completion_counts_tokens(model) -> None:
    result = model.complete(ASK, temperature=0.0, max_tokens=24, seed=1)
    assert result.text.strip()
    assert result.model_id == "local:smollm2-135m-instruct" and model.backend == "local"
    assert 0 < result.completion_tokens <= 24 and result.prompt_tokens > 10
    assert result.finish_reason in ("stop", "length") and result.attempts == 1
    assert "<|im_end|>" not in result.text and "<|im_start|>" not in result.text


def test_same_seed_same_text_and_seed_matters(model) -> None:
    one = model.complete(ASK, temperature=0.9, max_tokens=32, seed=123)
    model.complete(ASK, temperature=0.9, max_tokens=32, seed=5)  # disturb the sampler state in between
    two = model.complete(ASK, temperature=0.9, max_tokens=32, seed=123)
    assert one.text == two.text
    others = {model.complete(ASK, temperature=0.9, max_tokens=32, seed=s).text for s in (7, 8, 9)}
    assert len(others | {one.text}) > 1, "different seeds at temperature 0.9 never changed the text"


def test_json_mode_returns_schema_conforming_json(model) -> None:
    messages = [{"role": "user", "content": "Write a trivia question about rivers and its answer as JSON "
                                            "with keys question and answer."}]
    result = model.complete(messages, temperature=0.7, seed=11, max_tokens=120, json_schema=PAIR_SCHEMA)
    assert isinstance(result.parsed, dict)
    assert isinstance(result.parsed["question"], str) and isinstance(result.parsed["answer"], str)
    free = model.complete(messages, temperature=0.7, seed=11, max_tokens=120, json_schema={})
    assert isinstance(free.parsed, dict)


def test_model_loads_once_per_process(model) -> None:
    model.complete(ASK, temperature=0.0, max_tokens=4, seed=1)
    other = load_chat_model("local", threads=1)
    other.complete(ASK, temperature=0.0, max_tokens=4, seed=1)
    assert other._engine is model._engine and model.runtime == "xllamacpp"
    assert len([k for k in loaded_models() if k[2] == 1 and k[4] == 1]) == 1


def test_batch_runs_in_order_and_counts_usage(model) -> None:
    before = model.usage.snapshot()
    prompts = ["Say yes.", "Say no.", "Say maybe."]
    seen = []
    results = model.complete_many(
        [{"messages": [{"role": "user", "content": p}], "seed": i, "max_tokens": 8, "temperature": 0.0}
         for i, p in enumerate(prompts)], max_concurrency=4, on_result=lambda i, r: seen.append(i))
    assert all(r.ok for r in results) and sorted(seen) == [0, 1, 2]
    assert model.last_batch.max_concurrency == 1  # llama.cpp in-process runs one generation at a time
    after = model.usage.snapshot()
    assert after["calls"] - before["calls"] == 3
    assert after["completion_tokens"] - before["completion_tokens"] == sum(r.completion_tokens for r in results)


def test_parallel_slots_run_requests_together() -> None:
    slotted = load_chat_model("local", threads=1, parallel=2, timeout=120)
    requests = [{"messages": [{"role": "user", "content": f"Count to {i}."}], "seed": i, "max_tokens": 24,
                 "temperature": 0.0} for i in range(4)]
    results = slotted.complete_many(requests, max_concurrency=4)
    assert [r.ok for r in results] == [True] * 4
    assert slotted.max_parallel() == 2 and slotted.last_batch.max_concurrency == 2
    assert slotted.last_batch.peak_active == 2
    assert slotted.usage.snapshot()["completion_tokens"] == sum(r.completion_tokens for r in results)


def test_local_timeout_stops_generation(model) -> None:
    long_ask = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
    with pytest.raises(ChatError) as info:
        model.complete(long_ask, temperature=0.8, seed=2, max_tokens=1500, timeout=0.2)
    assert info.value.reason == "timeout" and info.value.attempts == 1
    assert model.usage.snapshot()["failures"].get("timeout", 0) >= 1


def test_prompt_longer_than_context_is_bad_request() -> None:
    small = load_chat_model("local", threads=1, n_ctx=256)
    with pytest.raises(ChatError) as info:
        small.complete([{"role": "user", "content": "word " * 600}], max_tokens=8)
    assert info.value.reason == "bad_request" and info.value.attempts == 1


def test_bad_messages_and_options_are_bad_input(model) -> None:
    with pytest.raises(BadInput, match="role"):
        model.complete([{"role": "wizard", "content": "x"}])
    with pytest.raises(BadInput, match="non-empty list"):
        model.complete([])
    with pytest.raises(BadInput, match="temperature"):
        model.complete(ASK, temperature=5.0)
