"""The evaluation side of decontamination: evaluation sets and the index of their n-grams.

**Which n-grams.** Each record is tokenised under each punctuation mode in use
(:mod:`catalog.dedup.word_tokens`). A record of at least ``ngram`` tokens contributes its
``ngram``-token windows; a shorter record of at least ``min_ngram`` words contributes one n-gram,
the whole record (GPT-3's rule for short test examples); a record shorter than that is skipped
and counted. A record of at most ``ngram`` tokens also contributes itself minus its first and
minus its last token (when those still have ``min_words`` words), so a copy whose first or last
word got glued to the surrounding text still matches. Under the ``space`` mode one word can
yield several tokens (``IL-6`` -> ``il 6``, a chemical name -> 13 tokens), so a window must also
span at least ``min_words`` whitespace-separated words of the evaluation text: a single long
hyphenated term, or a phrase of up to ``min_words - 1`` words, is never a match.

**Too-frequent n-grams.** An n-gram held by more than ``max_eval_frequency`` records of one
evaluation set is left out of the index: "seen" counts *evaluation records*, not matches in the
data being checked. An n-gram repeated across many records of a benchmark is its template ("Read
the passage below and answer ..."), and synthetic data that borrows the template without the
content is not contaminated. The words such n-grams cover do not count towards ``min_words``
either, so a window made of 12 template words and the first word of a question ("... based on
the evidence: The") is not indexed although it is rare. NeMo Curator counts the other side (an
n-gram found in more than 10 *training documents* is ignored); for synthetic data that rule
would excuse a generator that leaked one benchmark item into many records, so it is only an
option (``max_dataset_frequency`` in :mod:`catalog.dedup.decontaminate`).
``benchmarks/decontaminate.py`` measures both rules.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catalog.dedup.ngram_index import EvalTokens, NgramIndex, Vocabulary, window_keys
from catalog.dedup.word_tokens import batch_tokens_modes
from catalog.errors import BadInput

PUNCTUATION_CHOICES = {"space": ("space",), "delete": ("delete",), "both": ("space", "delete")}


@dataclass(frozen=True)
class EvalSet:
    """One evaluation set (a benchmark, a held-out split): its name, its texts and, optionally,
    one id per text (default: the position)."""

    name: str
    texts: Sequence[str]
    ids: Sequence[Any] | None = None

    def record_id(self, k: int) -> Any:
        return self.ids[k] if self.ids is not None else k


@dataclass
class EvalSetStats:
    """What the index holds of one evaluation set."""

    name: str
    records: int
    indexed_records: int
    skipped_short: int
    ngrams: int
    frequent_ignored: int


@dataclass
class EvalIndex:
    """Vocabulary, per-set token ids and the sorted n-gram index of some evaluation sets."""

    sets: list[EvalSet]
    modes: tuple[str, ...]
    ngram: int
    min_ngram: int
    min_words: int
    max_eval_frequency: int | None
    vocabulary: Vocabulary
    tokens: dict[tuple[int, int], EvalTokens]   # (set no, mode no) -> token ids
    index: NgramIndex
    lengths: tuple[int, ...]                    # n-gram lengths present in the index
    stats: list[EvalSetStats]
    seconds: float = 0.0
    memory: dict[str, int] = field(default_factory=dict)


def _check_eval_sets(eval_sets: Sequence[EvalSet]) -> None:
    if not eval_sets:
        raise BadInput("name at least one evaluation set to check against", field="against")
    seen: set[str] = set()
    for es in eval_sets:
        if not isinstance(es, EvalSet):
            raise BadInput(f"expected EvalSet objects, got {type(es).__name__}", field="against")
        if not isinstance(es.name, str) or not es.name:
            raise BadInput("every evaluation set needs a non-empty name", field="against")
        if es.name in seen:
            raise BadInput(f"evaluation set '{es.name}' is given twice", field="against")
        seen.add(es.name)
        if len(es.texts) == 0:
            raise BadInput(f"evaluation set '{es.name}' is empty: nothing to check against", field="against")
        for k, text in enumerate(es.texts):
            if not isinstance(text, str):
                raise BadInput(f"evaluation set '{es.name}', record {es.record_id(k)!r}: text must be "
                               f"a string, got {type(text).__name__}", field="text")
        if es.ids is not None:
            if len(es.ids) != len(es.texts):
                raise BadInput(f"evaluation set '{es.name}': {len(es.ids)} ids for {len(es.texts)} texts",
                               field="ids")
            if len(set(es.ids)) != len(es.ids):
                raise BadInput(f"evaluation set '{es.name}': record ids are not unique", field="ids")


def _check_int(value: Any, name: str, low: int, high: int | None = None, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f">= {low}"
        raise BadInput(f"must be an integer {span}{' or None' if optional else ''}, got {value!r}", field=name)


def check_sizes(ngram: int, min_ngram: int, min_words: int) -> None:
    _check_int(ngram, "ngram", 1, 64)
    _check_int(min_ngram, "min_ngram", 1, ngram)
    _check_int(min_words, "min_words", 1, ngram)


@dataclass
class _Windows:
    """Candidate windows of one evaluation set under one mode, before the frequency rules."""

    key: np.ndarray
    record: np.ndarray
    position: np.ndarray     # token position in the record
    length: np.ndarray
    trimmed: np.ndarray      # a record of at most ``ngram`` tokens minus its first or last token


def _windows(et: EvalTokens, values: np.ndarray, ngram: int, min_ngram: int, min_words: int) -> _Windows:
    """All ``ngram``-token windows inside records; the whole of each shorter record with at least
    ``min_ngram`` tokens; and, for records of at most ``ngram`` tokens, the record without its
    first and without its last token when that still has ``min_words`` tokens (words are checked
    later). The trimmed copies catch a pasted record whose edge word got glued to the text
    around it ("...in hospitalCarriers of the ..."): a record of exactly ``ngram`` tokens has no
    other window that survives the loss of one edge token."""
    lens = et.lengths
    short = (lens >= min_ngram) & (lens < ngram)
    edge = (lens - 1 >= max(min_ngram, min_words)) & (lens <= ngram)
    wanted = {ngram} | {int(x) for x in np.unique(lens[short])} | {int(x) - 1 for x in np.unique(lens[edge])}
    parts = []
    for k, (pos, kk) in window_keys(et.flat, values, wanted).items():
        assert pos is not None  # positions come back unless all_windows is asked for
        rec = np.searchsorted(et.starts, pos, side="right") - 1
        tpos = pos - et.starts[rec]
        whole = np.ones(len(kk), dtype=bool) if k == ngram else (tpos == 0) & (lens[rec] == k)
        cut = (lens[rec] == k + 1) & edge[rec] & ((tpos == 0) | (tpos == 1))
        sel = whole | cut
        parts.append((kk[sel], rec[sel], tpos[sel], np.full(int(sel.sum()), k, np.int64), cut[sel]))
    if not parts:
        return _Windows(*(np.empty(0, t) for t in (np.uint64, np.int64, np.int64, np.int64, bool)))
    return _Windows(*(np.concatenate(c) for c in zip(*parts)))


def _content_words(words: np.ndarray, offsets: np.ndarray, template: np.ndarray, w: _Windows) -> np.ndarray:
    """Per window: how many distinct words it spans, not counting tokens covered by template
    n-grams (``template`` marks those tokens)."""
    new = ~template
    new[1:] &= (words[1:] != words[:-1]) | template[:-1]
    before = np.zeros(len(new) + 1, dtype=np.int64)
    np.cumsum(new, out=before[1:])
    first = offsets[w.record] + w.position
    # the first token of a window always starts a word (unless it is template)
    return before[first + w.length] - before[first + 1] + (~template[first] if len(first) else 0)


def build_eval_index(eval_sets: Sequence[EvalSet], *, ngram: int, min_ngram: int,
                     min_words: int | None = None, punctuation: str = "both",
                     max_eval_frequency: int | None = 10, seed: int = 0) -> EvalIndex:
    """Tokenise the evaluation sets and index their n-grams (see the module docstring).
    ``min_words`` defaults to ``ngram``.

    Raises :class:`BadInput` for no or empty evaluation sets, non-string texts, bad sizes, or an
    evaluation set none of whose records has ``min_ngram`` words.
    """
    started = time.perf_counter()
    _check_eval_sets(eval_sets)
    min_words = ngram if min_words is None else min_words
    check_sizes(ngram, min_ngram, min_words)
    if punctuation not in PUNCTUATION_CHOICES:
        raise BadInput(f"must be one of {', '.join(PUNCTUATION_CHOICES)}, got {punctuation!r}",
                       field="punctuation")
    _check_int(max_eval_frequency, "max_eval_frequency", 1, optional=True)
    modes = PUNCTUATION_CHOICES[punctuation]
    split = {}
    for s, es in enumerate(eval_sets):
        by_mode = batch_tokens_modes(es.texts, modes, word_numbers=True)
        for m, mode in enumerate(modes):
            split[(s, m)] = by_mode[mode]
    vocab = Vocabulary([flat for flat, _, _ in split.values()], seed)
    tokens = {key: EvalTokens.from_ids(vocab.lookup(flat), offsets) for key, (flat, offsets, _) in split.items()}

    columns: list[tuple[np.ndarray, ...]] = []
    stats: list[EvalSetStats] = []
    lengths_used: set[int] = set()
    for s, es in enumerate(eval_sets):
        wins = {m: _windows(tokens[(s, m)], vocab.values, ngram, min_ngram, min_words) for m in range(len(modes))}
        key = np.concatenate([w.key for w in wins.values()])
        rec = np.concatenate([w.record for w in wins.values()])
        # frequency of a key = distinct records of this set holding it (under any mode)
        order = np.lexsort((rec, key))
        k_sorted, r_sorted = key[order], rec[order]
        new_key = np.ones(len(order), dtype=bool)
        new_key[1:] = k_sorted[1:] != k_sorted[:-1]
        new_pair = new_key.copy()
        new_pair[1:] |= r_sorted[1:] != r_sorted[:-1]
        uniq = k_sorted[new_key]
        freq = np.add.reduceat(new_pair.astype(np.int64), np.flatnonzero(new_key)) if len(order) else \
            np.empty(0, np.int64)
        frequent = uniq[freq > max_eval_frequency] if max_eval_frequency is not None else uniq[:0]
        parts = []
        for m, w in wins.items():
            _, offsets, words = split[(s, m)]
            is_frequent = np.isin(w.key, frequent)
            template = np.zeros(len(words) + 1, dtype=np.int64)      # tokens inside frequent n-grams
            first = offsets[w.record[is_frequent]] + w.position[is_frequent]
            np.add.at(template, first, 1)
            np.add.at(template, first + w.length[is_frequent], -1)
            in_frequent = np.cumsum(template[:-1]) > 0
            content = _content_words(words, offsets, in_frequent, w)
            keep = ~is_frequent & np.where((w.length == ngram) | w.trimmed, content >= min_words, content >= min_ngram)
            parts.append((w.key[keep], w.record[keep], np.full(int(keep.sum()), m, np.int64),
                          w.position[keep], w.length[keep]))
        key, rec, mode_no, tpos, length = (np.concatenate(c) for c in zip(*parts))
        indexed = np.zeros(len(es.texts), dtype=bool)
        indexed[rec] = True
        if not indexed.any():
            raise BadInput(f"evaluation set '{es.name}': none of its {len(es.texts)} records has "
                           f"min_ngram ({min_ngram}) words outside repeated template text, so nothing in "
                           "it can be matched", field="min_ngram")
        lengths_used.update(int(x) for x in np.unique(length))
        order = np.lexsort((tpos, mode_no, rec, key))           # one entry per key: its first holder
        key, rec, mode_no, tpos, length = key[order], rec[order], mode_no[order], tpos[order], length[order]
        head = np.ones(len(key), dtype=bool)
        head[1:] = key[1:] != key[:-1]
        columns.append((key[head], np.full(int(head.sum()), s, np.int16), rec[head].astype(np.int32),
                        mode_no[head].astype(np.int8), tpos[head].astype(np.int32),
                        length[head].astype(np.int16), freq[np.searchsorted(uniq, key[head])].astype(np.int32)))
        stats.append(EvalSetStats(name=es.name, records=len(es.texts), indexed_records=int(indexed.sum()),
                                  skipped_short=int((~indexed).sum()), ngrams=int(head.sum()),
                                  frequent_ignored=int(len(frequent))))
    del split
    index = NgramIndex.build(*(np.concatenate(c) for c in zip(*columns)))
    memory = {"index_bytes": index.nbytes(), "eval_tokens_bytes": sum(t.nbytes() for t in tokens.values()),
              "vocabulary_tokens": len(vocab), "vocabulary_bytes": vocab.nbytes()}
    return EvalIndex(sets=list(eval_sets), modes=modes, ngram=ngram, min_ngram=min_ngram, min_words=min_words,
                     max_eval_frequency=max_eval_frequency, vocabulary=vocab, tokens=tokens, index=index,
                     lengths=tuple(sorted(lengths_used)), stats=stats,
                     seconds=round(time.perf_counter() - started, 4), memory=memory)
