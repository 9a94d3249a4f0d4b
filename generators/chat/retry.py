"""Retry timing (exponential backoff, full jitter, Retry-After) and the adaptive batch limiter."""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone


class AttemptError(Exception):
    """One failed attempt, as a backend reports it to the retry loop (never escapes the package)."""

    def __init__(self, reason: str, message: str, *, retryable: bool = True, pushback: bool = False,
                 retry_after: float | None = None, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retryable = retryable
        self.pushback = pushback
        self.retry_after = retry_after
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; ``None`` if unusable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        current = now or datetime.now(timezone.utc)
        return max(0.0, (when - current).total_seconds())
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


@dataclass
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter.

    Attempt ``n`` (1-based) that failed waits ``uniform(0, min(max_delay, base_delay * 2**(n-1)))``;
    a server's ``Retry-After`` is a floor on that wait. A ``Retry-After`` longer than
    ``max_retry_after`` ends the retries (waiting that long is the caller's decision, not ours).
    ``seed`` makes the jitter reproducible.
    """

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 120.0
    seed: int | None = None
    sleep: Callable[[float], None] = time.sleep
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._rng = random.Random(self.seed)

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        with self._lock:
            jittered = self._rng.uniform(0.0, cap)
        if retry_after is not None:
            return max(retry_after, jittered)
        return jittered


class AdaptiveLimiter:
    """Caps in-flight attempts of a batch; halves the cap when the endpoint pushes back (429/503).

    Multiplicative decrease at most once per "generation" (attempts started before the last decrease
    do not cut again), additive increase after ``limit`` successes in a row, and a shared pause until
    the latest ``Retry-After`` has passed.
    """

    def __init__(self, max_concurrency: int, clock: Callable[[], float] = time.monotonic) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self.max_concurrency = max_concurrency
        self.limit = max_concurrency
        self.min_limit = max_concurrency
        self.active = 0
        self.peak_active = 0
        self.pushbacks = 0
        self._clock = clock
        self._pause_until = 0.0
        self._generation = 0
        self._streak = 0
        self._cond = threading.Condition()

    def acquire(self, cancel: threading.Event | None = None) -> int | None:
        """Block until a slot is free and no pause is in force; returns the generation to hand back,
        or ``None`` (holding no slot) once ``cancel`` is set and :meth:`wake` was called."""
        with self._cond:
            while True:
                if cancel is not None and cancel.is_set():
                    return None
                now = self._clock()
                if now < self._pause_until:
                    self._cond.wait(timeout=self._pause_until - now)
                elif self.active >= self.limit:
                    self._cond.wait()
                else:
                    self.active += 1
                    self.peak_active = max(self.peak_active, self.active)
                    return self._generation

    def wake(self) -> None:
        """Wake every waiting :meth:`acquire` so it can see its cancel event."""
        with self._cond:
            self._cond.notify_all()

    def release(self, generation: int, *, ok: bool, pushback: bool = False,
                retry_after: float | None = None) -> None:
        with self._cond:
            self.active -= 1
            if pushback:
                self.pushbacks += 1
                self._streak = 0
                if generation == self._generation and self.limit > 1:
                    self.limit = max(1, self.limit // 2)
                    self.min_limit = min(self.min_limit, self.limit)
                    self._generation += 1
                if retry_after:
                    self._pause_until = max(self._pause_until, self._clock() + retry_after)
            elif ok:
                self._streak += 1
                if self._streak >= self.limit and self.limit < self.max_concurrency:
                    self.limit += 1
                    self._streak = 0
            self._cond.notify_all()
