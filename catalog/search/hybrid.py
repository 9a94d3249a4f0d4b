"""Fusing ranked lists: reciprocal rank fusion and a convex combination of normalised scores.

RRF (Cormack et al. 2009) scores a document sum(1 / (k + rank)). The convex combination
(Bruch et al. 2022) scores alpha * vector + (1 - alpha) * keyword after min-max normalising each
retriever's scores over its candidate list; a document missing from one list scores 0 there.
"""

from __future__ import annotations

RRF_K = 60


def rrf(lists: dict[str, list[tuple[int, float]]], k: int = RRF_K) -> dict[int, float]:
    fused: dict[int, float] = {}
    for ranked in lists.values():
        for rank, (doc, _score) in enumerate(ranked, start=1):
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (k + rank)
    return fused


def _minmax(ranked: list[tuple[int, float]]) -> dict[int, float]:
    if not ranked:
        return {}
    scores = [s for _, s in ranked]
    low, high = min(scores), max(scores)
    if high == low:
        return {doc: 1.0 for doc, _ in ranked}
    return {doc: (s - low) / (high - low) for doc, s in ranked}


def convex(keyword: list[tuple[int, float]], vector: list[tuple[int, float]], alpha: float) -> dict[int, float]:
    """alpha weights the vector retriever, 1 - alpha the keyword retriever."""
    kw, vec = _minmax(keyword), _minmax(vector)
    return {doc: alpha * vec.get(doc, 0.0) + (1 - alpha) * kw.get(doc, 0.0) for doc in set(kw) | set(vec)}
