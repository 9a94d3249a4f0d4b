"""N-gram decontamination: does a dataset contain text from evaluation sets?

GPT-3's test (and lm-evaluation-harness's, NeMo Curator's, datatrove's): a record is
contaminated when it shares a word n-gram (13 tokens by default) with an evaluation record, after
normalisation. Unlike ``dedup --against``, which compares whole records, this finds a benchmark
question pasted inside a longer synthetic text. Pure functions over in-memory texts; the catalog
layer stores the outcome.

**Pipeline.** The evaluation sets are tokenised and indexed once (:mod:`.eval_index`); the
texts to check stream through in batches: tokens (:mod:`.word_tokens`, both punctuation modes by
default) -> evaluation-vocabulary ids -> rolling 64-bit window keys -> bitmap + binary search
against the index (:mod:`.ngram_index`), all vectorised. Only the few hits reach Python: each is
verified token by token against the evaluation record, located in the original text (character
span) and merged with overlapping hits of the same evaluation set into one :class:`NgramMatch`.

**Modes.** ``flag`` only reports. ``drop`` (the default) marks every matched record for removal.
``cut`` (GPT-3 style) removes each matched span widened by ``cut_window`` characters on each side
(and out to whole words), keeps the pieces left over of at least ``min_piece_chars`` characters,
joined by newlines, and drops the record instead when it was split into more than ``max_pieces``
pieces or no piece is long enough. Defaults 200 / 10 / 200 are GPT-3's and NeMo Curator's: a cut
record must keep real stretches of clean text, otherwise it is dropped.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catalog.dedup.defaults import (
    DECONTAM_CUT_WINDOW,
    DECONTAM_MAX_EVAL_FREQUENCY,
    DECONTAM_MAX_PIECES,
    DECONTAM_MIN_NGRAM,
    DECONTAM_MIN_PIECE_CHARS,
    DECONTAM_MIN_WORDS,
    DECONTAM_NGRAM,
)
from catalog.dedup.eval_index import EvalIndex, EvalSet, build_eval_index
from catalog.dedup.ngram_index import window_keys, with_boundaries
from catalog.dedup.word_tokens import batch_tokens_modes, token_spans
from catalog.errors import BadInput

MODES = ("drop", "cut", "flag")
BATCH_TEXTS = 10_000
MAX_WORKERS = 1     # threads scanning batches by default: a second thread measured no faster (RESULTS.md)


@dataclass(frozen=True)
class NgramMatch:
    """One stretch of a checked text that matches an evaluation record: the first matching
    n-gram (normalised tokens), the ``[start, end)`` character span in the checked text covering
    all overlapping matching n-grams of the same evaluation set (whole words), how many distinct
    n-grams that was, and how many records of the evaluation set hold the first one."""

    eval_set: str
    eval_record: Any
    ngram: str
    start: int
    end: int
    ngrams: int
    eval_frequency: int


@dataclass(frozen=True)
class ContaminatedRecord:
    """A checked record with at least one match, and what happens to it: ``drop``, ``cut`` (then
    ``cut_text`` and the kept spans of the original) or ``flag``; ``reason`` says why a cut
    became a drop."""

    record_id: Any
    matches: tuple[NgramMatch, ...]
    action: str
    reason: str = ""
    cut_text: str | None = None
    kept_spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class EvalSetReport:
    """Per evaluation set: its size, what was indexed (records with enough words, distinct
    n-grams, n-grams left out as too frequent), and what the checked data hit: checked records
    with a match, distinct evaluation n-grams matched, and distinct evaluation records named by
    the matches (an n-gram several records share names the first of them)."""

    name: str
    records: int
    indexed_records: int
    skipped_short: int
    ngrams_indexed: int
    frequent_ngrams_ignored: int
    records_hit: int
    ngrams_hit: int
    eval_records_hit: int


@dataclass
class DecontaminationResult:
    """Outcome of :func:`decontaminate`."""

    checked: int
    contaminated: list[ContaminatedRecord]
    eval_sets: list[EvalSetReport]
    counts: dict[str, int]
    params: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)

    def removed_ids(self) -> set:
        """Records to mark removed: every ``drop``, including cuts that became drops."""
        return {c.record_id for c in self.contaminated if c.action == "drop"}

    def to_dict(self, *, max_records: int | None = None) -> dict[str, Any]:
        """JSON-ready form (all contaminated records, or the first ``max_records``)."""
        shown = self.contaminated if max_records is None else self.contaminated[:max_records]
        return {
            "checked": self.checked, "contaminated": len(self.contaminated), "counts": dict(self.counts),
            "eval_sets": [vars(r).copy() for r in self.eval_sets], "params": dict(self.params),
            "timings": dict(self.timings), "memory": dict(self.memory),
            "records": [{"record_id": c.record_id, "action": c.action, "reason": c.reason,
                         "cut_text": c.cut_text, "kept_spans": [list(s) for s in c.kept_spans],
                         "matches": [vars(m).copy() for m in c.matches]} for c in shown],
        }


HIT_COLUMNS = ("record", "mode", "position", "entry", "record_tokens")


def _check_int(value: Any, name: str, lowest: int, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        extra = " or None" if optional else ""
        raise BadInput(f"must be an integer >= {lowest}{extra}, got {value!r}", field=name)


def _check_texts(texts: Sequence[str], ids: Sequence | None) -> None:
    for k, text in enumerate(texts):
        if not isinstance(text, str):
            who = ids[k] if ids is not None and k < len(ids) else k
            raise BadInput(f"record {who!r}: text must be a string, got {type(text).__name__}", field="text")
    if ids is not None:
        if len(ids) != len(texts):
            raise BadInput(f"{len(ids)} ids for {len(texts)} texts", field="ids")
        if len(set(ids)) != len(ids):
            raise BadInput("record ids are not unique", field="ids")


def _check_not_self(texts: Sequence[str], eval_sets: Sequence[EvalSet]) -> None:
    for es in eval_sets:
        if es.texts is texts or (len(es.texts) == len(texts) and len(texts) and list(es.texts) == list(texts)):
            raise BadInput(f"evaluation set '{es.name}' is the dataset being checked: every record would "
                           "match itself; check against a different set", field="against")


def _scan_batch(chunk: list[str], first: int, index: EvalIndex) -> list[tuple[np.ndarray, ...]]:
    """Verified hits of one batch of texts (numbered from ``first``)."""
    ngrams = index.index
    vocab = index.vocabulary
    out: list[tuple[np.ndarray, ...]] = []
    tokenised = batch_tokens_modes(chunk, index.modes)
    for m, mode in enumerate(index.modes):
        flat, offsets, _ = tokenised.pop(mode)
        ids, starts = with_boundaries(vocab.lookup(flat), offsets)
        del flat
        for k, (_, keys) in window_keys(ids, vocab.values, index.lengths, all_windows=True).items():
            p, entries = ngrams.find(keys)
            if len(p) == 0:
                continue
            ok = np.fromiter((ngrams.length[e] == k and np.array_equal(
                ids[a:a + k], index.tokens[(int(ngrams.set_no[e]), int(ngrams.mode[e]))]
                .of(int(ngrams.record[e]))[ngrams.position[e]:ngrams.position[e] + k])
                for a, e in zip(p.tolist(), entries.tolist())), dtype=bool, count=len(p))
            p, entries = p[ok], entries[ok]
            doc = np.searchsorted(starts, p, side="right") - 1
            out.append((doc + first, np.full(len(p), m), p - starts[doc], entries, np.diff(offsets)[doc]))
    return out


def scan(texts: Sequence[str], index: EvalIndex, *, batch_size: int = BATCH_TEXTS,
         workers: int = 1) -> tuple[np.ndarray, ...]:
    """Verified hits of ``texts`` against ``index``: one array per :data:`HIT_COLUMNS` (text
    number, mode number, token position, index entry, tokens in that text), one row per matching
    n-gram occurrence. With ``workers`` > 1, batches run on that many threads (pyarrow and numpy
    release the GIL for most of the work)."""
    starts = range(0, len(texts), batch_size)

    def run(b0: int) -> list[tuple[np.ndarray, ...]]:
        return _scan_batch(list(texts[b0:b0 + batch_size]), b0, index)

    if workers > 1 and len(starts) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(run, starts))
    else:
        results = [run(b0) for b0 in starts]
    rows = [row for batch in results for row in batch]
    if not rows:
        return tuple(np.empty(0, np.int64) for _ in HIT_COLUMNS)
    return tuple(np.concatenate(col).astype(np.int64) for col in zip(*rows))


def _limit_dataset_frequency(rec: np.ndarray, entry: np.ndarray, cap: int | None) -> np.ndarray:
    """Mask of hits to keep when an n-gram hit in more than ``cap`` checked records is ignored."""
    if cap is None or len(rec) == 0:
        return np.ones(len(rec), dtype=bool)
    pairs = np.unique(np.stack([entry, rec]), axis=1)
    ent, count = np.unique(pairs[0], return_counts=True)
    too_common = ent[count > cap]
    return ~np.isin(entry, too_common)


def _matches(text: str, hits: list[tuple[int, int, int, int]], index: EvalIndex) -> list[NgramMatch]:
    """Character spans of one text's hits ``(mode, position, entry, tokens in the text)``, merged
    per evaluation set. The hits were verified on token ids; the span tokenizer must agree with
    the batch tokenizer on the token count (a bug otherwise, so it raises)."""
    ngrams = index.index
    spans: dict[int, tuple] = {}
    raw = []
    for m, pos, e, count in hits:
        if m not in spans:
            spans[m] = token_spans(text, index.modes[m])
            if len(spans[m][0]) != count:
                raise AssertionError(f"span tokenizer found {len(spans[m][0])} tokens, batch tokenizer {count}")
        tokens, starts, ends = spans[m]
        k = int(ngrams.length[e])
        raw.append((int(ngrams.set_no[e]), starts[pos], ends[pos + k - 1], " ".join(tokens[pos:pos + k]), e))
    raw.sort(key=lambda r: (r[0], r[1], r[2]))
    out: list[NgramMatch] = []
    cur = None
    for s, a, b, gram, e in raw:
        if cur is not None and cur[0] == s and a < cur[2]:
            cur[2] = max(cur[2], b)
            cur[5].add(gram)
            continue
        if cur is not None:
            out.append(_match(cur, index))
        cur = [s, a, b, gram, e, {gram}]
    if cur is not None:
        out.append(_match(cur, index))
    out.sort(key=lambda mt: (mt.start, mt.eval_set))
    return out


def _match(cur: list, index: EvalIndex) -> NgramMatch:
    s, a, b, gram, e, grams = cur
    es = index.sets[s]
    return NgramMatch(eval_set=es.name, eval_record=es.record_id(int(index.index.record[e])), ngram=gram,
                      start=int(a), end=int(b), ngrams=len(grams), eval_frequency=int(index.index.frequency[e]))


def cut_text(text: str, spans: Sequence[tuple[int, int]], *, window: int = DECONTAM_CUT_WINDOW,
             max_pieces: int = DECONTAM_MAX_PIECES, min_piece_chars: int = DECONTAM_MIN_PIECE_CHARS
             ) -> tuple[str | None, tuple[tuple[int, int], ...], str]:
    """Remove ``spans`` widened by ``window`` characters each side (out to whole words) from ``text``.

    Returns ``(cleaned text, kept spans of the original, reason)``; the cleaned text is ``None``
    (drop the record) when more than ``max_pieces`` pieces remain or none has ``min_piece_chars``
    non-blank characters, and ``reason`` says which.
    """
    n = len(text)
    cuts: list[list[int]] = []
    for a, b in sorted(spans):
        a, b = max(0, a - window), min(n, b + window)
        while a > 0 and not text[a - 1].isspace():
            a -= 1
        while b < n and not text[b].isspace():
            b += 1
        if cuts and a <= cuts[-1][1]:
            cuts[-1][1] = max(cuts[-1][1], b)
        else:
            cuts.append([a, b])
    pieces, prev = [], 0
    for a, b in cuts + [[n, n]]:
        if text[prev:a].strip():
            pieces.append((prev, a))
        prev = b
    if len(pieces) > max_pieces:
        return None, (), f"split into {len(pieces)} pieces (more than {max_pieces})"
    kept = tuple((a, b) for a, b in pieces if len(text[a:b].strip()) >= min_piece_chars)
    if not kept:
        return None, (), f"no piece of {min_piece_chars} or more characters left"
    return "\n".join(text[a:b].strip() for a, b in kept), kept, ""


def decontaminate(texts: Sequence[str], against: Sequence[EvalSet], *, ids: Sequence | None = None,
                  mode: str = "drop", ngram: int = DECONTAM_NGRAM, min_ngram: int = DECONTAM_MIN_NGRAM,
                  min_words: int = DECONTAM_MIN_WORDS, punctuation: str = "both",
                  max_eval_frequency: int | None = DECONTAM_MAX_EVAL_FREQUENCY,
                  max_dataset_frequency: int | None = None, cut_window: int = DECONTAM_CUT_WINDOW,
                  max_pieces: int = DECONTAM_MAX_PIECES, min_piece_chars: int = DECONTAM_MIN_PIECE_CHARS,
                  batch_size: int = BATCH_TEXTS, workers: int | None = None, seed: int = 0,
                  index: EvalIndex | None = None) -> DecontaminationResult:
    """Find the records of ``texts`` that share an n-gram with an evaluation set in ``against``.

    ``ids`` name the records (default: positions). ``index`` reuses an index from
    :func:`~catalog.dedup.eval_index.build_eval_index` (then ``against`` and the index parameters
    are taken from it). ``max_dataset_frequency`` (off by default) ignores an evaluation n-gram
    found in more than that many checked records, NeMo Curator's rule. ``workers`` threads scan
    batches of ``batch_size`` texts (default 1: much of the string work holds the GIL, and a second
    thread measured no faster on 2 cores); the result does not depend on either. Bad input -- no or empty
    evaluation sets, an evaluation set equal to the data, non-string texts, bad parameters --
    raises :class:`BadInput` before any work.
    """
    started = time.perf_counter()
    if mode not in MODES:
        raise BadInput(f"must be one of {', '.join(MODES)}, got {mode!r}", field="mode")
    _check_int(max_dataset_frequency, "max_dataset_frequency", 1, optional=True)
    _check_int(cut_window, "cut_window", 0)
    _check_int(max_pieces, "max_pieces", 1)
    _check_int(min_piece_chars, "min_piece_chars", 0)
    _check_int(batch_size, "batch_size", 1)
    _check_int(workers, "workers", 1, optional=True)
    workers = workers or min(os.cpu_count() or 1, MAX_WORKERS)
    _check_texts(texts, ids)
    if index is None:
        _check_not_self(texts, against)
        index = build_eval_index(against, ngram=ngram, min_ngram=min_ngram, min_words=min_words,
                                 punctuation=punctuation,
                                 max_eval_frequency=max_eval_frequency, seed=seed)
    else:
        _check_not_self(texts, index.sets)
    t_scan = time.perf_counter()
    rec, mode_no, pos, entry, count = scan(texts, index, batch_size=batch_size, workers=workers)
    keep = _limit_dataset_frequency(rec, entry, max_dataset_frequency)
    rec, mode_no, pos, entry, count = rec[keep], mode_no[keep], pos[keep], entry[keep], count[keep]
    t_resolve = time.perf_counter()
    by_record: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for r, m, p, e, c in zip(rec.tolist(), mode_no.tolist(), pos.tolist(), entry.tolist(), count.tolist()):
        by_record[r].append((m, p, e, c))
    contaminated: list[ContaminatedRecord] = []
    for r in sorted(by_record):
        text = texts[r]
        matches = tuple(_matches(text, by_record[r], index))
        record_id = ids[r] if ids is not None else r
        if mode == "cut":
            cleaned, kept, reason = cut_text(text, [(mt.start, mt.end) for mt in matches], window=cut_window,
                                             max_pieces=max_pieces, min_piece_chars=min_piece_chars)
            contaminated.append(ContaminatedRecord(record_id, matches, "cut" if cleaned is not None else "drop",
                                                   reason, cleaned, kept))
        else:
            contaminated.append(ContaminatedRecord(record_id, matches, mode))
    reports = _reports(index, rec, entry)
    counts = {a: sum(1 for c in contaminated if c.action == a) for a in MODES}
    params = {"mode": mode, "ngram": index.ngram, "min_ngram": index.min_ngram, "min_words": index.min_words,
              "punctuation": "both" if len(index.modes) == 2 else index.modes[0],
              "max_eval_frequency": index.max_eval_frequency, "max_dataset_frequency": max_dataset_frequency,
              "cut_window": cut_window, "max_pieces": max_pieces, "min_piece_chars": min_piece_chars,
              "ngram_lengths_indexed": list(index.lengths), "seed": seed}
    done = time.perf_counter()
    timings = {"index_s": index.seconds, "scan_s": round(t_resolve - t_scan, 4),
               "resolve_s": round(done - t_resolve, 4), "total_s": round(done - started, 4)}
    return DecontaminationResult(checked=len(texts), contaminated=contaminated, eval_sets=reports,
                                 counts=counts, params=params, timings=timings, memory=dict(index.memory))


def _reports(index: EvalIndex, rec: np.ndarray, entry: np.ndarray) -> list[EvalSetReport]:
    ngrams = index.index
    set_of = ngrams.set_no[entry] if len(entry) else np.empty(0, np.int16)
    out = []
    for s, st in enumerate(index.stats):
        mine = set_of == s
        ents = entry[mine]
        out.append(EvalSetReport(
            name=st.name, records=st.records, indexed_records=st.indexed_records,
            skipped_short=st.skipped_short, ngrams_indexed=st.ngrams, frequent_ngrams_ignored=st.frequent_ignored,
            records_hit=int(len(np.unique(rec[mine]))), ngrams_hit=int(len(np.unique(ngrams.keys[ents]))),
            eval_records_hit=int(len(np.unique(ngrams.record[ents])))))
    return out
