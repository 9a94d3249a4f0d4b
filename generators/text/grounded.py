"""Retrieval-grounded text generation as a resumable job.

For each attempt: pick an anchor (cycling through the grounding records, or a topic), retrieve the
k most relevant records from the grounding datasets and the new dataset, ask the chat model for a
sample (in one call, or for pairs in two: a new prompt, then a response grounded on the records
retrieved for that prompt; see :mod:`generators.text.attempts`), parse and validate the JSON
sample, check its novelty against everything in scope, score its groundedness (and, when asked,
have an LLM judge score it), and store it with provenance, token usage and lineage to its
grounding records. Each accepted sample commits on its own, so a killed job resumes exactly where
it stopped. A job keeps trying until it has its N samples, within an attempt budget that adapts to
its acceptance rate and an optional token budget (:mod:`generators.text.budget`); one that stops
short keeps what it accepted, raises :class:`GenerationIncomplete` with its summary, and resumes.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from catalog.dedup.defaults import MINHASH_THRESHOLD, SEMANTIC_THRESHOLD
from catalog.dedup.normalize import normalize_text
from catalog.embedders import get_embedder
from catalog.embedding_store import register_embedder
from catalog.errors import BadInput, DatasetExists, SynthcatError
from catalog.progress import NullProgress, Progress
from catalog.record_mapping import FieldMapping, chat_messages, pair_of
from catalog.vector_index import VectorIndex, add_unsaved, save_index
from catalog.writer import RecordWriter, content_hash
from generators.text import jobs as jobstore
from generators.text.attempts import STRATEGIES, Attempt, Planner, resolve_strategy
from generators.text.budget import AttemptBudget, Prices, tokens_used, usage_summary
from generators.text.groundedness import score_groundedness
from generators.text.novelty import NoveltyChecker
from generators.text.prompting import DEFAULT_TEMPLATE, UNGROUNDED_TEMPLATE, check_template, template_hash
from generators.text.retrieval import Retriever
from generators.text.samples import KIND_SCHEMAS, MAPPINGS, Bounds, SampleRejected, validate_sample

if TYPE_CHECKING:
    from generators.text.groundedness import Groundedness
    from generators.text.judge import JudgeVerdict

KINDS = tuple(KIND_SCHEMAS)


@dataclass
class GenerationConfig:
    """Everything a generation job needs; stored with the job so `resume` needs only its id."""

    dataset: str
    n: int
    kind: str = "pairs"
    task: str | None = None
    template: str | None = None
    model: str = "local"
    base_url: str | None = None
    temperature: float = 0.8
    seed: int = 0
    ground_on: list[str] = field(default_factory=list)
    k: int = 4
    ground_filter: dict[str, str] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)
    cosine_threshold: float = SEMANTIC_THRESHOLD
    jaccard_threshold: float = MINHASH_THRESHOLD
    prompt_copy_threshold: float = 0.8
    min_chars: int = 8
    max_chars: int = 4000
    max_attempts: int | None = None
    concurrency: int = 1
    max_tokens: int = 320
    embedder: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    strategy: str = "auto"
    attempts_per_sample: int = 25
    max_tokens_total: int | None = None
    price_in: float | None = None
    price_out: float | None = None
    judge: str | None = None
    judge_base_url: str | None = None
    judge_max_tokens: int = 200
    # seconds one model request may take; a job whose requests keep running past it stops early
    request_timeout: float = 60.0

    def validate(self) -> None:
        if self.n < 1:
            raise BadInput(f"must be at least 1, got {self.n}", param="n")
        if self.kind not in KINDS:
            raise BadInput(f"unknown kind '{self.kind}': choose {', '.join(KINDS)}", param="kind")
        if not self.ground_on and not (self.task or self.topics):
            raise BadInput("give a `task`, `topics` or `ground_on` so the model knows what to write", param="task")
        if not 0 < self.cosine_threshold <= 1 or not 0 < self.jaccard_threshold <= 1:
            raise BadInput("novelty thresholds must lie in (0, 1]", param="cosine_threshold")
        if self.k < 0:
            raise BadInput(f"must be >= 0, got {self.k}", param="k")
        if self.min_chars > self.max_chars:
            raise BadInput("is above `max_chars`", param="min_chars")
        if self.concurrency < 1:
            raise BadInput(f"must be at least 1, got {self.concurrency}", param="concurrency")
        if not 0.0 <= self.temperature <= 2.0:
            raise BadInput(f"must lie in [0, 2], got {self.temperature}", param="temperature")
        if self.max_tokens < 16:
            raise BadInput(f"must be at least 16 (a sample needs room), got {self.max_tokens}",
                           param="max_tokens")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise BadInput(f"must be at least 1, got {self.max_attempts}", param="max_attempts")
        if self.template is not None:
            check_template(self.template)
        if self.strategy not in STRATEGIES:
            raise BadInput(f"unknown strategy '{self.strategy}': choose {', '.join(STRATEGIES)}", param="strategy")
        if self.strategy == "two_step" and (self.kind != "pairs" or not self.ground_on):
            raise BadInput("--strategy two_step writes grounded pairs: use --kind pairs with --ground-on",
                           param="strategy")
        if self.max_tokens_total is not None and self.max_tokens_total < 1:
            raise BadInput("must be at least 1", param="max_tokens_total")
        if not 0 < self.request_timeout < math.inf:
            raise BadInput(f"must be a positive number of seconds, got {self.request_timeout}",
                           param="request_timeout")
        if self.judge is not None and not (self.judge == "local" or self.judge.startswith(("local:", "openai:"))):
            raise BadInput(f"unknown judge '{self.judge}': use 'local' or 'openai:MODEL'", param="judge")
        self.prices  # noqa: B018 - validates the price table
        self.attempt_budget  # noqa: B018 - validates the attempt settings

    @property
    def attempt_budget(self) -> AttemptBudget:
        return AttemptBudget.for_job(self.n, self.max_attempts, self.attempts_per_sample)

    @property
    def prices(self) -> Prices:
        return Prices(self.price_in, self.price_out)


class GenerationIncomplete(SynthcatError):
    """A job stopped short of its target (attempt or token budget, failing endpoint); ``report`` says
    what it made and spent. Its accepted samples are kept; `synthcat generate resume` carries on."""

    def __init__(self, message: str, report: GenerationReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class GenerationReport:
    job_id: str
    dataset: str
    target: int
    accepted: int
    attempts: int
    rejections: dict
    status: str
    seconds: float
    usage: dict
    accepted_this_run: int = 0
    stop_reason: str | None = None
    summary: dict = field(default_factory=dict)  # tokens, tokens per accepted sample, cost
    quality: dict = field(default_factory=dict)  # groundedness / judge distribution of the dataset

    def to_dict(self) -> dict:
        return asdict(self)


def _anchor_text(text: str, fields: dict, kind: str, mapping: FieldMapping) -> str:
    if kind == "pairs":
        return pair_of(fields, mapping)[0][:400]
    if kind == "conversations":
        first = next((m["content"] for m in chat_messages(fields, mapping) if m["role"] == "user"), text)
        return str(first)[:400]
    return text[:400]


@dataclass
class _Accepted:
    """Everything `_store` writes for one accepted sample (one transaction)."""

    fields: dict
    text: str
    vector: np.ndarray
    attempt: Attempt
    seed: int | None
    retries: int
    groundedness: Groundedness | None
    verdict: JudgeVerdict | None


def _response_and_context(fields: dict, kind: str) -> tuple[str, str]:
    """The part of a sample whose support is scored, and the part that only sets its context."""
    if kind == "pairs":
        return fields["response"], fields["prompt"]
    if kind == "conversations":
        said = [m["content"] for m in fields["messages"] if m["role"] == "assistant"]
        asked = [m["content"] for m in fields["messages"] if m["role"] != "assistant"]
        return "\n".join(said), "\n".join(asked)
    return fields["text"], ""


class _Run:
    """One process working on a job."""

    def __init__(self, cat, job: jobstore.Job, model, progress: Progress, judge=None) -> None:
        self.cat = cat
        self.job = job
        self.config = GenerationConfig(**job.parameters)
        self.model = model
        self.judge = judge
        self.progress = progress
        self.dataset = cat.dataset(job.dataset)
        self.embedder = get_embedder(self.dataset.embedder)
        self.index = VectorIndex(cat, self.embedder.id)
        self.template = self.config.template or (DEFAULT_TEMPLATE if self.config.ground_on else UNGROUNDED_TEMPLATE)
        self.template_hash = template_hash(self.template)
        self.bounds = Bounds(self.config.min_chars, self.config.max_chars)
        grounding = [cat.dataset(n) for n in self.config.ground_on]
        self.mappings = {d.dataset_id: FieldMapping.from_dict(d.parameters.get("mapping", {"kind": d.kind}))
                         for d in grounding}
        self.mappings[self.dataset.dataset_id] = FieldMapping.from_dict(MAPPINGS[self.config.kind])
        self.kinds = {d.dataset_id: d.kind for d in grounding}
        self.kinds[self.dataset.dataset_id] = self.config.kind
        ground_ids = [d.dataset_id for d in grounding]
        self.retriever = Retriever(cat, self.index, self.embedder, self.config.ground_on, self.dataset.dataset_id,
                                   self.config.ground_filter)
        scope = cat.con.execute(
            "SELECT record_id FROM records WHERE status = 'active' AND dataset_id IN (SELECT unnest(?))",
            [ground_ids + [self.dataset.dataset_id]]).fetchall()
        self.novelty = NoveltyChecker(cat, self.index, np.array([r[0] for r in scope], dtype=np.int64),
                                      cosine_threshold=self.config.cosine_threshold,
                                      jaccard_threshold=self.config.jaccard_threshold)
        self.strategy = resolve_strategy(self.config.strategy, self.config.kind, bool(self.config.ground_on and
                                                                                       self.config.k),
                                         self.config.template is not None)
        self.planner = Planner(self.config, self.strategy, self.retriever, self.kinds, self.mappings, self.template)
        for (fields,) in cat.con.execute("SELECT fields FROM records WHERE dataset_id = ?",
                                         [self.dataset.dataset_id]).fetchall():
            self.planner.remember(json.loads(fields))
        self.anchors = self._anchors()
        self.base_usage = dict(job.usage)
        # A model object may already have served earlier runs: count only what this run adds.
        self.model_start = model.usage.snapshot()
        self.judge_start = judge.model.usage.snapshot() if judge is not None else {}
        self.limits = dict(job.usage.get("limits") or {})
        self.budget = AttemptBudget(target=job.target, cap=int(self.limits.get("attempt_cap",
                                                                                self.config.attempt_budget.cap)))
        self.token_budget = self.limits.get("token_budget", self.config.max_tokens_total)

    def _anchors(self) -> list[tuple[int | None, str]]:
        cfg = self.config
        if cfg.topics:
            return [(None, t) for t in cfg.topics]
        if not cfg.ground_on:
            return [(None, cfg.task or "")]
        rows = self.retriever.grounding_rows()
        if not rows:
            raise SynthcatError("no grounding records match: check `ground_on` and `ground_filter`")
        anchors, seen = [], set()
        for rid, did, text, fields in rows:
            anchor = _anchor_text(text, json.loads(fields), self.kinds[did], self.mappings[did])
            key = normalize_text(anchor)
            if key not in seen:  # duplicated grounding records would steer two samples to one subject
                seen.add(key)
                anchors.append((rid, anchor))
        order = np.random.default_rng(cfg.seed).permutation(len(anchors))
        return [anchors[i] for i in order]

    def _plan(self, number: int) -> tuple[Attempt, dict]:
        anchor_id, anchor = self.anchors[number % len(self.anchors)]
        return self.planner.first(number, anchor_id, anchor)

    def _store(self, sample: _Accepted) -> int:
        """Write one accepted sample: record (with its quality score), embedding, lineage to its
        grounding records, provenance (model, settings, tokens, groundedness, judge), the dataset's
        row count and the job's state, in one transaction. The only place generated records are inserted."""
        cat, cfg, attempt = self.cat, self.config, sample.attempt
        fields, text, vector = sample.fields, sample.text, sample.vector
        grounded, verdict = sample.groundedness, sample.verdict
        quality = _quality_score(grounded, verdict)
        with cat.transaction():
            writer = RecordWriter(cat, self.dataset.dataset_id)
            (record_id,) = writer.add([text], [json.dumps(fields, ensure_ascii=False)], quality=[quality])
            writer.add_vectors(self.embedder.id, [content_hash(text)], vector.reshape(1, -1))
            writer.add_lineage((record_id, hit.record_id, "grounded_on", rank, hit.score)
                               for rank, hit in enumerate(attempt.grounding, start=1))
            cat.con.execute(
                "INSERT INTO generation_provenance (record_id, job_id, model, backend, template_hash, temperature, "
                "seed, attempts, anchor, strategy, calls, prompt_tokens, completion_tokens, groundedness, "
                "groundedness_parts, judge_model, judge_status, judge_score, judge_rationale, judge_error, "
                "judge_prompt_tokens, judge_completion_tokens) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [record_id, self.job.job_id, self.model.id, self.model.id.split(":", 1)[0], self.template_hash,
                 cfg.temperature, sample.seed if sample.seed is not None else attempt.seed, sample.retries,
                 attempt.anchor[:400], self.strategy, attempt.calls, attempt.prompt_tokens,
                 attempt.completion_tokens, grounded.score if grounded else None,
                 json.dumps(grounded.parts()) if grounded else None,
                 self.judge.id if verdict else None, verdict.status if verdict else None,
                 verdict.score if verdict else None, verdict.rationale if verdict else None,
                 verdict.error if verdict else None, verdict.prompt_tokens if verdict else None,
                 verdict.completion_tokens if verdict else None])
            writer.finish(embedder_id=self.embedder.id, index=False)  # the job writes the FAISS file itself
            jobstore.save_job(cat, self.job)
        add_unsaved(self.index, np.array([record_id]), vector.reshape(1, -1))
        self.novelty.add(record_id)
        self.retriever.add([record_id])
        self.planner.remember(fields)
        return record_id

    def _wanted_in_flight(self, accepted: int) -> int:
        """How many requests to keep in flight: enough for the samples still missing at the job's
        acceptance rate so far, at most ``concurrency``.

        A request that is not needed costs the others speed on a busy server (a parallel-slot
        server on a few cores shares its compute among the requests in flight), so the tail of a
        job narrows instead of sending ``concurrency`` requests for the last sample.
        """
        cfg, job = self.config, self.job
        missing = job.target - accepted
        rate = max((accepted + 1) / (job.attempts + 2), 0.1)  # Laplace's rule; floor keeps the cap finite
        return max(1, min(cfg.concurrency, math.ceil(missing / rate)))

    def _assess(self, attempt: Attempt, outcome) -> _Accepted | str:
        """The sample to store, or the reason it is rejected."""
        if not outcome.ok:
            return f"model_{outcome.reason}"
        parsed = outcome.parsed
        if attempt.step == "response":
            parsed = {"prompt": attempt.prompt, "response": (parsed or {}).get("response")} \
                if isinstance(parsed, dict) else parsed
        try:
            fields, text = validate_sample(parsed, self.config.kind, self.bounds)
        except SampleRejected as rej:
            return rej.reason
        vector = self.embedder.embed([text])[0]
        verdict = self.novelty.check(text, vector)
        if not verdict.novel:
            return verdict.reason or "duplicate"
        if attempt.step == "one_call" and "prompt" in fields and self.planner.copies_a_source(fields["prompt"],
                                                                                               attempt):
            return "copied_prompt"
        grounded = None
        if attempt.grounding:
            response, context = _response_and_context(fields, self.config.kind)
            grounded = score_groundedness(response, self.planner.grounding_texts(attempt), prompt=context,
                                          embed=self.embedder.embed)
        judged = None
        if self.judge is not None:
            judged = self.judge.judge(fields, self.planner.grounding_texts(attempt), seed=attempt.seed)
        return _Accepted(fields, text, vector, attempt, outcome.seed, outcome.attempts, grounded, judged)

    def _usage(self, surplus: int) -> dict:
        usage = _merge_usage(self.base_usage, _since(self.model_start, self.model.usage.snapshot()), surplus)
        if self.judge is not None or self.base_usage.get("judge"):
            current = _since(self.judge_start, self.judge.model.usage.snapshot()) if self.judge is not None else {}
            usage["judge"] = _merge_usage(self.base_usage.get("judge") or {}, current)
            usage["judge"].pop("surplus", None)
        usage["limits"] = dict(self.limits, attempt_cap=self.budget.cap,
                               **({"token_budget": self.token_budget} if self.token_budget else {}))
        return usage

    def run(self) -> int:
        """Keep up to ``concurrency`` requests in flight, each planned when a slot frees up (so it
        retrieves from the samples accepted so far), and judge each result as it arrives. Results
        that arrive after the target is reached are counted in ``usage["surplus"]``, not stored."""
        cfg, job = self.config, self.job
        accepted = jobstore.accepted_count(self.cat, job.dataset)
        made = surplus = 0
        failures_in_a_row = timeouts_in_a_row = 0
        planned = job.attempts
        followups: list[tuple[Attempt, dict]] = []
        stop: dict = {}
        self.progress.start(f"generating {job.dataset}", job.target)
        self.progress.advance(accepted)

        def next_request(in_flight: int) -> tuple[Attempt, dict] | None:
            nonlocal planned
            if accepted >= job.target:
                return None
            if self.token_budget and tokens_used(self._usage(surplus)) >= self.token_budget:
                stop.setdefault("status", "budget")
                stop.setdefault("reason", f"token budget reached ({self.token_budget} tokens)")
                return None
            if followups:
                return followups.pop(0)
            if stop or in_flight >= self._wanted_in_flight(accepted):
                return None
            reason = self.budget.stop_reason(planned, accepted, failures_in_a_row, timeouts_in_a_row)
            if reason:
                stop.update(status="exhausted", reason=reason)
                return None
            attempt, request = self._plan(planned)
            planned += 1
            return attempt, request

        def on_result(attempt: Attempt, outcome) -> None:
            nonlocal accepted, made, surplus, failures_in_a_row, timeouts_in_a_row
            if accepted >= job.target:
                surplus += 1
                return
            if outcome.ok:
                attempt.add_result(outcome)
            if attempt.step == "prompt" and outcome.ok:
                try:
                    prompt = self.planner.check_prompt(attempt, outcome.parsed, self.bounds)
                except SampleRejected as rej:
                    judged: _Accepted | str = rej.reason
                else:
                    followups.append((attempt, self.planner.second(attempt, prompt)))
                    return
            else:
                judged = self._assess(attempt, outcome)
            job.attempts += 1
            failures_in_a_row = failures_in_a_row + 1 if not outcome.ok else 0
            timeouts_in_a_row = timeouts_in_a_row + 1 if not outcome.ok and outcome.reason == "timeout" else 0
            job.usage = self._usage(surplus)
            if isinstance(judged, str):
                job.rejections[judged] += 1
                with self.cat.transaction():
                    jobstore.save_job(self.cat, job)
            else:
                self._store(judged)
                accepted += 1
                made += 1
                self.progress.advance(1)
            describe = getattr(self.progress, "set_description", None)
            if describe:
                describe(f"generating {job.dataset}: {accepted} accepted, {sum(job.rejections.values())} rejected")

        try:
            self.model.complete_stream(next_request, on_result, max_concurrency=cfg.concurrency)
            job.usage = self._usage(surplus)
            if accepted >= job.target:
                job.status, job.stop_reason = "done", None
            else:
                job.status = stop.get("status", "exhausted")
                job.stop_reason = stop.get("reason", "stopped")
            with self.cat.transaction():
                jobstore.save_job(self.cat, job)
        finally:
            save_index(self.index)
            self.progress.finish()
        return made


