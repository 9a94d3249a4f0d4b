"""Statistical fidelity of a synthetic table: SDMetrics' quality score, same definitions, faster.

Column shapes (one score per column):

* numeric, integer and datetime columns: **KS complement** ``1 - D``, with ``D`` the two-sample
  Kolmogorov-Smirnov statistic of the non-missing values (datetimes as nanoseconds, values
  rounded to 14 decimals as SDMetrics does);
* categorical and boolean columns: **TV complement** ``1 - TVD`` of the category frequencies of
  the non-missing values, over the union of the categories of both tables.

Column pair trends (one score per pair of scored columns):

* two continuous columns: **correlation similarity** ``1 - |r_real - r_synth| / 2`` with Pearson's
  ``r`` on the rows where both values are present; undefined (skipped) when a column is constant;
* two discrete columns: **contingency similarity** ``1 - TVD`` of the joint frequency table, missing
  values counting as a category;
* a continuous and a discrete column: the same, after cutting the continuous column into 10
  equal-width bins spanning its own range (each table binned on its own range, missing values in
  a bin of their own, exactly as SDMetrics' QualityReport does).

``id`` and ``text`` columns are skipped. The column shapes score is the mean of the defined column
scores. As in SDMetrics 0.32's QualityReport, a pair counts towards the column pair trends score only
when the real data shows a relationship to keep: ``|r_real| > 0.5`` for correlation pairs and a real
Cramér's V above 0.3 for contingency pairs (both thresholds are parameters; 0 counts every pair).
Every pair's score is reported either way. The overall score is the mean of the two property scores.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from catalog.evaluation._columns import CONTINUOUS, Columns, as_float, codes, resolve_columns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: SDMetrics rounds continuous values to ``sys.float_info.dig - 1`` decimals before the KS test
_KS_DECIMALS = 14
_MIXED_BINS = 10
#: SDMetrics 0.32 QualityReport defaults
DEFAULT_CORRELATION_THRESHOLD = 0.5
DEFAULT_ASSOCIATION_THRESHOLD = 0.3


def quality_score(real: pd.DataFrame, synth: pd.DataFrame, column_types: dict[str, str] | None = None,
                  *, real_correlation_threshold: float = DEFAULT_CORRELATION_THRESHOLD,
                  real_association_threshold: float = DEFAULT_ASSOCIATION_THRESHOLD,
                  columns: Columns | None = None) -> dict:
    """Return SDMetrics-style quality scores of ``synth`` against ``real`` (JSON-serialisable).

    ``{"overall", "column_shapes", "column_pair_trends", "per_column": {col: {...}},
    "per_pair": {"a|b": {...}}, "column_types": {...}}``. Scores that are undefined (a constant
    column, no values) are ``None`` with an ``"error"`` saying why, and left out of the means.
    ``column_types`` overrides the detected type of named columns. Each pair carries
    ``"counted"``: whether it met the real-relationship threshold and entered the pair trends mean.
    ``columns`` (from :func:`~catalog.evaluation._columns.resolve_columns`) skips the type detection.
    """
    cols = columns or resolve_columns(real, synth, column_types)
    prepared = _prepare(real, synth, cols)
    per_column = column_shapes(prepared, cols)
    per_pair = column_pair_trends(prepared, cols, real_correlation_threshold, real_association_threshold)
    shapes = _mean(v["score"] for v in per_column.values())
    trends = _mean(v["score"] for v in per_pair.values() if v["counted"])
    overall = _mean([shapes, trends])
    return {
        "overall": overall,
        "column_shapes": shapes,
        "column_pair_trends": trends,
        "per_column": per_column,
        "per_pair": per_pair,
        "column_types": dict(cols.types),
        "thresholds": {"real_correlation": real_correlation_threshold,
                       "real_association": real_association_threshold},
    }


class _Prepared:
    """Per-column views computed once: float arrays for continuous columns, codes for discrete ones."""

    def __init__(self, real: pd.DataFrame, synth: pd.DataFrame, cols: Columns) -> None:
        self.real = real.rename(columns=str)
        self.synth = synth.rename(columns=str)
        self.num: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.cat: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
        self.missing_code: dict[str, int] = {}
        self.binned: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
        for name in cols.continuous:
            kind = cols.types[name]
            self.num[name] = (as_float(self.real[name], kind), as_float(self.synth[name], kind))
        for name in cols.discrete:
            r, s, labels = codes(self.real[name], self.synth[name], keep_missing=True)
            self.cat[name] = (r, s, len(labels))
            if labels and labels[-1] is None:
                self.missing_code[name] = len(labels) - 1

    def bins(self, name: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Equal-width bin index of a continuous column, each table on its own range."""
        if name not in self.binned:
            r, s = self.num[name]
            self.binned[name] = (_digitize_own_range(r), _digitize_own_range(s), _MIXED_BINS + 2)
        return self.binned[name]


