"""Column type detection (catalog.column_types), shared by the synthesizers and the metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catalog.column_types import COLUMN_TYPES, detect_column_types
from catalog.errors import BadInput


@pytest.fixture()
def mixed() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": range(1001, 1013),
        "code": [f"C{i:04d}" for i in range(12)],
        "score": np.linspace(0.5, 3.25, 12) ** 2,
        "visits": [1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 1, np.nan],
        "salary": [100, 250, 300, 120, 900, 1000, 20, 30, 40, 55, 250, 120],
        "active": [True, False] * 6,
        "maybe": pd.array([True, None] * 6, dtype="boolean"),
        "joined": pd.date_range("2020-01-01", periods=12),
        "joined_text": [f"2021-03-{i + 1:02d}" for i in range(12)],
        "notes": [f"customer number {i} asked about the delivery of a parcel" for i in range(12)],
        "dept": list("aabbccddeeff"),
        "flag": ["?", "a"] * 6,
    })


def test_each_column_gets_the_expected_type(mixed: pd.DataFrame) -> None:
    assert detect_column_types(mixed) == {
        "customer_id": "id", "code": "id", "score": "numeric", "visits": "integer",
        "salary": "integer", "active": "boolean", "maybe": "boolean", "joined": "datetime",
        "joined_text": "datetime", "notes": "text", "dept": "categorical", "flag": "categorical",
    }


def test_question_mark_is_a_label_not_missing(mixed: pd.DataFrame) -> None:
    assert detect_column_types(mixed[["flag"]]) == {"flag": "categorical"}
    assert mixed["flag"].isna().sum() == 0


def test_unique_integers_without_id_name_or_even_steps_stay_integers() -> None:
    df = pd.DataFrame({"amount": [5, 17, 3, 99, 41, 8]})
    assert detect_column_types(df) == {"amount": "integer"}


def test_overrides_win(mixed: pd.DataFrame) -> None:
    types = detect_column_types(mixed, overrides={"salary": "numeric", "customer_id": "categorical"})
    assert types["salary"] == "numeric" and types["customer_id"] == "categorical"
    assert set(types.values()) <= set(COLUMN_TYPES)


@pytest.mark.parametrize(("overrides", "needle"), [
    ({"nope": "numeric"}, "nope"),
    ({"salary": "float"}, "float"),
])
def test_bad_overrides_raise(mixed: pd.DataFrame, overrides: dict[str, str], needle: str) -> None:
    with pytest.raises(BadInput, match=needle):
        detect_column_types(mixed, overrides=overrides)


def test_unsupported_values_raise() -> None:
    with pytest.raises(BadInput, match="list"):
        detect_column_types(pd.DataFrame({"tags": [[1], [2], [3]]}))
    with pytest.raises(BadInput, match="complex"):
        detect_column_types(pd.DataFrame({"z": np.array([1 + 2j, 3j])}))
