"""Bias tables and TSTR/TRTR utility on small controlled tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catalog.evaluation._columns import resolve_columns
from catalog.evaluation.bias import bias
from catalog.evaluation.utility import utility


def test_skewed_group_share_shows_in_bias_table():
    # real: 50 women / 50 men, positive rate 20% / 40%; synthetic: 20 women / 80 men, 10% / 50%
    real = pd.DataFrame({"sex": ["F"] * 50 + ["M"] * 50,
                         "y": [1] * 10 + [0] * 40 + [1] * 20 + [0] * 30})
    synth = pd.DataFrame({"sex": ["F"] * 20 + ["M"] * 80,
                          "y": [1] * 2 + [0] * 18 + [1] * 40 + [0] * 40})
    cols = resolve_columns(real, synth, {"y": "categorical"})
    b = bias(real, synth, cols, ["sex"], "y", positive_label=1)
    table = b["columns"]["sex"]
    groups = {g["group"]: g for g in table["groups"]}
    assert groups["F"]["real_share"] == 0.5 and groups["F"]["synthetic_share"] == 0.2
    assert groups["F"]["share_difference"] == pytest.approx(-0.3)
    assert groups["M"]["share_difference"] == pytest.approx(0.3)
    assert table["max_abs_share_difference"] == pytest.approx(0.3)
    assert groups["F"]["real_target_rate"] == pytest.approx(0.2)
    assert groups["F"]["synthetic_target_rate"] == pytest.approx(0.1)
    dpd = table["demographic_parity_difference"]
    assert dpd["real"] == pytest.approx(0.2)
    assert dpd["synthetic"] == pytest.approx(0.4)
    assert dpd["amplification"] == pytest.approx(0.2)


def test_bias_picks_rarer_class_and_bins_numeric_groups():
    rng = np.random.default_rng(0)
    age = rng.integers(20, 70, 400)
    real = pd.DataFrame({"age": age, "income": np.where(age > 45, ">50K", "<=50K")})
    cols = resolve_columns(real, real)
    b = bias(real, real.copy(), cols, ["age"], "income")
    rarer = real["income"].value_counts().idxmin()
    assert b["positive_label"] == rarer
    table = b["columns"]["age"]
    assert len(table["groups"]) == 4
    assert all(g["share_difference"] == 0 for g in table["groups"])
    assert table["demographic_parity_difference"]["amplification"] == pytest.approx(0.0)


def _task(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["r", "g", "b"], size=n)
    logit = 2 * x1 - x2 + (colour == "r") * 1.5
    return pd.DataFrame({"x1": x1, "x2": x2, "colour": colour,
                         "label": np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no"),
                         "amount": 3 * x1 + x2 + rng.normal(scale=0.1, size=n)})


def test_utility_good_synthetic_close_to_real_and_shuffled_labels_near_chance():
    real, holdout, synth = (_task(n, s).drop(columns="amount") for n, s in ((1500, 0), (800, 1), (1500, 2)))
    cols = resolve_columns(real, synth)
    u = utility(real, synth, holdout, "label", cols, seed=0, max_iter=50)
    assert u["task"] == "classification"
    assert u["positive_label"] in ("yes", "no")
    assert u["metrics"]["trtr"]["roc_auc"] > 0.8
    assert u["ratio"]["roc_auc"] > 0.95
    shuffled = synth.assign(label=synth["label"].sample(frac=1, random_state=0).to_numpy())
    bad = utility(real, shuffled, holdout, "label", cols, seed=0, max_iter=50)
    assert bad["metrics"]["tstr"]["roc_auc"] < 0.65
    assert bad["ratio"]["roc_auc"] < 0.8


def test_utility_regression_reports_r2():
    real, holdout, synth = (_task(n, s).drop(columns="label") for n, s in ((800, 3), (400, 4), (800, 5)))
    cols = resolve_columns(real, synth)
    u = utility(real, synth, holdout, "amount", cols, seed=0, max_iter=50)
    assert u["task"] == "regression"
    assert u["metrics"]["trtr"]["r2"] > 0.9
    assert u["metrics"]["tstr"]["r2"] > 0.9


def test_utility_ignores_a_feature_with_no_values():
    real, holdout, synth = (_task(n, s).drop(columns="amount") for n, s in ((600, 6), (300, 7), (600, 8)))
    for df in (real, holdout, synth):
        df["empty"] = np.nan
    cols = resolve_columns(real, synth)
    u = utility(real, synth, holdout, "label", cols, seed=0, max_iter=30)
    assert "empty" in u["features"]
    assert u["metrics"]["tstr"]["roc_auc"] > 0.75
