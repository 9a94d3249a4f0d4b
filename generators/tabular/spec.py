"""Rule-based tables from a short YAML/JSON spec (no real data needed).

.. code-block:: yaml

    rows: 100
    seed: 1
    columns:
      id: sequence(1001)
      age: normal(30, 5, min=18, integer=True)
      salary: uniform(30000, 90000, integer=True)
      department: choice(["Sales", "Engineering", "Support", "Finance"])
      level: choice(["junior", "senior"], weights=[0.7, 0.3], missing=0.1)
      joined: date_range("2015-01-01", "2024-12-31")
      name: faker("name")
      bonus: = salary * 0.1 + where(level == "senior", 5000, 0)

A column is either a call ``distribution(args, options)`` written as a string, ``= expression``,
or a mapping ``{dist: normal, mean: 30, sd: 5, missing: 0.1}``. Options valid for every column:
``missing`` (rate of missing values, applied after expressions are computed), ``min``, ``max``,
``round`` (decimals) and ``integer``. Each column draws from its own generator seeded by the spec's
seed and the column name, so adding a column leaves the others unchanged. Expressions use the safe
evaluator of :mod:`generators.tabular.expressions`, never ``eval``.
"""

from __future__ import annotations

import ast
import json
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from catalog.errors import BadInput
from generators.tabular.expressions import evaluate, names_in

COMMON_OPTIONS = ("missing", "min", "max", "round", "integer")
TOP_KEYS = ("rows", "seed", "columns", "name", "description")


