"""An LLM judge: a chat model scores each generated sample 1-5 and says why, in JSON.

Asked with ``--judge local`` or ``--judge openai:MODEL``. The judge sees the sample and the records
that grounded it and rates how well the response answers the prompt and how far the records
support it (the rubric below). Its answer is requested with a JSON schema (``rationale`` first,
so a model writes its reasons before its number) and checked here too: a judge that answers
garbage, an out-of-range score or nothing at all gives a *failed* verdict with the reason, stored
with the record; the sample itself is kept (it passed every other check), and the job goes on.
The judge's tokens are counted in the job's usage under ``judge``.
"""

from __future__ import annotations

from dataclasses import dataclass

from generators.chat.types import ChatError

JUDGE_SCHEMA = {
    "type": "object",
    "properties": {
        "rationale": {"type": "string", "maxLength": 400},
        "score": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
    },
    "required": ["rationale", "score"],
}

RUBRIC = """You grade one synthetic training example for a dataset. Task of the dataset: {task}

Reference records (the facts the example may use):
{references}

The example:
{example}

Score it from 1 to 5:
5 = the response answers the prompt fully and every fact in it comes from the reference records;
4 = answers it, with small unsupported details;
3 = partly answers it, or mixes supported and unsupported facts;
2 = mostly off the prompt's subject, or mostly unsupported facts;
1 = does not answer the prompt, contradicts the records, or is broken text.
Reply with JSON only: {{"rationale": "<one or two sentences>", "score": <1-5>}}"""


@dataclass(frozen=True)
class JudgeVerdict:
    """``status`` is ``scored`` (with ``score`` 1-5 and ``rationale``) or ``failed`` (with ``error``)."""

    status: str
    score: int | None = None
    rationale: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def normalized(self) -> float | None:
        """The score mapped to [0, 1] (1 -> 0.0, 5 -> 1.0), or None when the judge failed."""
        return None if self.score is None else (self.score - 1) / 4


def _example_text(fields: dict) -> str:
    if "prompt" in fields:
        return f"Prompt: {fields['prompt']}\nResponse: {fields['response']}"
    if "messages" in fields:
        return "\n".join(f"{m['role']}: {m['content']}" for m in fields["messages"])
    return str(fields.get("text", ""))


class Judge:
    """Scores samples with ``model`` (any :class:`~generators.chat.ChatModel`)."""

    def __init__(self, model, *, task: str, max_tokens: int = 200, temperature: float = 0.0) -> None:
        self.model = model
        self.task = task
        self.max_tokens = max_tokens
        self.temperature = temperature

    @property
    def id(self) -> str:
        return self.model.id

    def messages(self, fields: dict, references: list[str]) -> list[dict]:
        refs = "\n".join(f"[{i}] {text[:600]}" for i, text in enumerate(references, start=1)) or "(none)"
        body = RUBRIC.format(task=self.task, references=refs, example=_example_text(fields))
        return [{"role": "system", "content": "You are a strict, fair grader. You reply with JSON only."},
                {"role": "user", "content": body}]

    def judge(self, fields: dict, references: list[str], *, seed: int | None = None) -> JudgeVerdict:
        """One verdict; never raises for what the judge model does (that is a failed verdict)."""
        before = self.model.usage.snapshot()
        try:
            result = self.model.complete(self.messages(fields, references), temperature=self.temperature,
                                         seed=seed, max_tokens=self.max_tokens, json_schema=JUDGE_SCHEMA)
        except ChatError as exc:
            after = self.model.usage.snapshot()
            return JudgeVerdict("failed", error=f"{exc.reason}: {exc.detail}"[:300],
                                prompt_tokens=after["prompt_tokens"] - before["prompt_tokens"],
                                completion_tokens=after["completion_tokens"] - before["completion_tokens"])
        after = self.model.usage.snapshot()
        tokens = {"prompt_tokens": after["prompt_tokens"] - before["prompt_tokens"],
                  "completion_tokens": after["completion_tokens"] - before["completion_tokens"]}
        parsed = result.parsed if isinstance(result.parsed, dict) else {}
        score, rationale = parsed.get("score"), parsed.get("rationale")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            return JudgeVerdict("failed", error=f"out_of_range: score {score!r} is not an integer 1-5", **tokens)
        if not isinstance(rationale, str) or not rationale.strip():
            return JudgeVerdict("failed", error="no_rationale: the judge gave no rationale", **tokens)
        return JudgeVerdict("scored", score=score, rationale=rationale.strip()[:400], **tokens)
