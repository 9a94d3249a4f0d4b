"""Exact-stage normalisation, hashing and grouping."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from catalog.dedup.exact import exact_edges
from catalog.dedup.normalize import hash_texts, normalize_text, normalize_texts, text_hash


def test_nfkc_casefold_and_whitespace():
    assert normalize_text("ＡＢＣ ﬁle") == "abc file"          # full-width letters, ligature
    assert normalize_text("STRASSE") == normalize_text("Straße")  # casefold, not lower
    assert normalize_text("  a\t\tb \n c  ") == "a b c"
    assert normalize_text("a\u00a0b") == "a b"                   # no-break space is whitespace


def test_punctuation_only_ignored_when_asked():
    assert normalize_text("Hello, world!") != normalize_text("hello world")
    assert normalize_text("Hello, world!", punctuation_blind=True) == "hello world"
    # punctuation becomes a word boundary, it does not glue words together
    assert normalize_text("state-of-the-art", punctuation_blind=True) == "state of the art"
    assert normalize_text("«Quoted» — text…", punctuation_blind=True) == "quoted text"


def test_hashes_are_stable_and_sized():
    h = text_hash("hello world")
    assert h == text_hash("hello world") and 0 <= h < 2**64
    assert text_hash("hello world", bits=128) >= 0 and text_hash("hello world", bits=128) < 2**128
    assert text_hash("hello world") != text_hash("hello world!")
    assert hash_texts(["hello world", "x"]).tolist() == [text_hash("hello world"), text_hash("x")]


@given(st.lists(st.text(max_size=30), max_size=20))
def test_batch_normalisation_matches_single(texts):
    for blind in (False, True):
        assert normalize_texts(texts, punctuation_blind=blind) == \
            [normalize_text(t, punctuation_blind=blind) for t in texts]


def test_exact_edges_groups_and_ignores_empty():
    norm = normalize_texts(["A b", "x", "a  B", "", "  ", "a b", "y"])
    i, j = exact_edges(norm)
    pairs = sorted(zip(i.tolist(), j.tolist()))
    assert pairs == [(2, 0), (5, 0)]   # every copy linked to the first of its group
    # only the candidates take part
    i, j = exact_edges(norm, np.array([2, 5, 6]))
    assert sorted(zip(i.tolist(), j.tolist())) == [(5, 2)]


def test_exact_edges_no_match_among_distinct():
    i, j = exact_edges(normalize_texts([f"text number {k}" for k in range(500)]))
    assert len(i) == 0 and len(j) == 0
