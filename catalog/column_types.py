"""Detect the semantic type of each column of a table.

The types are the vocabulary shared by the tabular synthesizers and the evaluation metrics:

``numeric``      real-valued numbers
``integer``      whole numbers (an integer dtype, or floats that are all integral, NaN allowed)
``categorical``  a small set of labels (strings, or anything else that is not one of the others)
``boolean``      True / False (bool dtype, nullable boolean, or an object column of Python bools)
``datetime``     timestamps (datetime64 dtype, or strings that all parse as dates)
``id``           identifiers: all-unique strings, or all-unique integers that look like keys
                 (a name such as ``id`` / ``customer_id``, or an evenly spaced sequence)
``text``         free text: long, mostly unique strings

Missing values are never guessed: ``"?"`` or ``""`` are ordinary labels unless the loader was told
otherwise (``na_values``). Only pandas' own missing markers (NaN, None, NaT, pd.NA) count as missing.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING

from catalog.errors import BadInput

if TYPE_CHECKING:  # pandas is imported lazily: the CLI imports this module
    import pandas as pd

COLUMN_TYPES: tuple[str, ...] = ("numeric", "integer", "categorical", "boolean", "datetime", "id", "text")

_ID_NAME = re.compile(r"(^|[_\-\s])(id|key|uuid|guid)$|^id[_\-\s]|[a-z](Id|ID)$", re.IGNORECASE)
_DATE_LIKE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?.*)?\s*$")
_TEXT_MIN_MEAN_LENGTH = 30
_TEXT_MIN_MEAN_WORDS = 5
_MIN_ROWS_FOR_ID = 5


def detect_column_types(df: pd.DataFrame, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Return ``{column: type}`` for every column of ``df`` (types in :data:`COLUMN_TYPES`).

    ``overrides`` forces the type of named columns. An override naming a column that is not in
    ``df`` or a type that is not in :data:`COLUMN_TYPES` raises :class:`BadInput`, as does a
    column holding values no synthesizer can represent (complex numbers, lists, dicts, bytes...).
    """
    overrides = dict(overrides or {})
    for column, kind in overrides.items():
        if column not in df.columns:
            raise BadInput(f"override names a column that is not in the table (columns: "
                           f"{', '.join(map(str, df.columns))})", field=str(column))
        if kind not in COLUMN_TYPES:
            raise BadInput(f"unknown column type '{kind}' (expected one of {', '.join(COLUMN_TYPES)})",
                           field=str(column))
    if df.columns.has_duplicates:
        dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise BadInput(f"duplicate column names: {', '.join(dupes)}")
    return {str(col): overrides.get(col) or detect_column_type(df[col], name=str(col)) for col in df.columns}


def detect_column_type(series: pd.Series, name: str | None = None) -> str:
    """Return the type of one column; ``name`` (default: the series name) helps spot ids."""
    import numpy as np
    import pandas as pd

    name = str(series.name) if name is None else name
    dtype = series.dtype
    values = series.dropna()

    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_complex_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise BadInput(f"unsupported column dtype {dtype}", field=name)
    if pd.api.types.is_numeric_dtype(dtype):
        if pd.api.types.is_integer_dtype(dtype):
            return "id" if _looks_like_integer_id(values, name) else "integer"
        finite = values[np.isfinite(values.to_numpy(dtype=float))]
        if len(finite) and bool((finite == np.round(finite)).all()):
            return "id" if _looks_like_integer_id(finite, name) else "integer"
        return "numeric"

    # object / string columns: look at what the values actually are
    if len(values) == 0:
        return "categorical"
    kinds = {type(v) for v in values.head(1000)} | {type(v) for v in values.tail(1000)}
    if kinds <= {bool, np.bool_}:
        return "boolean"
    bad = [k for k in kinds if issubclass(k, (list, dict, set, tuple, bytes, bytearray, complex))]
    if bad:
        raise BadInput(f"unsupported values of type {bad[0].__name__} in the column", field=name)
    if not kinds <= {str}:
        # mixed python scalars (e.g. ints and strings): treat as labels
        return "categorical"
    return _string_type(values.astype(str), name)


def _looks_like_integer_id(values: pd.Series, name: str) -> bool:
    import numpy as np

    if len(values) < _MIN_ROWS_FOR_ID or not values.is_unique:
        return False
    if _ID_NAME.search(name):
        return True
    ordered = np.sort(values.to_numpy(dtype=float))
    steps = np.diff(ordered)
    return bool(len(steps) and steps[0] > 0 and np.all(steps == steps[0]))


def _string_type(values: pd.Series, name: str) -> str:
    n = len(values)
    unique_ratio = values.nunique() / n
    sample = values if n <= 2000 else values.sample(2000, random_state=0)  # shape statistics only
    lengths = sample.str.len()
    words = sample.str.count(r"\S+")
    if unique_ratio > 0.5 and n >= 2 and (
            lengths.mean() >= _TEXT_MIN_MEAN_LENGTH or words.mean() >= _TEXT_MIN_MEAN_WORDS):
        return "text"
    if _all_dates(values):
        return "datetime"
    if n >= _MIN_ROWS_FOR_ID and unique_ratio == 1.0 and (
            not values.str.contains(r"\s", regex=True).any() or _ID_NAME.search(name)):
        return "id"
    return "categorical"


def _all_dates(values: pd.Series) -> bool:
    import pandas as pd

    sample = values.head(500)
    if not sample.str.match(_DATE_LIKE).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().all())
