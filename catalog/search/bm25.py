"""BM25 over the keyword index's postings held in memory, for searchers that run many queries.

Scoring a query in SQL scans the whole token table of DuckDB's full-text index on every call (about
10 ms on SciFact's 5k abstracts, linear in the catalog; the extension's ``match_bm25`` macro is
slower still). :class:`PostingsBM25` reads the index once: postings grouped by term with each posting's
BM25 term-frequency part already computed, the dictionary and the stop words. A query then costs one
small DuckDB call (the index's own tokeniser and stemmer, so the terms are exactly the extension's)
and a few numpy operations over the query terms' postings. Scores equal ``match_bm25``'s (same
k1, b, idf and collection statistics; summation order may differ in the last bits), ties are broken
by record id, and the filters are applied before the top k is taken.

Like the FTS index it reads, it is a snapshot: build it after :func:`keyword.ensure_index`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog.search import keyword


@dataclass(frozen=True)
class QueryTerms:
    words: list[str]  # the query's tokens that are not stop words, unstemmed (for snippets)
    term_ids: np.ndarray  # distinct dictionary ids of the query's stems found in the index
    doc_freqs: np.ndarray  # their document frequencies


class PostingsBM25:
    """The postings of the keyword index, restricted at query time to the records ``where`` selects."""

    def __init__(self, cat, where: str, params: list) -> None:
        fts = keyword.SCHEMA
        self.cat = cat
        con = cat.con
        num_docs, avgdl = con.execute(f"SELECT num_docs, avgdl FROM {fts}.stats").fetchone() or (0, 0.0)
        self.num_docs = int(num_docs or 0)
        docs = con.execute(f"SELECT docid, name, len FROM {fts}.docs ORDER BY docid").fetchnumpy()
        size = int(docs["docid"].max()) + 1 if len(docs["docid"]) else 0
        self.record_of = np.full(size, -1, dtype=np.int64)
        self.record_of[docs["docid"]] = docs["name"]
        doc_len = np.zeros(size, dtype=np.float64)
        doc_len[docs["docid"]] = docs["len"]
        allowed = con.execute(
            f"SELECT x.docid FROM {fts}.docs x JOIN records r ON r.record_id = x.name "
            f"JOIN datasets d ON d.dataset_id = r.dataset_id WHERE {where}", params).fetchnumpy()["docid"]
        self.allowed = np.zeros(size, dtype=bool)
        self.allowed[allowed] = True
        postings = con.execute(
            f"SELECT termid, docid, count(*)::DOUBLE AS tf FROM {fts}.terms GROUP BY termid, docid "
            "ORDER BY termid, docid").fetchnumpy()
        term_ids = postings["termid"].astype(np.int64)
        n_terms = int(term_ids.max()) + 1 if len(term_ids) else 0
        self.starts = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_ids, minlength=n_terms), out=self.starts[1:])
        self.doc_ids = postings["docid"].astype(np.int64)
        tf = postings["tf"]
        k1, b = keyword.BM25_K1, keyword.BM25_B
        norm = k1 * (1 - b + b * doc_len[self.doc_ids] / float(avgdl or 1.0))
        self.weights = tf * (k1 + 1) / (tf + norm)
        terms = con.execute(f"SELECT term, termid, df FROM {fts}.dict").fetchnumpy()
        self.term_ids = dict(zip(terms["term"].tolist(), terms["termid"].tolist()))
        self.doc_freqs = np.zeros(n_terms, dtype=np.float64)
        self.doc_freqs[terms["termid"]] = terms["df"]
        self.stopwords = {w for (w,) in con.execute(f"SELECT sw FROM {fts}.stopwords").fetchall()}

    def analyse(self, query: str) -> QueryTerms:
        """Tokenise, drop stop words and stem ``query`` with the index's own functions."""
        tokens, stems = self.cat.con.execute(
            f"SELECT tok, list_transform(tok, x -> stem(x, '{keyword.STEMMER}')) "
            f"FROM (SELECT {keyword.SCHEMA}.tokenize(?) AS tok)", [query]).fetchone()
        words = [t for t in tokens if t and t not in self.stopwords]
        found = sorted({self.term_ids[s] for t, s in zip(tokens, stems) if t and s in self.term_ids})
        ids = np.array(found, dtype=np.int64)
        return QueryTerms(words, ids, self.doc_freqs[ids])

    def search(self, terms: QueryTerms, k: int) -> list[tuple[int, float]]:
        """Top-k (record id, BM25 score) among the allowed records that hold a query term."""
        if len(terms.term_ids) == 0 or k < 1:
            return []
        # DuckDB's log() is base 10, and the extension's match_bm25 uses it for the idf
        idf = np.log10((self.num_docs - terms.doc_freqs + 0.5) / (terms.doc_freqs + 0.5) + 1)
        spans = [(int(self.starts[t]), int(self.starts[t + 1])) for t in terms.term_ids]
        docs = np.concatenate([self.doc_ids[s:e] for s, e in spans])
        contrib = np.concatenate([self.weights[s:e] * w for (s, e), w in zip(spans, idf)])
        if len(docs) > len(self.allowed) // 8:
            scores = np.bincount(docs, weights=contrib, minlength=len(self.allowed))
            hit = np.flatnonzero((scores > 0) & self.allowed)
            doc_scores = scores[hit]
        else:
            hit, inverse = np.unique(docs, return_inverse=True)
            doc_scores = np.bincount(inverse, weights=contrib)
            keep = self.allowed[hit]
            hit, doc_scores = hit[keep], doc_scores[keep]
        if len(hit) == 0:
            return []
        if len(hit) > k:
            # everything scoring at least the k-th best, so that ties at the cut are broken by record id
            kth = np.partition(doc_scores, len(doc_scores) - k)[len(doc_scores) - k]
            top = doc_scores >= kth
            hit, doc_scores = hit[top], doc_scores[top]
        records = self.record_of[hit]
        order = np.lexsort((records, -doc_scores))[:k]
        return [(int(records[i]), float(doc_scores[i])) for i in order]
