"""Text metrics: lengths, distinct-n, pairwise cosine, novelty, copies and the PII scan."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.evaluation.pii import find_pii, luhn_ok, scan_texts
from catalog.evaluation.text import evaluate_texts, mean_pairwise_cosine, nearest_cosine

REAL = [
    "The cat sat on the mat and looked at the garden for a long while.",
    "A quick brown fox jumps over the lazy dog near the river bank today.",
    "Researchers measured the boiling point of water at high altitude in Peru.",
    "Tea is grown on steep hillsides where the rain falls almost every afternoon.",
]


def test_distinct_n_and_lengths_hand_computed():
    r = evaluate_texts(["a b c d"], ["a a a a", "b b"])
    # synthetic words: a a a a b b -> 2 distinct of 6; bigrams: (a,a)x3, (b,b) -> 2 distinct of 4
    assert r["diversity"]["synthetic"]["distinct_1"] == pytest.approx(2 / 6)
    assert r["diversity"]["synthetic"]["distinct_2"] == pytest.approx(2 / 4)
    assert r["diversity"]["real"]["distinct_1"] == 1.0
    assert r["lengths"]["words"]["synthetic"]["mean"] == 3.0
    assert r["lengths"]["words"]["real"]["mean"] == 4.0
    assert r["diversity"]["synthetic"]["mean_pairwise_cosine"] is None
    assert "no embeddings" in r["diversity"]["note"]


def test_mean_pairwise_cosine_matches_all_pairs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sims = x @ x.T
    brute = (sims.sum() - np.trace(sims)) / (40 * 39)
    assert mean_pairwise_cosine(x) == pytest.approx(float(brute), abs=1e-6)
    q = x[:5] + 0.01
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    np.testing.assert_allclose(nearest_cosine(q, x), (q @ x.T).max(axis=1), rtol=1e-6)


def test_exact_and_near_copies_are_flagged():
    synth = [
        "the  CAT sat on the mat and looked at the garden for a long while.",   # exact after normalising
        "A quick brown fox jumps over the lazy dog near the river bank today!",  # punctuation only
        "Completely new sentence about volcanic soil and the coffee harvest season.",
    ]
    r = evaluate_texts(REAL, synth)
    assert r["novelty"]["exact_copies"] == 1
    assert r["novelty"]["near_copies"] == 2
    assert r["novelty"]["near_copy_share"] == pytest.approx(2 / 3)


def test_custom_near_duplicate_callable_and_given_embeddings():
    synth = ["x y z", "u v w"]
    real_emb = np.array([[1.0, 0.0], [0.0, 1.0]])
    synth_emb = np.array([[1.0, 0.05], [0.6, 0.8]])
    r = evaluate_texts(["p q r", "s t u"], synth, real_embeddings=real_emb, synth_embeddings=synth_emb,
                       near_duplicate=lambda s, real: [True, False])
    assert r["novelty"]["near_copies"] == 1
    # first synthetic vector has cosine ~0.9988 with [1, 0]; second 0.8 at best
    assert r["novelty"]["share_nn_cosine_at_least_threshold"] == pytest.approx(0.5)
    assert r["diversity"]["real"]["mean_pairwise_cosine"] == pytest.approx(0.0)


@pytest.mark.slow
def test_bundled_embedder_finds_paraphrase_close_and_new_text_far():
    from catalog.embedders import get_embedder

    embed = get_embedder().embed
    synth = ["The cat sat on the mat and looked at the garden for a long while.",
             "Quarterly revenue of the semiconductor firm rose by twelve percent."]
    r = evaluate_texts(REAL, synth, embed=embed)
    assert r["novelty"]["share_nn_cosine_at_least_threshold"] == pytest.approx(0.5)
    assert 0.0 < r["diversity"]["real"]["mean_pairwise_cosine"] < 0.5


def test_luhn_and_pii_kinds():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    text = ("Write to jane.roe@example.org or call +1 415 555 0132; card 4111-1111-1111-1111, "
            "not 1234 5678 9012 3456; SSN 078-05-1120; server 10.0.0.254 and fe80::1ff:fe23:4567:890a.")
    kinds = sorted(k for k, _ in find_pii(text))
    assert kinds == ["card_number", "email", "ip_address", "ip_address", "national_id", "phone"]
    assert find_pii("version 2.4 released in 2019, 300 units at 12.5% off") == []
    report = scan_texts([text, "nothing to see here", "mail a@b.co"], examples=1)
    assert report["texts_with_pii"] == 2
    assert report["by_kind"]["email"] == {"matches": 2, "texts": 2, "examples": ["jane.roe@example.org"]}
    assert report["by_kind"]["card_number"]["examples"] == ["4111-1111-1111-1111"]


def test_datasketch_fallback_agrees_with_default_near_copy_detector():
    from catalog.evaluation.text import _near_copies, _near_copies_datasketch

    synth = ["a quick brown fox jumps over the lazy dog near the river bank today",
             "an entirely different sentence about volcanic soil and coffee harvests",
             "researchers measured the boiling point of water at high altitude in peru"]
    expected = [True, False, True]
    assert list(_near_copies_datasketch(synth, REAL, 0.8, 1)) == expected
    assert list(_near_copies(synth, REAL, 0.8, 1)) == expected


def test_technical_codes_are_not_national_ids():
    assert find_pii("the CB1 antagonist SR141716A reduced intake") == []
    assert find_pii("NI number AB 12 34 56 C on the form") == [("national_id", "AB 12 34 56 C")]
