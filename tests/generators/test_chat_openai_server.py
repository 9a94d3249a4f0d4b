"""The openai backend against a real OpenAI-compatible server: llama.cpp's server (xllamacpp) on
127.0.0.1 serving the bundled SmolLM2 GGUF (started once per session by the ``llama_server`` fixture)."""

from __future__ import annotations

import pytest

from generators.chat import ChatError, load_chat_model

pytestmark = pytest.mark.slow

ASK = [{"role": "user", "content": "Name one colour of the sky."}]


@pytest.fixture
def model(llama_server: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a loopback server needs no key
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    with load_chat_model("openai:smollm2", timeout=60, max_retries=2, retry_seed=1, backoff_base=0.1) as chat:
        yield chat


def test_completion_through_the_server(model) -> None:
    result = model.complete(ASK, temperature=0.0, max_tokens=16, seed=3)
    assert result.text.strip()
    assert result.prompt_tokens > 5 and 0 < result.completion_tokens <= 16
    assert result.finish_reason in ("stop", "length")
    assert model.id == "openai:smollm2" and model.backend == "openai"


def test_same_seed_same_text_through_the_server(model) -> None:
    one = model.complete(ASK, temperature=0.9, max_tokens=24, seed=77)
    two = model.complete(ASK, temperature=0.9, max_tokens=24, seed=77)
    assert one.text == two.text


def test_json_output_through_the_server(model) -> None:
    schema = {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "maxLength": 40}}}
    result = model.complete([{"role": "user", "content": "Name a city in France as JSON with key city."}],
                            temperature=0.3, seed=4, max_tokens=40, json_schema=schema)
    assert isinstance(result.parsed, dict) and isinstance(result.parsed["city"], str)
    # llama.cpp's server takes OpenAI's "json_schema" response format as it is: no fallback was needed.
    assert model._json_style == "json_schema"


def test_batch_through_the_server(model) -> None:
    requests = [{"messages": [{"role": "user", "content": f"Say the number {i}."}], "seed": i,
                 "max_tokens": 8, "temperature": 0.0} for i in range(4)]
    results = model.complete_many(requests, max_concurrency=2)
    assert [r.ok for r in results] == [True] * 4
    usage = model.usage.snapshot()
    assert usage["succeeded"] == 4 and usage["completion_tokens"] == sum(r.completion_tokens for r in results)


def test_unreachable_port_is_connection_error(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.generators.chat_fakes import free_port

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    dead = load_chat_model("openai:smollm2", base_url=f"http://127.0.0.1:{free_port()}/v1", timeout=2,
                           max_retries=1, backoff_base=0.01)
    with pytest.raises(ChatError) as info:
        dead.complete(ASK)
    assert info.value.reason == "connection_error" and info.value.attempts == 2
