"""Nearest real record of each synthetic record under a Gower-like mixed-type distance.

Distance between two rows = mean over the compared columns of a per-column distance in [0, 1]:

* numeric / integer / datetime: ``min(|a - b| / range_real, 1)``; a column constant in the real
  data gives 0 when equal, 1 otherwise;
* categorical / boolean: 0 when equal, 1 otherwise;
* missing values: 0 when both are missing, 1 when only one is.

Memory stays bounded: the exact search walks the query rows in chunks (a chunk × N block at a
time, never N × M). Past ``exact_limit`` pairs, a FAISS inverted-file index over an embedding of
the rows (numbers scaled to [0, 1], labels one-hot) proposes ``candidates`` neighbours per row
and the exact distance above re-ranks them, so every reported distance is a true distance to a
real row; the nearest one can be missed when the proxy ranks it outside the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from catalog.evaluation._columns import CONTINUOUS, Columns, as_float

if TYPE_CHECKING:
    import faiss
    import numpy as np
    import pandas as pd

_CHUNK_CELLS = 4_000_000        # float32 cells per distance block (16 MB)
_MAX_ONE_HOT = 64               # embedding width per label column for the approximate index


@dataclass
class Encoded:
    """A table in the distance space: scaled numbers (NaN = missing) and label codes."""

    num: np.ndarray   # (n, n_num) float32, value / range of the real column
    cat: np.ndarray   # (n, n_cat) int32, codes shared across the encoded tables (missing has a code)

    def __len__(self) -> int:
        return self.num.shape[0]


def encode(frames: dict[str, pd.DataFrame], columns: Columns, reference: str = "real") -> dict[str, Encoded]:
    """Put several tables in one distance space; numeric scales come from ``frames[reference]``."""
    import numpy as np
    import pandas as pd

    names = columns.scored
    num_cols = [c for c in names if columns.types[c] in CONTINUOUS]
    cat_cols = [c for c in names if columns.types[c] not in CONTINUOUS]
    frames = {k: df.rename(columns=str) for k, df in frames.items()}
    sizes = {k: len(df) for k, df in frames.items()}
    out_num = {k: np.empty((n, len(num_cols)), dtype=np.float32) for k, n in sizes.items()}
    out_cat = {k: np.empty((n, len(cat_cols)), dtype=np.int32) for k, n in sizes.items()}
    for j, name in enumerate(num_cols):
        kind = columns.types[name]
        values = {k: as_float(df[name], kind) for k, df in frames.items()}
        ref = values[reference][~np.isnan(values[reference])]
        lo = float(ref.min()) if len(ref) else 0.0
        span = float(ref.max() - lo) if len(ref) else 0.0
        for k, v in values.items():
            # a constant real column: any other value is at distance 1 (scaled difference >= 1)
            out_num[k][:, j] = (v - lo) / span if span > 0 else np.where(v == lo, 0.0, np.where(
                np.isnan(v), np.nan, 2.0))
    for j, name in enumerate(cat_cols):
        joint = pd.concat([df[name].astype(object) for df in frames.values()], ignore_index=True)
        codes, uniques = pd.factorize(joint, use_na_sentinel=True)
        codes = np.where(codes < 0, len(uniques), codes).astype(np.int32)
        start = 0
        for k, n in sizes.items():
            out_cat[k][:, j] = codes[start:start + n]
            start += n
    return {k: Encoded(out_num[k], out_cat[k]) for k in frames}


def nearest(query: Encoded, ref: Encoded, *, exact_limit: float = 2.5e7, candidates: int = 32,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """Distance to, and index of, the nearest ``ref`` row for every ``query`` row; plus the method."""
    return NeighbourIndex(ref, exact_limit=exact_limit, candidates=candidates, seed=seed).query(query)


class NeighbourIndex:
    """Nearest-row search against one reference table; the FAISS index is built once, on first need."""

    def __init__(self, ref: Encoded, *, exact_limit: float = 2.5e7, candidates: int = 32, seed: int = 0) -> None:
        self.ref = ref
        self.exact_limit = exact_limit
        self.candidates = candidates
        self.seed = seed
        self._ivf: faiss.IndexIVFFlat | None = None
        self._levels: list[int] = []

    def query(self, query: Encoded) -> tuple[np.ndarray, np.ndarray, str]:
        if len(query) * len(self.ref) <= self.exact_limit:
            dist, idx = _nearest_exact(query, self.ref)
            return dist, idx, "exact"
        cand = self._candidates(query, min(self.candidates, len(self.ref)))
        dist, idx = _rerank(query, self.ref, cand)
        return dist, idx, "ivf-candidates+exact-rerank"

    def _candidates(self, query: Encoded, k: int) -> np.ndarray:
        import numpy as np

        if self._ivf is None:
            # one extra one-hot slot per label column for labels the reference never holds
            self._levels = [int(self.ref.cat[:, j].max(initial=0)) + 2 for j in range(self.ref.cat.shape[1])]
            self._ivf = _build_ivf(_embed(self.ref, self._levels), self.seed)
        out = np.empty((len(query), k), dtype=np.int64)
        step = 20_000
        for start in range(0, len(query), step):
            xq = _embed(Encoded(query.num[start:start + step], query.cat[start:start + step]), self._levels)
            _, out[start:start + len(xq)] = self._ivf.search(xq, k)
        return out


def _n_cols(e: Encoded) -> int:
    return e.num.shape[1] + e.cat.shape[1]


def _column_distance_block(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-column numeric distance for broadcastable ``a`` and ``b`` (NaN = missing)."""
    import numpy as np

    d = np.abs(a - b)
    missing = np.isnan(d)
    if missing.any():
        both = np.isnan(a) & np.isnan(b)
        d[missing] = 1.0
        d[both] = 0.0
    np.minimum(d, 1.0, out=d)
    return d


