"""MinHash LSH stage: shingles, signatures, banding, exact Jaccard verification."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.dedup.minhash import (
    jaccard,
    lsh_candidates,
    minhash_edges,
    optimal_bands,
    shingle,
    signatures,
)
from catalog.dedup.normalize import normalize_texts

LONG = ("the committee met on tuesday to review the budget for the coming year and agreed to "
        "postpone the vote on new hires until the auditors have finished their report on spending")


def _words(rng: np.random.Generator, n: int, vocab: int = 3000) -> list[str]:
    return [f"w{k}" for k in rng.integers(0, vocab, size=n)]


def test_optimal_bands_fit_and_move_with_threshold():
    for t in (0.3, 0.5, 0.7, 0.9):
        b, r = optimal_bands(t, 128)
        assert b * r <= 128
    # a higher threshold needs more rows per band (a steeper S-curve further right)
    assert optimal_bands(0.9, 128)[1] > optimal_bands(0.5, 128)[1] > optimal_bands(0.2, 128)[1]


@pytest.mark.slow
def test_optimal_bands_agree_with_datasketch():
    from datasketch.lsh import _optimal_param

    for t, p in ((0.5, 128), (0.7, 128), (0.8, 256), (0.6, 64)):
        assert optimal_bands(t, p) == _optimal_param(t, p, 0.5, 0.5)


def test_shingles_word_and_char():
    sh = shingle(["a b c d", "a b", "", "a b c d"], ngram=3)
    assert sh.sizes().tolist() == [2, 1, 0, 2]          # short text -> one shingle, empty -> none
    assert sh.of(0).tolist() == sh.of(3).tolist()
    ch = shingle(["abcd", "abcd"], ngram=2, unit="char")
    assert ch.sizes().tolist() == [3, 3]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=25), min_size=2, max_size=12))
def test_jaccard_equals_python_sets(docs):
    texts = [" ".join(f"t{w}" for w in d) for d in docs]
    sh = shingle(texts, ngram=2)
    pairs = np.array([(a, b) for a in range(len(texts)) for b in range(a + 1, len(texts))])
    got = jaccard(sh, pairs)
    for (a, b), value in zip(pairs.tolist(), got.tolist()):
        sa, sb = set(sh.of(a).tolist()), set(sh.of(b).tolist())
        assert value == len(sa & sb) / len(sa | sb)


def test_signature_estimates_jaccard_without_bias():
    rng = np.random.default_rng(3)
    texts = []
    for _ in range(300):
        base = _words(rng, 60)
        copy = list(base)
        for pos in rng.integers(0, 60, size=int(rng.integers(0, 25))):
            copy[pos] = f"x{rng.integers(0, 10**6)}"
        texts += [" ".join(base), " ".join(copy)]
    sh = shingle(texts, ngram=3)
    sig = signatures(sh, num_perm=256, seed=5)
    pairs = np.arange(len(texts)).reshape(-1, 2)
    true = jaccard(sh, pairs)
    est = (sig[pairs[:, 0]] == sig[pairs[:, 1]]).mean(axis=1)
    err = est - true
    expected_sd = np.sqrt(np.mean(true * (1 - true)) / 256)
    assert abs(err.mean()) < 3 * expected_sd / np.sqrt(len(err)) + 1e-3
    assert err.std() < 1.3 * expected_sd


def test_signature_of_a_text_does_not_depend_on_its_batch():
    texts = [LONG, "something else entirely here", LONG.replace("tuesday", "friday")]
    alone = signatures(shingle([texts[2]]), num_perm=64, seed=9)
    together = signatures(shingle(texts), num_perm=64, seed=9, batch_shingles=8)
    assert np.array_equal(alone[0], together[2])
    assert not np.array_equal(signatures(shingle([texts[2]]), num_perm=64, seed=10)[0], alone[0])


def test_lsh_buckets_are_bounded_but_connected():
    sig = np.zeros((200, 8), dtype=np.uint32)             # 200 identical signatures
    pairs = lsh_candidates(sig, 2, 4, np.arange(200), max_bucket=5)
    assert len(pairs) < 200 * 5                           # not 200*199/2
    parent = list(range(200))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in pairs.tolist():
        parent[find(a)] = find(b)
    assert len({find(x) for x in range(200)}) == 1


def test_near_duplicates_found_and_near_misses_survive():
    texts = normalize_texts([
        LONG,
        LONG.replace("tuesday", "wednesday"),                          # one word changed
        LONG + " today",                                               # appended word
        "Order 48213 for Alice Smith ships Monday from the Leeds warehouse by courier",
        "Order 99107 for Bruno Costa ships Friday from the Turin warehouse by courier",  # template
        "completely unrelated text about the weather in spring and summer",
    ], punctuation_blind=True)
    i, j, s, info = minhash_edges(texts, threshold=0.5, num_perm=128, ngram=3, seed=1)
    pairs = {(a, b) for a, b in zip(i.tolist(), j.tolist())}
    assert pairs == {(0, 1), (0, 2), (1, 2)}
    assert np.all(s >= 0.5) and info["bands"] * info["rows"] <= 128
    # the reported score is the true Jaccard
    sh = shingle(texts, ngram=3)
    assert np.allclose(s, jaccard(sh, np.stack([i, j], axis=1)))


def test_char_ngrams_catch_typos_that_break_word_ngrams():
    a = "the patient cohort showed reduced inflammation after treatment"
    b = "teh patinet cohort shwoed reduced inflamation after treatmnet"
    texts = normalize_texts([a, b], punctuation_blind=True)
    assert len(minhash_edges(texts, threshold=0.5, ngram=3, unit="word")[0]) == 0
    assert len(minhash_edges(texts, threshold=0.5, ngram=3, unit="char")[0]) == 1


def test_reference_pairs_skipped_and_candidates_respected():
    texts = [LONG, LONG + " again", LONG + " once more", "other words entirely for this one"]
    ref = np.array([True, True, False, False])
    i, j, _, _ = minhash_edges(texts, threshold=0.5, reference=ref)
    assert {(a, b) for a, b in zip(i.tolist(), j.tolist())} == {(0, 2), (1, 2)}
    i, j, _, _ = minhash_edges(texts, threshold=0.5, candidates=np.array([1, 2, 3]))
    assert {(a, b) for a, b in zip(i.tolist(), j.tolist())} == {(1, 2)}


def test_reproducible_with_seed():
    rng = np.random.default_rng(0)
    base = [" ".join(_words(rng, 12, vocab=50)) for _ in range(400)]
    base += [t + " end" for t in base[:100]]
    runs = [minhash_edges(base, threshold=0.4, seed=s) for s in (4, 4)]
    assert all(np.array_equal(x, y) for x, y in zip(runs[0][:3], runs[1][:3]))
    assert len(runs[0][0]) > 0


def test_sketch_computed_elsewhere_gives_the_same_edges():
    """minhash_edges with ``sketch`` (shingles and band keys made outside, e.g. on Ray) finds the
    same edges as computing them in place; the sketch sees only the candidate texts."""
    from catalog.dedup.minhash import minhash_edges, sketch_texts

    base = [f"the {w} order {i} arrived late and the box was damaged on the side" for i, w in
            enumerate(["blue", "red", "green", "small", "large"] * 8)]
    texts = base + [t.replace("late", "very late") for t in base[:15]] + ["", "one", "two words"]
    seen: list[int] = []

    def counting_sketch(sub, **kw):
        seen.append(len(sub))
        return sketch_texts(sub, **kw)

    candidates = np.arange(0, len(texts), 2)
    for cand in (None, candidates):
        want = minhash_edges(texts, threshold=0.5, candidates=cand)
        got = minhash_edges(texts, threshold=0.5, candidates=cand, sketch=counting_sketch)
        for a, b in zip(want[:3], got[:3]):
            assert np.array_equal(a, b)
        assert want[3] == got[3] and len(want[0]) > 0
    assert seen == [len(texts), len(candidates)]
