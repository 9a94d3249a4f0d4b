"""Which FAISS index a catalog's vectors get, how it is trained, and how it is searched.

Two layouts, picked from the number of vectors (benchmarks/RESULTS.md, "Scale with real
embeddings", has the measurements behind every number here):

* up to :data:`FLAT_MAX` vectors: ``IDMap2,Flat`` — exact inner-product search, no training. Its cost
  is one pass over every vector per query (~10 GB/s of memory), so it stops being cheap as the
  catalog grows.
* above: ``IVF{nlist},SQ8`` — an inverted file over ``nlist`` k-means centroids whose vectors are
  stored as 8-bit scalar codes (a quarter of float32). A query scans the ``nprobe`` lists nearest to
  it. Building it trains the centroids on a seeded sample, then adds every vector.

An IVF index stays valid while vectors are added after it was trained (each new vector goes to its
nearest centroid), but its lists grow: at :data:`RETRAIN_GROWTH` times the trained size the index is
rebuilt (retrained) instead of appended to. Rebuilding at each doubling costs at most as much, in
total, as building the final index twice, and keeps ``nlist`` near its best value for the size.

A search restricted to some ids (filters) uses FAISS's ID selector inside the scan. On IVF a
selector that admits a fraction f of the vectors leaves only f of each probed list as candidates,
so the probe count is divided by f (up to every list): the number of admitted vectors scanned, and
so the recall, stays about what an unfiltered search gets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FLAT_MAX = 100_000  # above this many vectors: IVF
RETRAIN_GROWTH = 2.0  # rebuild an IVF index once it holds this many times the vectors it was trained on
DEFAULT_NPROBE = 64  # lists scanned per query (a manifest may carry its own default)
TRAIN_PER_LIST = 40  # k-means training points per centroid (FAISS warns below 39)
TRAIN_ITERATIONS = 10  # k-means iterations (FAISS's default is 25; see RESULTS for the difference)
TRAIN_SEED = 1234


@dataclass(frozen=True)
class Layout:
    """What to build for a given size: ``kind`` is "flat" or "ivf"."""

    kind: str
    nlist: int = 0

    @property
    def description(self) -> str:
        if self.kind == "flat":
            return "IDMap2,Flat(IP)"
        return f"IVF{self.nlist},SQ8(IP)"


def choose_layout(count: int, flat_max: int = FLAT_MAX) -> Layout:
    """Exact search up to ``flat_max`` vectors; IVF-SQ8 with about sqrt(count) lists above."""
    if count <= flat_max:
        return Layout("flat")
    return Layout("ivf", nlist_for(count))


def nlist_for(count: int) -> int:
    """A power of two near sqrt(count), at least 64 and small enough to train on ``count`` points.

    The common advice is 4-16 * sqrt(n) lists; on 2 cores the k-means training and the assignment of
    every vector cost time in proportion to nlist, and at 1M vectors 1,024 lists built in 37 s against
    129 s for 2,048 with slightly higher recall at the same probe count (RESULTS.md)."""
    target = math.sqrt(max(count, 1))
    nlist = 2 ** max(6, round(math.log2(target)))
    while nlist > 64 and nlist * TRAIN_PER_LIST > count:
        nlist //= 2
    return nlist


def _faiss():
    import faiss

    return faiss


def new_index(layout: Layout, dimension: int):
    """An empty index of ``layout`` (IVF still untrained)."""
    faiss = _faiss()
    if layout.kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, layout.nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.own_fields = True
    quantizer.this.disown()
    index.cp.seed = TRAIN_SEED
    index.cp.niter = TRAIN_ITERATIONS
    return index


def training_size(layout: Layout, count: int) -> int:
    return min(count, layout.nlist * TRAIN_PER_LIST) if layout.kind == "ivf" else 0


def training_positions(count: int, size: int, seed: int = TRAIN_SEED) -> np.ndarray:
    """Sorted positions (in record-id order) of a seeded sample of ``size`` out of ``count`` vectors."""
    if size >= count:
        return np.arange(count, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(count, size, replace=False))


def is_ivf(index) -> bool:
    return isinstance(index, _faiss().IndexIVF)


def search_parameters(index, *, nprobe: int | None, selector=None, admitted: int | None = None,
                      k: int = 10):
    """FAISS search parameters for ``index``: the probe count (scaled up for a selective filter),
    or efSearch for an HNSW index written by an older version, and the ID selector."""
    faiss = _faiss()
    if is_ivf(index):
        probes = nprobe or DEFAULT_NPROBE
        if selector is not None and admitted is not None and index.ntotal > 0:
            share = max(admitted, 1) / index.ntotal
            probes = int(math.ceil(probes / min(1.0, share)))
        probes = max(1, min(index.nlist, probes))
        return faiss.SearchParametersIVF(sel=selector, nprobe=probes)
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else None
    if inner is not None and isinstance(inner, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=max(128, 2 * k))
    if selector is not None:
        return faiss.SearchParameters(sel=selector)
    return None
