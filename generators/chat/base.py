"""The :class:`ChatModel` interface: one retry loop and one batch runner shared by every backend.

A backend implements only :meth:`ChatModel._attempt` (one try, no retries) and raises
:class:`~generators.chat.retry.AttemptError` with a reason when that try fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from catalog.errors import BadInput
from generators.chat.jsonout import parse_structured
from generators.chat.retry import AdaptiveLimiter, AttemptError, RetryPolicy
from generators.chat.types import BatchStats, ChatError, ChatFailure, ChatRequest, ChatResult, Usage

_ROLES = {"system", "user", "assistant"}


@dataclass(frozen=True)
class RawCompletion:
    """What one successful attempt of a backend returns."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None


def check_messages(messages: Any, where: str = "messages") -> list[dict[str, Any]]:
    """Validate an OpenAI-style message list; BadInput naming the bad item otherwise."""
    if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)) or not messages:
        raise BadInput("expected a non-empty list of {'role', 'content'} messages", field=where)
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping):
            raise BadInput(f"message {i} is a {type(msg).__name__}, not a dict", field=where)
        if msg.get("role") not in _ROLES:
            raise BadInput(f"message {i} has role {msg.get('role')!r}; expected one of {sorted(_ROLES)}",
                           field=where)
        if not isinstance(msg.get("content"), str):
            raise BadInput(f"message {i} has no text 'content'", field=where)
    return [dict(m) for m in messages]


