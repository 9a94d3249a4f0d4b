"""Quality score on small hand-computed cases (SDMetrics' definitions)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from catalog.evaluation.fidelity import quality_score

NO_THRESHOLDS = {"real_correlation_threshold": 0, "real_association_threshold": 0}


def mixed_table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "x": x,
        "y": 2 * x + rng.normal(size=n),
        "colour": np.where(x > 0, "red", rng.choice(["blue", "green"], size=n)),
        "flag": x + rng.normal(size=n) > 0,
        "when": pd.Timestamp("2024-01-01") + pd.to_timedelta((x * 30).round(), unit="D"),
    })


def test_identical_data_scores_one():
    df = mixed_table()
    q = quality_score(df, df.copy())
    assert q["overall"] == pytest.approx(1.0)
    assert q["column_shapes"] == pytest.approx(1.0)
    assert q["column_pair_trends"] == pytest.approx(1.0)
    assert all(v["score"] == pytest.approx(1.0) for v in q["per_column"].values())
    assert q["column_types"] == {"x": "numeric", "y": "numeric", "colour": "categorical",
                                 "flag": "boolean", "when": "datetime"}
    json.dumps(q, allow_nan=False)  # JSON-serialisable, no NaN


def test_disjoint_categories_score_zero():
    real = pd.DataFrame({"c": ["a", "b", "a", "b"], "d": ["u", "u", "v", "v"]})
    synth = pd.DataFrame({"c": ["x", "y", "x", "y"], "d": ["w", "w", "z", "z"]})
    q = quality_score(real, synth, **NO_THRESHOLDS)
    assert q["per_column"]["c"]["score"] == 0.0
    assert q["per_column"]["d"]["score"] == 0.0
    assert q["per_pair"]["c|d"]["score"] == 0.0
    assert q["overall"] == 0.0


def test_ks_and_tv_complement_hand_computed():
    # KS: real {1,2,3,4} vs synth {3,4,5,6}: the CDFs differ most at 2 (0.5 vs 0) -> D = 0.5
    # TV: real a,a,b,b vs synth a,b,b,b: |0.5-0.25| + |0.5-0.75| = 0.5 -> TVD 0.25
    real = pd.DataFrame({"n": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "b"]})
    synth = pd.DataFrame({"n": [3.0, 4.0, 5.0, 6.0], "c": ["a", "b", "b", "b"]})
    q = quality_score(real, synth, {"n": "numeric"})
    assert q["per_column"]["n"] == {"metric": "KSComplement", "type": "numeric", "score": 0.5}
    assert q["per_column"]["c"]["score"] == pytest.approx(0.75)
    assert q["column_shapes"] == pytest.approx(0.625)


def test_missing_values_are_dropped_for_shapes():
    real = pd.DataFrame({"n": [1.0, 2.0, np.nan, 3.0], "c": ["a", None, "b", "b"]})
    synth = pd.DataFrame({"n": [1.0, 2.0, 3.0, np.nan], "c": ["a", "b", "b", None]})
    q = quality_score(real, synth, {"n": "numeric"})
    assert q["per_column"]["n"]["score"] == 1.0
    # non-missing labels: real a,b,b vs synth a,b,b
    assert q["per_column"]["c"]["score"] == pytest.approx(1.0)


def test_correlation_similarity_opposite_signs():
    x = np.arange(20, dtype=float)
    real = pd.DataFrame({"a": x, "b": x})       # r = +1
    synth = pd.DataFrame({"a": x, "b": -x})     # r = -1
    q = quality_score(real, synth, {"a": "numeric", "b": "numeric"})
    pair = q["per_pair"]["a|b"]
    assert pair["metric"] == "CorrelationSimilarity"
    assert pair["real_correlation"] == pytest.approx(1.0)
    assert pair["synthetic_correlation"] == pytest.approx(-1.0)
    assert pair["score"] == pytest.approx(0.0)
    assert pair["counted"] is True


def test_constant_column_pair_is_undefined_and_left_out():
    real = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [5.0, 5.0, 5.0, 5.0]})
    q = quality_score(real, real.copy(), {"a": "numeric", "b": "numeric"})
    assert q["per_pair"]["a|b"]["score"] is None
    assert "constant" in q["per_pair"]["a|b"]["error"]
    assert q["column_pair_trends"] is None
    assert q["overall"] == pytest.approx(q["column_shapes"])


def test_mixed_pair_bins_each_table_on_its_own_range():
    # numeric 0..9 -> 10 equal-width bins of [0, 9]: 0..8 land in bins 1..9, the maximum 9 in bin 11.
    real = pd.DataFrame({"n": np.arange(10.0), "c": ["a"] * 5 + ["b"] * 5})
    # the synthetic table is the real one shifted by 100: binned on its own range it is identical
    synth = pd.DataFrame({"n": np.arange(10.0) + 100, "c": ["a"] * 5 + ["b"] * 5})
    q = quality_score(real, synth, {"n": "numeric"}, **NO_THRESHOLDS)
    assert q["per_pair"]["n|c"]["metric"] == "ContingencySimilarity"
    assert q["per_pair"]["n|c"]["score"] == pytest.approx(1.0)
    # swapping the labels of the two halves: every joint cell moves -> TVD 1
    flipped = synth.assign(c=["b"] * 5 + ["a"] * 5)
    assert quality_score(real, flipped, {"n": "numeric"}, **NO_THRESHOLDS)["per_pair"]["n|c"]["score"] == 0.0
    # KS on the raw values still sees the shift
    assert q["per_column"]["n"]["score"] == 0.0


def test_association_threshold_leaves_unrelated_pairs_out():
    rng = np.random.default_rng(3)
    n = 2000
    a = rng.choice(["p", "q"], size=n)
    real = pd.DataFrame({"a": a, "b": a, "noise": rng.choice(["u", "v"], size=n)})
    q = quality_score(real, real.sample(frac=1.0, random_state=1).reset_index(drop=True))
    assert q["per_pair"]["a|b"]["counted"] is True            # Cramér's V = 1
    assert q["per_pair"]["a|noise"]["counted"] is False       # V near 0 < 0.3
    assert q["per_pair"]["a|noise"]["real_association"] < 0.1
    counted = [v["score"] for v in q["per_pair"].values() if v["counted"]]
    assert q["column_pair_trends"] == pytest.approx(sum(counted) / len(counted))


def test_id_and_text_columns_are_skipped():
    n = 50
    real = pd.DataFrame({"customer_id": np.arange(n), "v": np.linspace(0, 1, n),
                         "note": [f"free text number {i} with several words in it" for i in range(n)]})
    q = quality_score(real, real.copy())
    assert q["column_types"]["customer_id"] == "id"
    assert q["column_types"]["note"] == "text"
    assert set(q["per_column"]) == {"v"}
    assert q["per_pair"] == {}
    assert not math.isnan(q["overall"])


def test_cramers_v_matches_scipy_and_high_cardinality_pairs_stay_small():
    from scipy.stats.contingency import association

    from catalog.evaluation.fidelity import contingency_similarity, cramers_v

    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, 1000)
    b = (a + rng.integers(0, 3, 1000)) % 7
    table = np.zeros((5, 7), dtype=np.int64)
    np.add.at(table, (a, b), 1)
    assert cramers_v(a, b, 5, 7) == pytest.approx(association(table, method="cramer"))
    # two columns with 200k possible labels each: a dense joint table would hold 4e10 cells
    big_a, big_b = rng.integers(0, 200_000, 20_000), rng.integers(0, 200_000, 20_000)
    assert contingency_similarity(big_a, big_b, big_a.copy(), big_b.copy(), 200_000, 200_000) == 1.0
    shifted = contingency_similarity(big_a, big_b, big_a[::-1].copy(), big_b.copy(), 200_000, 200_000)
    assert shifted < 0.01
