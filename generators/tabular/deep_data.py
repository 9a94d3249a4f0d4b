"""Data layout shared by the deep models (TVAE, CTGAN).

Continuous columns get *mode-specific normalisation*: a variational (Dirichlet-process) Gaussian
mixture finds the column's modes; a value becomes the one-hot of its mode plus its offset from
that mode's mean in units of 4 standard deviations (``alpha`` in [-1, 1]). A value that carries a
large share of the column on its own (the zeros of a capital-gain column, the 40 of an hours-per-week
column: ``spike_share`` or more of the rows) becomes a *spike mode* of its own, with standard deviation
0 and ``alpha`` fixed at 0, so it comes back exactly; the Gaussian modes are fitted to the other values
only. Discrete columns are one-hot. :class:`ConditionSampler` draws the CTGAN conditional vector: a
discrete column chosen uniformly, then a category by log-frequency, and a real row having that
category (training-by-sampling), so rare categories are seen during training.
"""

from __future__ import annotations

import os

import numpy as np

MAX_MODES = 10
MAX_SPIKES = 10
MODE_WEIGHT_FLOOR = 0.005
SPIKE_SHARE = 0.05


_THREADS: list[int] = []


def torch_threads() -> int:
    """Threads for torch: the machine's cores, or 1 when the machine is already busier than its core
    count (1-minute load average), where several spinning threads each run far slower than one
    (measured here: 1.1 s vs 12+ s per Adult TVAE epoch at load 12 on 2 cores). Decided once per
    process so every model in it computes the same way. ``SYNTHCAT_TORCH_THREADS=N`` sets it."""
    if not _THREADS and os.environ.get("SYNTHCAT_TORCH_THREADS", "").strip().isdigit():
        _THREADS.append(max(1, int(os.environ["SYNTHCAT_TORCH_THREADS"])))
    if not _THREADS:
        cores = max(1, os.cpu_count() or 1)
        busy = hasattr(os, "getloadavg") and os.getloadavg()[0] >= cores
        _THREADS.append(1 if busy else cores)
    return _THREADS[0]


def set_torch_threads() -> None:
    import torch

    if torch.get_num_threads() != torch_threads():
        torch.set_num_threads(torch_threads())


