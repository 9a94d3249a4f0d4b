"""Retrieval-grounded text generation as a resumable job.

For each attempt: pick an anchor (cycling through the grounding records, or a topic), retrieve the
k most relevant records from the grounding datasets and the new dataset, prompt the chat model
with them as examples, parse and validate the JSON sample, check its novelty against everything in
scope, and store it with provenance and lineage to its grounding records. Each accepted sample
commits on its own, so a killed job resumes exactly where it stopped.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

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
from generators.text.novelty import NoveltyChecker, jaccard, word_shingles
from generators.text.prompting import (
    DEFAULT_TEMPLATE,
    UNGROUNDED_TEMPLATE,
    build_messages,
    check_template,
    format_example,
    template_hash,
)
from generators.text.retrieval import Retriever
from generators.text.samples import KIND_SCHEMAS, MAPPINGS, Bounds, SampleRejected, validate_sample

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

    @property
    def attempt_budget(self) -> int:
        return self.max_attempts if self.max_attempts is not None else 5 * self.n + 10


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

    def to_dict(self) -> dict:
        return asdict(self)


def _anchor_text(text: str, fields: dict, kind: str, mapping: FieldMapping) -> str:
    if kind == "pairs":
        return pair_of(fields, mapping)[0][:400]
    if kind == "conversations":
        first = next((m["content"] for m in chat_messages(fields, mapping) if m["role"] == "user"), text)
        return str(first)[:400]
    return text[:400]


def _example_fields(text: str, fields: dict, kind: str, mapping: FieldMapping) -> tuple[dict, str]:
    if kind == "pairs":
        prompt, response = pair_of(fields, mapping)
        return {"prompt": prompt, "response": response}, "pairs"
    if kind == "conversations":
        return {"messages": chat_messages(fields, mapping)}, "conversations"
    return {"text": text}, "text"


class _Run:
    """One process working on a job."""

    def __init__(self, cat, job: jobstore.Job, model, progress: Progress) -> None:
        self.cat = cat
        self.job = job
        self.config = GenerationConfig(**job.parameters)
        self.model = model
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
        self.anchors = self._anchors()
        self.base_usage = dict(job.usage)

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

    def _request(self, attempt: int) -> tuple[dict, dict]:
        cfg = self.config
        anchor_id, anchor = self.anchors[attempt % len(self.anchors)]
        hits = self.retriever.retrieve(anchor, cfg.k) if cfg.ground_on and cfg.k else []
        examples = []
        for number, hit in enumerate(hits, start=1):
            fields, kind = _example_fields(hit.text, hit.fields, self.kinds[hit.dataset_id],
                                           self.mappings[hit.dataset_id])
            examples.append(format_example(fields, kind, number))
        task = cfg.task or f"more examples like those in {', '.join(cfg.ground_on)}"
        messages = build_messages(self.template, task=task, kind=cfg.kind, anchor=anchor, examples=examples)
        request = {"messages": messages, "temperature": cfg.temperature, "seed": cfg.seed + attempt,
                   "max_tokens": cfg.max_tokens, "json_schema": KIND_SCHEMAS[cfg.kind]}
        return request, {"anchor": anchor, "anchor_id": anchor_id, "hits": hits, "seed": cfg.seed + attempt}

    def _copied_prompt(self, fields: dict, context: dict) -> bool:
        """A pair whose prompt (nearly) repeats the anchor's or an example's adds little: reject it.

        Small models often echo the anchor; word 3-gram Jaccard >= ``prompt_copy_threshold`` (0.8,
        near-verbatim) counts as a copy, so rephrasings of the same request still pass.
        """
        if self.config.kind != "pairs":
            return False
        mine = word_shingles(fields["prompt"])
        sources = [context["anchor"]] + [_example_fields(h.text, h.fields, self.kinds[h.dataset_id],
                                                          self.mappings[h.dataset_id])[0].get("prompt", "")
                                         for h in context["hits"]]
        limit = self.config.prompt_copy_threshold
        return any(jaccard(mine, word_shingles(src)) >= limit for src in sources if src)

    def _store(self, fields: dict, text: str, vector: np.ndarray, context: dict, result) -> int:
        cat, cfg = self.cat, self.config
        with cat.transaction():
            writer = RecordWriter(cat, self.dataset.dataset_id)
            (record_id,) = writer.add([text], [json.dumps(fields, ensure_ascii=False)])
            writer.add_vectors(self.embedder.id, [content_hash(text)], vector.reshape(1, -1))
            writer.add_lineage((record_id, hit.record_id, "grounded_on", rank, hit.score)
                               for rank, hit in enumerate(context["hits"], start=1))
            cat.con.execute(
                "INSERT INTO generation_provenance VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [record_id, self.job.job_id, self.model.id, self.model.id.split(":", 1)[0], self.template_hash,
                 cfg.temperature, result.seed if result.seed is not None else context["seed"], result.attempts,
                 context["anchor"][:400]])
            writer.finish(embedder_id=self.embedder.id, index=False)  # the job writes the FAISS file itself
            jobstore.save_job(cat, self.job)
        add_unsaved(self.index, np.array([record_id]), vector.reshape(1, -1))
        self.novelty.add(record_id)
        self.retriever.add([record_id])
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

    def _judge(self, context: dict, outcome) -> tuple[dict, str, np.ndarray] | str:
        """The sample to store, or the reason it is rejected."""
        if not outcome.ok:
            return f"model_{outcome.reason}"
        try:
            fields, text = validate_sample(outcome.parsed, self.config.kind, self.bounds)
        except SampleRejected as rej:
            return rej.reason
        vector = self.embedder.embed([text])[0]
        verdict = self.novelty.check(text, vector)
        if not verdict.novel:
            return verdict.reason
        if self._copied_prompt(fields, context):
            return "copied_prompt"
        return fields, text, vector

    def run(self) -> int:
        """Keep up to ``concurrency`` requests in flight, each planned when a slot frees up (so it
        retrieves from the samples accepted so far), and judge each result as it arrives. Results
        that arrive after the target is reached are counted in ``usage["surplus"]``, not stored."""
        cfg, job = self.config, self.job
        accepted = jobstore.accepted_count(self.cat, job.dataset)
        made = surplus = 0
        planned = job.attempts
        self.progress.start(f"generating {job.dataset}", job.target)
        self.progress.advance(accepted)

        def next_request(in_flight: int) -> tuple[dict, dict] | None:
            nonlocal planned
            done = accepted >= job.target or planned >= cfg.attempt_budget
            if done or in_flight >= self._wanted_in_flight(accepted):
                return None
            request, context = self._request(planned)
            planned += 1
            return context, request

        def on_result(context: dict, outcome) -> None:
            nonlocal accepted, made, surplus
            if accepted >= job.target:
                surplus += 1
                return
            job.attempts += 1
            judged = self._judge(context, outcome)
            job.usage = _merge_usage(self.base_usage, self.model.usage.snapshot(), surplus)
            if isinstance(judged, str):
                job.rejections[judged] += 1
                with self.cat.transaction():
                    jobstore.save_job(self.cat, job)
            else:
                self._store(*judged, context, outcome)
                accepted += 1
                made += 1
                self.progress.advance(1)
            describe = getattr(self.progress, "set_description", None)
            if describe:
                describe(f"generating {job.dataset}: {accepted} accepted, {sum(job.rejections.values())} rejected")

        try:
            self.model.complete_stream(next_request, on_result, max_concurrency=cfg.concurrency)
            job.usage = _merge_usage(self.base_usage, self.model.usage.snapshot(), surplus)
            job.status = "done" if accepted >= job.target else "exhausted"
            with self.cat.transaction():
                jobstore.save_job(self.cat, job)
        finally:
            save_index(self.index)
            self.progress.finish()
        return made


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


def _start(cat, config: GenerationConfig, model) -> jobstore.Job:
    config.validate()
    existing = cat.has_dataset(config.dataset)
    if existing:
        job = jobstore.job_for_dataset(cat, config.dataset)
        if job is None:
            raise DatasetExists(f"dataset '{config.dataset}' already exists and was not made by a generation job")
        if job.parameters != asdict(config):
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


def generate_text(cat, config: GenerationConfig, *, model=None, progress: Progress | None = None) -> GenerationReport:
    """Run (or, for an existing unfinished job on the same dataset and settings, resume) a generation."""
    from generators.chat import load_chat_model

    model = model or load_chat_model(config.model, base_url=config.base_url)
    if not cat.has_dataset(config.dataset):
        model.check_reachable()  # before the job creates its dataset
    job = _start(cat, config, model)
    return _run(cat, job, model, progress)


def resume_generation(cat, job_id: str, *, model=None, progress: Progress | None = None) -> GenerationReport:
    """Carry on an interrupted job until its target number of samples is accepted."""
    from generators.chat import load_chat_model

    job = jobstore.load_job(cat, job_id)
    config = GenerationConfig(**job.parameters)
    model = model or load_chat_model(config.model, base_url=config.base_url)
    return _run(cat, job, model, progress)


def _run(cat, job: jobstore.Job, model, progress: Progress | None) -> GenerationReport:
    started = time.perf_counter()
    if job.status == "exhausted":
        job.status = "running"  # a resume grants a fresh attempt budget on top of what was spent
        job.parameters["max_attempts"] = job.attempts + GenerationConfig(**job.parameters).attempt_budget
    made = _Run(cat, job, model, progress or NullProgress()).run()
    accepted = jobstore.accepted_count(cat, job.dataset)
    report = GenerationReport(job_id=job.job_id, dataset=job.dataset, target=job.target, accepted=accepted,
                              attempts=job.attempts, rejections=dict(Counter(job.rejections)), status=job.status,
                              seconds=round(time.perf_counter() - started, 2), usage=job.usage,
                              accepted_this_run=made)
    if job.status == "exhausted":
        model_failures = sum(v for k, v in job.rejections.items() if k.startswith("model_"))
        advice = ("the model failed on most attempts: check the endpoint and model, then"
                  if model_failures * 2 > sum(job.rejections.values())
                  else "loosen the novelty thresholds or raise `max_attempts`, then")
        raise SynthcatError(
            f"job {job.job_id} stopped after {job.attempts} attempts with {accepted}/{job.target} accepted "
            f"(rejections: {dict(job.rejections)}); {advice} `synthcat generate resume {job.job_id}`")
    return report
