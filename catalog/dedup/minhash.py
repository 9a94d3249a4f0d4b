"""Near-duplicate stage: MinHash LSH over word or character n-grams, verified by true Jaccard.

Pipeline, vectorised with numpy end to end (no per-document Python objects):

1. **Shingles.** Texts arrive in the punctuation-blind normal form (:mod:`.normalize`). Word
   n-grams hash each distinct word once (BLAKE2b, 64 bits) and combine the n word hashes of every
   window with multiply/xor steps and a final avalanche; character n-grams do the same over the
   Unicode code points of the whole corpus encoded at once. A text shorter than n units yields one
   shingle of all its units; an empty text yields none and never matches. Shingles are 32-bit
   values, de-duplicated per text (sets, not bags). The hashes depend only on the text, so a
   signature is the same whatever else is in the batch.
2. **Signatures.** ``num_perm`` hash functions from the multiply-add-shift family
   ``h(x) = ((a*x + b) mod 2^64) >> 32`` (a odd, a and b random 64-bit; Dietzfelbinger's
   universal family for 32-bit keys) are applied to a whole batch of shingles as one
   ``(num_perm, shingles)`` matrix operation, then min-reduced per text with
   ``np.minimum.reduceat``. Modulo 2^64 is the free wrap-around of uint64 arithmetic; a prime
   modulus (2^31-1 or 2^61-1) measured 3-7x slower in numpy for no gain in estimate quality
   (``tests/catalog/test_dedup_minhash.py`` checks the Jaccard estimates).
3. **LSH.** ``b`` bands of ``r`` rows (chosen by :func:`optimal_bands` from the threshold) are
   hashed to one uint64 per band and text; texts are grouped by sorting the band hashes. Inside a
   bucket every text is paired with the next ``max_bucket - 1`` texts in sort order: all pairs for
   ordinary buckets, a connected band of pairs for huge ones (which keeps the cost linear).
4. **Verification.** Every candidate pair's Jaccard similarity is computed exactly from the two
   shingle sets (vectorised: tag shingles with the pair number, sort, count equal neighbours), and
   only pairs with Jaccard >= threshold become edges. LSH therefore only decides which pairs are
   looked at; it never adds a false match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

_MASK32 = np.uint64(0xFFFFFFFF)
_U32_MAX = np.uint32(0xFFFFFFFF)
# Odd 64-bit multipliers for combining the units of one n-gram (fixed: shingles must not depend
# on the seed, only the permutations do).
_COMBINE = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                     0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53,
                     0x27D4EB2F165667C5, 0x94D049BB133111EB], dtype=np.uint64)


@dataclass(frozen=True)
class Shingles:
    """Per-text shingle sets in CSR form: ``values[offsets[i]:offsets[i+1]]`` for text ``i``,
    sorted and unique (uint32)."""

    values: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def of(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i]:self.offsets[i + 1]]


def _avalanche(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place on a uint64 array."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def _units(texts: Sequence[str], unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Unit hashes of all texts concatenated, and each text's unit count."""
    if unit == "char":
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        joined = "".join(texts).encode("utf-32-le")
        return np.frombuffer(joined, dtype="<u4").astype(np.uint64), lengths
    if unit != "word":
        raise ValueError(f"unit must be 'word' or 'char', got {unit!r}")
    tokens: list[str] = []
    lengths = np.empty(len(texts), dtype=np.int64)
    extend = tokens.extend
    for k, text in enumerate(texts):
        words = text.split()
        lengths[k] = len(words)
        extend(words)
    blake = hashlib.blake2b
    vocab = {w: int.from_bytes(blake(w.encode("utf-8"), digest_size=8).digest(), "little")
             for w in set(tokens)}
    ids = np.fromiter((vocab[w] for w in tokens), dtype=np.uint64, count=len(tokens))
    return ids, lengths


