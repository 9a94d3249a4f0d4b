"""Constraints every sampled row must satisfy.

Four kinds, each given as a dict (JSON/YAML friendly) or a short string (CLI friendly):

==================  ===========================================  ============================
kind                dict                                         string
==================  ===========================================  ============================
inequality          ``{"inequality": ["start", "end"]}``          ``"start < end"`` / ``<=``
                    (``"strict": false`` for ``<=``)
range               ``{"range": "age", "min": 18, "max": 90}``    ``"18 <= age <= 90"``
fixed combinations  ``{"fixed_combinations": ["city", "zip"]}``   ``"fixed: city, zip"``
row filter          ``{"filter": "hours < 60 or age > 30"}``      any other expression
==================  ===========================================  ============================

A missing value in a compared column counts as satisfying an inequality or a range (there is
nothing to compare). Fixed combinations allow only the combinations seen in the real table.
Synthesizers sample, keep the rows that satisfy all constraints and resample the rest, with a
bounded number of attempts; a constraint that no sampled row meets is reported as impossible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import SupportsFloat, SupportsIndex

import numpy as np
import pandas as pd

from catalog.errors import BadInput
from generators.tabular.expressions import evaluate, names_in


@dataclass
class Constraint:
    kind: str
    columns: list[str]
    min: float | None = None
    max: float | None = None
    strict: bool = True
    expr: str | None = None
    combos: list[list] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "inequality":
            return f"{self.columns[0]} {'<' if self.strict else '<='} {self.columns[1]}"
        if self.kind == "range":
            return f"{self.min} <= {self.columns[0]} <= {self.max}"
        if self.kind == "fixed_combinations":
            return "fixed combinations of " + ", ".join(self.columns)
        return f"filter '{self.expr}'"

    def to_json(self) -> dict:
        return dict(self.__dict__)

    def check(self, columns: list[str], kinds: dict[str, str] | None = None,
              bounds: dict[str, tuple[float, float]] | None = None) -> None:
        """Raise :class:`BadInput` for unknown columns or a constraint that can never hold."""
        used = sorted(names_in(self._filter_expr())) if self.kind == "filter" else self.columns
        unknown = [c for c in used if c not in columns]
        if unknown:
            raise BadInput(f"constraint {self.describe()} names unknown column(s) {', '.join(unknown)} "
                           f"(columns: {', '.join(columns)})", field=unknown[0])
        if self.kind == "inequality" and self.columns[0] == self.columns[1] and self.strict:
            raise BadInput(f"constraint {self.describe()} can never hold", field=self.columns[0])
        if self.kind == "range":
            name = self.columns[0]
            if self.min is not None and self.max is not None and self.min > self.max:
                raise BadInput(f"constraint {self.describe()} is impossible: min > max", field=name)
            if kinds and kinds.get(name) not in (None, "numeric", "integer"):
                raise BadInput(f"a range needs a numeric column, '{name}' is {kinds[name]}", field=name)
            if bounds and name in bounds:
                lo, hi = bounds[name]
                if (self.min is not None and self.min > hi) or (self.max is not None and self.max < lo):
                    raise BadInput(f"constraint {self.describe()} is impossible: the column's values lie "
                                   f"in [{lo:g}, {hi:g}]", field=name)

    def _filter_expr(self) -> str:
        """The expression of a filter constraint (:func:`parse_constraint` always sets one)."""
        if self.expr is None:
            raise BadInput(f"constraint {self.kind} has no expression")
        return self.expr

    def learn(self, df: pd.DataFrame) -> None:
        """Remember what the real table allows (the combinations, for fixed combinations)."""
        if self.kind == "fixed_combinations":
            seen = df[self.columns].drop_duplicates()
            self.combos = [[_plain(v) for v in row] for row in seen.itertuples(index=False)]

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        if self.kind == "inequality":
            a, b = (pd.to_numeric(df[c], errors="coerce") if not pd.api.types.is_datetime64_any_dtype(df[c])
                    else df[c] for c in self.columns)
            ok = (a < b) if self.strict else (a <= b)
            return (ok | a.isna() | b.isna()).to_numpy(dtype=bool)
        if self.kind == "range":
            s = pd.to_numeric(df[self.columns[0]], errors="coerce")
            ok = pd.Series(True, index=df.index)
            if self.min is not None:
                ok &= s >= self.min
            if self.max is not None:
                ok &= s <= self.max
            return (ok | s.isna()).to_numpy(dtype=bool)
        if self.kind == "fixed_combinations":
            allowed = {tuple(_key(v) for v in row) for row in self.combos}
            rows = df[self.columns].itertuples(index=False)
            return np.array([tuple(_key(v) for v in row) in allowed for row in rows], dtype=bool)
        result = evaluate(self._filter_expr(), df, field="constraint")
        if not isinstance(result, pd.Series):
            return np.full(len(df), bool(result))
        return result.fillna(False).astype(bool).to_numpy()


def _plain(v: object) -> object:
    if isinstance(v, np.generic):
        v = v.item()
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _key(v: object) -> str:
    v = _plain(v)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return repr(v) if not isinstance(v, str) else "s:" + v


_INEQ = re.compile(r"^\s*([A-Za-z_][\w\-.]*)\s*(<=|<|>=|>)\s*([A-Za-z_][\w\-.]*)\s*$")
_RANGE = re.compile(r"^\s*(-?[\d.eE+]+)\s*<=?\s*([A-Za-z_][\w\-.]*)\s*<=?\s*(-?[\d.eE+]+)\s*$")


def parse_constraint(spec: dict | str | Constraint) -> Constraint:
    """Build a :class:`Constraint` from a dict or a string (see the module docstring)."""
    if isinstance(spec, Constraint):
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        if text.lower().startswith("fixed:"):
            return Constraint("fixed_combinations", [c.strip() for c in text[6:].split(",") if c.strip()])
        m = _RANGE.match(text)
        if m:
            return Constraint("range", [m.group(2)], min=float(m.group(1)), max=float(m.group(3)))
        m = _INEQ.match(text)
        if m and m.group(1) not in ("True", "False"):
            low, op, high = m.groups()
            if op.startswith(">"):
                low, high = high, low
            return Constraint("inequality", [low, high], strict=len(op) == 1)
        names_in(text)  # raises BadInput when the filter does not parse
        return Constraint("filter", [], expr=text)
    if not isinstance(spec, dict):
        raise BadInput(f"a constraint must be a dict or a string, got {type(spec).__name__}")
    if "kind" in spec:  # the saved form
        return Constraint(**spec)
    if "inequality" in spec:
        cols = spec["inequality"]
        if not (isinstance(cols, list) and len(cols) == 2):
            raise BadInput("inequality needs two columns: {inequality: [low, high]}", field="inequality")
        return Constraint("inequality", [str(c) for c in cols], strict=bool(spec.get("strict", True)))
    if "range" in spec:
        if spec.get("min") is None and spec.get("max") is None:
            raise BadInput("range needs min and/or max", field=str(spec["range"]))
        return Constraint("range", [str(spec["range"])], min=_num(spec.get("min")), max=_num(spec.get("max")))
    if "fixed_combinations" in spec:
        cols = spec["fixed_combinations"]
        if not (isinstance(cols, list) and len(cols) >= 2):
            raise BadInput("fixed_combinations needs at least two columns", field="fixed_combinations")
        return Constraint("fixed_combinations", [str(c) for c in cols])
    if "filter" in spec:
        names_in(str(spec["filter"]))
        return Constraint("filter", [], expr=str(spec["filter"]))
    raise BadInput(f"unknown constraint {spec!r}: use inequality, range, fixed_combinations or filter")


def _num(v: object) -> float | None:
    if v is None:
        return None
    if isinstance(v, (str, bytes, SupportsFloat, SupportsIndex)):  # what float() takes
        try:
            return float(v)
        except ValueError as exc:
            raise BadInput(f"range bound {v!r} is not a number") from exc
    raise BadInput(f"range bound {v!r} is not a number")
