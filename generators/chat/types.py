"""Value types shared by every chat backend: requests, results, failures and usage counters."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from catalog.errors import SynthcatError

#: Why a chat call failed. Retried reasons are transient; the others fail at once.
RETRYABLE_REASONS = frozenset({"rate_limited", "server_error", "timeout", "connection_error", "bad_response"})
FAILURE_REASONS = RETRYABLE_REASONS | {"bad_request", "auth", "cancelled"}


class ChatError(SynthcatError):
    """A chat call that failed for good; ``reason`` is one of :data:`FAILURE_REASONS`."""

    def __init__(self, reason: str, message: str, *, attempts: int = 0, model_id: str | None = None) -> None:
        self.reason = reason
        self.detail = message
        self.attempts = attempts
        self.model_id = model_id
        where = f" from {model_id}" if model_id else ""
        tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}" if attempts else ""
        super().__init__(f"chat completion{where} failed ({reason}){tries}: {message}")


@dataclass(frozen=True)
class ChatRequest:
    """One request of a batch for :meth:`ChatModel.complete_many`."""

    messages: list[dict[str, Any]]
    temperature: float = 0.8
    seed: int | None = None
    max_tokens: int = 256
    json_schema: dict[str, Any] | None = None
    timeout: float | None = None


@dataclass(frozen=True)
class ChatResult:
    """A successful completion.

    ``parsed`` holds the JSON value when ``json_schema`` was given (else ``None``); ``attempts`` counts
    every try including the successful one; ``latency_s`` is wall time including retries and waits;
    ``seed`` is the seed actually used by the successful attempt (it moves on after bad responses).
    """

    text: str
    parsed: dict[str, Any] | list[Any] | None
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    attempts: int
    finish_reason: str | None
    model_id: str
    seed: int | None = None

    @property
    def ok(self) -> bool:
        return True


@dataclass(frozen=True)
class ChatFailure:
    """A request of a batch that failed for good; ``errors`` lists the reason of every failed attempt."""

    reason: str
    message: str
    attempts: int
    latency_s: float
    model_id: str
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return False


@dataclass
class BatchStats:
    """What the last batch or stream of a :class:`ChatModel` saw: pushbacks and how concurrency moved."""

    requests: int = 0
    succeeded: int = 0
    failed: int = 0
    pushbacks: int = 0
    max_concurrency: int = 0
    min_limit: int = 0
    final_limit: int = 0
    peak_active: int = 0
    wall_s: float = 0.0


@dataclass
class Usage:
    """Running totals for one model object; safe to update from several threads."""

    calls: int = 0
    succeeded: int = 0
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add_attempt(self, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        with self._lock:
            self.attempts += 1
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens

    def add_retry(self, reason: str) -> None:
        with self._lock:
            self.retries[reason] += 1

    def add_outcome(self, failure_reason: str | None) -> None:
        with self._lock:
            self.calls += 1
            if failure_reason is None:
                self.succeeded += 1
            else:
                self.failures[failure_reason] += 1

    def snapshot(self) -> dict[str, Any]:
        """A plain-dict copy, for JSON output and provenance."""
        with self._lock:
            return {
                "calls": self.calls,
                "succeeded": self.succeeded,
                "failed": self.calls - self.succeeded,
                "attempts": self.attempts,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens,
                "failures": dict(self.failures),
                "retries": dict(self.retries),
            }
