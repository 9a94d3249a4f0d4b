"""Word n-gram keys as 64-bit integers, and a sorted index of the evaluation sets' n-grams.

**Keys.** Every distinct evaluation token gets an id and a random 64-bit value (seeded). The key
of the ``k`` tokens starting at position ``p`` is ``sum_j v[p+j] * B^j + k * SALT`` modulo 2^64
(``B`` odd), for every window of a token array at once from one prefix sum (see
:func:`window_keys`). Because the token values are independent and uniform, so are the keys:
no extra mixing is needed. Tokens the evaluation sets never use, and text boundaries, get fixed
values of their own, so a window holding one matches nothing. Keys only select candidates: every
hit is verified against the evaluation record's token ids (and again as strings when its span is
located), so a 64-bit collision cannot make a false match.

**Index.** Per evaluation set, one entry per distinct n-gram: its key, one evaluation record
holding it (with mode and token position, for verification and reporting) and how many records
of that set hold it. The entries of all sets are sorted by key. Lookups go through a bitmap of
the keys' top bits (32 to 64 bits per key, so at most ~3% of non-matching queries pass) and a
binary search of the sorted keys, all in numpy. Memory is linear in the evaluation sets'
n-grams; the data being checked never enters the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

UNKNOWN = -1
BOUNDARY = -2
_MASK64 = (1 << 64) - 1
_BASE = 0x9E3779B97F4A7C15                  # odd, so invertible modulo 2^64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_LENGTH_SALT = 0xD6E8FEB86659FD93
# Values of the two special ids (UNKNOWN, BOUNDARY), in the order window_keys indexes them.
_SPECIAL_VALUES = np.array([0x5BD1E9955BD1E995, 0xC2B2AE3D27D4EB4F], dtype=np.uint64)
_POWERS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``B^p`` and ``B^-p`` modulo 2^64 for ``p < n`` (cached, grown by doubling; the pair is
    replaced in one step, so threads scanning batches at once never see a half-grown cache)."""
    have = _POWERS.get("pair")
    if have is None or len(have[0]) < n:
        size = max(n, 2 * (0 if have is None else len(have[0])), 1 << 16)
        up = np.full(size, _BASE, dtype=np.uint64)
        down = np.full(size, _BASE_INV, dtype=np.uint64)
        up[0] = down[0] = 1
        have = (np.cumprod(up), np.cumprod(down))
        _POWERS["pair"] = have
    return have[0][:n], have[1][:n]


class Vocabulary:
    """The distinct tokens of the evaluation sets (a pyarrow string array: id = position) and each
    id's random 64-bit value. Looking tokens up is one pyarrow hash-table pass (``index_in``)."""

    def __init__(self, token_arrays: Sequence, seed: int) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        arrays = [a for a in token_arrays if len(a)]
        self.tokens = pc.unique(pa.chunked_array(arrays, type=pa.large_string())) \
            if arrays else pa.array([], pa.large_string())
        rng = np.random.default_rng(seed)
        self.values = rng.integers(0, 2**64, size=len(self.tokens), dtype=np.uint64, endpoint=False)

    def __len__(self) -> int:
        return len(self.tokens)

    def lookup(self, tokens) -> np.ndarray:
        """Ids of a pyarrow array of tokens; :data:`UNKNOWN` for tokens no evaluation set holds."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if len(tokens) == 0:
            return np.empty(0, dtype=np.int32)
        ids = pc.index_in(tokens, value_set=self.tokens).fill_null(pa.scalar(UNKNOWN, pa.int32()))
        return ids.to_numpy().astype(np.int32, copy=False)

    def token(self, i: int) -> str:
        return self.tokens[int(i)].as_py()

    def nbytes(self) -> int:
        return int(self.tokens.nbytes) + self.values.nbytes


def with_boundaries(ids: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ids`` of several texts (text ``i`` at ``offsets[i]:offsets[i+1]``) with :data:`BOUNDARY`
    between texts, and where each text starts in the result."""
    n = len(offsets) - 1
    flat = np.insert(ids, offsets[1:-1], BOUNDARY).astype(np.int32, copy=False)
    return flat, offsets[:-1] + np.arange(n, dtype=np.int64)


def window_keys(ids: np.ndarray, values: np.ndarray, lengths: Iterable[int], *, all_windows: bool = False
                ) -> dict[int, tuple[np.ndarray | None, np.ndarray]]:
    """For each ``k`` in ``lengths``: start positions and keys of the ``k``-token windows of ``ids``.

    With ``Q[i] = sum_{t<i} v[t] * B^t`` (one cumulative sum, wrapping modulo 2^64), the key of
    window ``p`` is ``(Q[p+k] - Q[p]) * B^-p + k * SALT``: three vector operations per length.
    By default only windows of known tokens inside one text are returned (the evaluation side);
    ``all_windows=True`` returns every window's key with positions ``None`` (the query side,
    where a window holding an unknown token or a boundary simply matches nothing).
    """
    wanted = sorted(set(lengths))
    n = len(ids)
    out: dict[int, tuple[np.ndarray | None, np.ndarray]] = {}
    if not wanted:
        return out
    table = np.concatenate([values, _SPECIAL_VALUES])
    v = table[np.where(ids < 0, len(values) - 1 - ids, ids)]
    up, down = _powers(n + 1)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(v * up[:n], out=prefix[1:])
    del v
    bad_before = None
    if not all_windows:
        bad_before = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(ids < 0, out=bad_before[1:])
    for k in wanted:
        if k > n:
            out[k] = (None if all_windows else np.empty(0, np.int64), np.empty(0, np.uint64))
            continue
        keys = prefix[k:] - prefix[:-k]
        keys *= down[:n - k + 1]
        keys += np.uint64((k * _LENGTH_SALT) & _MASK64)
        if bad_before is None:  # all_windows
            out[k] = (None, keys)
        else:
            pos = np.flatnonzero(bad_before[k:] == bad_before[:-k])
            out[k] = (pos, keys[pos])
    return out


