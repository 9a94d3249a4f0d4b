"""Planning one attempt at a sample: which requests to send, and what grounded the result.

Two strategies:

- ``one_call``: one request writes the whole sample, with the k records retrieved for the anchor
  as examples (the original pipeline; the only one for ``text`` and ``conversations``).
- ``two_step`` (pairs): a short request writes a new user prompt on the anchor's subject, shown the
  prompts of the k records retrieved for the anchor; the prompt is checked on its own (shape,
  unfilled slots, an echo of the anchor or an example, a repeat of an accepted prompt), then the
  k records most relevant to *that prompt* are retrieved and a second request writes the response
  grounded on them. Those records are the sample's lineage and what its groundedness is scored
  against.

``auto`` picks ``one_call``: measured on the demo seeds with the bundled model, in process and through
an OpenAI-compatible server (benchmarks/RESULTS.md, "Grounded generation v2"), one call accepted
more attempts (0.55 vs 0.50), scored higher groundedness (mean 0.67 vs 0.60) and spent fewer tokens
per accepted sample (1,111 vs 1,520-1,637); two steps repeated the seed set less (nearest-seed
cosine 0.65 vs 0.73). Choose ``two_step`` with ``--strategy two_step``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from catalog.dedup.normalize import normalize_text
from catalog.record_mapping import FieldMapping, chat_messages, pair_of
from generators.text.novelty import jaccard, word_shingles
from generators.text.prompting import (
    PROMPT_STEP_SCHEMA,
    PROMPT_STEP_TEMPLATE,
    RESPONSE_STEP_SCHEMA,
    RESPONSE_STEP_TEMPLATE,
    build_messages,
    build_step_messages,
    format_example,
    format_prompt_example,
)
from generators.text.retrieval import GroundingHit
from generators.text.samples import KIND_SCHEMAS, Bounds, SampleRejected, checked_part

STRATEGIES = ("auto", "one_call", "two_step")


def resolve_strategy(strategy: str, kind: str, grounded: bool, custom_template: bool) -> str:
    """The strategy a job runs: ``auto`` is ``one_call`` (see the module docstring for why)."""
    return "one_call" if strategy == "auto" else strategy


def example_fields(text: str, fields: dict, kind: str, mapping: FieldMapping) -> tuple[dict, str]:
    """A grounding record as the fields of an example of its own kind."""
    if kind == "pairs":
        prompt, response = pair_of(fields, mapping)
        return {"prompt": prompt, "response": response}, "pairs"
    if kind == "conversations":
        return {"messages": chat_messages(fields, mapping)}, "conversations"
    return {"text": text}, "text"


# Word-sequence similarity (difflib ratio, 2 x matching words / total words) at or above which a
# generated prompt counts as a copy of a source or accepted prompt: one changed word in 12 gives 0.92,
# two give 0.83, a rephrasing of the same request typically 0.3-0.6.
PROMPT_EDIT_COPY = 0.85

@dataclass
class Attempt:
    """One try at a sample, carried from its first request to its verdict."""

    number: int
    seed: int
    anchor: str
    anchor_id: int | None
    step: str  # "one_call" | "prompt" | "response"
    examples: list[GroundingHit] = field(default_factory=list)  # what the first request was shown
    grounding: list[GroundingHit] = field(default_factory=list)  # what the sample is grounded on
    prompt: str | None = None  # two_step: the accepted new prompt
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    def add_result(self, result) -> None:
        self.prompt_tokens += int(result.prompt_tokens or 0)
        self.completion_tokens += int(result.completion_tokens or 0)
        self.calls += 1


class Planner:
    """Builds the requests of each attempt from the job's settings and the retriever."""

    def __init__(self, config, strategy: str, retriever, kinds: dict[int, str], mappings: dict[int, FieldMapping],
                 template: str) -> None:
        self.config = config
        self.strategy = strategy
        self.retriever = retriever
        self.kinds = kinds
        self.mappings = mappings
        self.template = template
        self.task = config.task or f"more examples like those in {', '.join(config.ground_on)}"
        self.accepted_prompts: list[str] = []
        # Every grounding prompt, normalised: a new prompt equal to one of them is no new prompt
        # (the examples shown are checked for near copies too, but they are only k of them).
        self.known_prompts: set[str] = set()
        if strategy == "two_step":
            for _rid, did, text, fields in retriever.grounding_rows():
                prompt = example_fields(text, json.loads(fields or "{}"), kinds[did], mappings[did])[0].get("prompt")
                if prompt:
                    self.known_prompts.add(normalize_text(prompt))

    def _retrieve(self, query: str) -> list[GroundingHit]:
        cfg = self.config
        return self.retriever.retrieve(query, cfg.k) if cfg.ground_on and cfg.k else []

    def _fields(self, hit: GroundingHit) -> dict:
        return example_fields(hit.text, hit.fields, self.kinds[hit.dataset_id], self.mappings[hit.dataset_id])[0]

    def _request(self, messages: list[dict], seed: int, schema: dict, max_tokens: int) -> dict:
        return {"messages": messages, "temperature": self.config.temperature, "seed": seed,
                "max_tokens": max_tokens, "json_schema": schema}

    def first(self, number: int, anchor_id: int | None, anchor: str) -> tuple[Attempt, dict]:
        cfg = self.config
        seed = cfg.seed + number
        hits = self._retrieve(anchor)
        if self.strategy == "two_step":
            attempt = Attempt(number, seed, anchor, anchor_id, "prompt", examples=hits)
            prompts = [self._fields(h).get("prompt", "") for h in hits]
            examples = [format_prompt_example(p, i) for i, p in enumerate(prompts, start=1) if p]
            messages = build_step_messages(PROMPT_STEP_TEMPLATE, task=self.task, examples=examples, anchor=anchor)
            return attempt, self._request(messages, seed, PROMPT_STEP_SCHEMA, min(cfg.max_tokens, 120))
        attempt = Attempt(number, seed, anchor, anchor_id, "one_call", examples=hits, grounding=hits)
        examples = []
        for i, hit in enumerate(hits, start=1):
            fields, kind = example_fields(hit.text, hit.fields, self.kinds[hit.dataset_id],
                                          self.mappings[hit.dataset_id])
            examples.append(format_example(fields, kind, i))
        messages = build_messages(self.template, task=self.task, kind=cfg.kind, anchor=anchor, examples=examples)
        return attempt, self._request(messages, seed, KIND_SCHEMAS[cfg.kind], cfg.max_tokens)

    def check_prompt(self, attempt: Attempt, parsed: object, bounds: Bounds) -> str:
        """The new prompt of a two-step attempt, or :class:`SampleRejected` with the reason."""
        prompt = checked_part(parsed.get("prompt") if isinstance(parsed, dict) else None, "prompt", bounds)
        if self.copies_a_source(prompt, attempt):
            raise SampleRejected("copied_prompt", "the prompt repeats the anchor or an example")
        if normalize_text(prompt) in self.known_prompts:
            raise SampleRejected("duplicate_prompt", "the prompt is a grounding record's prompt")
        if any(self._near_copy(prompt, other) for other in self.accepted_prompts):
            raise SampleRejected("duplicate_prompt", "the prompt repeats an accepted sample's prompt")
        return prompt

    def copies_a_source(self, prompt: str, attempt: Attempt) -> bool:
        """A prompt that (nearly) repeats the anchor or an example's prompt adds little.

        See :meth:`_near_copy`; rephrasings of the same request still pass.
        """
        if self.config.kind != "pairs":
            return False
        sources = [attempt.anchor] + [self._fields(h).get("prompt", "") for h in attempt.examples]
        return any(self._near_copy(prompt, src) for src in sources if src)

    def _near_copy(self, prompt: str, source: str) -> bool:
        """Near-verbatim: word 3-gram Jaccard >= ``prompt_copy_threshold`` (0.8), or the word
        sequences (case and punctuation folded) at least ``PROMPT_EDIT_COPY`` alike.

        The second test catches a copy with one or two words swapped ("... off you twice??" for
        "... off me TWICE??"): in a 12-word prompt one changed word breaks three of its ten 3-grams,
        so the Jaccard alone would let it pass as new.
        """
        if jaccard(word_shingles(prompt), word_shingles(source)) >= self.config.prompt_copy_threshold:
            return True
        mine = normalize_text(prompt, punctuation_blind=True).split()
        theirs = normalize_text(source, punctuation_blind=True).split()
        return SequenceMatcher(None, mine, theirs, autojunk=False).ratio() >= PROMPT_EDIT_COPY

    def second(self, attempt: Attempt, prompt: str) -> dict:
        """The response request of a two-step attempt, grounded on the records retrieved for ``prompt``."""
        cfg = self.config
        attempt.prompt = prompt
        attempt.step = "response"
        attempt.grounding = self._retrieve(prompt)
        examples = [format_example(self._fields(h), "pairs", i) for i, h in enumerate(attempt.grounding, start=1)]
        messages = build_step_messages(RESPONSE_STEP_TEMPLATE, task=self.task, examples=examples, prompt=prompt)
        return self._request(messages, attempt.seed, RESPONSE_STEP_SCHEMA, cfg.max_tokens)

    def remember(self, fields: dict) -> None:
        """An accepted sample's prompt, so later prompts do not repeat it."""
        if "prompt" in fields:
            self.accepted_prompts.append(fields["prompt"])

    def grounding_texts(self, attempt: Attempt) -> list[str]:
        return [h.text for h in attempt.grounding]
