"""Shared input checks for the tabular metrics: common columns, column types, numeric views.

Every tabular metric compares a real and a synthetic table column by column. This module decides
which columns are compared, what type each one has (the vocabulary of
:mod:`catalog.column_types`), and refuses inputs that cannot be compared, with a
:class:`~catalog.errors.BadInput` naming the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from catalog.errors import BadInput

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: types compared as continuous values (KS complement, correlation)
CONTINUOUS = frozenset({"numeric", "integer", "datetime"})
#: types compared as labels (TV complement, contingency)
DISCRETE = frozenset({"categorical", "boolean"})
#: types no fidelity metric scores (SDMetrics skips ids and free text the same way)
SKIPPED = frozenset({"id", "text"})


@dataclass
class Columns:
    """The columns two tables share, with one type each (detected on the real table)."""

    names: list[str]
    types: dict[str, str]

    @property
    def continuous(self) -> list[str]:
        return [c for c in self.names if self.types[c] in CONTINUOUS]

    @property
    def discrete(self) -> list[str]:
        return [c for c in self.names if self.types[c] in DISCRETE]

    @property
    def scored(self) -> list[str]:
        return [c for c in self.names if self.types[c] not in SKIPPED]


def check_frame(df: object, role: str) -> None:
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise BadInput(f"the {role} data must be a pandas DataFrame, got {type(df).__name__}")
    if df.columns.has_duplicates:
        dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise BadInput(f"the {role} data has duplicate column names: {', '.join(dupes)}")
    if len(df) == 0:
        raise BadInput(f"the {role} data has no rows")


def resolve_columns(real: pd.DataFrame, synth: pd.DataFrame,
                    column_types: dict[str, str] | None = None) -> Columns:
    """Pick the columns both tables hold and type them; raise :class:`BadInput` when they cannot be compared.

    ``column_types`` overrides the detected type of the named columns (a full mapping works too).
    A column whose synthetic values do not fit the real column's type (text where numbers are
    expected, numbers where labels are expected) is an error, not a silent zero score.
    """
    from catalog.column_types import detect_column_types

    check_frame(real, "real")
    check_frame(synth, "synthetic")
    synth_cols = {str(c) for c in synth.columns}
    names = [str(c) for c in real.columns if str(c) in synth_cols]
    if not names:
        raise BadInput(
            "the real and synthetic tables have no column in common "
            f"(real: {_preview(real.columns)}; synthetic: {_preview(synth.columns)})")
    overrides = dict(column_types or {})
    unknown = [c for c in overrides if c not in names]
    if unknown:
        raise BadInput("column type given for a column that is not in both tables",
                       field=str(unknown[0]))
    real_view = real.rename(columns=str)[names]
    types = detect_column_types(real_view, overrides)
    for name in names:
        _check_compatible(name, types[name], real_view[name], synth.rename(columns=str)[name])
    cols = Columns(names=names, types=types)
    if not cols.scored:
        raise BadInput("no column to compare: every shared column is an identifier or free text "
                       f"({', '.join(f'{c}: {types[c]}' for c in names[:8])}); give column_types to override")
    return cols


def _preview(columns: pd.Index, limit: int = 8) -> str:
    shown = [str(c) for c in list(columns)[:limit]]
    more = "" if len(columns) <= limit else f", ... ({len(columns)} in all)"
    return ", ".join(shown) + more if shown else "(none)"


def _check_compatible(name: str, kind: str, real: pd.Series, synth: pd.Series) -> None:
    import pandas as pd

    def mismatch(detail: str) -> BadInput:
        return BadInput(f"mismatched types: the real column is {kind} but the synthetic column {detail}",
                        field=name)

    if kind in ("numeric", "integer"):
        if not _is_number_dtype(synth.dtype):
            if synth.notna().sum() == 0:
                return
            raise mismatch(f"holds non-numeric values (dtype {synth.dtype})")
    elif kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(synth.dtype) or synth.notna().sum() == 0:
            return
        if _is_number_dtype(synth.dtype):
            raise mismatch(f"holds numbers (dtype {synth.dtype})")
        parsed = to_datetime(synth)
        if parsed.notna().sum() < synth.notna().sum():
            bad = synth[synth.notna() & parsed.isna()].iloc[0]
            raise mismatch(f"holds values that are not dates, e.g. {bad!r}")
    elif kind in DISCRETE:
        real_numeric = _is_number_dtype(real.dtype) or pd.api.types.is_bool_dtype(real.dtype)
        synth_numeric = _is_number_dtype(synth.dtype) or pd.api.types.is_bool_dtype(synth.dtype)
        if real.notna().sum() and synth.notna().sum() and real_numeric != synth_numeric:
            what = f"holds numbers (dtype {synth.dtype})" if synth_numeric else \
                f"holds labels of dtype {synth.dtype}"
            raise mismatch(what)


def _is_number_dtype(dtype: object) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def to_datetime(series: pd.Series) -> pd.Series:
    import warnings

    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(series, errors="coerce", format="mixed")


def as_float(series: pd.Series, kind: str) -> np.ndarray:
    """The values of a continuous column as float64 (datetimes as nanoseconds), NaN for missing."""
    import numpy as np

    if kind == "datetime":
        stamps = to_datetime(series)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        values = stamps.to_numpy(dtype="datetime64[ns]")
        out = values.astype("int64").astype(np.float64)
        out[np.isnat(values)] = np.nan
        return out
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def codes(real: pd.Series, synth: pd.Series, keep_missing: bool) -> tuple[np.ndarray, np.ndarray, list]:
    """Integer codes for the labels of two columns over their joint set of values.

    Missing values get code ``len(labels)`` when ``keep_missing`` (and an extra ``None`` label),
    otherwise ``-1``.
    """
    import numpy as np
    import pandas as pd

    joint = pd.concat([real.astype(object), synth.astype(object)], ignore_index=True)
    codes_, uniques = pd.factorize(joint, use_na_sentinel=True)
    labels = list(uniques)
    codes_ = codes_.astype(np.int64)
    if keep_missing and (codes_ < 0).any():
        codes_[codes_ < 0] = len(labels)
        labels.append(None)
    return codes_[: len(real)], codes_[len(real):], labels