def _quality_score(grounded, verdict) -> float | None:
    """The record's quality: its groundedness, or with a judge's score the mean of the two (each in [0, 1])."""
    candidates = [grounded.score if grounded is not None else None,
                  verdict.normalized if verdict is not None else None]
    parts = [p for p in candidates if p is not None]
    return round(sum(parts) / len(parts), 4) if parts else None


def _since(start: dict, now: dict) -> dict:
    """Usage counters of ``now`` minus those of ``start`` (snapshots of one model's usage)."""
    out = dict(now)
    for key in ("calls", "succeeded", "failed", "attempts", "prompt_tokens", "completion_tokens", "total_tokens"):
        out[key] = now.get(key, 0) - start.get(key, 0)
    for key in ("failures", "retries"):
        diff = Counter(now.get(key, {}))
        diff.subtract(start.get(key, {}))
        out[key] = {k: v for k, v in diff.items() if v}
    return out


def _merge_usage(base: dict, current: dict, surplus: int = 0) -> dict:
    """Usage of earlier runs of the job plus this run's (``surplus``: answers that came after the target)."""
    out = dict(current)
    out["surplus"] = base.get("surplus", 0) + surplus
    for key in ("calls", "succeeded", "failed", "attempts", "prompt_tokens", "completion_tokens", "total_tokens"):
        out[key] = base.get(key, 0) + current.get(key, 0)
    for key in ("failures", "retries"):
        merged = Counter(base.get(key, {}))
        merged.update(current.get(key, {}))
        out[key] = dict(merged)
    return out


