"""The dedup cascade over in-memory items: exact, then MinHash, then semantic.

**Scope.** Every item is either *checked* (may be removed) or a *reference* (never removed). Within
one dataset: all items checked. Across several datasets: all of them checked (a duplicate in
dataset B of a record in dataset A is removed from whichever loses under the keep policy).
Against references (``--against``): the references are never removed and a checked item that
duplicates a reference is always removed, whatever the keep policy. Pairs of two references are
never looked at.

**Cascade.** Stages run cheapest first and each later stage sees only the items still active:
references plus checked items no earlier stage removed. Skipping removed items is lossless for
MinHash (an exact copy has the same shingles as the copy it was merged into, which stays active
or is itself merged into a kept record) and saves the work of hashing and embedding them. For the
semantic stage it also stops similarity from drifting along long chains of already-removed
copies. After each stage, union-find joins the new edges into the clusters of earlier stages and
every active checked item that is not its cluster's keeper is removed *by that stage*.

**Result.** Per removed record: the stage that removed it, its cluster id, the kept record of its
cluster (``duplicate_of``), the record it directly matched in that stage (``matched``) and the
score of that match (1.0 exact, Jaccard for MinHash, cosine for semantic).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catalog.dedup.clusters import KEEP_POLICIES, UnionFind, keep_rank
from catalog.dedup.defaults import (
    MINHASH_NGRAM,
    MINHASH_NUM_PERM,
    MINHASH_THRESHOLD,
    MINHASH_UNIT,
    SEMANTIC_K,
    SEMANTIC_THRESHOLD,
)
from catalog.dedup.exact import exact_edges
from catalog.dedup.minhash import SketchFn, minhash_edges
from catalog.dedup.normalize import normalize_texts
from catalog.dedup.semantic import semantic_edges
from catalog.errors import BadInput

STAGES = ("exact", "minhash", "semantic")


@dataclass(frozen=True)
class DedupItem:
    """One record to dedup. ``created`` orders records for the ``first`` policy (default: input
    position); ``reference`` items are never removed."""

    record_id: Any
    text: str
    created: float | None = None
    quality: float | None = None
    origin: str = "synthetic"
    dataset: str | None = None
    reference: bool = False


@dataclass(frozen=True)
class Removal:
    """Why one record is removed."""

    record_id: Any
    stage: str
    cluster: int
    duplicate_of: Any
    matched: Any
    score: float


@dataclass(frozen=True)
class Cluster:
    """A set of duplicates: the kept record, every member (input order) and the removed ones."""

    cluster: int
    keeper: Any
    members: tuple
    removed: tuple


@dataclass
class DedupResult:
    """Outcome of :func:`find_duplicates`."""

    removed: list[Removal]
    clusters: list[Cluster]
    counts: dict[str, int]
    checked: int
    references: int
    params: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    stage_info: dict[str, dict] = field(default_factory=dict)

    def removed_ids(self) -> set:
        return {r.record_id for r in self.removed}

    def to_dict(self, *, max_clusters: int | None = None) -> dict[str, Any]:
        """JSON-ready summary (all removals; the first ``max_clusters`` clusters if given)."""
        clusters = self.clusters if max_clusters is None else self.clusters[:max_clusters]
        return {
            "checked": self.checked, "references": self.references,
            "removed": len(self.removed), "counts": dict(self.counts),
            "params": dict(self.params), "timings": dict(self.timings),
            "stage_info": dict(self.stage_info), "clusters_total": len(self.clusters),
            "clusters": [{"cluster": c.cluster, "keeper": c.keeper, "members": list(c.members),
                          "removed": list(c.removed)} for c in clusters],
            "removals": [{"record_id": r.record_id, "stage": r.stage, "cluster": r.cluster,
                          "duplicate_of": r.duplicate_of, "matched": r.matched,
                          "score": round(float(r.score), 6)} for r in self.removed],
        }


def _check_threshold(value: float, name: str) -> None:
    if not isinstance(value, (int, float)) or not 0.0 < float(value) <= 1.0:
        raise BadInput(f"must be a number in (0, 1], got {value!r}", param=name)


def _columns(items: Sequence[DedupItem]) -> dict[str, Any]:
    ids, texts, created, quality, real, ref = [], [], [], [], [], []
    seen: set = set()
    for pos, item in enumerate(items):
        if not isinstance(item.text, str):
            raise BadInput(f"item {pos} (record {item.record_id!r}): text must be a string, got "
                           f"{type(item.text).__name__}", field="text")
        if item.record_id in seen:
            raise BadInput(f"record id {item.record_id!r} appears twice (item {pos})",
                           field="record_id")
        seen.add(item.record_id)
        if item.origin not in ("real", "synthetic"):
            raise BadInput(f"item {pos}: origin must be 'real' or 'synthetic', got {item.origin!r}",
                           field="origin")
        ids.append(item.record_id)
        texts.append(item.text)
        created.append(float(pos) if item.created is None else float(item.created))
        quality.append(np.nan if item.quality is None else float(item.quality))
        real.append(item.origin == "real")
        ref.append(bool(item.reference))
    return {"ids": ids, "texts": texts, "created": np.asarray(created, dtype=np.float64),
            "quality": np.asarray(quality, dtype=np.float64),
            "real": np.asarray(real, dtype=bool), "reference": np.asarray(ref, dtype=bool)}


def _best_edge(i: np.ndarray, j: np.ndarray, s: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per item: the partner of its highest-scoring edge (-1 if none) and that score."""
    a = np.concatenate([i, j])
    b = np.concatenate([j, i])
    sc = np.concatenate([s, s]).astype(np.float64)
    partner = np.full(n, -1, dtype=np.int64)
    score = np.zeros(n, dtype=np.float64)
    if len(a):
        order = np.lexsort((b, -sc, a))
        a, b, sc = a[order], b[order], sc[order]
        first = np.ones(len(a), dtype=bool)
        first[1:] = a[1:] != a[:-1]
        partner[a[first]] = b[first]
        score[a[first]] = sc[first]
    return partner, score


