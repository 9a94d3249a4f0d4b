"""What a synthesizer learns about a table's columns, and the numeric view every model works on.

A :class:`TableSchema` is fitted on the real table. It turns the table into *model columns*: a float
matrix of continuous columns (numbers, integers, datetimes as seconds) and an integer matrix of
category codes (categoricals, booleans, and a missing-value indicator for every continuous column
that had missing values). Ids and free text are not modelled: ids are generated as fresh sequences
and text as filler drawn from the column's vocabulary. :meth:`TableSchema.decode` maps model output
back to the original columns, dtypes, min/max, integer rounding, decimals and missing values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from catalog.column_types import detect_column_types
from catalog.errors import BadInput

MISSING = "__missing__"  # the category standing for a missing label
CONTINUOUS_KINDS = ("numeric", "integer", "datetime")
DISCRETE_KINDS = ("categorical", "boolean")


@dataclass
class ColumnInfo:
    name: str
    kind: str
    dtype: str
    missing_rate: float = 0.0
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    categories: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def bounds(self) -> tuple[float, float]:
        """(min, max) of a numeric, integer or datetime column, which :meth:`TableSchema.fit` sets."""
        if self.min is None or self.max is None:
            raise ValueError(f"column '{self.name}' ({self.kind}) has no learned bounds")
        return self.min, self.max

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ModelColumn:
    """One column as the models see it: continuous (a float) or discrete (a code < n_levels)."""

    name: str
    source: str
    discrete: bool
    n_levels: int = 0


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decimals(values: np.ndarray) -> int:
    for d in range(0, 7):
        if np.allclose(values, np.round(values, d), rtol=0, atol=1e-9):
            return d
    return 12


class TableSchema:
    """Column metadata plus the encode/decode between a DataFrame and the model matrices."""

    def __init__(self, columns: list[ColumnInfo]) -> None:
        self.columns = columns
        self.by_name = {c.name: c for c in columns}
        self.model_columns: list[ModelColumn] = []
        for c in columns:
            if c.kind in CONTINUOUS_KINDS:
                self.model_columns.append(ModelColumn(c.name, c.name, False))
                if c.missing_rate > 0:
                    self.model_columns.append(ModelColumn(c.name + "." + MISSING, c.name, True, 2))
            elif c.kind in DISCRETE_KINDS:
                self.model_columns.append(ModelColumn(c.name, c.name, True, len(c.categories)))
        self.continuous = [m for m in self.model_columns if not m.discrete]
        self.discrete = [m for m in self.model_columns if m.discrete]

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, df: pd.DataFrame, column_types: dict[str, str] | None = None) -> TableSchema:
        check_table(df)
        types = detect_column_types(df, column_types)
        infos = []
        for name in df.columns:
            s = df[name]
            kind = types[str(name)]
            info = ColumnInfo(str(name), kind, str(s.dtype), float(s.isna().mean()))
            if kind in CONTINUOUS_KINDS:
                values = _to_float(s, kind, str(name)).dropna().to_numpy()
                values = values[np.isfinite(values)]
                if len(values) == 0:
                    raise BadInput("column has no finite values", field=str(name))
                info.min, info.max = float(values.min()), float(values.max())
                info.decimals = 0 if kind == "integer" else _decimals(values) if kind == "numeric" else None
                if kind == "datetime":
                    info.extra["tz"] = str(s.dt.tz) if hasattr(s, "dt") and s.dt.tz is not None else None
                    info.extra["is_string"] = not pd.api.types.is_datetime64_any_dtype(s.dtype)
                    info.extra["date_only"] = bool(np.all(np.mod(values, 86400) == 0))
            elif kind in DISCRETE_KINDS:
                counts = s.value_counts(dropna=True)
                cats = [_jsonable(v) for v in counts.index]
                if info.missing_rate > 0:
                    cats.append(MISSING)
                info.categories = cats
            elif kind == "id":
                info.extra = _id_pattern(s.dropna())
            elif kind == "text":
                words = s.dropna().astype(str).str.split()
                vocab = pd.Series([w for ws in words for w in ws]).value_counts().head(2000)
                info.extra = {"vocab": [str(w) for w in vocab.index], "weights": vocab.to_numpy().tolist(),
                              "lengths": words.str.len().clip(lower=1).tolist()[:5000]}
            infos.append(info)
        return cls(infos)

    def to_json(self) -> dict:
        return {"columns": [c.to_json() for c in self.columns]}

    @classmethod
    def from_json(cls, data: dict) -> TableSchema:
        return cls([ColumnInfo(**c) for c in data["columns"]])

    # ------------------------------------------------------------------ encoding
    def encode(self, df: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(X_continuous [n, c] float64, X_codes [n, d] int64)``; missing numbers are filled
        with draws from the observed values (the indicator column remembers they were missing)."""
        n = len(df)
        cont = np.zeros((n, len(self.continuous)))
        codes = np.zeros((n, len(self.discrete)), dtype=np.int64)
        ci = di = 0
        for m in self.model_columns:
            info = self.by_name[m.source]
            s = df[m.source]
            if not m.discrete:
                values = _to_float(s, info.kind, m.source).to_numpy(dtype=float, copy=True)
                missing = ~np.isfinite(values)
                if missing.any():
                    observed = values[~missing]
                    values[missing] = rng.choice(observed, size=int(missing.sum()))
                cont[:, ci] = values
                ci += 1
            elif m.name.endswith("." + MISSING) and info.kind in CONTINUOUS_KINDS:
                codes[:, di] = s.isna().to_numpy().astype(np.int64)
                di += 1
            else:
                codes[:, di] = self.category_codes(info, s)
                di += 1
        return cont, codes

    def category_codes(self, info: ColumnInfo, s: pd.Series) -> np.ndarray:
        labels = [c for c in info.categories if c != MISSING]
        try:
            out = pd.Index(labels, dtype=object).get_indexer(s.astype(object)).astype(np.int64)
        except (TypeError, ValueError):
            out = np.full(len(s), -1, dtype=np.int64)
        missing = s.isna().to_numpy()
        if missing.any():
            out[missing] = info.categories.index(MISSING) if MISSING in info.categories else -1
        slow = np.flatnonzero((out < 0) & ~missing)
        if len(slow):  # values that match only after normalising (1 vs 1.0, numpy scalars)
            lookup = {_key(v): i for i, v in enumerate(info.categories) if v != MISSING}
            values = s.to_numpy(dtype=object)
            for i in slow:
                k = _key(values[i])
                if k not in lookup:
                    raise BadInput(f"value {values[i]!r} was not seen when the model was fitted", field=info.name)
                out[i] = lookup[k]
        return out

    def code_of(self, column: str, value: object) -> int:
        """The code of ``value`` in a discrete column (value may be a CLI string like ``"True"``)."""
        info = self.by_name[column]
        for i, cat in enumerate(info.categories):
            if cat == MISSING:
                if _isna(value):
                    return i
                continue
            if _key(cat) == _key(value) or str(cat) == str(value):
                return i
        shown = ", ".join(repr(c) for c in info.categories[:12] if c != MISSING)
        raise BadInput(f"value {value!r} does not occur in the column (known: {shown})", field=column)

    # ------------------------------------------------------------------ decoding
    def decode(self, cont: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        n = max(cont.shape[0], codes.shape[0])
        out: dict[str, object] = {}
        col_of = {m.name: i for i, m in enumerate(self.continuous)}
        code_of = {m.name: i for i, m in enumerate(self.discrete)}
        for info in self.columns:
            if info.kind in CONTINUOUS_KINDS:
                values = cont[:, col_of[info.name]].astype(float).copy()
                values = np.clip(values, info.min, info.max)
                if info.kind == "integer" or info.kind == "datetime" and info.extra.get("date_only"):
                    unit = 86400.0 if info.kind == "datetime" else 1.0
                    values = np.round(values / unit) * unit
                elif info.decimals is not None and info.kind == "numeric":
                    values = np.round(values, info.decimals)
                if info.missing_rate > 0:
                    values[codes[:, code_of[info.name + "." + MISSING]] == 1] = np.nan
                out[info.name] = self._restore_continuous(info, values)
            elif info.kind in DISCRETE_KINDS:
                cats = np.array(info.categories + [None], dtype=object)
                picked = cats[codes[:, code_of[info.name]]]
                picked[picked == MISSING] = None
                out[info.name] = _restore_dtype(pd.Series(picked, dtype=object), info.dtype)
            elif info.kind == "id":
                out[info.name] = _make_ids(info, n)
            else:
                out[info.name] = _make_text(info, n, rng)
        return pd.DataFrame(out, columns=[c.name for c in self.columns])

    def _restore_continuous(self, info: ColumnInfo, values: np.ndarray) -> pd.Series:
        if info.kind == "datetime":
            ts = pd.to_datetime(pd.Series(values * 1e9), unit="ns")
            if info.extra.get("tz"):
                ts = ts.dt.tz_localize("UTC").dt.tz_convert(info.extra["tz"])
            if info.extra.get("is_string"):
                fmt = "%Y-%m-%d" if info.extra.get("date_only") else "%Y-%m-%d %H:%M:%S"
                return _restore_dtype(ts.dt.strftime(fmt).astype(object).where(ts.notna(), None), info.dtype)
            return _restore_dtype(ts, info.dtype)
        s = pd.Series(values)
        if info.kind == "integer":
            if info.missing_rate == 0 and info.dtype.startswith(("int", "uint", "Int", "UInt")):
                return s.astype(info.dtype)
            if info.dtype.startswith(("Int", "UInt")):
                return s.astype(info.dtype)
        return s.astype(float)


def check_table(df: pd.DataFrame) -> None:
    """Raise :class:`BadInput` for tables no synthesizer can learn from."""
    if not isinstance(df, pd.DataFrame):
        raise BadInput(f"expected a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise BadInput("the table has no columns")
    if len(df) < 2:
        raise BadInput(f"the table has {len(df)} row(s); a synthesizer needs at least 2 to learn from")
    empty = [str(c) for c in df.columns if df[c].isna().all()]
    if empty:
        raise BadInput(f"column(s) with no values at all: {', '.join(empty)}", field=empty[0])


def _to_float(s: pd.Series, kind: str, name: str) -> pd.Series:
    if kind == "datetime":
        try:
            ts = pd.to_datetime(s, format="mixed") if not pd.api.types.is_datetime64_any_dtype(s) else s
        except (ValueError, TypeError) as exc:
            raise BadInput(f"cannot read dates: {exc}", field=name) from exc
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = ts.astype("datetime64[ns]").astype("int64").astype(float)
        return pd.Series(np.where(ts.isna(), np.nan, ns / 1e9), index=s.index)
    try:
        return pd.to_numeric(s, errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise BadInput(f"column typed {kind} holds non-numeric values: {exc}", field=name) from exc


def _isna(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _key(v: object) -> object:
    v = _jsonable(v)
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, (int, float)):
        return ("n", float(v))
    return ("s", str(v))


def _restore_dtype(s: pd.Series, dtype: str) -> pd.Series:
    if dtype in ("bool",) and not s.isna().any():
        return s.astype(bool)
    if dtype == "bool":
        return s.astype("boolean")
    try:
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s


_SUFFIX = re.compile(r"^(.*?)(\d+)$")


def _id_pattern(s: pd.Series) -> dict:
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = np.sort(s.to_numpy(dtype=float))
        steps = np.diff(values)
        step = float(np.median(steps)) if len(steps) else 1.0
        return {"numeric": True, "start": float(values.max() + max(step, 1.0)), "step": max(step, 1.0)}
    strings = s.astype(str)
    matches = strings.str.extract(_SUFFIX)
    if matches[1].notna().all() and matches[0].nunique() == 1:
        numbers = matches[1].astype(int)
        return {"numeric": False, "prefix": str(matches[0].iloc[0]), "width": int(matches[1].str.len().max()),
                "start": int(numbers.max()) + 1}
    return {"numeric": False, "prefix": "", "width": max(8, int(strings.str.len().median())), "start": None}


def _make_ids(info: ColumnInfo, n: int) -> pd.Series:
    """Fresh ids that never collide with the real ones (they continue after the largest)."""
    ex = info.extra
    if ex.get("numeric"):
        values = ex["start"] + ex["step"] * np.arange(n)
        return _restore_dtype(pd.Series(values), info.dtype)
    if ex.get("start") is not None:
        return _restore_dtype(pd.Series([f"{ex['prefix']}{ex['start'] + i:0{ex['width']}d}" for i in range(n)]),
                              info.dtype)
    return _restore_dtype(pd.Series([f"syn-{i:0{ex['width']}d}" for i in range(n)]), info.dtype)


def _make_text(info: ColumnInfo, n: int, rng: np.random.Generator) -> pd.Series:
    """Filler text: words drawn from the column's vocabulary with its word-count distribution."""
    vocab = np.array(info.extra["vocab"], dtype=object)
    weights = np.asarray(info.extra["weights"], dtype=float)
    lengths = rng.choice(np.asarray(info.extra["lengths"]), size=n)
    words = rng.choice(vocab, size=int(lengths.sum()), p=weights / weights.sum())
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    texts = [" ".join(words[bounds[i]:bounds[i + 1]]) for i in range(n)]
    missing = rng.random(n) < info.missing_rate
    return _restore_dtype(pd.Series([None if m else t for t, m in zip(texts, missing)], dtype=object), info.dtype)