def _normal(rng: np.random.Generator, n: int, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    if sd < 0:
        raise ValueError("sd must be >= 0")
    return rng.normal(mean, sd, n)


def _uniform(rng: np.random.Generator, n: int, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    if high < low:
        raise ValueError("high must be >= low")
    return rng.uniform(low, high, n)


def _lognormal(rng: np.random.Generator, n: int, mean: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    return rng.lognormal(mean, sigma, n)


def _poisson(rng: np.random.Generator, n: int, lam: float = 1.0) -> np.ndarray:
    return rng.poisson(lam, n)


def _choice(rng: np.random.Generator, n: int, options: list | dict, weights: list | None = None) -> list:
    if isinstance(options, dict):
        weights = list(options.values())
        options = list(options)
    if not isinstance(options, list) or not options:
        raise ValueError("choice needs a non-empty list of options or a {option: weight} mapping")
    p = None
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if len(w) != len(options) or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be non-negative, not all zero, one per option")
        p = w / w.sum()
    idx = rng.choice(len(options), size=n, p=p)
    return [options[i] for i in idx]


def _sequence(rng: np.random.Generator, n: int, start: int = 1, step: int = 1) -> np.ndarray:
    return start + step * np.arange(n)


def _date_range(rng: np.random.Generator, n: int, start: str, end: str, time: bool = False,
                sort: bool = False) -> pd.Series:
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    if hi < lo:
        raise ValueError("end is before start")
    unit = 1 if time else 86400
    span = int((hi - lo).total_seconds() // unit)
    offsets = rng.integers(0, span + 1, n)
    if sort:
        offsets = np.sort(offsets)
    return pd.Series(lo + pd.to_timedelta(offsets * unit, unit="s"))


def _constant(rng: np.random.Generator, n: int, value: object) -> list:
    return [value] * n


def _faker(rng: np.random.Generator, n: int, provider: str, *args: object, locale: str = "en_US",
           **kwargs: object) -> list:
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(int(rng.integers(2**31)))
    method = getattr(fake, str(provider), None)
    if provider.startswith("_") or not callable(method):
        raise ValueError(f"faker has no provider '{provider}'")
    return [method(*args, **kwargs) for _ in range(n)]


DISTRIBUTIONS: dict[str, Callable] = {
    "normal": _normal, "uniform": _uniform, "lognormal": _lognormal, "poisson": _poisson,
    "choice": _choice, "sequence": _sequence, "date_range": _date_range, "faker": _faker,
    "constant": _constant,
}


def load_spec(spec: dict | str | Path) -> tuple[dict, str | None]:
    """Read a spec from a dict or a YAML/JSON file; returns ``(spec, file name or None)``."""
    if isinstance(spec, dict):
        return spec, None
    path = Path(spec)
    if not path.is_file():
        raise BadInput("spec file not found", file=str(path))
    text = path.read_text()
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"invalid JSON: {exc.msg}", file=str(path), line=exc.lineno) from exc
    except Exception as exc:  # yaml.YAMLError, imported lazily
        mark = getattr(exc, "problem_mark", None)
        raise BadInput(f"invalid YAML: {getattr(exc, 'problem', exc)}", file=str(path),
                       line=mark.line + 1 if mark else None) from exc
    if not isinstance(data, dict):
        raise BadInput("a spec must be a mapping with 'columns'", file=str(path))
    return data, str(path)


def generate_from_spec(spec: dict | str | Path, n: int | None = None, seed: int | None = None) -> pd.DataFrame:
    """Generate a table from a rule spec; ``n`` and ``seed`` override the spec's ``rows``/``seed``."""
    data, file = load_spec(spec)
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise BadInput(f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(TOP_KEYS)})", file=file)
    rows = n if n is not None else data.get("rows")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise BadInput(f"rows must be a non-negative integer, got {rows!r}", file=file, field="rows")
    seed = seed if seed is not None else data.get("seed", 0)
    if not isinstance(seed, int) or seed < 0:
        raise BadInput(f"seed must be a non-negative integer, got {seed!r}", file=file, field="seed")
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise BadInput("the spec needs a non-empty 'columns' mapping", file=file, field="columns")
    parsed = {str(name): _parse_column(str(name), body, file) for name, body in columns.items()}
    out: dict[str, pd.Series] = {}
    for name in _order(parsed, file):
        kind, args, kwargs, options = parsed[name]
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        try:
            if kind == "expr":
                values = evaluate(args[0], pd.DataFrame(out, index=range(rows)), field=name)
                if not isinstance(values, pd.Series):
                    values = pd.Series([values] * rows)
            else:
                values = DISTRIBUTIONS[kind](rng, rows, *args, **kwargs)
        except BadInput as exc:
            raise BadInput(exc.reason, file=file, field=name) from exc
        except (TypeError, ValueError, OverflowError) as exc:
            raise BadInput(f"{kind}: {exc}", file=file, field=name) from exc
        out[name] = _finish(pd.Series(values).reset_index(drop=True), options, name, file)
    for name, (_, _, _, options) in parsed.items():  # missing values last: expressions saw full data
        rate = options.get("missing", 0)
        if rate:
            rng = np.random.default_rng([seed, zlib.crc32(name.encode()), 1])
            s = out[name]
            mask = rng.random(rows) < rate
            if pd.api.types.is_integer_dtype(s.dtype):
                s = s.astype("Int64")
            elif pd.api.types.is_bool_dtype(s.dtype):
                s = s.astype("boolean")
            out[name] = s.mask(mask)
    return pd.DataFrame(out, columns=list(parsed))


def _parse_column(name: str, body: object, file: str | None) -> tuple[str, list, dict, dict]:
    if isinstance(body, dict):
        body = dict(body)
        options = {k: body.pop(k) for k in COMMON_OPTIONS if k in body}
        if "expr" in body:
            kind, args, kwargs = "expr", [str(body.pop("expr"))], {}
            if body:
                raise BadInput(f"unexpected key(s) {', '.join(body)} next to expr", file=file, field=name)
        else:
            kind = body.pop("dist", None)
            args, kwargs = [], body
    elif isinstance(body, str) and body.strip().startswith("="):
        kind, args, kwargs, options = "expr", [body.strip()[1:].strip()], {}, {}
    elif isinstance(body, str):
        kind, args, kwargs = _parse_call(body, name, file)
        options = {k: kwargs.pop(k) for k in COMMON_OPTIONS if k in kwargs}
        if kind == "expr":
            if len(args) != 1 or not isinstance(args[0], str):
                raise BadInput("expr takes one string: expr(\"a + b\")", file=file, field=name)
    else:
        raise BadInput(f"a column must be 'distribution(...)', '= expression' or a mapping, got {body!r}",
                       file=file, field=name)
    if kind != "expr" and kind not in DISTRIBUTIONS:
        raise BadInput(f"unknown distribution {kind!r} (known: {', '.join(DISTRIBUTIONS)}, expr)",
                       file=file, field=name)
    if kind == "expr":
        names_in(args[0])  # fails early on a bad expression
    rate = options.get("missing", 0)
    if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise BadInput(f"missing must be a rate between 0 and 1, got {rate!r}", file=file, field=name)
    return kind, args, kwargs, options


def _parse_call(text: str, name: str, file: str | None) -> tuple[str, list, dict]:
    try:
        node = ast.parse(text.strip(), mode="eval").body
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            raise ValueError("expected distribution(arguments)")
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except (SyntaxError, ValueError) as exc:
        raise BadInput(f"cannot read {text!r}: {exc} (e.g. normal(30, 5) or choice(['a', 'b']))",
                       file=file, field=name) from exc
    return node.func.id, args, kwargs


def _order(parsed: dict, file: str | None) -> list[str]:
    """Columns in an order where every expression comes after the columns it uses."""
    deps = {}
    for name, (kind, args, _, _) in parsed.items():
        used = names_in(args[0]) if kind == "expr" else set()
        unknown = sorted(used - set(parsed))
        if unknown:
            raise BadInput(f"expression uses unknown column(s) {', '.join(unknown)}", file=file, field=name)
        deps[name] = used
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise BadInput(f"expressions refer to each other in a cycle: {' -> '.join(chain + [name])}",
                           file=file, field=name)
        state[name] = 1
        for d in sorted(deps[name]):
            visit(d, chain + [name])
        state[name] = 2
        order.append(name)

    for name in parsed:
        visit(name, [])
    return order


def _finish(s: pd.Series, options: dict, name: str, file: str | None) -> pd.Series:
    lo, hi = options.get("min"), options.get("max")
    if lo is not None or hi is not None:
        if not pd.api.types.is_numeric_dtype(s.dtype):
            raise BadInput("min/max apply to numeric columns only", file=file, field=name)
        if lo is not None and hi is not None and lo > hi:
            raise BadInput(f"min {lo} is greater than max {hi}", file=file, field=name)
        s = s.clip(lower=lo, upper=hi)
    if "round" in options:
        s = s.round(int(options["round"]))
    if options.get("integer"):
        s = np.floor(s + 0.5).astype("int64")
    return s