class ChatModel:
    """A chat model behind one backend. Subclasses set ``id`` and ``backend`` and implement ``_attempt``."""

    id: str
    backend: str

    def __init__(self, *, timeout: float = 60.0, retry: RetryPolicy | None = None) -> None:
        if timeout is not None and timeout <= 0:
            raise BadInput(f"timeout must be positive, got {timeout}", param="timeout")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.usage = Usage()
        self.last_batch = BatchStats()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"

    # -- what a backend provides -------------------------------------------------------------
    def _attempt(self, messages: list[dict[str, Any]], *, temperature: float, seed: int | None,
                 max_tokens: int, json_schema: dict[str, Any] | None, timeout: float) -> RawCompletion:
        raise NotImplementedError

    def check_reachable(self) -> None:
        """Raise a :class:`~catalog.errors.SynthcatError` now if the model cannot answer at all (an
        endpoint that refuses connections), before a job creates anything. Local models: nothing."""

    def close(self) -> None:
        """Release what the backend holds (HTTP pools); the model object is unusable afterwards."""

    def __enter__(self) -> ChatModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request ---------------------------------------------------------------------------
    def complete(self, messages: list[dict[str, Any]], *, temperature: float = 0.8, seed: int | None = None,
                 max_tokens: int = 256, json_schema: dict[str, Any] | None = None,
                 timeout: float | None = None) -> ChatResult:
        """Complete one conversation, retrying transient failures; raises :class:`ChatError` at the end.

        ``json_schema`` asks for JSON (enforced by the backend where it can, parsed and checked here
        always); ``{}`` means any JSON object. ``timeout`` bounds each attempt (default: the model's).
        """
        request = ChatRequest(check_messages(messages), temperature, seed, max_tokens, json_schema, timeout)
        outcome = self._run(request, limiter=None)
        if isinstance(outcome, ChatFailure):
            raise ChatError(outcome.reason, outcome.message, attempts=outcome.attempts, model_id=self.id)
        return outcome

    def _run(self, req: ChatRequest, limiter: AdaptiveLimiter | None,
             cancel: threading.Event | None = None) -> ChatResult | ChatFailure:
        _check_options(req)
        started = time.monotonic()
        timeout = req.timeout if req.timeout is not None else self.timeout
        errors: list[str] = []
        bad_responses = 0
        attempt = 0
        while True:
            attempt += 1
            # A bad response with a fixed seed would repeat itself: move the seed on, reproducibly.
            seed = req.seed + bad_responses if req.seed is not None else None
            if cancel is not None and cancel.is_set():
                return self._cancelled(attempt - 1, started, errors)
            generation = limiter.acquire(cancel) if limiter else 0
            if generation is None:
                return self._cancelled(attempt - 1, started, errors)
            error: AttemptError | None = None
            finished = False
            try:
                raw = self._attempt(req.messages, temperature=req.temperature, seed=seed,
                                    max_tokens=req.max_tokens, json_schema=req.json_schema, timeout=timeout)
                self.usage.add_attempt(raw.prompt_tokens, raw.completion_tokens)
                parsed = None
                if req.json_schema is not None:
                    try:
                        parsed = parse_structured(raw.text, req.json_schema or {"type": "object"})
                    except ChatError as exc:
                        error = AttemptError("bad_response", exc.detail)
                finished = error is None
            except AttemptError as exc:
                self.usage.add_attempt(exc.prompt_tokens, exc.completion_tokens)
                error = exc
            finally:
                if limiter:
                    limiter.release(generation, ok=finished,
                                    pushback=bool(error and error.pushback),
                                    retry_after=error.retry_after if error else None)
            if error is None:
                self.usage.add_outcome(None)
                return ChatResult(text=raw.text, parsed=parsed, prompt_tokens=raw.prompt_tokens,
                                  completion_tokens=raw.completion_tokens,
                                  latency_s=time.monotonic() - started, attempts=attempt,
                                  finish_reason=raw.finish_reason, model_id=self.id, seed=seed)
            errors.append(error.reason)
            if error.reason == "bad_response":
                bad_responses += 1
            give_up = (not error.retryable or attempt >= self.retry.max_attempts
                       or (error.retry_after is not None and error.retry_after > self.retry.max_retry_after))
            if give_up:
                self.usage.add_outcome(error.reason)
                message = error.message
                if error.retry_after is not None and error.retry_after > self.retry.max_retry_after:
                    message += f" (server asked to wait {error.retry_after:.0f} s, more than the " \
                               f"{self.retry.max_retry_after:.0f} s allowed)"
                return ChatFailure(reason=error.reason, message=message, attempts=attempt,
                                   latency_s=time.monotonic() - started, model_id=self.id, errors=tuple(errors))
            self.usage.add_retry(error.reason)
            wait = self.retry.delay(attempt, error.retry_after)
            if cancel is None:
                self.retry.sleep(wait)
            elif cancel.wait(wait):
                return self._cancelled(attempt, started, errors)

    def _cancelled(self, attempts: int, started: float, errors: list[str]) -> ChatFailure:
        self.usage.add_outcome("cancelled")
        return ChatFailure(reason="cancelled", message="the batch was stopped before this request finished",
                           attempts=attempts, latency_s=time.monotonic() - started, model_id=self.id,
                           errors=tuple(errors))

    # -- many requests -------------------------------------------------------------------------
    def complete_many(self, requests: Sequence[ChatRequest | Mapping[str, Any]], *, max_concurrency: int = 4,
                      on_result: Callable[[int, ChatResult | ChatFailure], None] | None = None,
                      ) -> list[ChatResult | ChatFailure]:
        """Run a batch with at most ``max_concurrency`` attempts in flight, in input order.

        Each item is a :class:`ChatRequest` or a mapping with the same keys (``messages`` required).
        When the endpoint pushes back (429/503) the cap halves and everybody waits out ``Retry-After``;
        it grows back by one after a run of successes. ``on_result(index, outcome)`` is called in the
        caller's thread as each request finishes. A request that fails for good becomes a
        :class:`ChatFailure` in its slot; bad input raises before anything is sent. An exception in
        the caller's thread (KeyboardInterrupt, or from ``on_result``) propagates at once: queued
        requests are dropped and requests in flight make no further attempts.
        """
        reqs = [_as_request(r, i) for i, r in enumerate(requests)]
        for r in reqs:
            _check_options(r)
        results: list[ChatResult | ChatFailure | None] = [None] * len(reqs)
        queue = iter(enumerate(reqs))

        def collect(index: int, outcome: ChatResult | ChatFailure) -> None:
            results[index] = outcome
            if on_result is not None:
                on_result(index, outcome)

        self.complete_stream(lambda _in_flight: next(queue, None), collect, max_concurrency=max_concurrency)
        return [r for r in results if r is not None]

    def complete_stream(self, next_request: Callable[[int], tuple[Any, ChatRequest | Mapping[str, Any]] | None],
                        on_result: Callable[[Any, ChatResult | ChatFailure], None], *,
                        max_concurrency: int = 4) -> BatchStats:
        """Keep up to ``max_concurrency`` requests in flight, asking the caller for each next one.

        ``next_request(in_flight)`` runs in the caller's thread whenever a slot is free and returns
        ``(tag, request)``, or ``None`` to send nothing more for now (it is asked again after the next
        result, so a caller can plan each request from the results so far and choose how many to keep
        in flight). ``on_result(tag, outcome)`` runs in the caller's thread as each request finishes,
        in completion order. The stream ends when nothing is in flight and ``next_request`` returns
        ``None``. Pushback, retries and interruption behave as in :meth:`complete_many`; the returned
        :class:`BatchStats` is also kept as ``last_batch``.
        """
        if max_concurrency < 1:
            raise BadInput(f"max_concurrency must be >= 1, got {max_concurrency}", param="max_concurrency")
        limit = min(max_concurrency, self.max_parallel())
        limiter = AdaptiveLimiter(limit)
        started = time.monotonic()
        cancel = threading.Event()
        pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="synthcat-chat")
        pending: dict[Future, tuple[int, Any]] = {}
        sent = succeeded = failed = 0
        try:
            while True:
                while len(pending) < limit:
                    item = next_request(len(pending))
                    if item is None:
                        break
                    tag, raw = item
                    request = _as_request(raw, sent)
                    _check_options(request)
                    pending[pool.submit(self._run, request, limiter, cancel)] = (sent, tag)
                    sent += 1
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                # Several can finish together: hand them over in the order they were sent.
                for fut in sorted(finished, key=lambda f: pending[f][0]):
                    _, tag = pending.pop(fut)
                    outcome = fut.result()
                    succeeded += outcome.ok
                    failed += not outcome.ok
                    on_result(tag, outcome)
        finally:
            # If the caller's thread is interrupted (Ctrl-C, or a callback raising), queued requests
            # are dropped and running ones stop retrying, so a job can stop at once and resume later.
            cancel.set()
            limiter.wake()
            pool.shutdown(wait=False, cancel_futures=True)
        self.last_batch = BatchStats(
            requests=sent, succeeded=succeeded, failed=failed, pushbacks=limiter.pushbacks, max_concurrency=limit,
            min_limit=limiter.min_limit, final_limit=limiter.limit, peak_active=limiter.peak_active,
            wall_s=time.monotonic() - started)
        return self.last_batch

    def max_parallel(self) -> int:
        """How many requests this backend can usefully run at once (a local model runs one at a time)."""
        return 1_000_000


