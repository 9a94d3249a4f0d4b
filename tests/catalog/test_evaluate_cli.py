"""`synthcat evaluate`: tables and texts from the catalog or files, stored results, report, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from tests.conftest import write_jsonl


def _frames(tmp_path):
    rng = np.random.default_rng(1)
    n = 400
    real = pd.DataFrame({"age": rng.integers(18, 80, n), "plan": rng.choice(["a", "b", "c"], n),
                         "sex": rng.choice(["f", "m"], n)})
    real["churned"] = np.where((real["age"] > 50) & (real["plan"] == "a"), "yes", "no")
    synth = real.sample(frac=1.0, random_state=2).reset_index(drop=True)
    synth["age"] = np.clip(synth["age"] + rng.integers(-3, 4, n), 18, 80)
    real.to_csv(tmp_path / "real.csv", index=False)
    real.iloc[:150].to_csv(tmp_path / "hold.csv", index=False)
    synth.to_csv(tmp_path / "synth.csv", index=False)


def test_table_evaluation_is_stored_and_reported(invoke, tmp_path):
    _frames(tmp_path)
    assert invoke("import", str(tmp_path / "real.csv"), "--dataset", "real").exit_code == 0
    report = tmp_path / "report.html"
    result = invoke("evaluate", str(tmp_path / "synth.csv"), "--real", "real", "--holdout", str(tmp_path / "hold.csv"),
                    "--target", "churned", "--sensitive", "sex", "--report", str(report), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert 0.8 < data["quality"]["overall"] <= 1.0
    assert data["utility"]["metrics"]["tstr"]["roc_auc"] > 0.5
    html = report.read_text()
    assert "<img" in html and "http://" not in html and "https://" not in html
    shown = json.loads(invoke("show", "real", "--json").stdout)
    assert shown["evaluations"][0]["headline"]["quality"] == data["quality"]["overall"]
    assert data["headline"]["quality"] == data["quality"]["overall"]
    table = invoke("evaluate", str(tmp_path / "synth.csv"), "--real", "real", "--skip", "privacy")
    assert table.exit_code == 0 and "column shapes" in table.output


def test_text_evaluation_uses_the_catalog(invoke, tmp_path, pairs_file):
    assert invoke("import", str(pairs_file), "--dataset", "seed").exit_code == 0
    synth = write_jsonl(tmp_path / "s.jsonl", [
        {"prompt": "How do I change my wifi password?",
         "response": "Open the router page at 192.168.1.1, log in, and set a new password under Wireless."},
        {"prompt": "Do you sell mesh extenders?", "response": "Yes, the Mesh Duo costs 79 pounds; call 0800 123 4567."},
    ])
    assert invoke("import", str(synth), "--dataset", "gen", "--origin", "synthetic").exit_code == 0
    result = invoke("evaluate", "gen", "--real", "seed", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "text" and data["novelty"]["exact_copies"] == 1
    assert data["pii"]["synthetic"]["by_kind"]["ip_address"]["matches"] >= 1


def test_bad_evaluation_requests(invoke, tmp_path, pairs_file):
    _frames(tmp_path)
    assert invoke("import", str(pairs_file), "--dataset", "seed").exit_code == 0
    cases = [
        (["seed", "--real", str(tmp_path / "real.csv")], "cannot compare"),
        ([str(tmp_path / "synth.csv"), "--real", str(tmp_path / "real.csv"), "--target", "nope"], "nope"),
        ([str(tmp_path / "nope.csv"), "--real", str(tmp_path / "real.csv")], "no such file"),
    ]
    for args, expected in cases:
        result = invoke("evaluate", *args)
        assert result.exit_code == 1, (args, result.output)
        assert expected in result.output and "Traceback" not in result.output, result.output
