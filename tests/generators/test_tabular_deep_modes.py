"""The deep models' table layout and conditioning: spike modes for values with a large point mass,
and the TVAE conditioned on one column (a conditional VAE)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from catalog.errors import BadInput
from generators.tabular import load_synthesizer, make_synthesizer
from generators.tabular.deep_data import ModeNormalizer


def spiky_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.choice(["no", "yes", "rare"], n, p=[0.7, 0.27, 0.03])
    gain = np.where(rng.random(n) < 0.85, 0.0, np.round(rng.gamma(2.0, 3000.0, n)))
    gain[rng.random(n) < 0.05] = 99999.0  # a second spike at the maximum
    hours = np.where(rng.random(n) < 0.5, 40, np.clip(np.round(rng.normal(40, 12, n)), 1, 99)).astype(int)
    return pd.DataFrame({"gain": gain, "hours": hours, "label": label,
                         "age": np.where(label == "yes", 50, 30) + rng.integers(-5, 6, n)})


def test_spikes_get_exact_modes_and_come_back_exactly() -> None:
    df = spiky_table()
    cont = df[["gain", "hours"]].to_numpy(dtype=float)
    rng = np.random.default_rng(0)
    norm = ModeNormalizer.fit(cont, [], rng, spike_share=0.04)
    assert set(norm.spikes[0][np.isfinite(norm.spikes[0])]) == {0.0, 99999.0}
    assert 40.0 in set(norm.spikes[1][np.isfinite(norm.spikes[1])])
    data = norm.transform(cont, np.zeros((len(df), 0), dtype=np.int64), rng)
    back, _ = norm.inverse(data, np.full(norm.dim, 0.5), rng)  # noise on alpha must not move a spike
    at_spike = np.isin(cont[:, 0], [0.0, 99999.0])
    assert np.array_equal(back[at_spike, 0], cont[at_spike, 0])
    assert np.array_equal(back[cont[:, 1] == 40, 1], cont[cont[:, 1] == 40, 1])
    exact, _ = norm.inverse(data)
    assert np.allclose(exact, cont, rtol=0, atol=1e-6 * np.abs(cont).max())
    # spike_share >= 1 turns spikes off: only Gaussian modes
    plain = ModeNormalizer.fit(cont, [], np.random.default_rng(0), spike_share=1.0)
    assert not any(np.isfinite(s).any() for s in plain.spikes)


def test_normalizer_state_round_trip() -> None:
    cont = spiky_table()[["gain", "hours"]].to_numpy(dtype=float)
    norm = ModeNormalizer.fit(cont, [3], np.random.default_rng(1))
    meta, arrays = norm.to_state()
    again = ModeNormalizer.from_state(meta, arrays)
    assert again.dim == norm.dim and again.spike_positions[0][1].tolist() == norm.spike_positions[0][1].tolist()
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(again.spikes, norm.spikes))


@pytest.mark.slow
def test_tvae_reproduces_the_zero_spike() -> None:
    df = spiky_table(1500)
    synth = make_synthesizer("tvae", seed=2, epochs=40, batch_size=150).fit(df)
    out = synth.sample(3000, seed=1)
    assert abs((out["gain"] == 0).mean() - (df["gain"] == 0).mean()) < 0.06
    assert abs((out["hours"] == 40).mean() - (df["hours"] == 40).mean()) < 0.08
    assert ((out["gain"] == 99999) | (out["gain"] < 99999)).all()


@pytest.mark.slow
def test_conditional_tvae_samples_exactly_the_requested_class(tmp_path: Path) -> None:
    df = spiky_table()
    synth = make_synthesizer("tvae", seed=3, epochs=60, batch_size=60, condition_column="label").fit(df)
    free = synth.sample(3000, seed=1)["label"].value_counts(normalize=True)
    assert abs(free["no"] - 0.7) < 0.04 and abs(free["rare"] - 0.03) < 0.02  # drawn from the marginal
    rare = synth.sample(250, {"label": "rare"}, seed=2)
    assert len(rare) == 250 and (rare["label"] == "rare").all()
    yes, no = synth.sample(500, {"label": "yes"}, seed=3), synth.sample(500, {"label": "no"}, seed=3)
    assert yes["age"].mean() - no["age"].mean() > 10  # the decoder uses the condition (real gap 20)
    both = synth.sample(40, {"label": "yes", "hours": 40}, seed=4)
    assert (both["label"] == "yes").all() and (both["hours"] == 40).all()
    synth.save(tmp_path / "m")
    again = load_synthesizer(tmp_path / "m")
    pd.testing.assert_frame_equal(again.sample(100, seed=5), synth.sample(100, seed=5))
    pd.testing.assert_frame_equal(again.sample(30, {"label": "rare"}, seed=5),
                                  synth.sample(30, {"label": "rare"}, seed=5))


def test_condition_column_must_be_a_known_categorical() -> None:
    df = spiky_table(100)
    with pytest.raises(BadInput, match="categorical or boolean"):
        make_synthesizer("tvae", epochs=1, condition_column="gain").fit(df)
    with pytest.raises(BadInput, match="unknown column"):
        make_synthesizer("tvae", epochs=1, condition_column="nope").fit(df)