def shingle(texts: Sequence[str], *, ngram: int = 3, unit: str = "word") -> Shingles:
    """Shingle sets of ``texts`` (already normalised) over word or character ``ngram``-grams."""
    if not 1 <= ngram <= len(_COMBINE):
        raise ValueError(f"ngram must be between 1 and {len(_COMBINE)}, got {ngram}")
    ids, lengths = _units(texts, unit)
    n_docs = len(texts)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    total = len(ids)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    pos = np.arange(total, dtype=np.int64)
    end_of = ends[doc_of] if total else np.empty(0, np.int64)
    keep = (pos + ngram <= end_of) | ((pos == starts[doc_of]) & (lengths[doc_of] < ngram))
    pos = pos[keep]
    end_of = end_of[keep]
    doc_of = doc_of[keep]
    h = np.zeros(len(pos), dtype=np.uint64)
    sentinel = np.uint64(0x5BD1E9955BD1E995)
    for k in range(ngram):
        at = pos + k
        inside = at < end_of
        unit_hash = np.where(inside, ids[np.minimum(at, max(total - 1, 0))], sentinel) \
            if total else np.empty(0, np.uint64)
        h ^= unit_hash
        h *= _COMBINE[k]
        h ^= h >> np.uint64(29)
    _avalanche(h)
    keys = np.unique((doc_of.astype(np.uint64) << np.uint64(32)) | (h >> np.uint64(32)))
    values = (keys & _MASK32).astype(np.uint32)
    docs = (keys >> np.uint64(32)).astype(np.int64)
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(np.bincount(docs, minlength=n_docs))
    return Shingles(values=values, offsets=offsets)


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` parameters of the ``num_perm`` hash functions for ``seed``."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False) | np.uint64(1)
    b = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False)
    return a, b


def signatures(sh: Shingles, *, num_perm: int = 128, seed: int = 1,
               batch_shingles: int = 1 << 17) -> np.ndarray:
    """MinHash signatures, shape ``(len(sh), num_perm)`` uint32. Texts without shingles get all
    ``0xFFFFFFFF``; callers must not put them in LSH (:func:`lsh_candidates` leaves them out)."""
    a, b = permutations(num_perm, seed)
    a_col = a[:, None]
    b_col = b[:, None]
    n = len(sh)
    sig = np.full((n, num_perm), _U32_MAX, dtype=np.uint32)
    sizes = sh.sizes()
    nonempty = np.flatnonzero(sizes > 0)
    if len(nonempty) == 0:
        return sig
    buf = np.empty((num_perm, batch_shingles), dtype=np.uint64)
    cum = sh.offsets[nonempty + 1]
    first = 0
    while first < len(nonempty):
        # largest run of texts whose shingles fit in the buffer (at least one text)
        limit = sh.offsets[nonempty[first]] + batch_shingles
        last = max(int(np.searchsorted(cum, limit, side="right")), first + 1)
        docs = nonempty[first:last]
        lo, hi = sh.offsets[docs[0]], sh.offsets[docs[-1] + 1]
        x = sh.values[lo:hi].astype(np.uint64)
        if hi - lo > buf.shape[1]:
            buf = np.empty((num_perm, hi - lo), dtype=np.uint64)
        work = buf[:, :hi - lo]
        np.multiply(a_col, x[None, :], out=work)
        work += b_col
        # the texts of this run are contiguous in CSR order, so text starts are offsets
        mins = np.minimum.reduceat(work, sh.offsets[docs] - lo, axis=1)
        sig[docs] = (mins >> np.uint64(32)).astype(np.uint32).T
        first = last
    return sig


def _collision_probability(s: np.ndarray, b: int, r: int | np.ndarray) -> np.ndarray:
    return 1.0 - (1.0 - s ** r) ** b


def _integrate(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Trapezoid rule along the last axis."""
    return np.sum((y[..., 1:] + y[..., :-1]) * np.diff(x), axis=-1) / 2.0


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, *, fp_weight: float = 0.5,
                  fn_weight: float = 0.5) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` minimising the weighted sum of the false
    positive area (collision probability integrated over Jaccard in [0, threshold]) and the false
    negative area (miss probability integrated over [threshold, 1])."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    below = np.linspace(0.0, threshold, 201)
    above = np.linspace(threshold, 1.0, 201)
    best, best_cost = (1, 1), float("inf")
    for b in range(1, num_perm + 1):
        r = np.arange(1, num_perm // b + 1)[:, None]
        fp = _integrate(_collision_probability(below[None, :], b, r), below)
        fn = _integrate(1.0 - _collision_probability(above[None, :], b, r), above)
        cost = fp_weight * fp + fn_weight * fn
        k = int(np.argmin(cost))
        if cost[k] < best_cost - 1e-15:
            best, best_cost = (b, int(r[k, 0])), float(cost[k])
    return best


def _band_hash(cols: np.ndarray) -> np.ndarray:
    h = np.zeros(cols.shape[0], dtype=np.uint64)
    for k in range(cols.shape[1]):
        h ^= cols[:, k].astype(np.uint64)
        h *= _COMBINE[k % len(_COMBINE)]
        h ^= h >> np.uint64(31)
    return _avalanche(h)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 LSH key per text and band, shape ``(len(sig), bands)``. A key depends only on its
    own text's signature, so keys computed in batches anywhere (e.g. on Ray workers) are the same."""
    keys = np.empty((sig.shape[0], bands), dtype=np.uint64)
    for band in range(bands):
        keys[:, band] = _band_hash(sig[:, band * rows:(band + 1) * rows])
    return keys


def lsh_candidates(sig: np.ndarray, bands: int, rows: int, eligible: np.ndarray,
                   *, max_bucket: int = 64) -> np.ndarray:
    """Candidate pairs ``(i, j)``, i < j, shape ``(m, 2)`` int64, among the ``eligible`` indices
    (texts sharing at least one band)."""
    eligible = np.asarray(eligible, dtype=np.int64)
    if len(eligible) < 2:
        return np.empty((0, 2), dtype=np.int64)
    return bucket_pairs(band_keys(sig[eligible], bands, rows), eligible, sig.shape[0], max_bucket=max_bucket)


def bucket_pairs(keys: np.ndarray, eligible: np.ndarray, n_total: int, *, max_bucket: int = 64) -> np.ndarray:
    """Candidate pairs from band keys: ``keys[k]`` are the band keys of text ``eligible[k]``;
    ``n_total`` is above every index. Same output as :func:`lsh_candidates` on the same texts."""
    eligible = np.asarray(eligible, dtype=np.int64)
    if len(eligible) < 2:
        return np.empty((0, 2), dtype=np.int64)
    n = np.uint64(n_total)
    found = []
    window = max(1, max_bucket - 1)
    for band in range(keys.shape[1]):
        h = keys[:, band]
        order = np.argsort(h, kind="stable")
        hs = h[order]
        for d in range(1, window + 1):
            same = hs[d:] == hs[:-d]
            if not same.any():
                break
            left = eligible[order[:-d][same]].astype(np.uint64)
            right = eligible[order[d:][same]].astype(np.uint64)
            lo = np.minimum(left, right)
            hi = np.maximum(left, right)
            found.append(lo * n + hi)
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    uniq = np.unique(np.concatenate(found))
    return np.stack([(uniq // n).astype(np.int64), (uniq % n).astype(np.int64)], axis=1)


def jaccard(sh: Shingles, pairs: np.ndarray, *, chunk: int = 1 << 22) -> np.ndarray:
    """Exact Jaccard similarity of the shingle sets of each pair (float64, one per row)."""
    out = np.zeros(len(pairs), dtype=np.float64)
    if len(pairs) == 0:
        return out
    sizes = sh.sizes()
    cum = np.cumsum(sizes[pairs[:, 0]] + sizes[pairs[:, 1]])
    start = 0
    while start < len(pairs):
        done = int(cum[start - 1]) if start else 0
        stop = max(int(np.searchsorted(cum, done + chunk, side="right")), start + 1)
        out[start:stop] = _jaccard_chunk(sh, pairs[start:stop], sizes)
        start = stop
    return out


def _gather(sh: Shingles, docs: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shingle values of ``docs`` concatenated, and the row number each value came from."""
    lens = sizes[docs]
    row = np.repeat(np.arange(len(docs), dtype=np.int64), lens)
    within = np.arange(len(row), dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)
    return sh.values[sh.offsets[docs][row] + within], row


def _jaccard_chunk(sh: Shingles, pairs: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    va, ra = _gather(sh, pairs[:, 0], sizes)
    vb, rb = _gather(sh, pairs[:, 1], sizes)
    keys = np.concatenate([(ra.astype(np.uint64) << np.uint64(32)) | va.astype(np.uint64),
                           (rb.astype(np.uint64) << np.uint64(32)) | vb.astype(np.uint64)])
    keys.sort()
    dup_rows = (keys[1:][keys[1:] == keys[:-1]] >> np.uint64(32)).astype(np.int64)
    inter = np.bincount(dup_rows, minlength=len(pairs)).astype(np.float64)
    union = sizes[pairs[:, 0]] + sizes[pairs[:, 1]] - inter
    return np.divide(inter, union, out=np.zeros(len(pairs)), where=union > 0)


def minhash_edges(texts: Sequence[str], *, threshold: float, num_perm: int = 128, ngram: int = 3,
                  unit: str = "word", seed: int = 1, candidates: np.ndarray | None = None,
                  reference: np.ndarray | None = None, max_bucket: int = 64,
                  sketch: SketchFn | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Near-duplicate edges ``(i, j, jaccard)`` with verified Jaccard >= ``threshold``.

    ``texts`` are punctuation-blind normalised texts; only indices in ``candidates`` (default all)
    take part; pairs of two ``reference`` texts are not reported (nothing could be removed).
    Returns the edges and a dict of diagnostics (bands, rows, candidate and verified pair counts).
    ``sketch`` computes the shingles and band keys elsewhere (:func:`sketch_texts` is what it must
    equal; :mod:`catalog.ray_compute` runs it on a Ray cluster); bucketing and verification stay here.
    """
    n = len(texts)
    idx = np.arange(n, dtype=np.int64) if candidates is None else np.asarray(candidates, np.int64)
    sub = [texts[i] for i in idx]
    bands, rows = optimal_bands(threshold, num_perm)
    if sketch is None:
        sh = shingle(sub, ngram=ngram, unit=unit)
        sig = signatures(sh, num_perm=num_perm, seed=seed)
        eligible = np.flatnonzero(sh.sizes() > 0)
        pairs = lsh_candidates(sig, bands, rows, eligible, max_bucket=max_bucket)
    else:
        sh, keys = sketch(sub, ngram=ngram, unit=unit, num_perm=num_perm, seed=seed, bands=bands, rows=rows)
        eligible = np.flatnonzero(sh.sizes() > 0)
        pairs = bucket_pairs(keys[eligible], eligible, len(sub), max_bucket=max_bucket)
    if reference is not None and len(pairs):
        ref = np.asarray(reference, dtype=bool)[idx]
        pairs = pairs[~(ref[pairs[:, 0]] & ref[pairs[:, 1]])]
    sims = jaccard(sh, pairs)
    ok = sims >= threshold
    info = {"bands": bands, "rows": rows, "candidate_pairs": int(len(pairs)),
            "verified_pairs": int(ok.sum())}
    return idx[pairs[ok, 0]], idx[pairs[ok, 1]], sims[ok], info


def sketch_texts(texts: Sequence[str], *, ngram: int, unit: str, num_perm: int, seed: int, bands: int,
                 rows: int) -> tuple[Shingles, np.ndarray]:
    """Shingle sets and LSH band keys of ``texts``: the per-text part of :func:`minhash_edges`.

    Every output row depends on its own text only, so this can run on any split of the texts
    (batches on Ray workers) and the rows put back in order give the same result.
    """
    sh = shingle(texts, ngram=ngram, unit=unit)
    return sh, band_keys(signatures(sh, num_perm=num_perm, seed=seed), bands, rows)


class SketchFn(Protocol):
    """What :func:`minhash_edges` calls for shingles and band keys (:func:`sketch_texts` locally)."""

    def __call__(self, texts: Sequence[str], *, ngram: int, unit: str, num_perm: int, seed: int, bands: int,
                 rows: int) -> tuple[Shingles, np.ndarray]: ...
