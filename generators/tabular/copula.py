"""Gaussian copula: marginals chosen by fit, one correlation matrix of normal scores.

Conditional sampling is exact for the Gaussian part: fixed numbers become fixed latent scores,
requested categories become truncations of their latent coordinate to the category's interval,
and the other coordinates come from the conditional Gaussian (no rejection).
"""

from __future__ import annotations

import numpy as np

from generators.tabular.base import Progress, Synthesizer
from generators.tabular.latent import LatentCodec, conditional_gaussian
from generators.tabular.registry import register_synthesizer


@register_synthesizer
class CopulaSynthesizer(Synthesizer):
    method = "copula"
    native_conditions = True

    @classmethod
    def default_params(cls) -> dict:
        # marginals: "auto" (parametric when KS <= 0.02, else empirical), "empirical", or a family
        return {"marginals": "auto"}

    def _fit_encoded(self, cont: np.ndarray, codes: np.ndarray, rng: np.random.Generator,
                     progress: Progress | None) -> None:
        levels = [m.n_levels for m in self._fitted().discrete]
        self.codec, z = LatentCodec.fit(cont, codes, levels, str(self.params["marginals"]), rng)
        corr = np.corrcoef(z, rowvar=False) if z.shape[1] > 1 else np.ones((1, 1))
        corr = np.nan_to_num(np.atleast_2d(corr))
        np.fill_diagonal(corr, 1.0)
        self.corr = _nearest_pd(corr)
        if progress:
            progress({"step": "fit", "done": True})

    def _sample_encoded(self, n: int, rng: np.random.Generator, cont_cond: dict[int, float],
                        disc_cond: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
        points, intervals = latent_conditions(self.codec, cont_cond, disc_cond)
        z = conditional_gaussian(np.zeros(len(self.corr)), self.corr, n, rng, points, intervals)
        return self.codec.decode(z)

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta, arrays = self.codec.to_state()
        arrays["corr"] = self.corr
        return {"codec": meta}, arrays

    def _set_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        self.codec = LatentCodec.from_state(meta["codec"], arrays)
        self.corr = arrays["corr"]


def latent_conditions(codec: LatentCodec, cont_cond: dict[int, float],
                      disc_cond: dict[int, int]) -> tuple[dict[int, float], dict[int, tuple[float, float]]]:
    nc = len(codec.marginals)
    points = {i: codec.point(i, v) for i, v in cont_cond.items()}
    intervals = {nc + j: codec.interval(j, c) for j, c in disc_cond.items()}
    return points, intervals


def _nearest_pd(corr: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    vals, vecs = np.linalg.eigh((corr + corr.T) / 2)
    fixed = vecs @ np.diag(np.maximum(vals, floor)) @ vecs.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)
