"""What to dedup on: the part of a pair or conversation that makes two records duplicates.

Instruction data repeats *answers* on purpose: a support bot gives the same reply to many
different questions, and both questions are wanted in training. Deduplicating on the whole
record text lets a long shared reply outweigh two different short prompts. ``on`` chooses:

=============================  ===============================================================
pairs: ``both``                prompt **and** response are duplicates (the default -- below)
pairs: ``prompt``              the prompt field alone
pairs: ``response``            the response field alone
pairs: ``text``                the whole record text, prompt and response together (the old way)
conversations: ``user_turns``  every user message, in order, one per line (the default)
conversations: ``first_user``  the first user message only
conversations: ``text``        the whole record text, every turn with its role
text: ``text``                 the text
=============================  ===============================================================

**both.** :func:`find_pair_duplicates` runs the cascade (exact -> MinHash -> semantic, at its
thresholds) on the prompts; inside each prompt cluster it walks the members in keep order, best
first, and removes a member only when its response says the same as the response of a member
already kept: equal after normalisation, word-3-gram Jaccard >= 0.3, or cosine >= 0.8 (the
stages switched on; ``PAIR_RESPONSE_*`` in :mod:`.defaults`). The response thresholds are looser
than the cascade's because the prompts already match: the response test only has to tell a
reworded answer from a different one. A removed record always has a kept record that duplicates
its prompt and agrees with its answer; a prompt cluster whose answers differ keeps one record
per distinct answer. The removal reports the later of the two stages and the lower of the two
scores.

**Why both, not prompt.** Measured on the planted-pair sets of ``benchmarks/pair_dedup.py``
(demo seed pairs and SciFact claims, two seeds each; planted exact copies, near-copies of the
prompt with the same or a reworded reply must go; every other record must stay), mean over the
four sets: ``both`` precision 0.90 / recall 0.967; ``prompt`` 0.80 / 0.968; ``text`` (the old
behaviour) 0.65 / 0.983; ``response`` 0.58 / 0.96. ``both`` has the best F1 on each set. What
``prompt`` removes on top are near-identical prompts with *different* answers -- template
siblings that differ in a plan, a price or a date, the same question answered two ways -- and it
removes half again as many shared-reply records. On the demo seed set ``both`` removes the 16
planted copies, 4 of the 5 near-miss pairs (prompts and replies that differ only in numbers,
which no similarity stage tells apart) and one repeated question with a reworded reply.

For conversations the analogue of the prompt is the user side; ``user_turns`` rather than
``first_user`` because two conversations that open alike and then go different ways are
different conversations (not measured: no conversation data here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from catalog.dedup.defaults import PAIR_RESPONSE_MINHASH_THRESHOLD, PAIR_RESPONSE_SEMANTIC_THRESHOLD
from catalog.dedup.engine import STAGES, Cluster, DedupItem, DedupResult, Removal, find_duplicates
from catalog.errors import BadInput
from catalog.record_mapping import FieldError, FieldMapping, row_text

ON_CHOICES = {"pairs": ("both", "prompt", "response", "text"),
              "conversations": ("user_turns", "first_user", "text"),
              "text": ("text",)}
DEFAULT_ON = {"pairs": "both", "conversations": "user_turns", "text": "text"}
_USER_ROLES = ("user", "human")


def resolve_on(kind: str, on: str | None) -> str:
    """The ``on`` value to use for records of ``kind`` (the kind's default for ``None``);
    :class:`BadInput` naming the choices when ``on`` does not fit the kind."""
    if kind not in ON_CHOICES:
        raise BadInput(f"records of kind '{kind}' cannot be deduplicated (tables are not text)", param="kind")
    if on is None:
        return DEFAULT_ON[kind]
    if on not in ON_CHOICES[kind]:
        raise BadInput(f"{on!r} does not fit {kind} records; choose one of {', '.join(ON_CHOICES[kind])}",
                       param="on")
    return on


def _user_messages(fields: dict, mapping: FieldMapping) -> list[str]:
    messages = fields.get(mapping.messages_field)
    if not isinstance(messages, list):
        raise FieldError(mapping.messages_field, "expected a list of messages")
    out = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise FieldError(f"{mapping.messages_field}[{i}]", "expected an object with role and content")
        role = msg.get("role", msg.get("from"))
        content = msg.get("content", msg.get("value"))
        if isinstance(role, str) and role.lower() in _USER_ROLES:
            if not isinstance(content, str):
                raise FieldError(f"{mapping.messages_field}[{i}].content", "missing or not a string")
            out.append(content)
    return out


def dedup_text(fields: dict, mapping: FieldMapping, on: str) -> str:
    """The text of one record (its stored fields and their mapping) to dedup on.

    ``both`` is not one text (use :func:`pair_texts` and :func:`find_pair_duplicates`). Raises
    :class:`BadInput` for an ``on`` that does not fit the kind, and
    :class:`~catalog.record_mapping.FieldError` (field and reason) for a record without the
    selected part -- a missing prompt, a conversation with no user message.
    """
    on = resolve_on(mapping.kind, on)
    if on == "both":
        raise BadInput("both compares two texts per record: use pair_texts / find_pair_duplicates", param="on")
    if on == "text":
        return row_text(fields, mapping)
    if mapping.kind == "pairs":
        name = mapping.prompt_field if on == "prompt" else mapping.response_field
        value = fields.get(name)
        if not isinstance(value, str) or not value.strip():
            raise FieldError(name, "missing or empty")
        return value
    users = _user_messages(fields, mapping)
    if not users:
        raise FieldError(mapping.messages_field, "no user message")
    return users[0] if on == "first_user" else "\n".join(users)


def dedup_texts(rows: Sequence[dict], mapping: FieldMapping, on: str, *,
                ids: Sequence[Any] | None = None) -> list[str]:
    """:func:`dedup_text` for many records; a bad record raises :class:`BadInput` naming it."""
    out = []
    for k, fields in enumerate(rows):
        try:
            out.append(dedup_text(fields, mapping, on))
        except FieldError as exc:
            who = ids[k] if ids is not None else k
            raise BadInput(f"record {who!r}: {exc.reason} (needed to compare records on {on})",
                           field=exc.field) from None
    return out


def pair_texts(rows: Sequence[dict], mapping: FieldMapping, *,
               ids: Sequence[Any] | None = None) -> tuple[list[str], list[str]]:
    """Prompts and responses of pair records, for ``on="both"``."""
    if mapping.kind != "pairs":
        raise BadInput(f"both needs pairs, not {mapping.kind} records", param="on")
    return dedup_texts(rows, mapping, "prompt", ids=ids), dedup_texts(rows, mapping, "response", ids=ids)


def _response_match(a: int, b: int, normalized: list[str], shingles,
                    vectors: np.ndarray | None, kw: dict) -> tuple[str, float] | None:
    """The earliest stage at which response ``a`` duplicates response ``b``, with its score."""
    if kw["exact"] and normalized[a] and normalized[a] == normalized[b]:
        return "exact", 1.0
    if kw["minhash"]:
        from catalog.dedup.minhash import jaccard

        sim = float(jaccard(shingles, np.array([[a, b]]))[0])
        if sim >= kw["response_minhash_threshold"]:
            return "minhash", sim
    if kw["semantic"] and vectors is not None:
        cos = float(vectors[a] @ vectors[b])
        if cos >= kw["response_semantic_threshold"]:
            return "semantic", cos
    return None


def find_pair_duplicates(items: Sequence[DedupItem], responses: Sequence[str], *,
                         vectors: np.ndarray | None = None, response_vectors: np.ndarray | None = None,
                         embed: Callable[[list[str]], np.ndarray] | None = None,
                         response_minhash_threshold: float = PAIR_RESPONSE_MINHASH_THRESHOLD,
                         response_semantic_threshold: float = PAIR_RESPONSE_SEMANTIC_THRESHOLD,
                         **kwargs: Any) -> DedupResult:
    """Dedup pairs on prompt **and** response (``on="both"``, see the module docstring).

    ``items`` carry the prompts (and the ids, dates, scores, references as for
    :func:`~catalog.dedup.engine.find_duplicates`), ``responses`` the responses in the same order.
    ``vectors`` / ``response_vectors`` are optional embeddings of prompts / responses; ``embed``
    embeds whatever is missing (responses only for records in a prompt cluster). Other keyword
    arguments go to :func:`~catalog.dedup.engine.find_duplicates`.
    """
    if len(responses) != len(items):
        raise BadInput(f"{len(responses)} responses for {len(items)} prompts", param="responses")
    for value, name in ((response_minhash_threshold, "response_minhash_threshold"),
                        (response_semantic_threshold, "response_semantic_threshold")):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 < float(value) <= 1.0:
            raise BadInput(f"must be a number in (0, 1], got {value!r}", param=name)
    if response_vectors is not None and np.asarray(response_vectors).shape[0] != len(items):
        raise BadInput("expected one response vector per item", param="response_vectors")
    prompt_run = find_duplicates(items, vectors=vectors, embed=embed, **kwargs)
    p = dict(prompt_run.params)
    p["response_minhash_threshold"] = float(response_minhash_threshold)
    p["response_semantic_threshold"] = float(response_semantic_threshold)
    pos = {item.record_id: k for k, item in enumerate(items)}
    prompt_removal = {r.record_id: r for r in prompt_run.removed}
    members = sorted({pos[m] for c in prompt_run.clusters for m in c.members})
    normalized: list[str] = [""] * len(items)
    shingles = None
    vecs = None
    if members:
        from catalog.dedup.minhash import shingle
        from catalog.dedup.normalize import normalize_texts

        sub = [responses[m] for m in members]
        for m, t in zip(members, normalize_texts(sub, punctuation_blind=p["punctuation_blind"])):
            normalized[m] = t
        blind = normalize_texts(responses, punctuation_blind=True) if p["minhash"] else None
        if blind is not None:
            shingles = shingle(blind, ngram=p["ngram"], unit=p["ngram_unit"])
        if p["semantic"]:
            if response_vectors is not None:
                vecs = _unit_rows(np.asarray(response_vectors, dtype=np.float32))
            elif embed is not None:
                got = _unit_rows(np.asarray(embed(sub), dtype=np.float32))
                vecs = np.zeros((len(items), got.shape[1]), dtype=np.float32)
                vecs[members] = got
            else:
                raise BadInput("the semantic stage needs response vectors or an embed function", param="vectors")
    from catalog.dedup.clusters import keep_rank

    rank = keep_rank(p["keep"], created=np.array([float(k) if it.created is None else float(it.created)
                                                   for k, it in enumerate(items)]),
                     length=np.array([len(it.text) for it in items]),
                     quality=np.array([np.nan if it.quality is None else float(it.quality) for it in items]),
                     is_real=np.array([it.origin == "real" for it in items]),
                     reference=np.array([bool(it.reference) for it in items]))
    groups: list[tuple[int, list[tuple[int, str, float]]]] = []     # (kept record, its removed)
    for cluster in prompt_run.clusters:
        kept: dict[int, list[tuple[int, str, float]]] = {}
        for k in sorted((pos[m] for m in cluster.members), key=lambda k: rank[k]):
            match = None
            if not items[k].reference:
                match = next(((rep, *hit) for rep in kept if (hit := _response_match(
                    k, rep, normalized, shingles, vecs, p)) is not None), None)
            if match is None:
                kept[k] = []
                continue
            rep, stage, score = match
            pr = prompt_removal.get(items[k].record_id)
            p_stage, p_score = (pr.stage, pr.score) if pr is not None else ("exact", 1.0)
            kept[rep].append((k, STAGES[max(STAGES.index(p_stage), STAGES.index(stage))], min(p_score, score)))
        groups.extend((rep, gone) for rep, gone in kept.items() if gone)
    removed: list[Removal] = []
    clusters: list[Cluster] = []
    for cid, (rep, gone) in enumerate(groups):
        keeper = items[rep].record_id
        removed.extend(Removal(record_id=items[k].record_id, stage=stage, cluster=cid, duplicate_of=keeper,
                               matched=keeper, score=score) for k, stage, score in gone)
        clusters.append(Cluster(cluster=cid, keeper=keeper,
                                members=(keeper, *(items[k].record_id for k, _, _ in gone)),
                                removed=tuple(items[k].record_id for k, _, _ in gone)))
    counts = {stage: 0 for stage in STAGES if p[stage]}
    for r in removed:
        counts[r.stage] += 1
    info = dict(prompt_run.stage_info)
    info["both"] = {"prompt_clusters": len(prompt_run.clusters), "prompt_removals": len(prompt_run.removed),
                    "kept_for_a_different_response": len(prompt_run.removed) - len(removed)}
    return DedupResult(removed=removed, clusters=clusters, counts=counts, checked=prompt_run.checked,
                       references=prompt_run.references, params={**p, "on": "both"},
                       timings=dict(prompt_run.timings), stage_info=info)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
