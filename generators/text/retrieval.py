"""Retrieval for grounding: the records most relevant to an anchor, from the grounding datasets
(optionally filtered on a field) and from the dataset being generated, by hybrid search.

Hybrid = the search defaults' convex combination of BM25 over the grounding records (the keyword index is made
current once, when the job starts; the grounding records do not change during a job) and FAISS
vector search over the grounding records plus the samples accepted so far.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GroundingHit:
    record_id: int
    dataset_id: int
    text: str
    fields: dict
    score: float


class Retriever:
    def __init__(self, cat, index, embedder, ground_datasets: list[str], new_dataset_id: int,
                 field_filter: dict[str, str] | None = None) -> None:
        from catalog.search import SearchFilters, keyword
        from catalog.search.bm25 import PostingsBM25

        self.cat = cat
        self.index = index
        self.embedder = embedder
        self.new_id = new_dataset_id
        self.depth = 50
        # The grounding records, selected exactly as `synthcat search --dataset ... --field ...` would.
        self.where, self.params = SearchFilters(datasets=list(ground_datasets),
                                                field_equals=dict(field_filter or {})).sql(cat)
        keyword.ensure_index(cat)
        self.bm25 = PostingsBM25(cat, self.where, self.params)

    def grounding_rows(self) -> list[tuple[int, int, str, str]]:
        """(record id, dataset id, text, fields JSON) of every grounding record, in id order."""
        return self.cat.con.execute(
            f"SELECT r.record_id, r.dataset_id, r.text, r.fields FROM records r JOIN datasets d USING (dataset_id) "
            f"WHERE {self.where} ORDER BY r.record_id", self.params).fetchall()

    def allowed_ids(self) -> np.ndarray:
        """Grounding records plus the samples accepted so far in the dataset being generated."""
        rows = self.cat.con.execute(
            f"SELECT r.record_id FROM records r JOIN datasets d USING (dataset_id) WHERE ({self.where}) "
            "OR (r.dataset_id = ? AND r.status = 'active')", [*self.params, self.new_id]).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def retrieve(self, query: str, k: int) -> list[GroundingHit]:
        if k <= 0:
            return []
        from catalog.search import hybrid
        from catalog.search.api import DEFAULT_ALPHA

        vector = self.embedder.embed([query])
        scores, ids = self.index.search(vector, max(k, self.depth), allowed_ids=self.allowed_ids())
        by_vector = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        terms = self.bm25.analyse(query)
        by_keyword = self.bm25.search(terms, max(k, self.depth)) if terms.words else []
        fused = hybrid.convex(by_keyword, by_vector, DEFAULT_ALPHA)
        hits = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        if not hits:
            return []
        ids = [h[0] for h in hits]
        rows = {r[0]: r for r in self.cat.con.execute(
            "SELECT record_id, dataset_id, text, fields FROM records WHERE record_id IN (SELECT unnest(?))",
            [ids]).fetchall()}
        return [GroundingHit(rid, rows[rid][1], rows[rid][2], json.loads(rows[rid][3] or "{}"), float(score))
                for rid, score in hits if rid in rows]