class ModeNormalizer:
    """Encode (continuous floats, codes) into the network's vector and back."""

    def __init__(self, means: list[np.ndarray], stds: list[np.ndarray], levels: list[int],
                 scale: list[tuple[float, float]], weights: list[np.ndarray] | None = None,
                 spikes: list[np.ndarray] | None = None) -> None:
        self.means, self.stds, self.levels, self.scale = means, stds, levels, scale
        self.weights = weights or [np.full(len(m), 1.0 / len(m)) for m in means]
        # per column and mode: the exact value of a spike mode, NaN for a Gaussian mode
        self.spikes = spikes or [np.full(len(m), np.nan) for m in means]
        # spans: (start, width, kind) with kind "alpha" (tanh, width 1) or "softmax"
        self.spans: list[tuple[int, int, str]] = []
        self.spike_positions: list[tuple[int, np.ndarray]] = []  # (alpha position, its spike modes' positions)
        pos = 0
        for m, sp in zip(means, self.spikes):
            self.spans += [(pos, 1, "alpha"), (pos + 1, len(m), "softmax")]
            self.spike_positions.append((pos, pos + 1 + np.flatnonzero(np.isfinite(sp))))
            pos += 1 + len(m)
        self.discrete_spans: list[tuple[int, int]] = []
        for k in levels:
            self.spans.append((pos, k, "softmax"))
            self.discrete_spans.append((pos, k))
            pos += k
        self.dim = pos

    @classmethod
    def fit(cls, cont: np.ndarray, levels: list[int], rng: np.random.Generator,
            max_rows: int = 5000, spike_share: float = SPIKE_SHARE) -> ModeNormalizer:
        """``spike_share``: a value held by at least this share of the rows gets a spike mode
        (at most MAX_SPIKES per column, largest first); 1 or more turns spikes off."""
        means, stds, scale, weights, spikes = [], [], [], [], []
        for i in range(cont.shape[1]):
            x = cont[:, i]
            centre, spread = float(np.mean(x)), float(np.std(x)) or 1.0
            scale.append((centre, spread))
            values, counts = np.unique(x, return_counts=True)
            big = np.argsort(-counts, kind="stable")[:MAX_SPIKES]
            big = big[counts[big] >= spike_share * len(x)] if spike_share < 1 else big[:0]
            spike_values = values[big].astype(float)
            spike_weights = counts[big] / len(x)
            rest = x[~np.isin(x, spike_values)] if len(spike_values) else x
            mu, sd, w = _gaussian_modes((rest - centre) / spread, rng, max_rows)  # standardised units
            w = w * (1.0 - spike_weights.sum())
            means.append(np.concatenate([(spike_values - centre) / spread, mu]))
            stds.append(np.concatenate([np.zeros(len(spike_values)), sd]))
            weights.append(np.concatenate([spike_weights, w]))
            spikes.append(np.concatenate([spike_values, np.full(len(mu), np.nan)]))
        return cls(means, stds, levels, scale, weights, spikes)

    def transform(self, cont: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n = len(cont) if cont.size else len(codes)
        out = np.zeros((n, self.dim), dtype=np.float32)
        pos = 0
        for i, (mu, sd) in enumerate(zip(self.means, self.stds)):
            centre, spread = self.scale[i]
            spike = np.isfinite(self.spikes[i])
            gauss = np.flatnonzero(~spike)
            mode = np.full(n, -1)
            for k in np.flatnonzero(spike):
                mode[cont[:, i] == self.spikes[i][k]] = k
            rows = np.flatnonzero(mode < 0)
            if len(rows) and len(gauss):  # sample each remaining value's mode from its posterior
                x = ((cont[rows, i] - centre) / spread)[:, None]
                m, s = mu[gauss], sd[gauss]
                logp = -0.5 * ((x - m) / s) ** 2 - np.log(s) + np.log(self.weights[i][gauss] + 1e-12)
                p = np.exp(logp - logp.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                pick = gauss[(p.cumsum(axis=1) > rng.random((len(rows), 1))).argmax(axis=1)]
                mode[rows] = pick
                out[rows, pos] = np.clip((x[:, 0] - mu[pick]) / (4 * sd[pick]), -0.99, 0.99)
            elif len(rows):  # a value that is no spike, in a column of spikes only: the nearest one
                x = (cont[rows, i] - centre) / spread
                mode[rows] = np.abs(x[:, None] - mu[None, :]).argmin(axis=1)
            out[np.arange(n), pos + 1 + mode] = 1.0
            pos += 1 + len(mu)
        for j, n_levels in enumerate(self.levels):  # (k above is a spike mode's index, of numpy's int type)
            out[np.arange(n), pos + codes[:, j]] = 1.0
            pos += n_levels
        return out

    def inverse(self, data: np.ndarray, sigmas: np.ndarray | None = None,
                rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        n = len(data)
        cont = np.zeros((n, len(self.means)))
        codes = np.zeros((n, len(self.levels)), dtype=np.int64)
        pos = 0
        for i, (mu, sd) in enumerate(zip(self.means, self.stds)):
            alpha = data[:, pos].astype(float)
            if sigmas is not None and rng is not None:
                alpha = alpha + rng.standard_normal(n) * float(sigmas[pos])
            alpha = np.clip(alpha, -1, 1)
            mode = data[:, pos + 1:pos + 1 + len(mu)].argmax(axis=1)
            centre, spread = self.scale[i]
            value = (alpha * 4 * sd[mode] + mu[mode]) * spread + centre
            exact = self.spikes[i][mode]
            cont[:, i] = np.where(np.isfinite(exact), exact, value)
            pos += 1 + len(mu)
        for j, k in enumerate(self.levels):
            codes[:, j] = data[:, pos:pos + k].argmax(axis=1)
            pos += k
        return cont, codes

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {f"mode_means_{i}": m for i, m in enumerate(self.means)}
        arrays.update({f"mode_stds_{i}": s for i, s in enumerate(self.stds)})
        arrays.update({f"mode_weights_{i}": w for i, w in enumerate(self.weights)})
        arrays.update({f"mode_spikes_{i}": s for i, s in enumerate(self.spikes)})
        arrays["mode_scale"] = np.asarray(self.scale, dtype=float).reshape(-1, 2)
        return {"n_continuous": len(self.means), "levels": self.levels}, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> ModeNormalizer:
        n = meta["n_continuous"]
        scale = [(float(centre), float(spread)) for centre, spread in arrays["mode_scale"][:n]]
        spikes = [arrays.get(f"mode_spikes_{i}", np.full(len(arrays[f"mode_means_{i}"]), np.nan))
                  for i in range(n)]
        return cls([arrays[f"mode_means_{i}"] for i in range(n)], [arrays[f"mode_stds_{i}"] for i in range(n)],
                   list(meta["levels"]), scale, [arrays[f"mode_weights_{i}"] for i in range(n)], spikes)


def _gaussian_modes(x: np.ndarray, rng: np.random.Generator, max_rows: int) -> tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray]:
    """(means, stds, weights) of a variational Dirichlet-process mixture of ``x`` (standardised)."""
    from sklearn.mixture import BayesianGaussianMixture

    if len(x) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    if len(np.unique(x)) < 2:
        return np.array([float(x[0])]), np.array([1e-3]), np.array([1.0])
    sub = x if len(x) <= max_rows else rng.choice(x, max_rows, replace=False)
    n_modes = min(MAX_MODES, max(1, len(np.unique(sub))))
    bgm = BayesianGaussianMixture(n_components=n_modes, weight_concentration_prior_type="dirichlet_process",
                                  weight_concentration_prior=1e-3, max_iter=100, n_init=1,
                                  random_state=int(rng.integers(2**31)))
    bgm.fit(sub.reshape(-1, 1))
    keep = bgm.weights_ > MODE_WEIGHT_FLOOR
    if not keep.any():
        keep = bgm.weights_ == bgm.weights_.max()
    return (bgm.means_[keep, 0].astype(float), np.sqrt(bgm.covariances_[keep].reshape(-1)).astype(float).clip(1e-3),
            bgm.weights_[keep] / bgm.weights_[keep].sum())


class ConditionSampler:
    """CTGAN's conditional vector with training-by-sampling."""

    def __init__(self, codes: np.ndarray, levels: list[int]) -> None:
        self.levels = levels
        self.offsets = np.concatenate([[0], np.cumsum(levels)]).astype(int)
        self.dim = int(self.offsets[-1])
        self.freq = [np.bincount(codes[:, j], minlength=k) / len(codes) for j, k in enumerate(levels)]
        self.log_freq = [np.log1p(np.bincount(codes[:, j], minlength=k)) for j, k in enumerate(levels)]
        self.log_freq = [f / f.sum() for f in self.log_freq]
        self.rows = [[np.flatnonzero(codes[:, j] == c) for c in range(k)] for j, k in enumerate(levels)]

    def train_batch(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                      np.ndarray]:
        """(cond vectors, chosen column, chosen category, index of a real row with that category)."""
        cols = rng.integers(len(self.levels), size=n)
        cats = np.array([rng.choice(self.levels[c], p=self.log_freq[c]) for c in cols])
        cond = np.zeros((n, self.dim), dtype=np.float32)
        cond[np.arange(n), self.offsets[cols] + cats] = 1.0
        rows = np.array([rng.choice(self.rows[c][k]) if len(self.rows[c][k]) else rng.integers(1)
                         for c, k in zip(cols, cats)])
        return cond, cols, cats, rows

    def sample_cond(self, n: int, rng: np.random.Generator, fixed: tuple[int, int] | None = None) -> np.ndarray:
        """Conditional vectors for generation: real frequencies, or one fixed (column, category)."""
        cond = np.zeros((n, self.dim), dtype=np.float32)
        if fixed is not None:
            cond[:, self.offsets[fixed[0]] + fixed[1]] = 1.0
            return cond
        cols = rng.integers(len(self.levels), size=n)
        cats = np.array([rng.choice(self.levels[c], p=self.freq[c]) for c in cols])
        cond[np.arange(n), self.offsets[cols] + cats] = 1.0
        return cond
