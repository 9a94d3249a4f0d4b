"""The backend-free parts of the chat layer: JSON extraction, schema checks, retry timing, the limiter."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.errors import BadInput
from generators.chat import (
    AdaptiveLimiter,
    ChatError,
    RetryPolicy,
    extract_json,
    load_chat_model,
    parse_retry_after,
    parse_structured,
    schema_problems,
)


@pytest.mark.parametrize("text,expected", [
    ('{"a": 1}', {"a": 1}),
    ('  [1, 2, 3]\n', [1, 2, 3]),
    ('Sure! Here it is:\n```json\n{"q": "What?", "a": "That."}\n```\nHope it helps.', {"q": "What?", "a": "That."}),
    ('prefix {"nested": {"x": [1, {"y": "}"}]}} suffix {"b": 2}', {"nested": {"x": [1, {"y": "}"}]}}),
    ("{'name': 'Ann', 'ok': True, 'none': None}", {"name": "Ann", "ok": True, "none": None}),
    ("{'quote': 'she said \"hi\"', 'apos': 'it\\'s'}", {"quote": 'she said "hi"', "apos": "it's"}),
    ('{"a": [1, 2,], "b": 3,}', {"a": [1, 2], "b": 3}),
    ('{broken {"good": 1}', {"good": 1}),
    ('{"text": "a { brace and a [ bracket"}', {"text": "a { brace and a [ bracket"}),
])
def test_extract_json_finds_the_first_value(text: str, expected) -> None:
    assert extract_json(text) == expected


def test_extract_json_expect_skips_other_types() -> None:
    assert extract_json('[1, 2] then {"k": "v"}', expect=dict) == {"k": "v"}
    assert extract_json('[1, 2] then {"k": "v"}') == [1, 2]


@pytest.mark.parametrize("text", ["", "no json at all", '{"open": "never closed"', "{not: json, at all}", "[1, 2"])
def test_extract_json_failure_is_bad_response(text: str) -> None:
    with pytest.raises(ChatError) as info:
        extract_json(text)
    assert info.value.reason == "bad_response"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(value=st.dictionaries(st.text(max_size=6), json_values, max_size=4),
       before=st.text(alphabet="abc .:\n", max_size=15), after=st.text(max_size=15))
def test_extract_json_round_trips_embedded_objects(value, before, after) -> None:
    import json

    assert extract_json(before + json.dumps(value) + after, expect=dict) == value


SCHEMA = {"type": "object", "required": ["prompt", "response"],
          "properties": {"prompt": {"type": "string", "minLength": 3}, "response": {"type": "string", "maxLength": 5},
                         "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                         "kind": {"enum": ["qa", "chat"]}}}


def test_schema_problems_name_the_field() -> None:
    assert schema_problems({"prompt": "Why?", "response": "Sun."}, SCHEMA) == []
    assert schema_problems({"prompt": "Why?", "response": "Because."}, SCHEMA) == [
        "$.response: longer than 5 characters"]
    problems = schema_problems({"prompt": "W", "tags": ["a", 1, "c"], "kind": "poem"}, SCHEMA)
    joined = " | ".join(problems)
    assert "missing required field 'response'" in joined
    assert "$.prompt: shorter than 3" in joined
    assert "$.tags: more than 2 items" in joined and "$.tags[1]: expected string" in joined
    assert "$.kind" in joined
    assert schema_problems(True, {"type": "integer"}) == ["$: expected integer, got bool"]


def test_parse_structured_wants_the_schema_shape() -> None:
    assert parse_structured('x [1] {"prompt": "abc", "response": "d"}', SCHEMA) == {"prompt": "abc",
                                                                                      "response": "d"}
    with pytest.raises(ChatError, match="missing required field 'response'"):
        parse_structured('{"prompt": "abc"}', SCHEMA)


def test_parse_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None and parse_retry_after("-3") is None
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(30.0)
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0.0


def test_backoff_is_full_jitter_bounded_and_seeded() -> None:
    a = RetryPolicy(base_delay=0.5, max_delay=4.0, seed=3)
    b = RetryPolicy(base_delay=0.5, max_delay=4.0, seed=3)
    delays_a = [a.delay(n) for n in range(1, 9)]
    assert delays_a == [b.delay(n) for n in range(1, 9)]
    for n, d in enumerate(delays_a, start=1):
        assert 0.0 <= d <= min(4.0, 0.5 * 2 ** (n - 1))
    assert RetryPolicy(seed=4).delay(3) != RetryPolicy(seed=3).delay(3)
    assert a.delay(1, retry_after=7.0) == 7.0


def test_limiter_halves_once_per_generation_and_recovers() -> None:
    limiter = AdaptiveLimiter(8)
    gens = [limiter.acquire() for _ in range(4)]
    for g in gens:  # four pushbacks from the same generation cut only once
        limiter.release(g, ok=False, pushback=True)
    assert limiter.limit == 4 and limiter.pushbacks == 4
    g = limiter.acquire()
    limiter.release(g, ok=False, pushback=True)
    assert limiter.limit == 2 and limiter.min_limit == 2
    for _ in range(2):
        limiter.release(limiter.acquire(), ok=True)
    assert limiter.limit == 3


def test_limiter_blocks_past_the_limit_and_during_pause() -> None:
    limiter = AdaptiveLimiter(1)
    first = limiter.acquire()
    got = threading.Event()
    waiter = threading.Thread(target=lambda: (limiter.acquire(), got.set()))
    waiter.start()
    assert not got.wait(0.2)
    started = time.monotonic()
    limiter.release(first, ok=False, pushback=True, retry_after=0.3)
    assert got.wait(2.0)
    assert time.monotonic() - started >= 0.29
    waiter.join()


def test_load_chat_model_rejects_bad_specs() -> None:
    with pytest.raises(BadInput, match="unknown model backend 'gpt'"):
        load_chat_model("gpt:4")
    with pytest.raises(BadInput, match="needs a model name"):
        load_chat_model("openai:")
    with pytest.raises(BadInput, match="no such GGUF"):
        load_chat_model("local:/nonexistent/model.gguf")
    with pytest.raises(BadInput, match="`base_url`: only applies to openai"):
        load_chat_model("local", base_url="http://127.0.0.1:1/v1")


def test_limiter_waiters_leave_when_cancelled() -> None:
    limiter = AdaptiveLimiter(1)
    limiter.acquire()
    cancel = threading.Event()
    outcome: list = []
    waiter = threading.Thread(target=lambda: outcome.append(limiter.acquire(cancel)))
    waiter.start()
    time.sleep(0.1)
    assert outcome == []
    cancel.set()
    limiter.wake()
    waiter.join(timeout=2)
    assert outcome == [None] and limiter.active == 1