def _prepare(real: pd.DataFrame, synth: pd.DataFrame, cols: Columns) -> _Prepared:
    return _Prepared(real, synth, cols)


def _digitize_own_range(values: np.ndarray) -> np.ndarray:
    import numpy as np

    present = values[~np.isnan(values)]
    if len(present) == 0:
        return np.full(len(values), _MIXED_BINS + 1, dtype=np.int64)
    edges = np.histogram_bin_edges(present, bins=_MIXED_BINS)
    # np.digitize puts NaN and values equal to the top edge past the last edge (index 11),
    # as SDMetrics' discretisation does
    return np.digitize(values, edges).astype(np.int64)


def column_shapes(prepared: _Prepared, cols: Columns) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for name in cols.scored:
        kind = cols.types[name]
        if kind in CONTINUOUS:
            r, s = prepared.num[name]
            score, error = ks_complement(r, s)
            out[name] = _entry("KSComplement", kind, score, error)
        else:
            r, s, n = prepared.cat[name]
            score, error = tv_complement(r, s, n, prepared.missing_code.get(name, -1))
            out[name] = _entry("TVComplement", kind, score, error)
    return out


def column_pair_trends(prepared: _Prepared, cols: Columns, correlation_threshold: float = 0.0,
                       association_threshold: float = 0.0) -> dict[str, dict]:
    out: dict[str, dict] = {}
    scored = cols.scored
    for i, a in enumerate(scored):
        for b in scored[i + 1:]:
            a_cont, b_cont = cols.types[a] in CONTINUOUS, cols.types[b] in CONTINUOUS
            key = f"{a}|{b}"
            if a_cont and b_cont:
                ra, sa = prepared.num[a]
                rb, sb = prepared.num[b]
                score, r_real, r_synth, error = correlation_similarity(ra, rb, sa, sb)
                entry = _entry("CorrelationSimilarity", None, score, error)
                entry.update(real_correlation=_num(r_real), synthetic_correlation=_num(r_synth))
                entry["counted"] = score is not None and (
                    correlation_threshold <= 0 or abs(r_real) > correlation_threshold)
            else:
                ra, sa, na = prepared.bins(a) if a_cont else prepared.cat[a]
                rb, sb, nb = prepared.bins(b) if b_cont else prepared.cat[b]
                score = contingency_similarity(ra, rb, sa, sb, na, nb)
                entry = _entry("ContingencySimilarity", None, score, None)
                if association_threshold > 0:
                    v = cramers_v(ra, rb, na, nb)
                    entry["real_association"] = _num(v)
                    entry["counted"] = not math.isnan(v) and v > association_threshold
                else:
                    entry["counted"] = True
            entry.pop("type")
            entry["columns"] = [a, b]
            out[key] = entry
    return out


def ks_complement(real: np.ndarray, synth: np.ndarray) -> tuple[float | None, str | None]:
    """``1 - D`` of the two-sample KS test on the non-missing values."""
    import numpy as np

    r = np.sort(np.round(real[~np.isnan(real)], _KS_DECIMALS))
    s = np.sort(np.round(synth[~np.isnan(synth)], _KS_DECIMALS))
    if len(r) == 0 or len(s) == 0:
        return None, "no non-missing values in the " + ("real" if len(r) == 0 else "synthetic") + " column"
    grid = np.concatenate([r, s])
    cdf_r = np.searchsorted(r, grid, side="right") / len(r)
    cdf_s = np.searchsorted(s, grid, side="right") / len(s)
    return float(1.0 - np.max(np.abs(cdf_r - cdf_s))), None


def tv_complement(real_codes: np.ndarray, synth_codes: np.ndarray, n_codes: int,
                  missing_code: int = -1) -> tuple[float | None, str | None]:
    """``1 - TVD`` of the label frequencies; codes below 0 and ``missing_code`` count as missing."""
    r = real_codes[(real_codes >= 0) & (real_codes != missing_code)]
    s = synth_codes[(synth_codes >= 0) & (synth_codes != missing_code)]
    if len(r) == 0 or len(s) == 0:
        return None, "no non-missing values in the " + ("real" if len(r) == 0 else "synthetic") + " column"
    import numpy as np

    p = np.bincount(r, minlength=n_codes) / len(r)
    q = np.bincount(s, minlength=n_codes) / len(s)
    return float(1.0 - 0.5 * np.abs(p - q).sum()), None


