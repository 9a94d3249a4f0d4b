"""When a generation job stops short of its target, and what its tokens cost.

**Attempts.** A job asked for N samples keeps trying until it has them, within an attempt cap:
``max_attempts`` when given (a hard setting), else ``attempts_per_sample * N + 25`` (default 25 per
sample: the bundled 135M model accepts ~1 in 2-3 attempts on seed sets it has not seen, a real model
far more). Inside that cap it adapts to the acceptance rate it measures, and stops early only when
finishing is implausible or the endpoint is failing:

- *hopeless*: after ``probe`` attempts, even an optimistic rate (the upper end of a 90% Wilson
  interval around accepted / attempts) would need more attempts for the missing samples than the
  cap leaves;
- *endpoint failing*: ``max_consecutive_failures`` attempts in a row whose calls failed for good
  (connection refused, 5xx after every retry), which no amount of sampling fixes;
- *model too slow*: ``max_consecutive_timeouts`` attempts in a row that ran past the time limit
  per request. Each costs the whole limit (a minute by default), and on a machine too busy for
  the model the next one will too: the job stops within a few minutes and says to raise the
  limit, instead of spending its attempt budget an hour at a time.

**Tokens.** ``max_tokens_total`` stops the job before it sends a request once the job's tokens
(generation and judge, prompt and completion, over every run of the job) reach it. Requests
already in flight finish and are counted, so a job can pass its budget by at most what those
requests use.

**Cost.** With a price table (USD per million prompt and completion tokens), the job's tokens
become a cost in its summary; without one, cost is not shown (a local model costs CPU time only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from catalog.errors import BadInput

ATTEMPTS_PER_SAMPLE = 25
ATTEMPTS_SLACK = 25


def wilson_upper(successes: int, trials: int, z: float = 1.645) -> float:
    """Upper end of the Wilson score interval for a binomial proportion (90% two-sided by default)."""
    if trials <= 0:
        return 1.0
    p = successes / trials
    denom = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return min(1.0, (centre + spread) / denom)


@dataclass(frozen=True)
class AttemptBudget:
    """Decides, before each new attempt, whether the job goes on (see the module docstring)."""

    target: int
    cap: int
    probe: int = 12
    max_consecutive_failures: int = 8
    max_consecutive_timeouts: int = 3

    @classmethod
    def for_job(cls, target: int, max_attempts: int | None, attempts_per_sample: int = ATTEMPTS_PER_SAMPLE
                ) -> AttemptBudget:
        if max_attempts is not None and max_attempts < 1:
            raise BadInput("must be at least 1", param="max_attempts")
        if attempts_per_sample < 1:
            raise BadInput("must be at least 1", param="attempts_per_sample")
        cap = max_attempts if max_attempts is not None else attempts_per_sample * target + ATTEMPTS_SLACK
        return cls(target=target, cap=cap)

    def stop_reason(self, attempts: int, accepted: int, consecutive_failures: int = 0,
                    consecutive_timeouts: int = 0) -> str | None:
        """None to go on; otherwise why the job stops (for its summary)."""
        missing = self.target - accepted
        if missing <= 0:
            return None
        if attempts >= self.cap:
            return f"attempt cap reached ({self.cap} attempts)"
        if consecutive_timeouts >= self.max_consecutive_timeouts:
            return (f"{consecutive_timeouts} attempts in a row ran past the time limit per request: the model is "
                    "slower than that here (raise --timeout, or lower --max-tokens)")
        if consecutive_failures >= self.max_consecutive_failures:
            return f"the endpoint failed {consecutive_failures} attempts in a row"
        if attempts >= self.probe:
            optimistic = wilson_upper(accepted, attempts)
            needed = missing / optimistic if optimistic > 0 else math.inf
            if attempts + needed > self.cap:
                return (f"acceptance rate {accepted}/{attempts}: even at an optimistic {optimistic:.2f} the "
                        f"{missing} missing samples would need ~{math.ceil(needed)} more attempts, past the cap "
                        f"of {self.cap}")
        return None


@dataclass(frozen=True)
class Prices:
    """USD per million tokens; ``None`` when no price was given."""

    prompt: float | None = None
    completion: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("--price-in", self.prompt), ("--price-out", self.completion)):
            if value is not None and (value < 0 or not math.isfinite(value)):
                raise BadInput(f"{name} must be a non-negative price per million tokens", field=name)

    @property
    def given(self) -> bool:
        return self.prompt is not None or self.completion is not None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        if not self.given:
            return None
        return round((prompt_tokens * (self.prompt or 0.0) + completion_tokens * (self.completion or 0.0)) / 1e6, 6)


def tokens_used(usage: dict) -> int:
    """All tokens of a job's usage dict: generation plus judge, prompt plus completion."""
    judge = usage.get("judge") or {}
    return int(usage.get("total_tokens", 0)) + int(judge.get("total_tokens", 0))


def usage_summary(usage: dict, prices: Prices, accepted: int) -> dict:
    """Tokens (generation, judge, total), tokens per accepted sample and cost, for a job's summary."""
    judge = usage.get("judge") or {}
    prompt = int(usage.get("prompt_tokens", 0)) + int(judge.get("prompt_tokens", 0))
    completion = int(usage.get("completion_tokens", 0)) + int(judge.get("completion_tokens", 0))
    out = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
           "judge_tokens": int(judge.get("total_tokens", 0)), "calls": int(usage.get("calls", 0)),
           "tokens_per_accepted": round((prompt + completion) / accepted, 1) if accepted else None}
    cost = prices.cost(prompt, completion)
    if cost is not None:
        out["cost_usd"] = cost
        out["cost_per_accepted_usd"] = round(cost / accepted, 6) if accepted else None
    return out
