"""Vector search: FAISS over the catalog's embeddings, restricted inside FAISS to the filtered records."""

from __future__ import annotations

import numpy as np

from catalog.errors import EmbedderMismatch, SynthcatError


def embedder_for(cat, where: str, params: list, requested: str | None = None) -> str | None:
    """The one embedder of the records the filters select (None if they select nothing); refuses to mix."""
    rows = [r[0] for r in cat.con.execute(
        f"SELECT DISTINCT d.embedder FROM records r JOIN datasets d USING (dataset_id) WHERE {where}",
        params).fetchall()]
    embedded = sorted(e for e in rows if e)
    if not rows:
        return None
    if requested:
        if embedded and embedded != [requested]:
            raise EmbedderMismatch(f"the selected records are embedded with {', '.join(embedded)}, "
                                   f"not '{requested}'")
        return requested
    if not embedded:
        raise SynthcatError("none of the selected records has embeddings: import with `embed` on, or run "
                            "`synthcat embed DATASET`")
    if len(embedded) > 1:
        raise EmbedderMismatch(f"the selected datasets use different embedders ({', '.join(embedded)}); "
                               "pick datasets with one embedder (`datasets`)")
    return embedded[0]


def allowed_ids(cat, where: str, params: list, embedder_id: str) -> np.ndarray | None:
    """Record ids a vector search may return, or None when every indexed record qualifies."""
    total = cat.con.execute(
        "SELECT count(*) FROM records r JOIN datasets d USING (dataset_id) WHERE d.embedder = ?",
        [embedder_id]).fetchone()[0]
    rows = cat.con.execute(
        f"SELECT r.record_id FROM records r JOIN datasets d USING (dataset_id) WHERE ({where}) AND d.embedder = ?",
        [*params, embedder_id]).fetchnumpy()["record_id"]
    if len(rows) == total:
        return None
    return rows.astype(np.int64)


def vector_search(index, query_vectors: np.ndarray, k: int, allowed: np.ndarray | None,
                  nprobe: int | None = None) -> list[list[tuple[int, float]]]:
    if allowed is not None and len(allowed) == 0:
        return [[] for _ in range(len(query_vectors))]
    scores, ids = index.search(query_vectors, k, allowed_ids=allowed, nprobe=nprobe)
    return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0]
            for row_ids, row_scores in zip(ids, scores)]