def _as_request(item: ChatRequest | Mapping[str, Any], index: int) -> ChatRequest:
    where = f"requests[{index}]"
    if isinstance(item, ChatRequest):
        return ChatRequest(check_messages(item.messages, where), item.temperature, item.seed,
                           item.max_tokens, item.json_schema, item.timeout)
    if not isinstance(item, Mapping):
        raise BadInput(f"expected a ChatRequest or a dict, got {type(item).__name__}", field=where)
    unknown = set(item) - set(ChatRequest.__dataclass_fields__)
    if unknown:
        raise BadInput(f"unknown request keys {sorted(unknown)}", field=where)
    if "messages" not in item:
        raise BadInput("missing 'messages'", field=where)
    fields = dict(item)
    fields["messages"] = check_messages(fields["messages"], where)
    return ChatRequest(**fields)


def _check_options(req: ChatRequest) -> None:
    if not 0.0 <= req.temperature <= 2.0:
        raise BadInput(f"temperature must be within [0, 2], got {req.temperature}", param="temperature")
    if req.max_tokens < 1:
        raise BadInput(f"max_tokens must be >= 1, got {req.max_tokens}", param="max_tokens")
    if req.seed is not None and (not isinstance(req.seed, int) or req.seed < 0):
        raise BadInput(f"seed must be a non-negative integer, got {req.seed!r}", param="seed")
    if req.json_schema is not None and not isinstance(req.json_schema, dict):
        raise BadInput("json_schema must be a dict (a JSON Schema) or None", param="json_schema")
    if req.timeout is not None and req.timeout <= 0:
        raise BadInput(f"timeout must be positive, got {req.timeout}", param="timeout")
