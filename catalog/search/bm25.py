"""BM25 over the keyword index's postings held in memory, for searchers that run many queries.

Scoring a query in SQL scans the whole token table of DuckDB's full-text index on every call (about
10 ms on SciFact's 5k abstracts, linear in the catalog; the extension's ``match_bm25`` macro is
slower still). :class:`PostingsBM25` reads the index once into numpy arrays: the postings grouped by
term (document number, and the posting's BM25 term-frequency part
``tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avgdl))``), the dictionary as a sorted string array
with the term ids beside it (looked up with ``searchsorted``), and the stop words. At 1M records
that is tens of millions of postings: a Python dict per term or per posting would cost gigabytes
and seconds to load; twelve bytes a posting do not.

The term-frequency part does not depend on the query, so it is computed once at load, in float64
with the extension's formula, and a query only multiplies it by each term's idf: at 1M generated
support texts (20M postings, queries touching ~0.4M of them) that halved the scoring time
(benchmarks/RESULTS.md, "1M, second pass"). A query costs one small DuckDB call (the
index's own tokeniser and stemmer, so the terms are exactly the extension's) and a few numpy
operations over the query terms' postings. Scores equal ``match_bm25``'s (same k1, b, idf and
collection statistics; summation order may differ in the last bits), ties are broken by record id,
and the filters are applied before the top k is taken.

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


_WEIGHT_SLICE = 4_000_000  # postings per step when computing the term-frequency parts at load


def _kth_largest(values: np.ndarray, k: int) -> float:
    return float(np.partition(values, len(values) - k)[len(values) - k])


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
        self.doc_len = np.zeros(size, dtype=np.float64)
        self.doc_len[docs["docid"]] = docs["len"]
        self.avgdl = float(avgdl or 1.0)
        del docs
        allowed = con.execute(
            f"SELECT x.docid FROM {fts}.docs x JOIN records r ON r.record_id = x.name "
            f"JOIN datasets d ON d.dataset_id = r.dataset_id WHERE {where}", params).fetchnumpy()["docid"]
        self.allowed = np.zeros(size, dtype=bool)
        self.allowed[allowed] = True
        self.all_allowed = bool(self.allowed.all())
        postings = con.execute(
            f"SELECT termid::INTEGER AS termid, docid::INTEGER AS docid, count(*)::INTEGER AS tf "
            f"FROM {fts}.terms GROUP BY termid, docid ORDER BY termid").fetchnumpy()
        term_of_posting = postings["termid"]
        n_terms = int(term_of_posting.max()) + 1 if len(term_of_posting) else 0
        self.starts = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_of_posting, minlength=n_terms), out=self.starts[1:])
        del term_of_posting
        self.doc_ids = np.ascontiguousarray(postings["docid"], dtype=np.int32)
        tf = postings["tf"]
        del postings
        self.weights = np.empty(len(tf), dtype=np.float64)
        k1, b = keyword.BM25_K1, keyword.BM25_B
        for lo in range(0, len(tf), _WEIGHT_SLICE):  # in slices: the temporaries stay small at 20M postings
            t = tf[lo:lo + _WEIGHT_SLICE].astype(np.float64)
            norm = k1 * (1 - b + b * self.doc_len[self.doc_ids[lo:lo + _WEIGHT_SLICE]] / self.avgdl)
            self.weights[lo:lo + _WEIGHT_SLICE] = t * (k1 + 1) / (t + norm)
        del tf
        # DuckDB sorts strings by their UTF-8 bytes, which is code point order, as Python compares str.
        # (An object array: numpy 2.4's StringDType searchsorted fails on long strings.)
        terms = con.execute(f"SELECT term, termid, df FROM {fts}.dict ORDER BY term").fetchnumpy()
        self.terms = np.asarray(terms["term"], dtype=object)  # sorted, for searchsorted
        self.term_ids = terms["termid"].astype(np.int64)
        self.doc_freqs = np.zeros(n_terms, dtype=np.float64)
        self.doc_freqs[terms["termid"]] = terms["df"]
        self.stopwords = {w for (w,) in con.execute(f"SELECT sw FROM {fts}.stopwords").fetchall()}

    def analyse(self, query: str) -> QueryTerms:
        """Tokenise, drop stop words and stem ``query`` with the index's own functions."""
        tokens, stems = self.cat.con.execute(
            f"SELECT tok, list_transform(tok, x -> stem(x, '{keyword.STEMMER}')) "
            f"FROM (SELECT {keyword.SCHEMA}.tokenize(?) AS tok)", [query]).fetchone()
        words = [t for t in tokens if t and t not in self.stopwords]
        ids = self.lookup([s for t, s in zip(tokens, stems) if t])
        ids = np.unique(ids[ids >= 0])
        return QueryTerms(words, ids, self.doc_freqs[ids])

    def lookup(self, stems: list[str]) -> np.ndarray:
        """Dictionary ids of ``stems`` (-1 for a stem no indexed record holds)."""
        if not stems or len(self.terms) == 0:
            return np.full(len(stems), -1, dtype=np.int64)
        needles = np.array(stems, dtype=object)
        at = np.minimum(np.searchsorted(self.terms, needles), len(self.terms) - 1)
        return np.where(self.terms[at] == needles, self.term_ids[at], -1)

    def _idf(self, doc_freqs: np.ndarray) -> np.ndarray:
        # DuckDB's log() is base 10, and the extension's match_bm25 uses it for the idf
        return np.log10((self.num_docs - doc_freqs + 0.5) / (doc_freqs + 0.5) + 1)

    def _top(self, hit: np.ndarray, doc_scores: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k best of ``hit`` (document numbers) by score, ties broken by record id."""
        if len(hit) == 0:
            return []
        if len(hit) > k:
            # everything scoring at least the k-th best, so that ties at the cut are broken by record id
            top = doc_scores >= _kth_largest(doc_scores, k)
            hit, doc_scores = hit[top], doc_scores[top]
        records = self.record_of[hit]
        order = np.lexsort((records, -doc_scores))[:k]
        return [(int(records[i]), float(doc_scores[i])) for i in order]

    def search(self, terms: QueryTerms, k: int) -> list[tuple[int, float]]:
        """Top-k (record id, BM25 score) among the allowed records that hold a query term."""
        if len(terms.term_ids) == 0 or k < 1:
            return []
        idf = self._idf(terms.doc_freqs)
        spans = [(int(self.starts[t]), int(self.starts[t + 1])) for t in terms.term_ids]
        total = sum(e - s for s, e in spans)
        docs = np.empty(total, dtype=np.intp)
        contrib = np.empty(total, dtype=np.float64)
        at = 0
        for (s, e), term_idf in zip(spans, idf):  # straight into one buffer: no concatenate, no repeat
            docs[at:at + e - s] = self.doc_ids[s:e]
            np.multiply(self.weights[s:e], term_idf, out=contrib[at:at + e - s])
            at += e - s
        if total > len(self.allowed) // 8:
            scores = np.bincount(docs, weights=contrib, minlength=len(self.allowed))
            # on a bool array: nonzero() on the float scores themselves is ~7x slower
            hit = np.flatnonzero(scores > 0 if self.all_allowed else (scores > 0) & self.allowed)
            doc_scores = scores[hit]
        else:
            hit, inverse = np.unique(docs, return_inverse=True)
            doc_scores = np.bincount(inverse, weights=contrib)
            keep = self.allowed[hit]
            hit, doc_scores = hit[keep], doc_scores[keep]
        return self._top(hit, doc_scores, k)
