"""Retrieval for grounding: the records most relevant to an anchor, from the grounding datasets
(optionally filtered on a field) and from the dataset being generated.

It is the catalog's own hybrid search (:class:`catalog.search.Searcher` with the search defaults'
convex fusion): BM25 over the grounding records -- the keyword index is made current once, when the
job starts, as the grounding records do not change during a job -- and FAISS vector search over the
grounding records plus the samples accepted so far (the job shares its FAISS index with the
searcher and :meth:`Retriever.add` opens each accepted sample to it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

DEPTH = 50  # candidates each retriever passes to the fusion


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
        from catalog.search import Searcher, SearchFilters

        self.cat = cat
        self.new_id = new_dataset_id
        # The grounding records, selected exactly as `synthcat search --dataset ... --field ...` would.
        filters = SearchFilters(datasets=list(ground_datasets), field_equals=dict(field_filter or {}))
        self.searcher = Searcher(cat, mode="hybrid", filters=filters, embedder=embedder.id, depth=DEPTH,
                                 index=index)
        accepted = cat.con.execute("SELECT record_id FROM records WHERE dataset_id = ? AND status = 'active'",
                                   [new_dataset_id]).fetchall()
        self.add([r[0] for r in accepted])

    def add(self, record_ids: list[int]) -> None:
        """Samples accepted into the new dataset become retrievable."""
        if record_ids:
            self.searcher.allow(record_ids)

    def grounding_rows(self) -> list[tuple[int, int, str, str]]:
        """(record id, dataset id, text, fields JSON) of every grounding record, in id order."""
        return self.cat.con.execute(
            f"SELECT r.record_id, r.dataset_id, r.text, r.fields FROM records r JOIN datasets d USING (dataset_id) "
            f"WHERE {self.searcher.where} ORDER BY r.record_id", self.searcher.params).fetchall()

    def retrieve(self, query: str, k: int) -> list[GroundingHit]:
        if k <= 0:
            return []
        hits = self.searcher.run([query], k)[0]
        if not hits:
            return []
        rows = {r[0]: r for r in self.cat.con.execute(
            "SELECT record_id, dataset_id, fields FROM records WHERE record_id IN (SELECT unnest(?))",
            [[h.record_id for h in hits]]).fetchall()}
        return [GroundingHit(h.record_id, rows[h.record_id][1], h.text, json.loads(rows[h.record_id][2] or "{}"),
                             float(h.score)) for h in hits if h.record_id in rows]
