"""Bias: does the synthetic table keep, shrink or amplify the gaps between groups of the real one?

For every sensitive column: the share of each group in the real and the synthetic table, and,
with a target, the target rate per group (share of the positive class for a categorical or
boolean target, mean for a numeric one). The **demographic parity difference** is the largest
minus the smallest group rate among groups with at least ``min_group_rows`` rows; its
synthetic-minus-real difference is the amplification (positive: synthesis widened the gap).
Numeric sensitive columns are cut into quantile bins of the real data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catalog.errors import BadInput
from catalog.evaluation._columns import CONTINUOUS, DISCRETE, Columns, as_float

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MISSING_GROUP = "(missing)"


def bias(real: pd.DataFrame, synth: pd.DataFrame, columns: Columns, sensitive: list[str],
         target: str | None = None, *, positive_label: object = None, min_group_rows: int = 10,
         numeric_bins: int = 4) -> dict:
    """Return ``{"target", "positive_label", "columns": {col: {"groups": [...], ...}}}``."""
    real = real.rename(columns=str)
    synth = synth.rename(columns=str)
    for name in sensitive:
        if name not in columns.names:
            raise BadInput("sensitive column is not in both the real and the synthetic table", field=name)
    if target is not None:
        if target not in columns.names:
            raise BadInput("the target column is not in both the real and the synthetic table", field=target)
        if columns.types[target] not in CONTINUOUS and columns.types[target] not in DISCRETE:
            raise BadInput(f"the target column has type {columns.types[target]}; bias needs a numeric, "
                           "categorical or boolean target", field=target)
    rate_real = rate_synth = None
    positive = None
    if target is not None:
        kind = columns.types[target]
        if kind in CONTINUOUS:
            rate_real, rate_synth = as_float(real[target], kind), as_float(synth[target], kind)
        else:
            positive = _positive(real[target]) if positive_label is None else positive_label
            if positive_label is not None and not (real[target] == positive_label).any():
                raise BadInput(f"positive label {positive_label!r} does not occur in the real target",
                               field=target)
            rate_real = _indicator(real[target], positive)
            rate_synth = _indicator(synth[target], positive)
    out: dict = {"target": target, "positive_label": None if positive is None else str(positive),
                 "min_group_rows": min_group_rows, "columns": {}}
    for name in sensitive:
        if name == target:
            raise BadInput("a sensitive column cannot also be the target", field=name)
        g_real, g_synth = _groups(real[name], synth[name], columns.types[name], numeric_bins)
        out["columns"][name] = _column_table(g_real, g_synth, rate_real, rate_synth, min_group_rows)
    return out


def _positive(values: pd.Series) -> object:
    """True for booleans, otherwise the rarer of two classes (the first-seen class among ties)."""
    counts = values.dropna().value_counts(sort=False)
    if len(counts) == 0:
        raise BadInput("the target column has no values", field=str(values.name))
    if any(v is True or str(v) == "True" for v in counts.index) and len(counts) <= 2:
        return next(v for v in counts.index if v is True or str(v) == "True")
    if len(counts) > 2:
        raise BadInput(f"the target has {len(counts)} classes; give positive_label to measure the rate "
                       "of one of them", field=str(values.name))
    return counts.idxmin()


def _indicator(values: pd.Series, positive: object) -> np.ndarray:
    import numpy as np

    out = (values.astype(object) == positive).to_numpy(dtype=np.float64)
    out[values.isna().to_numpy()] = np.nan
    return out


def _groups(real: pd.Series, synth: pd.Series, kind: str, bins: int) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    if kind in CONTINUOUS:
        r, s = as_float(real, kind), as_float(synth, kind)
        present = r[~np.isnan(r)]
        edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1))) if len(present) else np.array([])
        if len(edges) < 2:
            return _label(r), _label(s)
        labels = [f"[{edges[i]:.4g}, {edges[i + 1]:.4g}{']' if i == len(edges) - 2 else ')'}"
                  for i in range(len(edges) - 1)]

        def cut(v: np.ndarray) -> np.ndarray:
            idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(labels) - 1)
            names = np.array(labels, dtype=object)[idx]
            names[np.isnan(v)] = MISSING_GROUP
            return names

        return cut(r), cut(s)
    return _label(real), _label(synth)


def _label(values: pd.Series | np.ndarray) -> np.ndarray:
    import pandas as pd

    series = pd.Series(values).astype(object)
    out = series.map(str).to_numpy(dtype=object)
    out[series.isna().to_numpy()] = MISSING_GROUP
    return out


def _column_table(g_real: np.ndarray, g_synth: np.ndarray, rate_real: np.ndarray | None,
                  rate_synth: np.ndarray | None, min_rows: int) -> dict:

    groups = sorted(set(g_real) | set(g_synth), key=lambda g: (-(g_real == g).sum(), str(g)))
    rows = []
    for g in groups:
        in_r, in_s = g_real == g, g_synth == g
        row: dict[str, Any] = {"group": str(g), "real_rows": int(in_r.sum()), "synthetic_rows": int(in_s.sum()),
               "real_share": float(in_r.mean()), "synthetic_share": float(in_s.mean())}
        row["share_difference"] = row["synthetic_share"] - row["real_share"]
        if rate_real is not None and rate_synth is not None:  # both or neither: set together from the target
            row["real_target_rate"] = _rate(rate_real[in_r])
            row["synthetic_target_rate"] = _rate(rate_synth[in_s])
        rows.append(row)
    table: dict = {"groups": rows, "max_abs_share_difference": max(abs(r["share_difference"]) for r in rows)}
    if rate_real is not None:
        dpd_r = _gap([r["real_target_rate"] for r in rows if r["real_rows"] >= min_rows])
        dpd_s = _gap([r["synthetic_target_rate"] for r in rows if r["synthetic_rows"] >= min_rows])
        table["demographic_parity_difference"] = {
            "real": dpd_r, "synthetic": dpd_s,
            "amplification": None if dpd_r is None or dpd_s is None else dpd_s - dpd_r,
        }
    return table


def _rate(values: np.ndarray) -> float | None:
    import numpy as np

    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else None


def _gap(rates: list[float | None]) -> float | None:
    kept = [r for r in rates if r is not None]
    return max(kept) - min(kept) if len(kept) >= 2 else None
