"""Semantic stage: pairs whose embedding cosine similarity is >= a threshold, found with FAISS.

Vectors are L2-normalised (float32), so inner product equals cosine. Only *checked* items are
queried; the index holds every active item (checked and reference), so each edge that could
remove something is seen from its checked end and reference-reference pairs are never searched.
Each query asks for its ``k`` nearest neighbours (in chunks, so memory stays flat); a cluster of
more than ``k`` copies is still joined completely because union-find chains the neighbour lists.

Index choice (``index="auto"``):

* up to ``flat_limit`` items (20,000): ``IndexFlatIP`` -- exact; an n x n scan with BLAS.
* above: **PCA + IVF, then exact verification.** Exact flat kNN over 1M x 1M 384-d vectors is
  ~8e14 flops, hours on two cores, and a plain IVF over 384-d spent ~3 of the 5 budgeted minutes
  on training and adding 1M vectors before any search (measured on the shared machine). So candidates are
  searched in a ``reduce_dim``-dimensional PCA projection (64 by default, fitted on a seeded
  sample) with ``IndexIVFFlat`` (L2, ``nlist ~ 4 sqrt(n)`` lists, ``nprobe`` probed; the coarse
  assignment is computed once and reused for adding and searching), and every candidate pair's
  cosine is then computed from the *full* vectors: a reported score is always the true cosine,
  and the approximation can only miss pairs, never invent them. Near-duplicates sit very close
  to each other, so they nearly always land in the same or a neighbouring cell and stay close in
  the projection: recall for pairs above a high threshold is far better than for ordinary nearest
  neighbours. ``benchmarks/dedup_speed.py`` measures it against exact search on sampled queries,
  and ``benchmarks/dedup_quality.py`` on real embeddings (``benchmarks/RESULTS.md``).

faiss is imported inside the functions (heavy import, see DESIGN.md).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

FLAT_LIMIT = 20_000


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Float32 copy of ``vectors`` with every row scaled to unit length (zero rows stay zero)."""
    x = np.array(vectors, dtype=np.float32, copy=True, order="C")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 0)
    return x