def _nearest_exact(query: Encoded, ref: Encoded) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    n_q, n_r = len(query), len(ref)
    dist = np.empty(n_q, dtype=np.float64)
    idx = np.empty(n_q, dtype=np.int64)
    step = max(1, _CHUNK_CELLS // max(n_r, 1))
    n_cols = _n_cols(ref)
    for start in range(0, n_q, step):
        stop = min(n_q, start + step)
        block = np.zeros((stop - start, n_r), dtype=np.float32)
        for j in range(query.num.shape[1]):
            block += _column_distance_block(query.num[start:stop, j, None], ref.num[None, :, j])
        for j in range(query.cat.shape[1]):
            block += query.cat[start:stop, j, None] != ref.cat[None, :, j]
        best = np.argmin(block, axis=1)
        idx[start:stop] = best
        dist[start:stop] = block[np.arange(stop - start), best] / n_cols
    return dist, idx


def _rerank(query: Encoded, ref: Encoded, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    n_q, k = cand.shape
    dist = np.empty(n_q, dtype=np.float64)
    idx = np.empty(n_q, dtype=np.int64)
    step = max(1, _CHUNK_CELLS // max(k, 1))
    n_cols = _n_cols(ref)
    for start in range(0, n_q, step):
        stop = min(n_q, start + step)
        c = cand[start:stop]
        valid = c >= 0
        c = np.where(valid, c, 0)
        block = np.zeros(c.shape, dtype=np.float32)
        for j in range(query.num.shape[1]):
            block += _column_distance_block(query.num[start:stop, j, None], ref.num[c, j])
        for j in range(query.cat.shape[1]):
            block += query.cat[start:stop, j, None] != ref.cat[c, j]
        block[~valid] = np.inf
        best = np.argmin(block, axis=1)
        rows = np.arange(stop - start)
        idx[start:stop] = c[rows, best]
        dist[start:stop] = block[rows, best] / n_cols
    return dist, idx


def _embed(e: Encoded, n_levels: list[int]) -> np.ndarray:
    """L2 proxy of the distance: numbers clipped to [0, 1] (missing at -0.5), labels one-hot / sqrt 2."""
    import numpy as np

    parts = []
    if e.num.size:
        num = np.clip(e.num, 0.0, 1.0)
        parts.append(np.where(np.isnan(num), -0.5, num).astype(np.float32))
    for j, levels in enumerate(n_levels):
        width = min(levels, _MAX_ONE_HOT)
        codes = np.minimum(e.cat[:, j], width - 1)  # rare and unseen labels share the last slot
        hot = np.zeros((len(codes), width), dtype=np.float32)
        hot[np.arange(len(codes)), codes] = np.float32(1 / np.sqrt(2))
        parts.append(hot)
    return np.ascontiguousarray(np.hstack(parts)) if parts else np.zeros((len(e), 1), np.float32)


def _build_ivf(xr: np.ndarray, seed: int) -> faiss.IndexIVFFlat:
    import faiss
    import numpy as np

    n_r, dim = xr.shape
    # about 4 sqrt(N) lists; a short k-means (20 points per list, 10 rounds): the lists only need
    # to be roughly right, since the exact re-ranking decides, and training dominated the run time
    nlist = int(max(1, min(4096, 4 * np.sqrt(n_r), n_r // 20)))
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, nlist, faiss.METRIC_L2)
    rng = np.random.default_rng(seed)
    index.cp.seed = seed
    index.cp.niter = 10
    index.cp.min_points_per_centroid = 5
    index.train(xr[rng.choice(n_r, size=min(n_r, nlist * 20), replace=False)])
    index.add(xr)
    index.nprobe = min(nlist, 16)
    return index
