"""The HTML report is produced, holds every section, and references nothing outside the file."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from catalog.errors import BadInput
from catalog.evaluation import evaluate_tables, evaluate_texts, write_html_report


def _assert_self_contained(html: str) -> None:
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower() and "<link" not in html.lower()
    sources = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)""", html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "@import" not in html and "url(" not in html


def test_table_report_is_self_contained(tmp_path):
    rng = np.random.default_rng(0)
    n = 300

    def make(seed):
        r = np.random.default_rng(seed)
        age = r.integers(18, 80, n)
        return pd.DataFrame({"age": age, "sex": r.choice(["F", "M"], n),
                             "city": r.choice(["<Paris>", "Lyon & co"], n),
                             "when": pd.Timestamp("2023-01-01") + pd.to_timedelta(r.integers(0, 300, n), unit="D"),
                             "income": np.where(age + r.normal(0, 10, n) > 50, ">50K", "<=50K")})

    real, synth, holdout = make(1), make(2), make(3)
    synth.iloc[0] = real.iloc[0]
    result = evaluate_tables(real, synth, holdout, target="income", sensitive=["sex", "city"],
                             seed=int(rng.integers(10)))
    out = write_html_report(result, tmp_path / "report.html", real=real, synth=synth)
    html = out.read_text(encoding="utf-8")
    _assert_self_contained(html)
    for section in ("Column shapes", "Column pair trends", "Diagnostics", "Machine-learning utility",
                    "Privacy", "Bias", "Overall quality"):
        assert section in html
    assert html.count("<img") >= 2 + 5  # score bars, heatmap, one plot per column
    assert "&lt;Paris&gt;" in html and "<Paris>" not in html   # labels are escaped
    assert "&gt;50K" in html


def test_text_report_is_self_contained(tmp_path):
    real = ["one real sentence about rivers", "another real sentence about hills"]
    synth = ["one real sentence about rivers", "call me at jane@example.com please"]
    result = evaluate_texts(real, synth)
    html = write_html_report(result, tmp_path / "t.html", real=real, synth=synth).read_text()
    _assert_self_contained(html)
    assert "Novelty" in html and "Personal data scan" in html and "jane@example.com" in html


def test_report_rejects_other_input(tmp_path):
    with pytest.raises(BadInput, match="evaluate_tables or evaluate_texts"):
        write_html_report({"overall": 1.0}, tmp_path / "x.html")
    with pytest.raises(BadInput, match="directory does not exist"):
        write_html_report({"kind": "text"}, tmp_path / "missing" / "x.html")


def test_every_section_runs_on_mixed_types_with_missing_values(tmp_path):
    import json

    def make(seed: int, n: int) -> pd.DataFrame:
        r = np.random.default_rng(seed)
        x = r.normal(size=n)
        df = pd.DataFrame({
            "order_id": np.arange(n) + 1000 * seed,
            "amount": np.round(50 + 10 * x, 2),
            "items": r.integers(1, 6, n),
            "paid": x + r.normal(size=n) > 0,
            "day": (pd.Timestamp("2024-01-01") + pd.to_timedelta(r.integers(0, 365, n), unit="D")).astype(str),
            "segment": r.choice(["a", "b", "c"], n),
            "comment": [f"customer wrote a long free text comment number {i} about delivery" for i in range(n)],
        })
        df.loc[r.random(n) < 0.1, "amount"] = np.nan
        df.loc[r.random(n) < 0.1, "segment"] = None
        return df

    real, synth, holdout = make(1, 400), make(2, 300), make(3, 200)
    result = evaluate_tables(real, synth, holdout, target="paid", sensitive=["segment", "amount"])
    json.dumps(result, allow_nan=False)
    types = result["column_types"]
    assert types["order_id"] == "id" and types["comment"] == "text" and types["day"] == "datetime"
    assert "order_id" not in result["quality"]["per_column"]
    assert result["utility"]["task"] == "classification" and result["utility"]["positive_label"] == "True"
    assert set(result["privacy"]["columns"]) == {"amount", "items", "paid", "day", "segment"}
    assert "(missing)" in {g["group"] for g in result["bias"]["columns"]["segment"]["groups"]}
    assert result["diagnostics"]["per_column"]["amount"]["missing_real"] == pytest.approx(
        real["amount"].isna().mean())
    html = write_html_report(result, tmp_path / "r.html", real=real, synth=synth).read_text()
    _assert_self_contained(html)
