"""The openai backend against a scripted local HTTP server: retries, Retry-After, timeouts, pushback."""

from __future__ import annotations

import time

import pytest

from catalog.errors import BadInput, SynthcatError
from generators.chat import ChatError, ChatRequest, load_chat_model
from tests.generators.chat_fakes import FakeEndpoint, Reply, completion_body

USER = [{"role": "user", "content": "hello"}]


def model_for(endpoint: FakeEndpoint, **kwargs):
    options = {"timeout": 2.0, "max_retries": 3, "retry_seed": 7, "backoff_base": 0.05, "backoff_max": 0.2}
    options.update(kwargs)
    return load_chat_model("openai:fake-model", base_url=endpoint.base_url, **options)


def test_success_counts_tokens_and_sends_options(fake_endpoint: FakeEndpoint) -> None:
    fake_endpoint.default = Reply(body=completion_body("hi there", prompt_tokens=11, completion_tokens=4))
    model = model_for(fake_endpoint)
    result = model.complete(USER, temperature=0.3, seed=5, max_tokens=17)
    assert result.text == "hi there"
    assert (result.prompt_tokens, result.completion_tokens, result.attempts) == (11, 4, 1)
    assert result.finish_reason == "stop" and result.model_id == "openai:fake-model"
    sent = fake_endpoint.requests[0]
    assert sent["model"] == "fake-model" and sent["messages"] == USER
    assert (sent["temperature"], sent["seed"], sent["max_tokens"]) == (0.3, 5, 17)
    assert "response_format" not in sent
    usage = model.usage.snapshot()
    assert usage["prompt_tokens"] == 11 and usage["completion_tokens"] == 4 and usage["succeeded"] == 1


def test_429_waits_at_least_retry_after_then_succeeds(fake_endpoint: FakeEndpoint) -> None:
    fake_endpoint.script = [Reply(status=429, body={"error": {"message": "slow down"}},
                                  headers={"Retry-After": "1"})]
    model = model_for(fake_endpoint)
    result = model.complete(USER)
    assert result.text == "ok" and result.attempts == 2
    gap = fake_endpoint.times[1] - fake_endpoint.times[0]
    assert gap >= 1.0, f"retried after {gap:.3f} s although the server asked for 1 s"
    assert model.usage.snapshot()["retries"] == {"rate_limited": 1}


def test_500_then_success(fake_endpoint: FakeEndpoint) -> None:
    fake_endpoint.script = [Reply(status=500, body={"error": {"message": "boom"}}),
                            Reply(status=502, body="bad gateway")]
    model = model_for(fake_endpoint)
    result = model.complete(USER)
    assert result.text == "ok" and result.attempts == 3
    assert model.usage.snapshot()["retries"] == {"server_error": 2}


@pytest.mark.parametrize("body,ctype", [
    ("<html>502 upstream exploded</html>", "text/html"),
    ("{this is not json", "application/json"),
    ({"unexpected": "shape"}, "application/json"),
    (completion_body("x") | {"choices": []}, "application/json"),
])
def test_garbage_body_is_bad_response_after_retries(fake_endpoint: FakeEndpoint, body, ctype) -> None:
    fake_endpoint.default = Reply(body=body, headers={"content-type": ctype})
    model = model_for(fake_endpoint, max_retries=2)
    with pytest.raises(ChatError) as info:
        model.complete(USER)
    assert info.value.reason == "bad_response"
    assert info.value.attempts == 3 and len(fake_endpoint.requests) == 3
    assert model.usage.snapshot()["failures"] == {"bad_response": 1}


def test_hang_past_timeout_is_timeout(fake_endpoint: FakeEndpoint) -> None:
    fake_endpoint.default = Reply(delay=3.0)
    model = model_for(fake_endpoint, timeout=0.5, max_retries=1)
    started = time.monotonic()
    with pytest.raises(ChatError) as info:
        model.complete(USER)
    elapsed = time.monotonic() - started
    assert info.value.reason == "timeout" and info.value.attempts == 2
    assert 1.0 <= elapsed < 2.5, elapsed


