"""The copula space: every model column mapped to a standard-normal score, and back.

Continuous columns go through a marginal distribution chosen by fit (:func:`fit_marginal`): the
parametric candidates (normal, truncated normal, beta, gamma, uniform) are scored by the
Kolmogorov-Smirnov distance and one is kept when it is close (``KS <= parametric_ks``); otherwise
the column keeps its empirical quantile function. Values tied on an atom (e.g. the many zeros of a
capital-gain column) are spread uniformly over the atom's probability mass (a randomised
probability integral transform), so every score is a proper normal and the atom comes back exactly.

Discrete columns are never treated as integers: each category owns an interval of ``[0, 1]`` as
wide as its frequency; a row's score is a uniform draw inside its category's interval, and a score
decodes to the category whose interval holds ``Phi(z)``. Conditioning on a category is therefore a
truncation of the latent normal to that interval (see :func:`conditional_gaussian`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import special, stats

if TYPE_CHECKING:
    from scipy.stats._distn_infrastructure import rv_continuous_frozen  # what stats.norm(...) returns

EPS = 1e-6
_CANDIDATES = ("normal", "truncnorm", "beta", "gamma", "uniform")
_KNOTS = 2001


def phi(z: np.ndarray) -> np.ndarray:
    return special.ndtr(z)


def phi_inv(u: np.ndarray) -> np.ndarray:
    return special.ndtri(np.clip(u, EPS, 1 - EPS))


class Marginal:
    """A fitted univariate distribution with ``cdf`` and ``ppf`` (parametric or empirical)."""

    def __init__(self, kind: str, params: list[float], knots: np.ndarray | None = None) -> None:
        self.kind = kind
        self.params = [float(p) for p in params]
        self.knots = knots

    def _dist(self) -> rv_continuous_frozen:
        p = self.params
        if self.kind == "normal":
            return stats.norm(p[0], p[1])
        if self.kind == "truncnorm":
            return stats.truncnorm(p[0], p[1], loc=p[2], scale=p[3])
        if self.kind == "beta":
            return stats.beta(p[0], p[1], loc=p[2], scale=p[3])
        if self.kind == "gamma":
            return stats.gamma(p[0], loc=p[1], scale=p[2])
        return stats.uniform(p[0], p[1])

    def cdf(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "empirical":  # the middle of the flat stretch for an atom, else interpolated
            k, x = self._empirical_knots(), np.asarray(x, dtype=float)
            grid = np.linspace(0, 1, len(k))
            left = np.searchsorted(k, x, side="left")
            right = np.searchsorted(k, x, side="right")
            atom = (grid[np.clip(left, 0, len(k) - 1)] + grid[np.clip(right - 1, 0, len(k) - 1)]) / 2
            i = np.clip(left, 1, len(k) - 1)
            width = np.where(k[i] > k[i - 1], k[i] - k[i - 1], 1.0)
            inter = grid[i - 1] + (x - k[i - 1]) / width * (grid[i] - grid[i - 1])
            out = np.where(right > left, atom, inter)
            return np.clip(np.where(x < k[0], 0.0, np.where(x > k[-1], 1.0, out)), 0, 1)
        return self._dist().cdf(x)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        if self.kind == "empirical":
            knots = self._empirical_knots()
            return np.interp(u, np.linspace(0, 1, len(knots)), knots)
        return self._dist().ppf(np.clip(u, EPS, 1 - EPS))

    def _empirical_knots(self) -> np.ndarray:
        if self.knots is None:  # fitting stores them and from_state reads them back: a model file lost them
            raise ValueError("an empirical marginal without its knots")
        return self.knots

    def to_json(self) -> dict:
        return {"kind": self.kind, "params": self.params}


def fit_marginal(values: np.ndarray, method: str = "auto", parametric_ks: float = 0.02,
                 rng: np.random.Generator | None = None) -> Marginal:
    """Choose and fit a marginal for ``values`` (finite floats)."""
    rng = rng or np.random.default_rng(0)
    knots = np.quantile(values, np.linspace(0, 1, min(_KNOTS, max(len(values), 2))))
    empirical = Marginal("empirical", [], knots)
    if method == "empirical" or np.ptp(values) == 0:
        return empirical
    sample = values if len(values) <= 3000 else rng.choice(values, 3000, replace=False)
    names = _CANDIDATES if method == "auto" else (method,)
    best, best_ks = None, np.inf
    for name in names:
        try:
            marginal = _fit_parametric(name, sample)
        except (ValueError, RuntimeError, FloatingPointError):
            continue
        ks = stats.kstest(sample, marginal.cdf).statistic
        if np.isfinite(ks) and ks < best_ks:
            best, best_ks = marginal, ks
    if best is None:
        return empirical
    if method == "auto" and best_ks > parametric_ks:
        return empirical
    return best


def _fit_parametric(name: str, x: np.ndarray) -> Marginal:
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo
    if name == "normal":
        return Marginal("normal", [x.mean(), max(x.std(), 1e-9)])
    if name == "uniform":
        return Marginal("uniform", [lo, span])
    if name == "truncnorm":
        mu, sd = x.mean(), max(x.std(), 1e-9)
        return Marginal("truncnorm", [(lo - mu) / sd, (hi - mu) / sd, mu, sd])
    if name == "beta":
        loc, scale = lo - 1e-3 * span, span * 1.002
        a, b, _, _ = stats.beta.fit(x, floc=loc, fscale=scale)
        return Marginal("beta", [a, b, loc, scale])
    if name == "gamma":
        loc = lo - 1e-3 * span
        a, _, scale = stats.gamma.fit(x, floc=loc)
        return Marginal("gamma", [a, loc, scale])
    raise ValueError(f"unknown marginal '{name}'")


def randomised_pit(values: np.ndarray, marginal: Marginal, rng: np.random.Generator) -> np.ndarray:
    """Uniform scores of the training values; ties share their probability mass uniformly."""
    if marginal.kind != "empirical":
        return np.clip(marginal.cdf(values), EPS, 1 - EPS)
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, side="left")
    upto = np.searchsorted(ordered, values, side="right")
    u = (below + rng.random(len(values)) * (upto - below)) / len(values)
    return np.clip(u, EPS, 1 - EPS)


class LatentCodec:
    """Maps model matrices (continuous floats, category codes) to normal scores and back."""

    def __init__(self, marginals: list[Marginal], cum: list[np.ndarray], orders: list[np.ndarray]) -> None:
        self.marginals = marginals
        self.cum = cum  # per discrete column: [0, p1, p1+p2, ..., 1] in interval order
        self.orders = [np.asarray(o, dtype=np.int64) for o in orders]  # interval i holds code orders[i]
        self.position = [np.argsort(o) for o in self.orders]  # code -> interval

    @classmethod
    def fit(cls, cont: np.ndarray, codes: np.ndarray, n_levels: list[int], method: str,
            rng: np.random.Generator) -> tuple[LatentCodec, np.ndarray]:
        marginals = [fit_marginal(cont[:, i], method, rng=rng) for i in range(cont.shape[1])]
        u = np.empty((cont.shape[0], cont.shape[1] + codes.shape[1]))
        for i, m in enumerate(marginals):
            u[:, i] = randomised_pit(cont[:, i], m, rng)
        z_cont = phi_inv(u[:, :cont.shape[1]])
        cum, orders = [], []
        for j, k in enumerate(n_levels):
            freq = np.bincount(codes[:, j], minlength=k).astype(float)
            order = _category_order(codes[:, j], k, freq, z_cont)
            orders.append(order)
            cum.append(np.concatenate([[0.0], np.cumsum(freq[order] / freq.sum())]))
        codec = cls(marginals, cum, orders)
        for j, c in enumerate(cum):
            pos = codec.position[j][codes[:, j]]
            lo, hi = c[pos], c[pos + 1]
            u[:, cont.shape[1] + j] = lo + rng.random(len(lo)) * (hi - lo)
        return codec, phi_inv(u)

    def decode(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = phi(z)
        nc = len(self.marginals)
        cont = np.column_stack([m.ppf(u[:, i]) for i, m in enumerate(self.marginals)]) if nc else \
            np.zeros((len(z), 0))
        codes = np.zeros((len(z), len(self.cum)), dtype=np.int64)
        for j, c in enumerate(self.cum):
            pos = np.clip(np.searchsorted(c, u[:, nc + j], side="right") - 1, 0, len(c) - 2)
            codes[:, j] = self.orders[j][pos]
        return cont, codes

    def interval(self, j: int, code: int) -> tuple[float, float]:
        """Latent interval of category ``code`` of discrete column ``j``."""
        c, pos = self.cum[j], int(self.position[j][code])
        return float(phi_inv(np.array([c[pos]]))[0]), float(phi_inv(np.array([c[pos + 1]]))[0])

    def point(self, i: int, value: float) -> float:
        return float(phi_inv(np.atleast_1d(self.marginals[i].cdf(np.array([value]))))[0])

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {f"knots_{i}": m.knots for i, m in enumerate(self.marginals) if m.knots is not None}
        arrays.update({f"cum_{j}": c for j, c in enumerate(self.cum)})
        arrays.update({f"order_{j}": o for j, o in enumerate(self.orders)})
        return {"marginals": [m.to_json() for m in self.marginals], "n_discrete": len(self.cum)}, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> LatentCodec:
        marginals = [Marginal(m["kind"], m["params"], arrays.get(f"knots_{i}"))
                     for i, m in enumerate(meta["marginals"])]
        n = meta["n_discrete"]
        return cls(marginals, [arrays[f"cum_{j}"] for j in range(n)], [arrays[f"order_{j}"] for j in range(n)])


def _category_order(codes: np.ndarray, k: int, freq: np.ndarray, z_cont: np.ndarray) -> np.ndarray:
    """Order the categories by their mean score on the continuous column they explain best
    (largest correlation ratio), so the relation is monotone for the Gaussian; without continuous
    columns, by frequency."""
    if z_cont.shape[1] == 0 or k < 2:
        return np.argsort(-freq, kind="stable")
    counts = np.maximum(freq, 1)
    means = np.stack([np.bincount(codes, weights=z_cont[:, i], minlength=k) / counts
                      for i in range(z_cont.shape[1])])  # [continuous, category]
    total = z_cont.var(axis=0) * len(codes) + 1e-12
    eta = (freq * (means - z_cont.mean(axis=0)[:, None]) ** 2).sum(axis=1) / total
    return np.argsort(means[int(np.argmax(eta))], kind="stable")


def conditional_gaussian(mean: np.ndarray, cov: np.ndarray, n: int, rng: np.random.Generator,
                         points: dict[int, float], intervals: dict[int, tuple[float, float]]) -> np.ndarray:
    """Draw ``n`` rows of ``N(mean, cov)`` with some coordinates fixed (``points``) or truncated to
    an interval (``intervals``, drawn one after another from their conditional normals), and the
    rest from the exact conditional Gaussian given those."""
    d = len(mean)
    z = np.zeros((n, d))
    fixed: list[int] = []
    for i, v in points.items():
        z[:, i] = v
        fixed.append(i)
    for i, (lo, hi) in intervals.items():
        m, s = _conditional(mean, cov, z, fixed, [i])
        sd = float(np.sqrt(max(s[0, 0], 1e-12)))
        a, b = special.ndtr((lo - m[:, 0]) / sd), special.ndtr((hi - m[:, 0]) / sd)
        u = a + rng.random(n) * np.maximum(b - a, 0)
        draw = m[:, 0] + sd * special.ndtri(np.clip(u, 1e-12, 1 - 1e-12))
        z[:, i] = np.clip(draw, lo, hi)
        fixed.append(i)
    rest = [i for i in range(d) if i not in fixed]
    if rest:
        m, s = _conditional(mean, cov, z, fixed, rest)
        chol = np.linalg.cholesky(s + 1e-9 * np.eye(len(rest)))
        z[:, rest] = m + rng.standard_normal((n, len(rest))) @ chol.T
    return z


def _conditional(mean: np.ndarray, cov: np.ndarray, z: np.ndarray, fixed: list[int],
                 target: list[int]) -> tuple[np.ndarray, np.ndarray]:
    if not fixed:
        return np.tile(mean[target], (len(z), 1)), cov[np.ix_(target, target)]
    s_ff = cov[np.ix_(fixed, fixed)] + 1e-9 * np.eye(len(fixed))
    s_tf = cov[np.ix_(target, fixed)]
    gain = np.linalg.solve(s_ff, s_tf.T).T
    m = mean[target] + (z[:, fixed] - mean[fixed]) @ gain.T
    s = cov[np.ix_(target, target)] - gain @ s_tf.T
    return m, (s + s.T) / 2
