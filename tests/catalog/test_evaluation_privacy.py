"""Exact copies and distance to closest record on hand-computed cases; exact vs indexed search."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import catalog.evaluation.neighbours as neighbours
from catalog.evaluation._columns import resolve_columns
from catalog.evaluation.neighbours import encode, nearest
from catalog.evaluation.privacy import privacy


def table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(18, 90, n).astype(float),
        "income": rng.lognormal(10, 1, n),
        "city": rng.choice(["paris", "lyon", "nice", "lille"], n),
        "member": rng.random(n) < 0.3,
    })


def test_copied_row_is_caught_by_exact_copy_and_dcr():
    real = table(300, 0)
    synth = table(50, 1)
    synth.iloc[7] = real.iloc[42]
    cols = resolve_columns(real, synth)
    p = privacy(real, synth, cols)
    assert p["exact_copies"]["count"] == 1
    assert p["exact_copies"]["examples"] == [{"synthetic_row": 7, "real_row": 42}]
    assert p["dcr"]["min"] == 0.0
    assert p["dcr"]["zero_share"] == pytest.approx(1 / 50)
    assert p["dcr"]["method"] == "exact"


def test_dcr_hand_computed_gower():
    real = pd.DataFrame({"n": [0.0, 10.0], "c": ["a", "b"]})
    synth = pd.DataFrame({"n": [5.0, 10.0, 30.0, np.nan], "c": ["a", "a", "b", "b"]})
    cols = resolve_columns(real, synth, {"n": "numeric"})
    enc = encode({"real": real, "synthetic": synth}, cols)
    dist, idx, _ = nearest(enc["synthetic"], enc["real"])
    # row 0: to (0,a) -> (0.5 + 0)/2 = 0.25 ; to (10,b) -> (0.5 + 1)/2 -> nearest 0
    # row 1: to (10,b) -> (0 + 1)/2 = 0.5 ; to (0,a) -> (1 + 0)/2 = 0.5 -> 0.5
    # row 2: 30 is past the real range: the numeric distance is capped at 1 -> (1 + 0)/2 = 0.5 to (10,b)
    # row 3: missing vs present is 1 -> (1 + 0)/2 = 0.5 to (10,b)
    np.testing.assert_allclose(dist, [0.25, 0.5, 0.5, 0.5])
    assert idx[0] == 0 and idx[2] == 1 and idx[3] == 1


def test_near_copy_has_small_dcr_and_is_not_an_exact_copy():
    real = table(200, 2)
    synth = real.iloc[:10].copy()
    synth["income"] = synth["income"] * 1.0001
    p = privacy(real, synth, resolve_columns(real, synth))
    assert p["exact_copies"]["count"] == 0
    assert p["dcr"]["median"] < 1e-3
    assert p["baseline"]["random_median"] > 0.1
    assert p["baseline"]["median_ratio"] < 0.01


def test_chunked_search_matches_one_block(monkeypatch):
    real, synth = table(400, 3), table(120, 4)
    cols = resolve_columns(real, synth)
    enc = encode({"real": real, "synthetic": synth}, cols)
    dist_one, idx_one, _ = nearest(enc["synthetic"], enc["real"])
    monkeypatch.setattr(neighbours, "_CHUNK_CELLS", 1000)  # 2 query rows per block
    dist_chunked, idx_chunked, _ = nearest(enc["synthetic"], enc["real"])
    np.testing.assert_array_equal(dist_one, dist_chunked)
    np.testing.assert_array_equal(idx_one, idx_chunked)


def test_indexed_search_agrees_with_exact_search():
    real, synth = table(3000, 5), table(500, 6)
    cols = resolve_columns(real, synth)
    enc = encode({"real": real, "synthetic": synth}, cols)
    exact, _, m1 = nearest(enc["synthetic"], enc["real"])
    approx, _, m2 = nearest(enc["synthetic"], enc["real"], exact_limit=0)
    assert (m1, m2) == ("exact", "ivf-candidates+exact-rerank")
    assert np.all(approx >= exact - 1e-6)            # every reported distance is a real distance
    assert np.mean(np.isclose(approx, exact, atol=1e-6)) >= 0.98


def test_holdout_overfitting_share():
    real = table(400, 7)
    holdout = table(200, 8)
    copied = privacy(real, real.iloc[:100].copy(), resolve_columns(real, real), holdout, seed=1)
    # every synthetic row is a training row; the training side is subsampled to the holdout size,
    # so a copied row is strictly closer to training only when its original was kept (about half)
    assert copied["holdout"]["train_rows_used"] == 200
    assert copied["holdout"]["share_closer_to_train"] > 0.6
    fresh = privacy(real, table(300, 9), resolve_columns(real, real), holdout, seed=1)
    assert 0.35 < fresh["holdout"]["share_closer_to_train"] < 0.65
    assert fresh["holdout"]["score"] > copied["holdout"]["score"]


def test_privacy_is_reproducible_with_a_seed():
    real, synth = table(500, 10), table(400, 11)
    cols = resolve_columns(real, synth)
    a = privacy(real, synth, cols, seed=3, max_rows=100, exact_limit=0)
    b = privacy(real, synth, cols, seed=3, max_rows=100, exact_limit=0)
    a.pop("seconds"), b.pop("seconds")
    assert a == b