def _pca(x: np.ndarray, dim: int, seed: int, sample: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """Mean and ``(d, dim)`` projection onto the top principal axes, fitted on a seeded sample."""
    rng = np.random.default_rng(seed)
    rows = x if len(x) <= sample else x[np.sort(rng.choice(len(x), size=sample, replace=False))]
    mean = rows.mean(axis=0)
    centred = rows - mean
    gram = (centred.T @ centred).astype(np.float64)
    _, vecs = np.linalg.eigh(gram)
    return mean.astype(np.float32), np.ascontiguousarray(vecs[:, ::-1][:, :dim], dtype=np.float32)


def _ivf_neighbours(x: np.ndarray, queries: np.ndarray, kk: int, *, threshold: float,
                    nlist: int | None, nprobe: int, reduce_dim: int | None, seed: int, chunk: int,
                    ) -> tuple[np.ndarray, dict]:
    """Approximate ``kk`` nearest neighbours (by L2 in a PCA projection) of ``x[queries]``;
    -1 where no neighbour can reach cosine ``threshold``."""
    import faiss
    from faiss.contrib.ivf_tools import add_preassigned, search_preassigned

    n, dim = x.shape
    clock = [time.perf_counter()]
    phases: dict[str, float] = {}

    def lap(name: str) -> None:
        clock.append(time.perf_counter())
        phases[name] = round(clock[-1] - clock[-2], 2)

    if reduce_dim and reduce_dim < dim:
        mean, proj = _pca(x, reduce_dim, seed)
        y = np.empty((n, reduce_dim), dtype=np.float32)
        for start in range(0, n, 262_144):
            np.matmul(x[start:start + 262_144] - mean, proj, out=y[start:start + 262_144])
    else:
        y = x
    lap("project_s")
    lists = nlist or max(1, min(int(4 * np.sqrt(n)), n // 39))
    quantizer = faiss.IndexFlatL2(y.shape[1])
    ivf = faiss.IndexIVFFlat(quantizer, y.shape[1], lists, faiss.METRIC_L2)
    ivf.cp.seed = seed
    ivf.cp.niter = 8
    ivf.cp.min_points_per_centroid = 5
    rng = np.random.default_rng(seed)
    n_train = min(n, 20 * lists)
    ivf.train(y[np.sort(rng.choice(n, size=n_train, replace=False))] if n_train < n else y)
    lap("train_s")
    probes = min(nprobe, lists)
    coarse_d, coarse_i = quantizer.search(y, probes)
    lap("assign_s")
    add_preassigned(ivf, y, np.ascontiguousarray(coarse_i[:, 0]))
    ivf.nprobe = probes
    # Projection only shrinks distances, so a neighbour whose projected squared distance
    # exceeds 2 (1 - threshold) cannot reach the threshold in full: drop it before verifying.
    limit = 2.0 * (1.0 - threshold) + 1e-4
    out = np.full((len(queries), kk), -1, dtype=np.int64)
    for start in range(0, len(queries), chunk):
        q = queries[start:start + chunk]
        dist, nb = search_preassigned(ivf, np.ascontiguousarray(y[q]), kk, coarse_i[q], coarse_d[q])
        nb[dist > limit] = -1
        out[start:start + len(q)] = nb
    lap("search_s")
    info = {"index": "PCA+IndexIVFFlat", "reduced_dim": int(y.shape[1]), "nlist": int(lists),
            "nprobe": int(probes), "trained_on": int(n_train), **phases}
    return out, info


def semantic_edges(vectors: np.ndarray, *, threshold: float, candidates: np.ndarray | None = None,
                   reference: np.ndarray | None = None, k: int = 10, index: str = "auto",
                   nlist: int | None = None, nprobe: int = 8, reduce_dim: int | None = 64,
                   seed: int = 1, flat_limit: int = FLAT_LIMIT, chunk: int = 16_384,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Edges ``(i, j, cosine)`` with cosine >= ``threshold`` among ``candidates`` (default all).

    ``vectors`` has one row per item (all items, indexed like ``reference``). Returns the edges
    (i < j, each pair once, score = exact cosine of the full vectors) and a dict describing the
    search. ``index``: ``auto``, ``flat`` (exact) or ``ivf`` (PCA to ``reduce_dim`` + IVF).
    """
    n_all = vectors.shape[0]
    idx = np.arange(n_all, dtype=np.int64) if candidates is None else \
        np.asarray(candidates, dtype=np.int64)
    ref = np.zeros(n_all, dtype=bool) if reference is None else np.asarray(reference, dtype=bool)
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    if len(idx) < 2:
        return (*empty, {"index": "none", "searched": 0})
    x = normalize_rows(vectors[idx])
    queries = np.flatnonzero(~ref[idx])
    kk = min(k + 1, len(idx))
    kind = index if index != "auto" else ("flat" if len(idx) <= flat_limit else "ivf")
    if kind == "flat":
        import faiss

        flat = faiss.IndexFlatIP(x.shape[1])
        flat.add(x)
        nb = np.empty((len(queries), kk), dtype=np.int64)
        for start in range(0, len(queries), chunk):
            nb[start:start + chunk] = flat.search(x[queries[start:start + chunk]], kk)[1]
        info: dict[str, Any] = {"index": "IndexFlatIP"}
    elif kind == "ivf":
        nb, info = _ivf_neighbours(x, queries, kk, threshold=threshold, nlist=nlist, nprobe=nprobe,
                                   reduce_dim=reduce_dim, seed=seed, chunk=chunk)
    else:
        raise ValueError(f"index must be 'auto', 'flat' or 'ivf', got {index!r}")
    info.update(indexed=int(len(idx)), searched=int(len(queries)), k=int(kk))
    t_verify = time.perf_counter()
    rows = np.repeat(queries, kk)
    flat_nb = nb.ravel()
    ok = (flat_nb >= 0) & (flat_nb != rows)
    rows, nb_ok = rows[ok], flat_nb[ok]
    lo, hi = np.minimum(rows, nb_ok), np.maximum(rows, nb_ok)
    key = np.unique(lo * len(idx) + hi)
    lo, hi = key // len(idx), key % len(idx)
    cos = np.empty(len(lo), dtype=np.float32)
    for start in range(0, len(lo), 8192):
        a, b = lo[start:start + 8192], hi[start:start + 8192]
        cos[start:start + len(a)] = (x[a] * x[b]).sum(axis=1)
    keep = cos >= threshold
    info["candidate_pairs"] = int(len(lo))
    info["verify_s"] = round(time.perf_counter() - t_verify, 2)
    return idx[lo[keep]], idx[hi[keep]], np.minimum(cos[keep], 1.0), info
