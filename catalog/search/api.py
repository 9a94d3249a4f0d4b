"""The search API: one function for a query, one for a batch (models and indexes loaded once)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from catalog.errors import BadInput
from catalog.search import bm25, hybrid, keyword, vector
from catalog.search.filters import SearchFilters
from catalog.search.rows import RowFetcher

MODES = ("hybrid", "keyword", "vector")
FUSIONS = ("rrf", "convex")
DEFAULT_DEPTH = 100
DEFAULT_FUSION = "convex"  # tuned on SciFact train qrels: see benchmarks/RESULTS.md
DEFAULT_ALPHA = 0.5


@dataclass
class Hit:
    record_id: int
    external_id: str | None
    dataset: str
    score: float
    text: str
    snippet: str = ""
    explain: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.external_id if self.external_id is not None else str(self.record_id)

    def to_dict(self) -> dict:
        out = {"id": self.id, "record_id": self.record_id, "external_id": self.external_id,
               "dataset": self.dataset, "score": self.score, "text": self.text, "snippet": self.snippet}
        if self.explain:
            out["explain"] = self.explain
        return out


def _check_query(query: object) -> str:
    if not isinstance(query, str) or not query.strip():
        raise BadInput("is empty: give some words to search for", param="query")
    if len(query) > 10_000:
        raise BadInput("is longer than 10,000 characters", param="query")
    return query.strip()


def snippet(text: str, terms: list[str], width: int = 220) -> str:
    """A window of ``text`` around the first matching term, with matches marked «like this»."""
    if not terms:
        return text[:width]
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True))
                         + r")\w*", re.IGNORECASE)
    first = pattern.search(text)
    start = max(0, first.start() - width // 3) if first else 0
    window = text[start:start + width]
    marked = pattern.sub(lambda m: f"«{m.group(0)}»", window)
    return ("…" if start else "") + marked + ("…" if start + width < len(text) else "")


class Searcher:
    """Holds what a batch of searches shares: filters SQL, embedder, FAISS index, keyword index state.

    ``index`` lets a caller that adds vectors as it goes (a generation job) share its loaded FAISS
    index with the searcher; :meth:`allow` then lets vector search reach the records it added.
    """

    def __init__(self, cat, *, mode: str = "hybrid", filters: SearchFilters | None = None,
                 embedder: str | None = None, depth: int = DEFAULT_DEPTH, fusion: str = DEFAULT_FUSION,
                 alpha: float = DEFAULT_ALPHA, rrf_k: int = hybrid.RRF_K, index=None,
                 nprobe: int | None = None) -> None:
        """``nprobe``: IVF lists scanned per vector query on large catalogs (default: the index
        manifest's, set from benchmarks/RESULTS.md); more is slower and closer to exact."""
        if mode not in MODES:
            raise BadInput(f"unknown mode '{mode}': choose {', '.join(MODES)}", param="mode")
        if fusion not in FUSIONS:
            raise BadInput(f"unknown fusion '{fusion}': choose {', '.join(FUSIONS)}", param="fusion")
        if not 0.0 <= alpha <= 1.0:
            raise BadInput(f"must lie in [0, 1], got {alpha}", param="alpha")
        if depth < 1:
            raise BadInput(f"must be at least 1, got {depth}", param="depth")
        if nprobe is not None and nprobe < 1:
            raise BadInput(f"must be at least 1, got {nprobe}", param="nprobe")
        self.nprobe = nprobe
        self.cat, self.mode, self.depth, self.fusion, self.alpha, self.rrf_k = cat, mode, depth, fusion, alpha, rrf_k
        self.filters = filters or SearchFilters()
        self.where, self.params = self.filters.sql(cat)
        self.timings: dict[str, float] = {}
        self._rows: RowFetcher | None = None
        self.bm25: bm25.PostingsBM25 | None = None
        if mode in ("hybrid", "keyword"):
            self.timings["keyword_index_rebuild_s"] = keyword.ensure_index(cat)
            self.bm25 = bm25.PostingsBM25(cat, self.where, self.params)
        self.embedder = None
        if mode in ("hybrid", "vector"):
            from catalog.embedders import get_embedder
            from catalog.vector_index import VectorIndex

            embedder_id = vector.embedder_for(cat, self.where, self.params, embedder)
            if embedder_id is not None:  # None: the filters select no record at all
                self.embedder = get_embedder(embedder_id)
                self.index = index if index is not None else VectorIndex(cat, embedder_id)
                self.index.load()
                self.allowed = vector.allowed_ids(cat, self.where, self.params, embedder_id)

    def allow(self, record_ids) -> None:
        """Let vector search also return these records (added to the index after the searcher was made)."""
        import numpy as np

        if self.embedder is not None and self.allowed is not None:
            self.allowed = np.union1d(self.allowed, np.asarray(record_ids, dtype=np.int64))

    def run(self, queries: list[str], k: int = 10, explain: bool = False) -> list[list[Hit]]:
        if k < 1:
            raise BadInput(f"must be at least 1, got {k}", param="k")
        queries = [_check_query(q) for q in queries]
        depth = max(self.depth, k)
        analysed = [self.bm25.analyse(q) if self.bm25 is not None else None for q in queries]
        if self.mode == "keyword":
            for q, a in zip(queries, analysed):
                if a is None or not a.words:
                    raise BadInput(f"the query {q!r} holds only stop words or punctuation: nothing to match",
                                   param="query")
        vec_lists: list[list] = [[] for _ in queries]
        if self.embedder is not None:
            vec_lists = vector.vector_search(self.index, self.embedder.embed(queries), depth, self.allowed,
                                            self.nprobe)
        results = []
        for a, vec in zip(analysed, vec_lists):
            kw = self.bm25.search(a, depth) if self.bm25 is not None and a is not None and a.words else []
            results.append(self._fuse(kw, vec, k, a.words if a is not None else [], explain))
        return results

    def _fuse(self, kw: list, vec: list, k: int, terms: list[str], explain: bool) -> list[Hit]:
        if self.mode == "keyword":
            scored = dict(kw)
        elif self.mode == "vector":
            scored = dict(vec)
        elif self.fusion == "rrf":
            scored = hybrid.rrf({"keyword": kw, "vector": vec}, self.rrf_k)
        else:
            scored = hybrid.convex(kw, vec, self.alpha)
        top = sorted(scored.items(), key=lambda item: (-item[1], item[0]))[:k]
        if not top:
            return []
        if self._rows is None:  # read on first use: a searcher that never finds anything needs no map
            self._rows = RowFetcher(self.cat.con)
        rows = self._rows.fetch([doc for doc, _ in top])
        kw_rank = {doc: (rank, s) for rank, (doc, s) in enumerate(kw, start=1)}
        vec_rank = {doc: (rank, s) for rank, (doc, s) in enumerate(vec, start=1)}
        hits = []
        for doc, score in top:
            rid, ext, name, text = rows[doc]
            info = {}
            if explain:
                info = {"keyword": {"rank": kw_rank[doc][0], "score": kw_rank[doc][1]} if doc in kw_rank else None,
                        "vector": {"rank": vec_rank[doc][0], "score": vec_rank[doc][1]} if doc in vec_rank else None,
                        "mode": self.mode, "fusion": self.fusion if self.mode == "hybrid" else None}
            hits.append(Hit(rid, ext, name, round(float(score), 6), text, snippet(text, terms), info))
        return hits