def test_timeout_then_success(fake_endpoint: FakeEndpoint) -> None:
    fake_endpoint.script = [Reply(delay=1.5)]
    model = model_for(fake_endpoint)
    result = model.complete(USER, timeout=0.4)
    assert result.text == "ok" and result.attempts == 2
    assert model.usage.snapshot()["retries"] == {"timeout": 1}


def test_client_errors_are_not_retried(fake_endpoint: FakeEndpoint) -> None:
    fake_endpoint.script = [Reply(status=404, body={"error": {"message": "no such model"}}),
                            Reply(status=401, body={"error": {"message": "bad key"}})]
    model = model_for(fake_endpoint)
    with pytest.raises(ChatError) as first:
        model.complete(USER)
    with pytest.raises(ChatError) as second:
        model.complete(USER)
    assert (first.value.reason, first.value.attempts) == ("bad_request", 1)
    assert (second.value.reason, second.value.attempts) == ("auth", 1)
    assert "OPENAI_API_KEY" in str(second.value)
    assert len(fake_endpoint.requests) == 2


def test_retry_after_beyond_the_cap_gives_up_at_once(fake_endpoint: FakeEndpoint) -> None:
    fake_endpoint.default = Reply(status=429, body={"error": {"message": "quota"}}, headers={"Retry-After": "3600"})
    model = model_for(fake_endpoint, max_retry_after=5)
    with pytest.raises(ChatError) as info:
        model.complete(USER)
    assert info.value.reason == "rate_limited" and info.value.attempts == 1
    assert "3600" in str(info.value)


def test_json_mode_parses_fenced_output_and_moves_seed_on_bad_json(fake_endpoint: FakeEndpoint) -> None:
    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    fake_endpoint.script = [Reply(body=completion_body("Sure! no json here")),
                            Reply(body=completion_body('Here:\n```json\n{"q": "why?"}\n```\nEnjoy.'))]
    model = model_for(fake_endpoint)
    result = model.complete(USER, seed=40, json_schema=schema)
    assert result.parsed == {"q": "why?"} and result.attempts == 2
    assert [r["seed"] for r in fake_endpoint.requests] == [40, 41]
    assert result.seed == 41
    assert fake_endpoint.requests[0]["response_format"]["type"] == "json_schema"
    assert fake_endpoint.requests[0]["response_format"]["json_schema"]["schema"] == schema


@pytest.mark.parametrize("status", [400, 422, 500])
def test_server_rejecting_json_schema_gets_the_next_style(fake_endpoint: FakeEndpoint, status: int) -> None:
    # OpenAI rejects with 400, FastAPI servers with 422, llama-cpp-python's server with 500.
    rejection = Reply(status=status, body={"error": {"message": "response_format: input should be 'json_object'"}})
    fake_endpoint.script = [rejection, rejection]
    fake_endpoint.default = Reply(body=completion_body('{"a": 1}'))
    model = model_for(fake_endpoint)
    schema = {"type": "object"}
    result = model.complete(USER, json_schema=schema)
    assert result.parsed == {"a": 1} and result.attempts == 1
    formats = [r["response_format"] for r in fake_endpoint.requests]
    assert formats == [{"type": "json_schema", "json_schema": {"name": "output", "schema": schema}},
                       {"type": "json_object", "schema": schema}, {"type": "json_object"}]
    model.complete(USER, json_schema=schema)  # the working style sticks
    assert fake_endpoint.requests[3]["response_format"] == {"type": "json_object"}


def test_500_unrelated_to_parameters_is_still_retried(fake_endpoint: FakeEndpoint) -> None:
    fake_endpoint.script = [Reply(status=500, body={"error": {"message": "out of memory"}})]
    fake_endpoint.default = Reply(body=completion_body('{"a": 1}'))
    model = model_for(fake_endpoint)
    result = model.complete(USER, json_schema={"type": "object"})
    assert result.attempts == 2
    assert [r["response_format"]["type"] for r in fake_endpoint.requests] == ["json_schema", "json_schema"]


