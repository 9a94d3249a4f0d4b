"""A small, safe evaluator for column expressions such as ``salary * 0.1 + age`` or ``a < b and c == 'x'``.

Expressions are parsed with :mod:`ast` and only a whitelist of node types is evaluated, vectorised
over pandas Series: numbers and strings, column names, arithmetic, comparisons (also chained and
``in [..]``), ``and`` / ``or`` / ``not`` (element-wise), ``x if cond else y``, and the functions in
:data:`FUNCTIONS`. No attribute access, subscripts, lambdas, comprehensions or imports, so an
expression cannot reach Python objects; nothing is passed to ``eval``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from catalog.errors import BadInput


def _year(x: pd.Series) -> pd.Series:
    return pd.to_datetime(x).dt.year


def _days_between(a: pd.Series, b: pd.Series) -> pd.Series:
    return (pd.to_datetime(b) - pd.to_datetime(a)).dt.days


FUNCTIONS: dict[str, Callable] = {
    "abs": np.abs, "round": lambda x, d=0: np.round(x, int(d)), "floor": np.floor, "ceil": np.ceil,
    "sqrt": np.sqrt, "log": np.log, "exp": np.exp, "min": np.minimum, "max": np.maximum,
    "clip": lambda x, lo, hi: np.clip(x, lo, hi), "where": lambda c, a, b: _where(c, a, b),
    "isnull": pd.isna, "notnull": pd.notna, "str": lambda x: _as_series(x).astype(str),
    "int": lambda x: np.floor(x).astype("Int64") if isinstance(x, pd.Series) else int(x),
    "float": lambda x: _as_series(x).astype(float), "year": _year, "days_between": _days_between,
    "upper": lambda x: _as_series(x).str.upper(), "lower": lambda x: _as_series(x).str.lower(),
}

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
_CONSTANTS = {"True": True, "False": False, "None": None, "nan": np.nan, "pi": np.pi}

def _as_series(x: object) -> pd.Series:
    return x if isinstance(x, pd.Series) else pd.Series([x])


def _where(cond: object, a: object, b: object) -> object:
    if isinstance(cond, pd.Series):
        values = np.where(cond.fillna(False).astype(bool), _values(a), _values(b))
        return pd.Series(values, index=cond.index)
    return a if cond else b


def _values(x: object) -> Any:
    """A Series as its array, anything else (a scalar, a list) as it is: what ``np.where`` takes."""
    return x.to_numpy() if isinstance(x, pd.Series) else x


def _logical(values: list, op: Callable) -> object:
    out = values[0]
    for v in values[1:]:
        out = op(_bool(out), _bool(v))
    return out


def _bool(x: object) -> pd.Series | bool:
    if isinstance(x, pd.Series):
        return x.fillna(False).astype(bool)
    return bool(x)


def names_in(expr: str) -> set[str]:
    """The column names an expression refers to (after checking that it parses)."""
    tree = _parse(expr)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
            and n.id not in FUNCTIONS and n.id not in _CONSTANTS}


def evaluate(expr: str, df: pd.DataFrame, *, field: str | None = None) -> object:
    """Evaluate ``expr`` against the columns of ``df``; returns a Series (or a scalar)."""
    tree = _parse(expr, field)
    unknown = sorted(n for n in names_in(expr) if n not in df.columns)
    if unknown:
        raise BadInput(f"expression '{expr}' refers to unknown column(s) {', '.join(unknown)} "
                       f"(columns: {', '.join(map(str, df.columns))})", field=field)
    try:
        with np.errstate(all="ignore"):
            return _Evaluator(df).visit(tree.body)
    except BadInput:
        raise
    except Exception as exc:  # arithmetic on incompatible types, bad function arguments...
        raise BadInput(f"cannot evaluate expression '{expr}': {exc}", field=field) from exc


def _parse(expr: str, field: str | None = None) -> ast.Expression:
    if not isinstance(expr, str) or not expr.strip():
        raise BadInput("expression must be a non-empty string", field=field)
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise BadInput(f"expression '{expr}' is not valid: {exc.msg}", field=field) from exc
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call,
               ast.Name, ast.Constant, ast.Load, ast.List, ast.Tuple, ast.And, ast.Or, ast.Not, ast.USub,
               ast.UAdd, ast.In, ast.NotIn, ast.keyword, *(_BINARY), *(_COMPARE))
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise BadInput(f"expression '{expr}' uses {type(node).__name__}, which is not allowed",
                           field=field)
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS):
            name = node.func.id if isinstance(node.func, ast.Name) else "?"
            raise BadInput(f"expression '{expr}' calls unknown function '{name}' "
                           f"(allowed: {', '.join(sorted(FUNCTIONS))})", field=field)
    return tree


class _Evaluator(ast.NodeVisitor):
    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df

    def visit_Constant(self, node: ast.Constant) -> object:
        return node.value

    def visit_Name(self, node: ast.Name) -> object:
        if node.id in self.df.columns:
            return self.df[node.id]
        return _CONSTANTS[node.id]

    def visit_List(self, node: ast.List) -> list:
        return [self.visit(e) for e in node.elts]

    def visit_Tuple(self, node: ast.Tuple) -> list:
        return [self.visit(e) for e in node.elts]

    def visit_BinOp(self, node: ast.BinOp) -> object:
        return _BINARY[type(node.op)](self.visit(node.left), self.visit(node.right))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> object:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return ~_bool(value) if isinstance(value, pd.Series) else not value
        return -value if isinstance(node.op, ast.USub) else value

    def visit_BoolOp(self, node: ast.BoolOp) -> object:
        values = [self.visit(v) for v in node.values]
        return _logical(values, operator.and_ if isinstance(node.op, ast.And) else operator.or_)

    def visit_Compare(self, node: ast.Compare) -> object:
        left = self.visit(node.left)
        results = []
        for op, comp in zip(node.ops, node.comparators):
            right = self.visit(comp)
            if isinstance(op, (ast.In, ast.NotIn)):
                items = right if isinstance(right, list) else [right]
                res = left.isin(items) if isinstance(left, pd.Series) else left in items
                res = ~res if isinstance(op, ast.NotIn) else res
            else:
                res = _COMPARE[type(op)](left, right)
            results.append(res)
            left = right
        return _logical(results, operator.and_)

    def visit_IfExp(self, node: ast.IfExp) -> object:
        return _where(self.visit(node.test), self.visit(node.body), self.visit(node.orelse))

    def visit_Call(self, node: ast.Call) -> object:
        func = node.func
        assert isinstance(func, ast.Name)  # _parse admits calls of the named FUNCTIONS only
        args = [self.visit(a) for a in node.args]
        kwargs = {}
        for k in node.keywords:
            if k.arg is None:  # f(**x): there are no mappings to unpack in an expression
                raise BadInput(f"'**' arguments are not allowed (in a call of {func.id})")
            kwargs[k.arg] = self.visit(k.value)
        return FUNCTIONS[func.id](*args, **kwargs)

    def generic_visit(self, node: ast.AST) -> object:
        raise BadInput(f"unsupported expression element {type(node).__name__}")