# How the job talks to its model, not what it makes: the same command with another value goes on with the job.
_OPERATIONAL = ("request_timeout",)


def _stored_config(parameters: dict) -> GenerationConfig:
    """A stored job's config; a job stored before a setting existed takes its default."""
    return GenerationConfig(**{k: v for k, v in parameters.items() if k in GenerationConfig.__dataclass_fields__})


def _same_settings(parameters: dict, config: GenerationConfig) -> bool:
    """A stored job makes what ``config`` would make (operational settings aside)."""
    def made_by(c: GenerationConfig) -> dict:
        return {k: v for k, v in asdict(c).items() if k not in _OPERATIONAL}

    return made_by(_stored_config(parameters)) == made_by(config)


def _start(cat, config: GenerationConfig, model) -> jobstore.Job:
    config.validate()
    existing = cat.has_dataset(config.dataset)
    if existing:
        job = jobstore.job_for_dataset(cat, config.dataset)
        if job is None:
            raise DatasetExists(f"dataset '{config.dataset}' already exists and was not made by a generation job")
        if not _same_settings(job.parameters, config):
            raise DatasetExists(
                f"dataset '{config.dataset}' was generated with other settings (job {job.job_id}); resume it with "
                f"`synthcat generate resume {job.job_id}` or choose another `dataset`")
        return job
    grounding = [cat.dataset(n) for n in config.ground_on]
    for ds in grounding:
        if ds.kind == "table":
            raise BadInput(f"cannot ground text generation on table '{ds.name}'", param="ground_on")
        if ds.embedder is None:
            raise BadInput(f"dataset '{ds.name}' has no embeddings: run `synthcat embed {ds.name}` first",
                           param="ground_on")
    embedders = {ds.embedder for ds in grounding}
    if len(embedders) > 1:
        raise BadInput(f"grounding datasets use different embedders: {', '.join(sorted(embedders))}",
                       param="ground_on")
    embedder = get_embedder(config.embedder or (grounding[0].embedder if grounding else None))
    job = jobstore.Job(job_id=jobstore.new_job_id(), dataset=config.dataset, parameters=asdict(config),
                       target=config.n)
    with cat.transaction():
        register_embedder(cat, embedder)
        cat.create_dataset(
            config.dataset, kind=config.kind, origin="synthetic", description=config.description,
            tags=config.tags, generator="llm-grounded" if config.ground_on else "llm",
            parameters={"mapping": MAPPINGS[config.kind], "job_id": job.job_id,
                        "generation": {k: v for k, v in asdict(config).items() if k != "template"},
                        "template_hash": template_hash(config.template or (
                            DEFAULT_TEMPLATE if config.ground_on else UNGROUNDED_TEMPLATE))},
            model=model.id, seed=config.seed, parents=config.ground_on, embedder=embedder.id,
            source=f"generate text ({job.job_id})")
        jobstore.insert_job(cat, job)
    return job