def correlation_similarity(real_a: np.ndarray, real_b: np.ndarray, synth_a: np.ndarray,
                           synth_b: np.ndarray) -> tuple[float | None, float, float, str | None]:
    """``1 - |r_real - r_synth| / 2`` with Pearson's r on the rows where both values are present."""
    for values, where in ((real_a, "real"), (real_b, "real"), (synth_a, "synthetic"), (synth_b, "synthetic")):
        if _constant(values):
            return None, math.nan, math.nan, f"a column of the {where} data is constant"
    r_real = _pearson(real_a, real_b)
    r_synth = _pearson(synth_a, synth_b)
    if math.isnan(r_real) or math.isnan(r_synth):
        return None, r_real, r_synth, "correlation undefined (too few rows with both values present)"
    return 1.0 - abs(r_real - r_synth) / 2.0, r_real, r_synth, None


def contingency_similarity(real_a: np.ndarray, real_b: np.ndarray, synth_a: np.ndarray, synth_b: np.ndarray,
                           n_a: int, n_b: int) -> float:
    """``1 - TVD`` of the joint frequency tables of two coded columns."""
    import numpy as np

    keys, n_keys = _joint_keys(np.concatenate([real_a, synth_a]), np.concatenate([real_b, synth_b]), n_a, n_b)
    p = np.bincount(keys[: len(real_a)], minlength=n_keys) / len(real_a)
    q = np.bincount(keys[len(real_a):], minlength=n_keys) / len(synth_a)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def cramers_v(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int) -> float:
    """Cramér's V (no continuity correction) of two coded columns; NaN when a side has one value.

    Past 4M possible cells it uses ``chi2 = n (sum_ij O_ij^2 / (R_i C_j) - 1)`` over the non-empty
    cells only, so two high-cardinality columns never need their full (mostly empty) table.
    """
    import numpy as np

    n = len(a)
    if n_a * n_b <= 4_000_000:
        table = np.bincount(a * n_b + b, minlength=n_a * n_b).reshape(n_a, n_b).astype(np.float64)
        table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
        if n == 0 or min(table.shape) < 2:
            return math.nan
        expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
        chi2 = float(((table - expected) ** 2 / expected).sum())
        return math.sqrt(chi2 / n / (min(table.shape) - 1))
    rows, a_idx = np.unique(a, return_inverse=True)
    cols, b_idx = np.unique(b, return_inverse=True)
    if n == 0 or min(len(rows), len(cols)) < 2:
        return math.nan
    row_tot = np.bincount(a_idx).astype(np.float64)
    col_tot = np.bincount(b_idx).astype(np.float64)
    cells, counts = np.unique(a_idx.astype(np.int64) * len(cols) + b_idx, return_counts=True)
    r, c = cells // len(cols), cells % len(cols)
    chi2 = n * (float(np.sum(counts.astype(np.float64) ** 2 / (row_tot[r] * col_tot[c]))) - 1.0)
    return math.sqrt(max(chi2, 0.0) / n / (min(len(rows), len(cols)) - 1))


def _joint_keys(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int) -> tuple[np.ndarray, int]:
    """One integer per (a, b) combination; compacted when the full grid would be large."""
    import numpy as np

    keys = a.astype(np.int64) * n_b + b
    if n_a * n_b <= 4_000_000:
        return keys, n_a * n_b
    uniq, inverse = np.unique(keys, return_inverse=True)
    return inverse, len(uniq)


def _constant(values: np.ndarray) -> bool:
    import numpy as np

    present = values[~np.isnan(values)]
    return len(present) > 0 and bool(np.all(present == present[0]))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    import numpy as np

    keep = ~(np.isnan(a) | np.isnan(b))
    x, y = a[keep], b[keep]
    if len(x) < 2:
        return math.nan
    x = x - x.mean()
    y = y - y.mean()
    # plain ufunc sums, not BLAS dot: a threaded BLAS call stalls on a busy machine
    denom = math.sqrt(float(np.square(x).sum()) * float(np.square(y).sum()))
    if denom == 0.0:
        return math.nan
    return max(-1.0, min(1.0, float(np.multiply(x, y).sum()) / denom))


def _entry(metric: str, kind: str | None, score: float | None, error: str | None) -> dict:
    entry: dict = {"metric": metric, "type": kind, "score": score}
    if error:
        entry["error"] = error
    return entry


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _mean(values) -> float | None:
    kept = [float(v) for v in values if v is not None and not math.isnan(v)]
    return sum(kept) / len(kept) if kept else None
