"""Rule-based specs: the short form, every distribution, expressions, missing rates, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from catalog.errors import BadInput
from generators.tabular import generate_from_spec

SHORT = {
    "rows": 500, "seed": 1,
    "columns": {
        "id": "sequence(1001)",
        "age": "normal(30, 5)",
        "salary": "uniform(30000, 90000, integer=True)",
        "department": 'choice(["Sales", "Engineering", "Support", "Finance"])',
    },
}


def test_the_short_spec_from_the_issue() -> None:
    df = generate_from_spec(SHORT)
    assert list(df.columns) == ["id", "age", "salary", "department"]
    assert df["id"].tolist() == list(range(1001, 1501))
    assert abs(df["age"].mean() - 30) < 1.0 and abs(df["age"].std() - 5) < 0.7
    assert df["salary"].dtype == np.int64 and df["salary"].between(30000, 90000).all()
    assert set(df["department"]) == {"Sales", "Engineering", "Support", "Finance"}


def test_same_seed_same_table_and_other_seed_differs() -> None:
    spec = {**SHORT, "columns": {**SHORT["columns"], "name": 'faker("name")'}}
    a, b = generate_from_spec(spec), generate_from_spec(spec)
    pd.testing.assert_frame_equal(a, b)
    c = generate_from_spec(spec, seed=2)
    assert not a["age"].equals(c["age"]) and not a["name"].equals(c["name"])


def test_adding_a_column_leaves_the_others_unchanged() -> None:
    a = generate_from_spec(SHORT)
    b = generate_from_spec({**SHORT, "columns": {"extra": "poisson(3)", **SHORT["columns"]}})
    pd.testing.assert_frame_equal(a, b[a.columns])


def test_all_distributions_options_and_expressions(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("""
rows: 2000
seed: 3
columns:
  total: = base + extra
  base: lognormal(1.0, 0.5, round=2)
  extra: poisson(4)
  tier: choice(["a", "b"], weights=[0.9, 0.1])
  joined: date_range("2020-01-01", "2020-12-31")
  score: {dist: normal, mean: 0, sd: 1, min: -1, max: 1, missing: 0.25}
  code: constant("X")
  flag: = where(tier == "b", total * 2, 0)
""")
    df = generate_from_spec(path)
    assert len(df) == 2000
    assert np.allclose(df["total"], df["base"] + df["extra"])
    assert np.allclose(df["base"], df["base"].round(2))
    assert 3.5 < df["extra"].mean() < 4.5
    assert 0.07 < (df["tier"] == "b").mean() < 0.13
    assert pd.api.types.is_datetime64_any_dtype(df["joined"])
    assert df["joined"].min() >= pd.Timestamp("2020-01-01") and df["joined"].max() <= pd.Timestamp("2020-12-31")
    assert 0.2 < df["score"].isna().mean() < 0.3
    assert df["score"].dropna().between(-1, 1).all()
    assert (df["code"] == "X").all()
    assert ((df["flag"] == 0) == (df["tier"] == "a")).all()


def test_json_spec_and_n_override(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SHORT))
    assert len(generate_from_spec(path, n=7)) == 7


def test_demo_spec_generates() -> None:
    demo = Path(__file__).resolve().parents[2] / "data" / "demo_table_spec.yaml"
    df = generate_from_spec(demo)
    assert len(df) == 200 and df["employee_id"].is_unique
    assert df["age"].between(18, 67).all()
    assert (df["annual_pay"] >= df["salary"]).all()


@pytest.mark.parametrize(("columns", "needle"), [
    ({"a": "gauss(1, 2)"}, "unknown distribution"),
    ({"a": "normal(1, -2)"}, "sd must be"),
    ({"a": "= b + 1"}, "unknown column"),
    ({"a": "= b + 1", "b": "= a * 2"}, "cycle"),
    ({"a": "= __import__('os').system('true')"}, "not allowed|unknown function"),
    ({"a": "normal(0, 1)", "b": "= a.real"}, "not allowed"),
    ({"a": "normal(0, 1, missing=2)"}, "missing"),
    ({"a": 'choice(["x"], weights=[1, 2])'}, "weights"),
    ({"a": "normal(open('x'), 1)"}, "cannot read"),
])
def test_bad_columns_raise(columns: dict, needle: str) -> None:
    with pytest.raises(BadInput, match=needle):
        generate_from_spec({"rows": 5, "columns": columns})


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("rows: 3\ncolumns:\n  a: normal(1, 2)\n  b: choice({'x': 1})\n")
    with pytest.raises(BadInput) as info:
        generate_from_spec(path)
    assert info.value.line == 4 and str(path) in str(info.value)


def test_missing_rows_or_unknown_keys_raise() -> None:
    with pytest.raises(BadInput, match="rows"):
        generate_from_spec({"columns": {"a": "normal(0, 1)"}})
    with pytest.raises(BadInput, match="colums"):
        generate_from_spec({"rows": 3, "colums": {}})
