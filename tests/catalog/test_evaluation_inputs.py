"""Bad input to the evaluation API gets a BadInput naming what is wrong and where."""

from __future__ import annotations

import pandas as pd
import pytest

from catalog.errors import BadInput
from catalog.evaluation import evaluate_tables, evaluate_texts, quality_score


@pytest.fixture
def real() -> pd.DataFrame:
    return pd.DataFrame({"age": [30.0, 40.0, 50.0, 60.0, 35.0, 45.0], "sex": list("FMFMFM"),
                         "income": list("nyynny")})


def test_no_common_columns(real):
    other = pd.DataFrame({"height": [1.7, 1.8], "weight": [60, 70]})
    with pytest.raises(BadInput, match="no column in common"):
        quality_score(real, other)


def test_mismatched_types_name_the_column(real):
    synth = real.assign(age=["old", "young", "old", "young", "old", "old"])
    with pytest.raises(BadInput, match="mismatched types") as info:
        evaluate_tables(real, synth)
    assert info.value.field == "age"
    numeric_labels = real.assign(sex=[0, 1, 0, 1, 0, 1])
    with pytest.raises(BadInput, match="field 'sex'.*mismatched"):
        evaluate_tables(real, numeric_labels)


def test_target_missing(real):
    with pytest.raises(BadInput, match="target column is missing from the real table") as info:
        evaluate_tables(real, real.copy(), real.copy(), target="salary")
    assert info.value.field == "salary"
    with pytest.raises(BadInput, match="missing from the synthetic table"):
        evaluate_tables(real, real.drop(columns="income"), real.copy(), target="income")


def test_sensitive_and_holdout_problems(real):
    with pytest.raises(BadInput, match="sensitive column"):
        evaluate_tables(real, real.copy(), sensitive=["race"])
    with pytest.raises(BadInput, match="holdout table lacks") as info:
        evaluate_tables(real, real.copy(), real.drop(columns="sex"), target="income")
    assert info.value.field == "sex"
    with pytest.raises(BadInput, match="holdout data has no rows"):
        evaluate_tables(real, real.copy(), real.iloc[:0], target="income")


def test_empty_and_wrong_kinds(real):
    with pytest.raises(BadInput, match="synthetic data has no rows"):
        quality_score(real, real.iloc[:0])
    with pytest.raises(BadInput, match="must be a pandas DataFrame"):
        quality_score(real, [1, 2, 3])
    with pytest.raises(BadInput, match="not in both tables"):
        quality_score(real, real.copy(), {"height": "numeric"})
    with pytest.raises(BadInput, match="unknown section"):
        evaluate_tables(real, real.copy(), skip=["speed"])
    with pytest.raises(BadInput, match="no synthetic texts"):
        evaluate_texts(["a real text"], [])
    with pytest.raises(BadInput, match="line 2"):
        evaluate_texts(["a real text"], ["fine", 3])


def test_skipped_sections_say_why(real):
    result = evaluate_tables(real, real.copy())
    assert result["utility"] == {"skipped": "needs a holdout table and a target column"}
    assert result["bias"] == {"skipped": "no sensitive columns given"}
    assert result["quality"]["overall"] == pytest.approx(1.0)
    assert result["privacy"]["exact_copies"]["share"] == 1.0


def test_only_ids_and_free_text_is_refused():
    n = 20
    df = pd.DataFrame({"user_id": [f"u{i:04d}" for i in range(n)],
                       "bio": [f"a long free text biography of person number {i} with many words" for i in range(n)]})
    with pytest.raises(BadInput, match="no column to compare"):
        evaluate_tables(df, df.copy())
    forced = quality_score(df, df.copy(), {"bio": "categorical"})
    assert forced["column_shapes"] == 1.0
