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
    def __init__(self, cat, index, embedder, ground_dataset_ids: list[int], new_dataset_id: int,
                 field_filter: dict[str, str] | None = None) -> None:
        self.cat = cat
        self.index = index
        self.embedder = embedder
        self.ground_ids = list(ground_dataset_ids)
        self.new_id = new_dataset_id
        self.field_filter = dict(field_filter or {})
        self.depth = 50
        from catalog.search import keyword

        keyword.ensure_index(cat)

    def _filter_sql(self, alias: str = "") -> tuple[str, list]:
        """Condition selecting the grounding records (``alias`` is a table alias such as ``r.``)."""
        sql = f"{alias}status = 'active' AND {alias}dataset_id IN (SELECT unnest(?))"
        params: list = [self.ground_ids]
        for name, value in self.field_filter.items():
            sql += f" AND json_extract_string({alias}fields, ?) = ?"
            params += [f"$.{name}", str(value)]
        return sql, params

    def grounding_rows(self) -> list[tuple[int, int, str, str]]:
        """(record id, dataset id, text, fields JSON) of every grounding record, in id order."""
        where, params = self._filter_sql()
        return self.cat.con.execute(
            f"SELECT record_id, dataset_id, text, fields FROM records WHERE {where} ORDER BY record_id",
            params).fetchall()

    def allowed_ids(self) -> np.ndarray:
        where, params = self._filter_sql()
        rows = self.cat.con.execute(
            f"SELECT record_id FROM records WHERE ({where}) OR (dataset_id = ? AND status = 'active')",
            [*params, self.new_id]).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def retrieve(self, query: str, k: int) -> list[GroundingHit]:
        if k <= 0:
            return []
        from catalog.search import hybrid, keyword
        from catalog.search.api import DEFAULT_ALPHA

        vector = self.embedder.embed([query])
        scores, ids = self.index.search(vector, max(k, self.depth), allowed_ids=self.allowed_ids())
        by_vector = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        where, params = self._filter_sql("r.")
        by_keyword = keyword.keyword_search(self.cat, query, max(k, self.depth), where, params) \
            if keyword.query_terms(self.cat, query) else []
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