def load_judge(config: GenerationConfig, judge_model=None):
    """The job's :class:`~generators.text.judge.Judge`, or None when it asked for none.

    A judge gets a model object of its own (a local one shares the loaded weights), so its tokens
    are counted apart from the generation's."""
    if config.judge is None:
        return None
    from generators.chat import load_chat_model
    from generators.text.judge import Judge

    model = judge_model or load_chat_model(config.judge, base_url=config.judge_base_url
                                           if config.judge.startswith("openai:") else None,
                                           timeout=config.request_timeout)
    task = config.task or f"more examples like those in {', '.join(config.ground_on)}"
    return Judge(model, task=task, max_tokens=config.judge_max_tokens)


def _load_model(config: GenerationConfig):
    """The job's chat model: a local one gets as many parallel slots as the job's concurrency."""
    from generators.chat import load_chat_model

    if config.model.startswith("local"):
        return load_chat_model(config.model, parallel=config.concurrency, timeout=config.request_timeout)
    return load_chat_model(config.model, base_url=config.base_url, timeout=config.request_timeout)


def generate_text(cat, config: GenerationConfig, *, model=None, judge_model=None,
                  progress: Progress | None = None) -> GenerationReport:
    """Run (or, for an existing unfinished job on the same dataset and settings, resume) a generation.

    Raises :class:`GenerationIncomplete` (with the report) when the job stops short of its target."""

    config.validate()
    model = model or _load_model(config)
    if not cat.has_dataset(config.dataset):
        model.check_reachable()  # before the job creates its dataset
    judge = load_judge(config, judge_model)
    job = _start(cat, config, model)
    return _run(cat, job, model, progress, judge)


