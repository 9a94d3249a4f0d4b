"""Exact-duplicate stage: equal normalised text (see :mod:`catalog.dedup.normalize`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from catalog.dedup.normalize import hash_texts


def exact_edges(normalized: Sequence[str], candidates: np.ndarray | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` of indices whose normalised texts are equal, as two ``int64`` arrays.

    Each member of a group of equal texts is linked to the group's lowest index ``j`` (a star),
    which is enough for union-find. Only indices in ``candidates`` (default: all) take part.
    Empty normalised texts never match anything: an empty record is not a copy of another.
    Hash matches are confirmed by comparing the strings, so a 64-bit collision cannot link two
    different texts.
    """
    idx = np.arange(len(normalized), dtype=np.int64) if candidates is None else \
        np.asarray(candidates, dtype=np.int64)
    idx = idx[[len(normalized[i]) > 0 for i in idx]] if len(idx) else idx
    if len(idx) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    hashes = hash_texts(normalized[i] for i in idx)
    order = np.lexsort((idx, hashes))
    hs = hashes[order]
    same_as_prev = np.empty(len(hs), dtype=bool)
    same_as_prev[0] = False
    same_as_prev[1:] = hs[1:] == hs[:-1]
    group_start = np.maximum.accumulate(np.where(~same_as_prev, np.arange(len(hs)), 0))
    members = np.flatnonzero(same_as_prev)
    i = idx[order[members]]
    j = idx[order[group_start[members]]]
    confirmed = np.fromiter((normalized[a] == normalized[b] for a, b in zip(i, j)),
                            dtype=bool, count=len(i))
    return i[confirmed], j[confirmed]