@dataclass
class EvalTokens:
    """The token ids of one evaluation set under one punctuation mode: all records in one flat
    array with :data:`BOUNDARY` between them (the layout :func:`window_keys` takes)."""

    flat: np.ndarray       # int32
    starts: np.ndarray     # int64, where each record starts in ``flat``
    lengths: np.ndarray    # int64, tokens per record

    @classmethod
    def from_ids(cls, ids: np.ndarray, offsets: np.ndarray) -> EvalTokens:
        flat, starts = with_boundaries(ids, offsets)
        return cls(flat=flat, starts=starts, lengths=np.diff(offsets))

    def of(self, record: int) -> np.ndarray:
        return self.flat[self.starts[record]:self.starts[record] + self.lengths[record]]

    def nbytes(self) -> int:
        return self.flat.nbytes + self.starts.nbytes + self.lengths.nbytes


@dataclass
class NgramIndex:
    """Sorted n-gram entries of all evaluation sets (see the module docstring)."""

    keys: np.ndarray        # uint64, sorted
    set_no: np.ndarray      # int16: which evaluation set
    record: np.ndarray      # int32: one record of that set holding the n-gram
    mode: np.ndarray        # int8: punctuation mode of that record's tokens
    position: np.ndarray    # int32: token position of the n-gram in that record
    length: np.ndarray      # int16: n-gram length in tokens
    frequency: np.ndarray   # int32: records of the set holding it
    bitmap: np.ndarray      # uint8 bit array over the keys' top ``bitmap_bits`` bits
    bitmap_shift: np.uint64
    buckets: np.ndarray     # int64: entries with top ``bucket_bits`` bits b are buckets[b]:buckets[b+1]
    bucket_shift: np.uint64

    @classmethod
    def build(cls, keys: np.ndarray, set_no: np.ndarray, record: np.ndarray, mode: np.ndarray,
              position: np.ndarray, length: np.ndarray, frequency: np.ndarray) -> NgramIndex:
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        n = max(len(keys), 1)
        bitmap_bits = min(31, max(10, int(np.ceil(np.log2(n * 32)))))
        bitmap_shift = np.uint64(64 - bitmap_bits)
        bitmap = np.zeros(1 << (bitmap_bits - 3), dtype=np.uint8)
        top = keys >> bitmap_shift
        np.bitwise_or.at(bitmap, (top >> np.uint64(3)).astype(np.int64),
                         (np.uint8(1) << (top & np.uint64(7)).astype(np.uint8)))
        bucket_bits = min(30, max(4, int(np.ceil(np.log2(n)))))
        bucket_shift = np.uint64(64 - bucket_bits)
        buckets = np.zeros((1 << bucket_bits) + 1, dtype=np.int64)
        np.cumsum(np.bincount((keys >> bucket_shift).astype(np.int64), minlength=1 << bucket_bits),
                  out=buckets[1:])
        return cls(keys=keys, set_no=set_no[order], record=record[order], mode=mode[order],
                   position=position[order], length=length[order], frequency=frequency[order],
                   bitmap=bitmap, bitmap_shift=bitmap_shift, buckets=buckets, bucket_shift=bucket_shift)

    def __len__(self) -> int:
        return len(self.keys)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.keys, self.set_no, self.record, self.mode, self.position,
                                      self.length, self.frequency, self.bitmap, self.buckets))

    def find(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All ``(query index, entry index)`` pairs with equal keys: a bitmap test on every query,
        then a probe of the query's bucket (about one entry) for the few that pass."""
        none = (np.empty(0, np.int64), np.empty(0, np.int64))
        if len(self.keys) == 0 or len(queries) == 0:
            return none
        top = queries >> self.bitmap_shift
        maybe = self.bitmap[(top >> np.uint64(3)).astype(np.int64)] >> (top & np.uint64(7)).astype(np.uint8)
        qi = np.flatnonzero(maybe & 1)
        del top, maybe
        q = queries[qi]
        b = (q >> self.bucket_shift).astype(np.int64)
        lo, hi = self.buckets[b], self.buckets[b + 1]
        found_q, found_e = [], []
        live = np.flatnonzero(hi > lo)
        step = 0
        while len(live):
            e = lo[live] + step
            eq = self.keys[e] == q[live]
            found_q.append(qi[live[eq]])
            found_e.append(e[eq])
            step += 1
            live = live[lo[live] + step < hi[live]]
        if not found_q:
            return none
        return np.concatenate(found_q).astype(np.int64), np.concatenate(found_e).astype(np.int64)