def resume_generation(cat, job_id: str, *, model=None, judge_model=None, progress: Progress | None = None,
                      max_tokens_total: int | None = None, max_attempts: int | None = None,
                      request_timeout: float | None = None) -> GenerationReport:
    """Carry on a job until its target number of samples is accepted.

    A job that stopped at its attempt cap gets a fresh cap on top of what it spent (or
    ``max_attempts`` more); one that stopped at its token budget gets the same budget again on
    top of what it spent, or ``max_tokens_total`` as its new total. ``request_timeout`` replaces
    the job's time limit per model request (for the models loaded here, when none is given)."""

    job = jobstore.load_job(cat, job_id)
    config = _stored_config(job.parameters)
    if request_timeout is not None:
        config = replace(config, request_timeout=request_timeout)
        config.validate()
        job.parameters = dict(job.parameters, request_timeout=request_timeout)
    limits = dict(job.usage.get("limits") or {})
    if max_attempts is not None:
        if max_attempts < 1:
            raise BadInput("must be at least 1", param="max_attempts")
        limits["attempt_cap"] = job.attempts + max_attempts
        job.status = "running"
    if max_tokens_total is not None:
        if max_tokens_total < 1:
            raise BadInput("must be at least 1", param="max_tokens_total")
        limits["token_budget"] = max_tokens_total
        job.status = "running" if job.status == "budget" else job.status
    job.usage = dict(job.usage, limits=limits)
    model = model or _load_model(config)
    return _run(cat, job, model, progress, load_judge(config, judge_model))


