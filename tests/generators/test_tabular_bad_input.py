"""Bad tables, parameters, conditions and files give BadInput with a message naming the problem."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from catalog.errors import BadInput
from generators.tabular import load_synthesizer, make_synthesizer


@pytest.fixture(scope="module")
def fitted():  # noqa: ANN201
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=50), "c": rng.choice(["a", "b"], 50)})
    return make_synthesizer("copula").fit(df)


@pytest.mark.parametrize(("df", "needle"), [
    (pd.DataFrame(), "no columns"),
    (pd.DataFrame({"x": [1.0]}), "1 row"),
    (pd.DataFrame({"x": []}), "0 row"),
    (pd.DataFrame({"x": [1.0, 2.0, 3.0], "empty": [None, None, None]}), "empty"),
    (pd.DataFrame({"x": [1, 2, 3], "t": pd.to_timedelta([1, 2, 3], unit="D")}), "unsupported"),
    (pd.DataFrame({"x": [1, 2], "l": [[1], [2]]}), "unsupported"),
])
def test_bad_tables(df: pd.DataFrame, needle: str) -> None:
    with pytest.raises(BadInput, match=needle):
        make_synthesizer("copula").fit(df)


def test_not_a_dataframe() -> None:
    with pytest.raises(BadInput, match="DataFrame"):
        make_synthesizer("gmm").fit([[1, 2]])  # type: ignore[arg-type]


def test_unknown_method_and_parameter() -> None:
    with pytest.raises(BadInput, match="unknown method 'vae'"):
        make_synthesizer("vae")
    with pytest.raises(BadInput, match="epoch"):
        make_synthesizer("copula", epoch=3)


def test_sample_before_fit() -> None:
    with pytest.raises(BadInput, match="not been fitted"):
        make_synthesizer("copula").sample(3)


@pytest.mark.parametrize(("conditions", "needle"), [
    ({"nope": 1}, "unknown column"),
    ({"c": "zzz"}, "does not occur"),
    ({"x": "abc"}, "not a number"),
    ({"x": 1e9}, "outside"),
])
def test_bad_conditions(fitted, conditions: dict, needle: str) -> None:  # noqa: ANN001
    with pytest.raises(BadInput, match=needle):
        fitted.sample(5, conditions=conditions)


def test_bad_sample_sizes_and_balance(fitted) -> None:  # noqa: ANN001
    with pytest.raises(BadInput, match="non-negative"):
        fitted.sample(-1)
    assert len(fitted.sample(0)) == 0
    with pytest.raises(BadInput, match="categorical"):
        fitted.balance("x", 10)
    with pytest.raises(BadInput, match="unknown column"):
        fitted.balance("nope", 10)


def test_bad_model_directories(fitted, tmp_path: Path) -> None:  # noqa: ANN001
    with pytest.raises(BadInput, match="not a saved synthesizer"):
        load_synthesizer(tmp_path)
    fitted.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "synthesizer.json").read_text())
    doc["version"] = 99
    (tmp_path / "m" / "synthesizer.json").write_text(json.dumps(doc))
    with pytest.raises(BadInput, match="unsupported model format"):
        load_synthesizer(tmp_path / "m")


def test_read_table_keeps_question_marks_unless_told(tmp_path: Path) -> None:
    from generators.tabular import read_table

    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,?\n2,x\n,y\n")
    df = read_table(path)
    assert df["b"].tolist() == ["?", "x", "y"] and df["a"].isna().sum() == 1
    assert read_table(path, na_values=["?"])["b"].isna().sum() == 1
    with pytest.raises(BadInput, match="not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(BadInput, match="format"):
        read_table(tmp_path / "t.xlsx")


def test_synthesizer_load_alias(fitted, tmp_path: Path) -> None:  # noqa: ANN001

    fitted.save(tmp_path / "m")
    pd.testing.assert_frame_equal(load_synthesizer(tmp_path / "m").sample(5, seed=1), fitted.sample(5, seed=1))
