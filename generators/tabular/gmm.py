"""Gaussian mixture on the copula scores, with the number of components chosen by BIC.

The table is encoded exactly as for the copula (marginals + category intervals, see
:mod:`generators.tabular.latent`), then a full-covariance Gaussian mixture is fitted to the normal
scores, which captures multi-modal and non-linear dependence a single Gaussian cannot. Conditional
sampling picks each row's component by its posterior weight given the conditions, then draws from
that component's conditional Gaussian (category conditions truncate the latent coordinate).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from catalog.errors import BadInput
from generators.tabular.base import Progress, Synthesizer
from generators.tabular.copula import latent_conditions
from generators.tabular.latent import LatentCodec, conditional_gaussian
from generators.tabular.registry import register_synthesizer


@register_synthesizer
class GMMSynthesizer(Synthesizer):
    method = "gmm"
    native_conditions = True

    @classmethod
    def default_params(cls) -> dict:
        return {"marginals": "auto", "max_components": 16, "max_fit_rows": 6000}

    def _fit_encoded(self, cont: np.ndarray, codes: np.ndarray, rng: np.random.Generator,
                     progress: Progress | None) -> None:
        from sklearn.mixture import GaussianMixture

        levels = [m.n_levels for m in self._fitted().discrete]
        self.codec, z = LatentCodec.fit(cont, codes, levels, str(self.params["marginals"]), rng)
        if len(z) > int(self.params["max_fit_rows"]):
            z = z[rng.choice(len(z), int(self.params["max_fit_rows"]), replace=False)]
        max_k = max(1, min(int(self.params["max_components"]), len(z) // max(z.shape[1] + 1, 2)))
        best, best_bic, worse, bics = None, np.inf, 0, {}
        candidates = [k for k in (1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32) if k <= max_k] or [1]
        for k in candidates:
            gm = GaussianMixture(k, covariance_type="full", reg_covar=1e-4, max_iter=100,
                                 random_state=int(rng.integers(2**31))).fit(z)
            bics[k] = float(gm.bic(z))
            if progress:
                progress({"step": "components", "components": k, "bic": bics[k], "total": max_k})
            if bics[k] < best_bic:
                best, best_bic, worse = gm, bics[k], 0
            else:
                worse += 1
                if worse >= 2:  # BIC rose twice in a row: more components will not help
                    break
        if best is None:  # every BIC was NaN: no fit to keep
            raise BadInput("the Gaussian mixture could not be fitted to this table (its BIC was never finite)")
        self.weights = best.weights_
        self.means = best.means_
        self.covs = best.covariances_
        self.bics = bics

    def _sample_encoded(self, n: int, rng: np.random.Generator, cont_cond: dict[int, float],
                        disc_cond: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
        points, intervals = latent_conditions(self.codec, cont_cond, disc_cond)
        logw = np.log(self.weights)
        for k in range(len(self.weights)):
            mean, cov = self.means[k], self.covs[k]
            if points:
                idx = list(points)
                logw[k] += stats.multivariate_normal(mean[idx], cov[np.ix_(idx, idx)],
                                                     allow_singular=True).logpdf([points[i] for i in idx])
            for i, (lo, hi) in intervals.items():
                s = np.sqrt(cov[i, i])
                mass = special.ndtr((hi - mean[i]) / s) - special.ndtr((lo - mean[i]) / s)
                logw[k] += np.log(max(mass, 1e-300))
        w = np.exp(logw - logw.max())
        comp = rng.choice(len(w), size=n, p=w / w.sum())
        z = np.zeros((n, self.means.shape[1]))
        for k in np.unique(comp):
            rows = np.flatnonzero(comp == k)
            z[rows] = conditional_gaussian(self.means[k], self.covs[k], len(rows), rng, points, intervals)
        return self.codec.decode(z)

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta, arrays = self.codec.to_state()
        arrays.update({"weights": self.weights, "means": self.means, "covs": self.covs})
        return {"codec": meta, "components": len(self.weights)}, arrays

    def _set_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        self.codec = LatentCodec.from_state(meta["codec"], arrays)
        self.weights, self.means, self.covs = arrays["weights"], arrays["means"], arrays["covs"]