def _run(cat, job: jobstore.Job, model, progress: Progress | None, judge=None) -> GenerationReport:
    started = time.perf_counter()
    config = _stored_config(job.parameters)
    limits = dict(job.usage.get("limits") or {})
    if job.status == "exhausted":
        # A resume grants a fresh attempt cap on top of what was spent.
        limits["attempt_cap"] = job.attempts + config.attempt_budget.cap
    step = config.max_tokens_total or limits.get("token_budget")
    if job.status == "budget" and step:
        limits["token_budget"] = tokens_used(job.usage) + step
    job.status = "running" if job.status in ("exhausted", "budget") else job.status
    job.usage = dict(job.usage, limits=limits)
    made = _Run(cat, job, model, progress or NullProgress(), judge).run()
    accepted = jobstore.accepted_count(cat, job.dataset)
    report = GenerationReport(job_id=job.job_id, dataset=job.dataset, target=job.target, accepted=accepted,
                              attempts=job.attempts, rejections=dict(Counter(job.rejections)), status=job.status,
                              seconds=round(time.perf_counter() - started, 2), usage=job.usage,
                              accepted_this_run=made, stop_reason=job.stop_reason,
                              summary=usage_summary(job.usage, config.prices, accepted),
                              quality=jobstore.quality_summary(cat, job.dataset))
    if job.status != "done":
        rejected = ", ".join(f"{k} {v}" for k, v in sorted(job.rejections.items(), key=lambda kv: -kv[1]))
        raise GenerationIncomplete(
            f"job {job.job_id} stopped with {accepted}/{job.target} accepted after {job.attempts} attempts: "
            f"{job.stop_reason} (rejections: {rejected or 'none'}); the {accepted} accepted samples are kept — "
            f"continue with `synthcat generate resume {job.job_id}`"
            + (" --max-tokens-total N" if job.status == "budget" else ""), report)
    return report