def test_batch_backs_off_under_429(fake_endpoint: FakeEndpoint) -> None:
    # Capacity one: a request that finds another in flight gets 429 with a short Retry-After.
    def decide(active: int, payload: dict) -> Reply:
        if active > 1:
            return Reply(status=429, body={"error": {"message": "busy"}}, headers={"Retry-After": "0.1"})
        return Reply(body=completion_body("done"), delay=0.08)

    fake_endpoint.decide = decide
    model = model_for(fake_endpoint, max_retries=6)
    seen: list[int] = []
    results = model.complete_many([{"messages": USER, "seed": i} for i in range(8)], max_concurrency=4,
                                  on_result=lambda i, r: seen.append(i))
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert sorted(seen) == list(range(8))
    stats = model.last_batch
    assert stats.pushbacks >= 1 and stats.min_limit == 1 < stats.max_concurrency == 4
    rejected = fake_endpoint.statuses.count(429)
    assert rejected == stats.pushbacks
    # Halving to one slot keeps the rejections few: far fewer than the retries budget would allow.
    assert rejected <= 10, (rejected, stats)


def test_batch_keeps_input_order_and_reports_failures(fake_endpoint: FakeEndpoint) -> None:
    def decide(active: int, payload: dict) -> Reply:
        return Reply(body=completion_body("fine"))

    fake_endpoint.decide = decide
    model = model_for(fake_endpoint, max_retries=0)
    requests = [ChatRequest(messages=[{"role": "user", "content": f"n{i}"}], seed=i) for i in range(5)]
    results = model.complete_many(requests, max_concurrency=3)
    assert [r.ok for r in results] == [True] * 5
    sent_order = sorted(fake_endpoint.requests, key=lambda r: r["seed"])
    assert [r["messages"][0]["content"] for r in sent_order] == [f"n{i}" for i in range(5)]
    assert fake_endpoint.peak_active <= 3

    fake_endpoint.decide = lambda active, payload: Reply(status=500, body={"error": {"message": "down"}})
    failed = model.complete_many([{"messages": USER}], max_concurrency=2)
    assert not failed[0].ok and failed[0].reason == "server_error" and failed[0].errors == ("server_error",)


def test_stream_plans_each_request_after_the_results_so_far(fake_endpoint: FakeEndpoint) -> None:
    # Request i answers "r{i}" after a delay that makes later requests finish first within a wave.
    def decide(active: int, payload: dict) -> Reply:
        i = payload["seed"]
        return Reply(body=completion_body(f"r{i}"), delay=0.05 * (3 - i % 3))

    fake_endpoint.decide = decide
    model = model_for(fake_endpoint)
    seen: list[str] = []
    asked: list[int] = []  # requests in flight, as reported at each planning
    sent = 0

    def next_request(in_flight: int):
        nonlocal sent
        asked.append(in_flight)
        if sent == 7 or in_flight >= 3:
            return None
        sent += 1
        return sent - 1, {"messages": [{"role": "user", "content": f"after {len(seen)} results"}], "seed": sent - 1}

    stats = model.complete_stream(next_request, lambda tag, outcome: seen.append(outcome.text), max_concurrency=4)
    assert sorted(seen) == [f"r{i}" for i in range(7)]
    assert seen[:3] == ["r2", "r1", "r0"]  # completion order, not sending order
    assert fake_endpoint.peak_active == 3  # the caller's own cap (3), below max_concurrency (4)
    assert stats.requests == 7 and stats.succeeded == 7 and model.last_batch is stats
    # After the first wave every request was planned knowing at least one more result.
    planned_after = [int(r["messages"][0]["content"].split()[1]) for r in fake_endpoint.requests]
    assert sorted(planned_after)[:3] == [0, 0, 0] and min(sorted(planned_after)[3:]) >= 1
    # The reported count of requests in flight never exceeds what was sent minus what came back.
    assert all(in_flight <= 3 for in_flight in asked)


