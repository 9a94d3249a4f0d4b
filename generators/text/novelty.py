"""Is a generated sample new? Exact, near-duplicate (Jaccard) and semantic checks against a scope.

The scope is the grounding datasets plus the dataset being generated. Checks, cheapest first:

- exact: the normalised text (NFKC, case-folded, whitespace collapsed — the dedup engine's
  normalisation) equals that of a record in scope; looked up by content hash for identical texts
  and by comparison with the nearest neighbours for texts equal after normalisation;
- near: word 3-gram Jaccard with one of the nearest neighbours >= ``jaccard_threshold`` (the
  dedup engine's MinHash default, 0.5: verified Jaccard, so there is no sketch error here);
- semantic: cosine similarity with the nearest neighbour in scope >= ``cosine_threshold``.

The default cosine threshold, 0.92, is the dedup engine's semantic default, chosen on MRPC and
STS-B (see catalog/dedup/defaults.py and benchmarks/RESULTS.md). Nearest neighbours come from the
FAISS index restricted to the scope's record ids, so a near-copy anywhere in scope is found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog.dedup.defaults import MINHASH_THRESHOLD, SEMANTIC_THRESHOLD
from catalog.dedup.normalize import normalize_text
from catalog.writer import content_hash

NEIGHBOURS = 8


@dataclass(frozen=True)
class NoveltyVerdict:
    novel: bool
    reason: str | None = None  # "duplicate_exact" | "duplicate_near" | "duplicate_semantic"
    matched_record: int | None = None
    score: float | None = None


def word_shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = normalize_text(text, punctuation_blind=True).split()
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class NoveltyChecker:
    """Checks candidates against records in scope; ``scope_ids`` grows as samples are accepted."""

    def __init__(self, cat, index, scope_ids: np.ndarray, *, cosine_threshold: float = SEMANTIC_THRESHOLD,
                 jaccard_threshold: float = MINHASH_THRESHOLD) -> None:
        self.cat = cat
        self.index = index
        self.scope_ids = np.asarray(scope_ids, dtype=np.int64)
        self.cosine_threshold = cosine_threshold
        self.jaccard_threshold = jaccard_threshold

    def add(self, record_id: int) -> None:
        self.scope_ids = np.append(self.scope_ids, np.int64(record_id))

    def _texts(self, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self.cat.con.execute("SELECT record_id, text FROM records WHERE record_id IN (SELECT unnest(?))",
                                    [ids]).fetchall()
        return dict(rows)

    def check(self, text: str, vector: np.ndarray) -> NoveltyVerdict:
        if len(self.scope_ids) == 0:
            return NoveltyVerdict(True)
        same = self.cat.con.execute(
            "SELECT record_id FROM records WHERE content_hash = ? AND record_id IN (SELECT unnest(?)) LIMIT 1",
            [content_hash(text), self.scope_ids.tolist()]).fetchone()
        if same:
            return NoveltyVerdict(False, "duplicate_exact", int(same[0]), 1.0)
        scores, ids = self.index.search(vector.reshape(1, -1), NEIGHBOURS, allowed_ids=self.scope_ids)
        pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        texts = self._texts([i for i, _ in pairs])
        norm = normalize_text(text)
        for rid, _score in pairs:
            if rid in texts and normalize_text(texts[rid]) == norm:
                return NoveltyVerdict(False, "duplicate_exact", rid, 1.0)
        mine = word_shingles(text)
        best = max(((jaccard(mine, word_shingles(texts[rid])), rid) for rid, _ in pairs if rid in texts),
                   default=(0.0, None))
        if best[0] >= self.jaccard_threshold:
            return NoveltyVerdict(False, "duplicate_near", best[1], round(best[0], 4))
        if pairs and pairs[0][1] >= self.cosine_threshold:
            return NoveltyVerdict(False, "duplicate_semantic", pairs[0][0], round(pairs[0][1], 4))
        return NoveltyVerdict(True, None, pairs[0][0] if pairs else None, round(pairs[0][1], 4) if pairs else None)
