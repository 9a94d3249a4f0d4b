"""Each synthesizer on a small mixed table: columns, dtypes, bounds, missing values, conditions,
balance, save -> load -> identical rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generators.tabular import load_synthesizer, make_synthesizer

FAST = {"copula": {}, "gmm": {"max_components": 4}}
DEEP = {"tvae": {"epochs": 15, "batch_size": 100}, "ctgan": {"epochs": 2, "batch_size": 100}}
ALL = {**FAST, **DEEP}
ALL_PARAMS = [*FAST, *(pytest.param(m, marks=pytest.mark.slow) for m in DEEP)]


def small_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["low", "high", "rare"], n, p=[0.6, 0.35, 0.05])
    base = np.where(group == "high", 70.0, 30.0) + rng.normal(0, 5, n)
    income = np.round(base * 1000 + rng.normal(0, 2000, n), 2)
    score = rng.normal(0, 1, n)
    score[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "customer_id": np.arange(1, n + 1),
        "age": np.clip(np.round(base), 18, 90).astype(int),
        "income": income,
        "score": score,
        "group": group,
        "member": rng.random(n) < 0.3,
        "city": pd.Series(rng.choice(["Oslo", "Lima", None], n, p=[0.5, 0.4, 0.1]), dtype=object),
        "joined": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
    })


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return small_table()


@pytest.fixture(scope="module")
def fitted(table: pd.DataFrame) -> dict:
    return {m: make_synthesizer(m, seed=3, **p).fit(table) for m, p in FAST.items()}


def _check_shape(real: pd.DataFrame, out: pd.DataFrame, n: int) -> None:
    assert list(out.columns) == list(real.columns) and len(out) == n
    for col in real.columns:
        if col == "city":  # an object column with None comes back as labels or None
            assert set(out[col].dropna()) <= {"Oslo", "Lima"}
            continue
        assert out[col].dtype == real[col].dtype, col
    assert out["age"].between(real["age"].min(), real["age"].max()).all()
    assert out["income"].dropna().between(real["income"].min(), real["income"].max()).all()
    assert np.allclose(out["income"], out["income"].round(2))
    assert set(out["group"]) <= {"low", "high", "rare"}
    assert out["joined"].between(real["joined"].min(), real["joined"].max()).all()
    assert out["customer_id"].is_unique and out["customer_id"].min() > real["customer_id"].max()


@pytest.mark.parametrize("method", list(FAST))
def test_fast_methods_fit_and_sample(fitted: dict, table: pd.DataFrame, method: str) -> None:
    out = fitted[method].sample(2000, seed=1)
    _check_shape(table, out, 2000)
    # missing values are modelled, not dropped or invented
    assert 0.05 < out["score"].isna().mean() < 0.15
    assert 0.05 < out["city"].isna().mean() < 0.15
    # the dependence between group and age survives
    means = out.groupby("group")["age"].mean()
    assert means["high"] - means["low"] > 12  # real gap ~40, independent columns would give 0
    # marginal frequencies are close
    freq = out["group"].value_counts(normalize=True)
    assert abs(freq["low"] - 0.6) < 0.06


@pytest.mark.slow
@pytest.mark.parametrize("method", list(DEEP))
def test_deep_methods_fit_and_sample(table: pd.DataFrame, method: str) -> None:
    seen = []
    synth = make_synthesizer(method, seed=3, **DEEP[method]).fit(table, progress=seen.append)
    assert [p["epoch"] for p in seen] == list(range(1, DEEP[method]["epochs"] + 1))
    assert all(np.isfinite(p["loss"]) for p in seen)
    _check_shape(table, synth.sample(300, seed=1), 300)


@pytest.mark.slow
def test_early_stopping_stops_before_the_epoch_budget(table: pd.DataFrame) -> None:
    seen = []
    make_synthesizer("tvae", seed=1, epochs=200, batch_size=200, patience=2, min_delta=0.5).fit(
        table, progress=seen.append)
    assert 3 <= len(seen) < 200


@pytest.mark.parametrize("method", ALL_PARAMS)
def test_save_load_reproduces_rows(table: pd.DataFrame, tmp_path: Path, method: str) -> None:
    synth = make_synthesizer(method, seed=5, **ALL[method]).fit(table)
    synth.save(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["arrays.npz", "synthesizer.json"]
    again = load_synthesizer(tmp_path / "model")
    pd.testing.assert_frame_equal(synth.sample(150, seed=9), again.sample(150, seed=9))
    pd.testing.assert_frame_equal(synth.sample(50, {"group": "high"}, seed=2),
                                  again.sample(50, {"group": "high"}, seed=2))
    assert not synth.sample(150, seed=9).equals(synth.sample(150, seed=10))


@pytest.mark.parametrize("method", ALL_PARAMS)
def test_conditions_are_exact_at_the_requested_count(table: pd.DataFrame, fitted: dict, method: str) -> None:
    synth = fitted.get(method) or make_synthesizer(method, seed=5, **ALL[method]).fit(table)
    out = synth.sample(120, conditions={"group": "high", "member": "True"}, seed=4)
    assert len(out) == 120 and (out["group"] == "high").all() and out["member"].all()
    assert synth.sample(30, conditions={"city": None}, seed=1)["city"].isna().all()
    assert (synth.sample(30, conditions={"age": 40}, seed=1)["age"] == 40).all()


@pytest.mark.parametrize("method", list(FAST))
def test_copula_conditions_shift_the_other_columns(fitted: dict, method: str) -> None:
    synth = fitted[method]
    high = synth.sample(1000, conditions={"group": "high"}, seed=1)["age"].mean()
    low = synth.sample(1000, conditions={"group": "low"}, seed=1)["age"].mean()
    assert high - low > 12  # conditioned through the Gaussian, not just relabelled (real gap ~40)
    rare = synth.sample(200, conditions={"group": "rare"}, seed=1)
    assert len(rare) == 200 and (rare["group"] == "rare").all()


def test_balance_equal_and_given_shares(fitted: dict) -> None:
    synth = fitted["copula"]
    out = synth.balance("group", 300, seed=1)
    assert out["group"].value_counts().to_dict() == {"low": 100, "high": 100, "rare": 100}
    assert out["customer_id"].is_unique
    out = synth.balance("group", 10, shares={"low": 0.7, "rare": 0.3}, seed=1)
    assert out["group"].value_counts().to_dict() == {"low": 7, "rare": 3}


def test_column_type_overrides_are_respected(table: pd.DataFrame) -> None:
    synth = make_synthesizer("copula", column_types={"age": "categorical"}).fit(table)
    out = synth.sample(500, seed=1)
    assert set(out["age"]) <= set(table["age"])
    assert synth.schema.by_name["age"].kind == "categorical"