def find_duplicates(items: Sequence[DedupItem], *, exact: bool = True, minhash: bool = True,
                    semantic: bool = True, punctuation_blind: bool = False,
                    minhash_threshold: float = MINHASH_THRESHOLD, num_perm: int = MINHASH_NUM_PERM,
                    ngram: int = MINHASH_NGRAM, ngram_unit: str = MINHASH_UNIT,
                    semantic_threshold: float = SEMANTIC_THRESHOLD, keep: str = "first",
                    vectors: np.ndarray | None = None,
                    embed: Callable[[list[str]], np.ndarray] | None = None,
                    semantic_k: int = SEMANTIC_K, semantic_index: str = "auto",
                    nprobe: int = 8, seed: int = 1, sketch: SketchFn | None = None) -> DedupResult:
    """Find duplicates among ``items`` and decide which to remove (see the module docstring).

    The semantic stage takes ``vectors`` (one row per item, in item order) or, failing that,
    ``embed`` -- a function from a list of texts to an array of vectors -- which is called only on
    the items still active when the stage starts. ``sketch`` computes the MinHash stage's shingles
    and band keys elsewhere (e.g. on Ray, :mod:`catalog.ray_compute`); the decisions are made here
    either way. Bad arguments raise :class:`BadInput`.
    """
    if keep not in KEEP_POLICIES:
        raise BadInput(f"unknown keep policy {keep!r}; choose one of {', '.join(KEEP_POLICIES)}",
                       param="keep")
    _check_threshold(minhash_threshold, "minhash_threshold")
    _check_threshold(semantic_threshold, "semantic_threshold")
    if minhash and minhash_threshold >= 1.0:
        raise BadInput("must be below 1 for MinHash LSH", param="minhash_threshold")
    if not isinstance(num_perm, int) or num_perm < 2:
        raise BadInput(f"must be an integer >= 2, got {num_perm!r}", param="num_perm")
    if not isinstance(ngram, int) or not 1 <= ngram <= 8:
        raise BadInput(f"must be an integer from 1 to 8, got {ngram!r}", param="ngram")
    if ngram_unit not in ("word", "char"):
        raise BadInput(f"must be 'word' or 'char', got {ngram_unit!r}", param="ngram_unit")
    cols = _columns(items)
    n = len(cols["ids"])
    if semantic and vectors is not None:
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != n:
            raise BadInput(f"expected one row per item, shape ({n}, dim); got {vectors.shape}",
                           param="vectors")
    if semantic and vectors is None and embed is None:
        raise BadInput("the semantic stage needs vectors or an embed function (or semantic=False)",
                       param="vectors")
    params = {"exact": exact, "minhash": minhash, "semantic": semantic,
              "punctuation_blind": punctuation_blind, "minhash_threshold": minhash_threshold,
              "num_perm": num_perm, "ngram": ngram, "ngram_unit": ngram_unit,
              "semantic_threshold": semantic_threshold, "keep": keep, "semantic_k": semantic_k,
              "semantic_index": semantic_index, "nprobe": nprobe, "seed": seed}
    ref = cols["reference"]
    texts = cols["texts"]
    rank = keep_rank(keep, created=cols["created"],
                     length=np.fromiter(map(len, texts), dtype=np.int64, count=n),
                     quality=cols["quality"], is_real=cols["real"], reference=ref)
    uf = UnionFind(rank)
    removed_stage = np.full(n, -1, dtype=np.int8)
    matched = np.full(n, -1, dtype=np.int64)
    score = np.zeros(n, dtype=np.float64)
    timings: dict[str, float] = {}
    stage_info: dict[str, dict] = {}
    normalized: list[str] | None = None
    blind: list[str] | None = None

    for stage_no, stage in enumerate(STAGES):
        if not {"exact": exact, "minhash": minhash, "semantic": semantic}[stage]:
            continue
        t0 = time.perf_counter()
        active = np.flatnonzero(removed_stage < 0)
        if stage == "exact":
            normalized = normalize_texts(texts, punctuation_blind=punctuation_blind)
            if punctuation_blind:
                blind = normalized
            i, j = exact_edges(normalized, active)
            s = np.ones(len(i))
            stage_info[stage] = {"pairs": int(len(i))}
        elif stage == "minhash":
            sub = [blind[a] for a in active] if blind is not None else \
                normalize_texts([texts[a] for a in active], punctuation_blind=True)
            i, j, s, info = minhash_edges(sub, threshold=minhash_threshold, num_perm=num_perm,
                                          ngram=ngram, unit=ngram_unit, seed=seed,
                                          reference=ref[active], sketch=sketch)
            i, j = active[i], active[j]
            stage_info[stage] = info
        else:
            if vectors is not None:
                vecs, cand = vectors, active
            else:
                assert embed is not None  # refused above: the semantic stage needs vectors or embed
                vecs = np.asarray(embed([texts[a] for a in active]))
                if vecs.ndim != 2 or vecs.shape[0] != len(active):
                    raise BadInput(f"embed returned shape {vecs.shape} for {len(active)} texts",
                                   param="embed")
                cand = None
            i, j, s, info = semantic_edges(vecs, threshold=semantic_threshold, candidates=cand,
                                           reference=ref if cand is not None else ref[active],
                                           k=semantic_k, index=semantic_index, nprobe=nprobe,
                                           seed=seed)
            if cand is None:
                i, j = active[i], active[j]
            stage_info[stage] = {**info, "pairs": int(len(i))}
        keep_pair = ~(ref[i] & ref[j])
        i, j, s = i[keep_pair], j[keep_pair], s[keep_pair]
        uf.union_many(i, j)
        best, size = uf.keepers()
        partner, pscore = _best_edge(i, j, s, n)
        now = (removed_stage < 0) & ~ref & (size > 1) & (best != np.arange(n))
        removed_stage[now] = stage_no
        matched[now] = partner[now]
        score[now] = pscore[now]
        timings[stage] = round(time.perf_counter() - t0, 4)

    return _result(cols, uf, removed_stage, matched, score, params, timings, stage_info)


