"""`synthcat generate table`: fit from a catalog table or file, rules specs, saved models, errors."""

from __future__ import annotations

import json

import pandas as pd

from tests.conftest import PROJECT_ROOT


def _table(tmp_path, n=300):
    import numpy as np

    rng = np.random.default_rng(0)
    age = rng.integers(18, 80, n)
    frame = pd.DataFrame({"age": age, "hours": (age % 40) + rng.integers(0, 10, n),
                          "plan": rng.choice(["basic", "plus", "max"], n, p=[0.6, 0.3, 0.1]),
                          "churned": rng.choice(["yes", "no"], n, p=[0.2, 0.8])})
    path = tmp_path / "real.csv"
    frame.to_csv(path, index=False)
    return path


def test_fit_sample_condition_and_lineage(invoke, tmp_path):
    path = _table(tmp_path)
    assert invoke("import", str(path), "--dataset", "real").exit_code == 0
    model_dir = tmp_path / "model"
    result = invoke("generate", "table", "--from", "real", "--method", "copula", "--n", "120", "--dataset", "syn",
                    "--seed", "3", "--save-model", str(model_dir), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(invoke("show", "syn", "--json").stdout)
    assert info["origin"] == "synthetic" and info["parents"] == ["real"] and info["generator"] == "copula"
    assert info["row_count"] == 120 and {c["name"] for c in info["columns"]} == {"age", "hours", "plan", "churned"}
    result = invoke("generate", "table", "--load-model", str(model_dir), "--n", "40", "--dataset", "rare",
                    "--condition", "plan=max", "--seed", "3")
    assert result.exit_code == 0, result.output
    rows = json.loads(invoke("sql", "SELECT plan, count(*) AS n FROM table_3 GROUP BY plan", "--json").stdout)
    assert rows == [{"plan": "max", "n": 40}]
    again = invoke("generate", "table", "--load-model", str(model_dir), "--n", "40", "--dataset", "rare2",
                   "--condition", "plan=max", "--seed", "3")
    assert again.exit_code == 0
    same = json.loads(invoke("sql", "SELECT (SELECT list(age ORDER BY age) FROM table_3) = "
                                    "(SELECT list(age ORDER BY age) FROM table_4) AS same", "--json").stdout)
    assert same == [{"same": True}]


def test_spec_and_constraints(invoke, tmp_path):
    spec = PROJECT_ROOT / "data" / "demo_table_spec.yaml"
    assert invoke("generate", "table", "--spec", str(spec), "--dataset", "staff").exit_code == 0
    assert json.loads(invoke("show", "staff", "--json").stdout)["generator"] == "rules"
    path = _table(tmp_path)
    result = invoke("generate", "table", "--from", str(path), "--method", "gmm", "--n", "100", "--dataset", "c",
                    "--constraint", "age < 60")
    assert result.exit_code == 0, result.output
    worst = json.loads(invoke("sql", "SELECT max(age) AS m FROM table_2", "--json").stdout)[0]["m"]
    assert worst < 60


def test_bad_table_requests(invoke, tmp_path):
    path = _table(tmp_path)
    cases = [
        (["--from", str(path), "--method", "copula", "--n", "5", "--condition", "nope=1"], "unknown column"),
        (["--from", str(path), "--method", "copula", "--n", "5", "--constraint", "age > 500"], "impossible"),
        (["--from", str(path), "--method", "magic", "--n", "5"], "unknown method"),
        (["--from", str(tmp_path / "missing.csv"), "--method", "copula", "--n", "5"], "no such file"),
        (["--n", "5"], "give --from"),
    ]
    for extra, expected in cases:
        result = invoke("generate", "table", "--dataset", "t", *extra)
        assert result.exit_code == 1, (extra, result.output)
        assert expected in result.output and "Traceback" not in result.output, result.output


def test_method_parameters_from_the_cli(invoke, tmp_path):
    """--param reaches the synthesizer (a conditional TVAE here) and is recorded; bad ones are refused."""
    path = _table(tmp_path, n=200)
    result = invoke("generate", "table", "--from", str(path), "--method", "tvae", "--n", "30", "--dataset", "cond",
                    "--epochs", "2", "--param", "condition_column=churned", "--param", "batch_size=100",
                    "--condition", "churned=yes", "--json")
    assert result.exit_code == 0, result.output
    params = json.loads(invoke("show", "cond", "--json").stdout)["parameters"]["method_params"]
    assert params["condition_column"] == "churned" and params["batch_size"] == 100
    rows = json.loads(invoke("sql", "SELECT churned, count(*) AS n FROM table_1 GROUP BY ALL", "--json").stdout)
    assert [r["n"] for r in rows] == [30] and str(rows[0]["churned"]).lower() in ("yes", "true")
    for args, expected in ((["--param", "nope=1"], "has no parameter nope"),
                           (["--param", "no-equals-sign"], "--param: expects KEY=VALUE")):
        bad = invoke("generate", "table", "--from", str(path), "--method", "tvae", "--n", "5", "--dataset", "x",
                     "--epochs", "1", *args)
        assert bad.exit_code == 1 and expected in bad.output and "Traceback" not in bad.output
    assert json.loads(invoke("datasets", "--json").stdout) and invoke("show", "x").exit_code == 1
