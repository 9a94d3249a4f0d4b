"""Retrieval for grounding: the records most relevant to an anchor, from the grounding datasets
(optionally filtered on a field) and from the dataset being generated."""

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

    def _filter_sql(self) -> tuple[str, list]:
        sql = "status = 'active' AND dataset_id IN (SELECT unnest(?))"
        params: list = [self.ground_ids]
        for name, value in self.field_filter.items():
            sql += " AND json_extract_string(fields, ?) = ?"
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
        vector = self.embedder.embed([query])
        scores, ids = self.index.search(vector, k, allowed_ids=self.allowed_ids())
        hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        if not hits:
            return []
        ids = [h[0] for h in hits]
        rows = {r[0]: r for r in self.cat.con.execute(
            "SELECT record_id, dataset_id, text, fields FROM records WHERE record_id IN (SELECT unnest(?))",
            [ids]).fetchall()}
        return [GroundingHit(rid, rows[rid][1], rows[rid][2], json.loads(rows[rid][3] or "{}"), float(score))
                for rid, score in hits if rid in rows]