def _result(cols: dict, uf: UnionFind, removed_stage: np.ndarray, matched: np.ndarray,
            score: np.ndarray, params: dict, timings: dict, stage_info: dict) -> DedupResult:
    ids = cols["ids"]
    n = len(ids)
    best, size = uf.keepers()
    roots = uf.roots()
    in_cluster = np.flatnonzero(size > 1)
    cluster_of = np.full(n, -1, dtype=np.int64)
    members_by_root: dict[int, list[int]] = {}
    for m in in_cluster.tolist():
        members_by_root.setdefault(int(roots[m]), []).append(m)
    clusters = []
    for cid, (_root, members) in enumerate(sorted(members_by_root.items(), key=lambda kv: kv[1][0])):
        cluster_of[members] = cid
        clusters.append(Cluster(cluster=cid, keeper=ids[best[members[0]]],
                                members=tuple(ids[m] for m in members),
                                removed=tuple(ids[m] for m in members if removed_stage[m] >= 0)))
    removed = [Removal(record_id=ids[m], stage=STAGES[removed_stage[m]], cluster=int(cluster_of[m]),
                       duplicate_of=ids[best[m]],
                       matched=ids[matched[m]] if matched[m] >= 0 else None,
                       score=float(score[m]))
               for m in np.flatnonzero(removed_stage >= 0).tolist()]
    counts = {stage: 0 for stage in STAGES if params[stage]}
    for r in removed:
        counts[r.stage] += 1
    return DedupResult(removed=removed, clusters=clusters, counts=counts,
                       checked=int((~cols["reference"]).sum()),
                       references=int(cols["reference"].sum()), params=params, timings=timings,
                       stage_info=stage_info)