def test_batch_rejects_bad_requests_before_sending(fake_endpoint: FakeEndpoint) -> None:
    model = model_for(fake_endpoint)
    with pytest.raises(BadInput, match=r"requests\[1\]"):
        model.complete_many([{"messages": USER}, {"messages": [{"role": "robot", "content": "x"}]}])
    with pytest.raises(BadInput, match="unknown request keys"):
        model.complete_many([{"messages": USER, "temprature": 1.0}])
    assert fake_endpoint.requests == []


def test_key_required_for_remote_and_never_exposed(fake_endpoint: FakeEndpoint,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SynthcatError, match="OPENAI_API_KEY"):
        load_chat_model("openai:gpt-4o-mini", base_url="https://api.example.invalid/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.example.invalid/v1")
    with pytest.raises(SynthcatError, match="OPENAI_API_KEY"):
        load_chat_model("openai:gpt-4o-mini")

    secret = "sk-test-secret-value-123"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    fake_endpoint.default = Reply(status=401, body={"error": {"message": "invalid key"}})
    model = model_for(fake_endpoint)
    with pytest.raises(ChatError) as info:
        model.complete(USER)
    assert secret not in str(info.value) and secret not in repr(model)
    assert all(secret not in repr(v) for k, v in vars(model).items() if k != "_client")


def test_interrupted_batch_stops_at_once(fake_endpoint: FakeEndpoint) -> None:
    fake_endpoint.default = Reply(body=completion_body("slow"), delay=0.3)
    model = model_for(fake_endpoint)

    def stop(index: int, outcome) -> None:
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        model.complete_many([{"messages": USER, "seed": i} for i in range(20)], max_concurrency=2, on_result=stop)
    assert time.monotonic() - started < 1.5
    time.sleep(0.5)  # let the request still in flight land
    assert len(fake_endpoint.requests) <= 4, "queued requests kept going after the interruption"


def test_retries_stop_when_the_batch_is_interrupted(fake_endpoint: FakeEndpoint) -> None:
    # "slow" is refused with 503 + Retry-After 0.5 every time; "quick" fails at once with a 400,
    # whose result interrupts the batch while "slow" waits to retry.
    def decide(active: int, payload: dict) -> Reply:
        if payload["messages"][0]["content"] == "quick":
            return Reply(status=400, body={"error": {"message": "nope"}}, delay=0.1)
        # Answer late, so the interruption is already under way when "slow" would start waiting.
        return Reply(status=503, body={"error": {"message": "overloaded"}}, headers={"Retry-After": "0.5"},
                     delay=0.5)

    fake_endpoint.decide = decide
    model = model_for(fake_endpoint, max_retries=5)

    def stop(index: int, outcome) -> None:
        assert index == 1 and outcome.reason == "bad_request"
        raise KeyboardInterrupt

    requests = [{"messages": [{"role": "user", "content": text}]} for text in ("slow", "quick")]
    with pytest.raises(KeyboardInterrupt):
        model.complete_many(requests, max_concurrency=2, on_result=stop)
    time.sleep(1.5)  # without cancellation "slow" would have retried by now
    slow = [r for r in fake_endpoint.requests if r["messages"][0]["content"] == "slow"]
    assert len(slow) == 1
    assert model.usage.snapshot()["failures"].get("cancelled") == 1


def test_model_names_may_hold_colons(fake_endpoint: FakeEndpoint) -> None:
    model = load_chat_model("openai:llama3.2:1b", base_url=fake_endpoint.base_url)
    model.complete(USER)
    assert model.id == "openai:llama3.2:1b" and fake_endpoint.requests[0]["model"] == "llama3.2:1b"
