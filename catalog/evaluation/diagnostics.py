"""Validity diagnostics of a synthetic table: does it stay inside what the real data allows?

* **boundary adherence** (numeric, integer, datetime columns): share of the synthetic non-missing
  values inside the real column's ``[min, max]``;
* **category adherence** (categorical, boolean columns): share of the synthetic values (missing
  counted as a value of its own) that also occur in the real column;
* **missing-value rates**: share of missing values per column in each table.

All three follow SDMetrics' BoundaryAdherence / CategoryAdherence definitions; 1.0 is best.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catalog.evaluation._columns import CONTINUOUS, DISCRETE, Columns, as_float, codes, resolve_columns

if TYPE_CHECKING:
    import pandas as pd


def diagnostics(real: pd.DataFrame, synth: pd.DataFrame, column_types: dict[str, str] | None = None,
                *, columns: Columns | None = None) -> dict:
    """Return ``{"boundary_adherence", "category_adherence", "per_column": {col: {...}}}``.

    The two adherence figures are means over the columns they apply to (``None`` when no column
    has that type); ``per_column`` holds each column's adherence and missing rates.
    """
    import numpy as np

    cols = columns or resolve_columns(real, synth, column_types)
    real = real.rename(columns=str)
    synth = synth.rename(columns=str)
    per_column: dict[str, dict] = {}
    boundary, category = [], []
    for name in cols.names:
        kind = cols.types[name]
        entry: dict = {
            "type": kind,
            "missing_real": float(real[name].isna().mean()),
            "missing_synthetic": float(synth[name].isna().mean()),
        }
        if kind in CONTINUOUS:
            r = as_float(real[name], kind)
            s = as_float(synth[name], kind)
            r, s = r[~np.isnan(r)], s[~np.isnan(s)]
            if len(r) and len(s):
                inside = float(np.mean((s >= r.min()) & (s <= r.max())))
                entry["boundary_adherence"] = inside
                boundary.append(inside)
            else:
                entry["boundary_adherence"] = None
        elif kind in DISCRETE:
            r_codes, s_codes, labels = codes(real[name], synth[name], keep_missing=True)
            seen = np.zeros(len(labels), dtype=bool)
            seen[r_codes] = True
            share = float(seen[s_codes].mean())
            entry["category_adherence"] = share
            unseen = [labels[i] for i in np.unique(s_codes[~seen[s_codes]])[:5]]
            entry["unseen_categories"] = [None if v is None else str(v) for v in unseen]
            category.append(share)
        per_column[name] = entry
    return {
        "boundary_adherence": float(np.mean(boundary)) if boundary else None,
        "category_adherence": float(np.mean(category)) if category else None,
        "per_column": per_column,
    }
