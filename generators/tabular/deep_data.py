"""Data layout shared by the deep models (TVAE, CTGAN).

Continuous columns get *mode-specific normalisation*: a variational (Dirichlet-process) Gaussian
mixture finds the column's modes; a value becomes the one-hot of its mode plus its offset from
that mode's mean in units of 4 standard deviations (``alpha`` in [-1, 1]). Discrete columns are
one-hot. :class:`ConditionSampler` draws the CTGAN conditional vector: a discrete column chosen
uniformly, then a category by log-frequency, and a real row having that category
(training-by-sampling), so rare categories are seen during training.
"""

from __future__ import annotations

import os

import numpy as np

MAX_MODES = 10
MODE_WEIGHT_FLOOR = 0.005


_THREADS: list[int] = []


def torch_threads() -> int:
    """Threads for torch: the machine's cores, or 1 when the machine is already busier than its core
    count (1-minute load average), where several spinning threads each run far slower than one
    (measured here: 1.1 s vs 12+ s per Adult TVAE epoch at load 12 on 2 cores). Decided once per
    process so every model in it computes the same way."""
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
                 scale: list[tuple[float, float]], weights: list[np.ndarray] | None = None) -> None:
        self.means, self.stds, self.levels, self.scale = means, stds, levels, scale
        self.weights = weights or [np.full(len(m), 1.0 / len(m)) for m in means]
        # spans: (start, width, kind) with kind "alpha" (tanh, width 1) or "softmax"
        self.spans: list[tuple[int, int, str]] = []
        pos = 0
        for m in means:
            self.spans += [(pos, 1, "alpha"), (pos + 1, len(m), "softmax")]
            pos += 1 + len(m)
        self.discrete_spans: list[tuple[int, int]] = []
        for k in levels:
            self.spans.append((pos, k, "softmax"))
            self.discrete_spans.append((pos, k))
            pos += k
        self.dim = pos

    @classmethod
    def fit(cls, cont: np.ndarray, levels: list[int], rng: np.random.Generator,
            max_rows: int = 5000) -> ModeNormalizer:
        from sklearn.mixture import BayesianGaussianMixture

        means, stds, scale, weights = [], [], [], []
        for i in range(cont.shape[1]):
            x = cont[:, i]
            centre, spread = float(np.mean(x)), float(np.std(x)) or 1.0
            scale.append((centre, spread))
            x = (x - centre) / spread  # standardise so one prior fits every column
            sub = x if len(x) <= max_rows else rng.choice(x, max_rows, replace=False)
            n_modes = min(MAX_MODES, max(1, len(np.unique(sub))))
            bgm = BayesianGaussianMixture(n_components=n_modes, weight_concentration_prior_type="dirichlet_process",
                                          weight_concentration_prior=1e-3, max_iter=100, n_init=1,
                                          random_state=int(rng.integers(2**31)))
            bgm.fit(sub.reshape(-1, 1))
            keep = bgm.weights_ > MODE_WEIGHT_FLOOR
            if not keep.any():
                keep = bgm.weights_ == bgm.weights_.max()
            means.append(bgm.means_[keep, 0].astype(float))
            weights.append(bgm.weights_[keep] / bgm.weights_[keep].sum())
            stds.append(np.sqrt(bgm.covariances_[keep].reshape(-1)).astype(float).clip(1e-3))
        return cls(means, stds, levels, scale, weights)

    def transform(self, cont: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n = len(cont) if cont.size else len(codes)
        out = np.zeros((n, self.dim), dtype=np.float32)
        pos = 0
        for i, (mu, sd) in enumerate(zip(self.means, self.stds)):
            centre, spread = self.scale[i]
            x = ((cont[:, i] - centre) / spread)[:, None]
            logp = -0.5 * ((x - mu) / sd) ** 2 - np.log(sd) + np.log(self.weights[i] + 1e-12)  # mode posterior
            p = np.exp(logp - logp.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            mode = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
            out[:, pos] = np.clip((x[:, 0] - mu[mode]) / (4 * sd[mode]), -0.99, 0.99)
            out[np.arange(n), pos + 1 + mode] = 1.0
            pos += 1 + len(mu)
        for j, k in enumerate(self.levels):
            out[np.arange(n), pos + codes[:, j]] = 1.0
            pos += k
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
            cont[:, i] = (alpha * 4 * sd[mode] + mu[mode]) * spread + centre
            pos += 1 + len(mu)
        for j, k in enumerate(self.levels):
            codes[:, j] = data[:, pos:pos + k].argmax(axis=1)
            pos += k
        return cont, codes

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {f"mode_means_{i}": m for i, m in enumerate(self.means)}
        arrays.update({f"mode_stds_{i}": s for i, s in enumerate(self.stds)})
        arrays.update({f"mode_weights_{i}": w for i, w in enumerate(self.weights)})
        arrays["mode_scale"] = np.asarray(self.scale, dtype=float).reshape(-1, 2)
        return {"n_continuous": len(self.means), "levels": self.levels}, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> ModeNormalizer:
        n = meta["n_continuous"]
        scale = [tuple(map(float, row)) for row in arrays["mode_scale"][:n]]
        return cls([arrays[f"mode_means_{i}"] for i in range(n)], [arrays[f"mode_stds_{i}"] for i in range(n)],
                   list(meta["levels"]), scale, [arrays[f"mode_weights_{i}"] for i in range(n)])


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
