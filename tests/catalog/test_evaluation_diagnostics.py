"""Boundary adherence, category adherence and missing-value rates on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catalog.evaluation.diagnostics import diagnostics


def test_adherence_and_missing_rates():
    real = pd.DataFrame({"n": [0.0, 4.0, 10.0, np.nan], "c": ["a", "b", "a", None]})
    synth = pd.DataFrame({"n": [-1.0, 5.0, 11.0, 10.0], "c": ["a", "z", None, "z"]})
    d = diagnostics(real, synth, {"n": "numeric"})
    n, c = d["per_column"]["n"], d["per_column"]["c"]
    assert n["boundary_adherence"] == pytest.approx(0.5)      # 5 and 10 inside [0, 10]; -1 and 11 not
    assert n["missing_real"] == 0.25 and n["missing_synthetic"] == 0.0
    assert c["category_adherence"] == pytest.approx(0.5)      # a and missing occur in real; z twice does not
    assert c["unseen_categories"] == ["z"]
    assert d["boundary_adherence"] == pytest.approx(0.5)
    assert d["category_adherence"] == pytest.approx(0.5)


def test_identical_tables_adhere_fully():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=100), "d": pd.Timestamp("2020-01-01")
                         + pd.to_timedelta(rng.integers(0, 100, 100), unit="D"), "k": rng.choice(["u", "v"], 100)})
    d = diagnostics(real, real.copy())
    assert d["boundary_adherence"] == 1.0 and d["category_adherence"] == 1.0
    assert d["per_column"]["d"]["type"] == "datetime"
