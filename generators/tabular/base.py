"""The synthesizer template: ``fit(df)`` -> ``sample(n, conditions, seed)``, save/load, balance.

Subclasses implement four hooks on the numeric model view of :mod:`generators.tabular.schema`:
``_fit_encoded``, ``_sample_encoded``, ``_state`` and ``_set_state``. Everything else — column types,
missing values, min/max and rounding, exact conditions, constraints with bounded resampling, and
the JSON + npz files — lives here once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import SupportsFloat, SupportsIndex

import numpy as np
import pandas as pd

from catalog.errors import BadInput
from catalog.key_values import json_or_text, split_key_value
from generators.tabular.constraints import Constraint, parse_constraint
from generators.tabular.schema import (
    CONTINUOUS_KINDS,
    DISCRETE_KINDS,
    MISSING,
    TableSchema,
    _make_ids,
    check_table,
)

FORMAT = "synthcat-tabular-synthesizer"
VERSION = 1
MAX_ATTEMPTS = 50
Progress = Callable[[dict], None]


class Synthesizer:
    """Base class; use :func:`generators.tabular.make_synthesizer` to build one by method name."""

    method = ""
    native_conditions = False  # True when _sample_encoded honours discrete conditions itself

    def __init__(self, *, seed: int = 0, column_types: dict[str, str] | None = None,
                 constraints: list[dict | str | Constraint] | None = None, **params: object) -> None:
        self.seed = int(seed)
        self.column_types = dict(column_types or {})
        self.constraints = [parse_constraint(c) for c in constraints or []]
        self.params = self._check_params(params)
        self.schema: TableSchema | None = None
        self.fit_info: dict = {}

    def _check_params(self, params: dict) -> dict:
        defaults = self.default_params()
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            raise BadInput(f"method '{self.method}' has no parameter {', '.join(unknown)} "
                           f"(its parameters: {', '.join(sorted(defaults)) or 'none'})", param="method_options")
        return {**defaults, **params}

    @classmethod
    def default_params(cls) -> dict:
        return {}

    # ------------------------------------------------------------------ public API
    def fit(self, df: pd.DataFrame, progress: Progress | None = None) -> Synthesizer:
        """Learn ``df``; ``progress`` (if given) receives dicts such as ``{"epoch", "epochs", "loss"}``."""
        start = time.perf_counter()
        check_table(df)
        df = df.reset_index(drop=True).rename(columns=str)
        schema = TableSchema.fit(df, self.column_types)
        bounds = {c.name: c.bounds() for c in schema.columns if c.kind in ("numeric", "integer")}
        for c in self.constraints:
            c.check(list(df.columns), {c.name: c.kind for c in schema.columns}, bounds)
            c.learn(df)
        self.schema = schema
        rng = np.random.default_rng(self.seed)
        cont, codes = schema.encode(df, rng)
        self._fit_encoded(cont, codes, rng, progress)
        self.fit_info = {"rows": len(df), "seconds": round(time.perf_counter() - start, 3)}
        return self

    def sample(self, n: int, conditions: dict[str, object] | None = None, seed: int | None = None) -> pd.DataFrame:
        """Draw ``n`` rows. ``conditions`` fixes columns to exact values (``{"income": ">50K"}``);
        every row satisfies the constraints. The same ``seed`` gives the same rows."""
        schema = self._fitted()
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise BadInput(f"the number of rows must be a non-negative integer, got {n!r}")
        rng = np.random.default_rng(seed)
        cont_cond, disc_cond, exact = self._encode_conditions(conditions or {})
        if n == 0:
            return schema.decode(np.zeros((0, len(schema.continuous))),
                                 np.zeros((0, len(schema.discrete)), dtype=np.int64), rng)
        kept: list[pd.DataFrame] = []
        got = drawn = 0
        batch = n if not self.constraints else max(n, 256)
        for _attempt in range(MAX_ATTEMPTS):
            cont, codes = self._sample_encoded(batch, rng, cont_cond, disc_cond)
            for i, v in cont_cond.items():
                cont[:, i] = v
            for j, c in disc_cond.items():
                codes[:, j] = c
            df = schema.decode(cont, codes, rng)
            for col, value in exact.items():
                df[col] = pd.Series([value] * len(df), dtype=df[col].dtype) if value is not None else None
            mask = np.ones(len(df), dtype=bool)
            for c in self.constraints:
                mask &= c.mask(df)
            kept.append(df[mask])
            got += int(mask.sum())
            drawn += batch
            if got >= n:
                break
            if got == 0 and drawn >= max(20 * n, 5000):
                raise BadInput(self._impossible(df, conditions))
            rate = max(got / drawn, 1.0 / drawn)
            batch = int(min((n - got) / rate * 1.2 + 16, 20 * n + 5000))
        else:
            raise BadInput(f"only {got} of {n} rows satisfied the constraints after {drawn} draws "
                           f"({got / drawn:.2%} accepted); relax {self._constraint_text()}")
        out = pd.concat(kept, ignore_index=True).iloc[:n].reset_index(drop=True)
        for info in schema.columns:
            if info.kind == "id":
                out[info.name] = _make_ids(info, n)
        return out

    def balance(self, column: str, n: int, shares: dict[str, float] | None = None,
                seed: int | None = None) -> pd.DataFrame:
        """``n`` rows whose ``column`` classes come in the given shares (equal shares by default)."""
        schema = self._fitted()
        info = schema.by_name.get(column)
        if info is None:
            raise BadInput(f"unknown column (columns: {', '.join(schema.by_name)})", field=column)
        if info.kind not in DISCRETE_KINDS:
            raise BadInput(f"can only balance a categorical or boolean column, this one is {info.kind}",
                           field=column)
        labels = [c for c in info.categories if c != MISSING]
        if shares is None:
            shares = {str(c): 1.0 for c in labels}
        total = sum(float(v) for v in shares.values())
        if total <= 0 or any(float(v) < 0 for v in shares.values()):
            raise BadInput("class shares must be non-negative and not all zero", field=column)
        counts = _largest_remainder({k: float(v) / total for k, v in shares.items()}, n)
        rng = np.random.default_rng(seed)
        parts = [self.sample(k, {column: label}, seed=int(rng.integers(2**31)))
                 for label, k in counts.items() if k > 0]
        out = pd.concat(parts, ignore_index=True) if parts else self.sample(0)
        out = out.iloc[rng.permutation(len(out))].reset_index(drop=True)
        for c in schema.columns:
            if c.kind == "id":
                out[c.name] = _make_ids(c, len(out))
        return out

    def describe(self) -> dict:
        """JSON-ready summary for lineage records: method, parameters, seed, constraints, columns."""
        return {"method": self.method, "seed": self.seed, "params": _jsonable_params(self.params),
                "constraints": [c.describe() for c in self.constraints], "fit": self.fit_info,
                "column_types": {c.name: c.kind for c in self.schema.columns} if self.schema else None}

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to directory ``path`` as ``synthesizer.json`` + ``arrays.npz``."""
        schema = self._fitted()
        meta, arrays = self._state()
        doc = {"format": FORMAT, "version": VERSION, "method": self.method, "seed": self.seed,
               "params": _jsonable_params(self.params), "column_types": self.column_types,
               "constraints": [c.to_json() for c in self.constraints], "schema": schema.to_json(),
               "fit_info": self.fit_info, "state": meta}
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "synthesizer.json").write_text(json.dumps(doc, indent=1, default=_json_default))
        # numpy's stub cannot tell that no array is named "allow_pickle" (its keyword after *args)
        np.savez(path / "arrays.npz", **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]
        return path

    # ------------------------------------------------------------------ hooks
    def _fit_encoded(self, cont: np.ndarray, codes: np.ndarray, rng: np.random.Generator,
                     progress: Progress | None) -> None:
        raise NotImplementedError

    def _sample_encoded(self, n: int, rng: np.random.Generator, cont_cond: dict[int, float],
                        disc_cond: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        raise NotImplementedError

    def _set_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers
    def _fitted(self) -> TableSchema:
        if self.schema is None:
            raise BadInput(f"the {self.method} synthesizer has not been fitted: call fit(df) first")
        return self.schema

    def _encode_conditions(self, conditions: dict[str, object]) -> tuple[dict, dict, dict]:
        schema = self._fitted()
        if not isinstance(conditions, dict):
            raise BadInput("conditions must map column names to values")
        cont_index = {m.name: i for i, m in enumerate(schema.continuous)}
        disc_index = {m.name: j for j, m in enumerate(schema.discrete)}
        cont_cond: dict[int, float] = {}
        disc_cond: dict[int, int] = {}
        exact: dict[str, object] = {}
        for column, value in conditions.items():
            info = schema.by_name.get(column)
            if info is None:
                raise BadInput(f"condition on an unknown column (columns: {', '.join(schema.by_name)})",
                               field=str(column))
            if info.kind in DISCRETE_KINDS:
                code = schema.code_of(column, value)
                disc_cond[disc_index[column]] = code
                cat = info.categories[code]
                exact[column] = None if cat == MISSING else cat
            elif info.kind in CONTINUOUS_KINDS:
                missing_col = column + "." + MISSING
                if value is None:
                    if missing_col not in disc_index:
                        raise BadInput("the column had no missing values to condition on", field=column)
                    disc_cond[disc_index[missing_col]] = 1
                    continue
                number = _condition_number(info.kind, value, column)
                low, high = info.bounds()
                if not low - 1e-9 <= number <= high + 1e-9:
                    raise BadInput(f"condition value {value!r} lies outside the values the model learned "
                                   f"[{low:g}, {high:g}]", field=column)
                cont_cond[cont_index[column]] = number
                if missing_col in disc_index:
                    disc_cond[disc_index[missing_col]] = 0
            else:
                raise BadInput(f"cannot condition on a {info.kind} column", field=column)
        return cont_cond, disc_cond, exact

    def _impossible(self, df: pd.DataFrame, conditions: dict | None) -> str:
        failing = [c.describe() for c in self.constraints if not c.mask(df).any()]
        what = "; ".join(failing) or self._constraint_text()
        cond = f" together with conditions {conditions}" if conditions else ""
        return f"no sampled row satisfied {what}{cond}: the constraint looks impossible for this model"

    def _constraint_text(self) -> str:
        return "; ".join(c.describe() for c in self.constraints) or "the conditions"


def _condition_number(kind: str, value: object, column: str) -> float:
    if kind == "datetime":
        try:
            return pd.Timestamp(value).value / 1e9
        except (ValueError, TypeError) as exc:
            raise BadInput(f"condition value {value!r} is not a date", field=column) from exc
    if isinstance(value, (str, bytes, SupportsFloat, SupportsIndex)):  # what float() takes
        try:
            return float(value)
        except ValueError as exc:
            raise BadInput(f"condition value {value!r} is not a number", field=column) from exc
    raise BadInput(f"condition value {value!r} is not a number", field=column)


def _largest_remainder(shares: dict[str, float], n: int) -> dict[str, int]:
    raw = {k: v * n for k, v in shares.items()}
    counts = {k: int(np.floor(v)) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
        counts[k] += 1
    return counts


def _jsonable_params(params: dict) -> dict:
    return {k: v for k, v in params.items() if not callable(v)}


def _json_default(o: object) -> object:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def parse_condition(text: str) -> tuple[str, str]:
    """A condition ``"income=>50K"`` as ``("income", ">50K")`` (the first ``=`` separates)."""
    return split_key_value(text, param="conditions", example="income=>50K")


def parse_param(text: str) -> tuple[str, object]:
    """A method parameter ``"KEY=VALUE"``; the value is read as JSON when it parses (numbers,
    true/false, null), else kept as text."""
    key, value = split_key_value(text, param="method_options", example="epochs=50")
    return key, json_or_text(value)


def parse_shares(text: str) -> dict[str, float]:
    """Class shares ``"a=0.3,b=0.7"`` as ``{"a": 0.3, "b": 0.7}``."""
    out = {}
    for part in text.split(","):
        label, share = split_key_value(part, param="balance_shares", example="yes=0.5")
        try:
            out[label] = float(share)
        except ValueError:
            raise BadInput(f"class share {part!r} must look like LABEL=NUMBER", param="balance_shares") from None
    return out
