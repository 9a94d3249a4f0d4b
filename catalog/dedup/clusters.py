"""Union-find over duplicate edges from every stage, and keep policies.

A keep policy is a total order on the items (best keeper first). Reference items always come
before checked ones, so a cluster that holds a reference keeps the reference(s) and loses all its
checked members. Because the order is total and fixed, the keeper of a merged cluster is always
the better of the two previous keepers: a record removed by an earlier stage is never revived by
a later one.

Policies (ties always fall back to creation order, then input position):

* ``first``   -- the oldest record (lowest ``created``, then lowest position);
* ``longest`` -- the longest text;
* ``quality`` -- the highest quality score (a missing score ranks below every real score);
* ``real``    -- a record whose origin is ``real`` first, then the oldest.
"""

from __future__ import annotations

import numpy as np

KEEP_POLICIES = ("first", "longest", "quality", "real")


def keep_rank(policy: str, *, created: np.ndarray, length: np.ndarray, quality: np.ndarray,
              is_real: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Rank of every item under ``policy`` (0 = best keeper), references ranked first.

    ``quality`` may hold NaN for a missing score. Raises ``ValueError`` for an unknown policy.
    """
    n = len(created)
    position = np.arange(n)
    not_ref = ~np.asarray(reference, dtype=bool)
    if policy == "first":
        keys: tuple = (position, created, not_ref)
    elif policy == "longest":
        keys = (position, created, -np.asarray(length, dtype=np.int64), not_ref)
    elif policy == "quality":
        q = np.asarray(quality, dtype=np.float64)
        keys = (position, created, np.where(np.isnan(q), np.inf, -q), not_ref)
    elif policy == "real":
        keys = (position, created, ~np.asarray(is_real, dtype=bool), not_ref)
    else:
        raise ValueError(f"unknown keep policy {policy!r}; choose one of {', '.join(KEEP_POLICIES)}")
    order = np.lexsort(keys)  # last key is the primary one
    rank = np.empty(n, dtype=np.int64)
    rank[order] = position
    return rank


class UnionFind:
    """Disjoint sets over ``0..n-1`` that track, per set, its size and its best member (lowest
    rank)."""

    def __init__(self, rank: np.ndarray) -> None:
        self.rank = np.asarray(rank, dtype=np.int64)
        n = len(self.rank)
        self.parent = list(range(n))
        self.size = [1] * n
        self.best = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        if self.rank[self.best[rb]] < self.rank[self.best[ra]]:
            self.best[ra] = self.best[rb]
        return ra

    def union_many(self, i: np.ndarray, j: np.ndarray) -> None:
        for a, b in zip(i.tolist(), j.tolist()):
            self.union(a, b)

    def roots(self) -> np.ndarray:
        """The root of every element (full path compression, vectorised)."""
        parent = np.asarray(self.parent, dtype=np.int64)
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        self.parent = parent.tolist()
        return parent

    def keepers(self) -> tuple[np.ndarray, np.ndarray]:
        """Per element: its set's best member and the set's size."""
        roots = self.roots()
        best = np.asarray(self.best, dtype=np.int64)
        size = np.asarray(self.size, dtype=np.int64)
        return best[roots], size[roots]
