"""A short fault soak (reliability issue, part 4): SIGKILLs during real `synthcat` writers, with a
reader beside them, leave a catalog that agrees with itself, and every killed command re-runs.

The full soak (hundreds of kills over every writing command) is `benchmarks/soak.py`; its figures
are in benchmarks/RESULTS.md. This runs the same script on two cheap commands so CI exercises it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_short_soak_survives_ten_kills(tmp_path):
    work = tmp_path / "soak"
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / "soak.py"), str(work), "--kills", "10", "--seed", "3",
         "--commands", "import,dedup_into", "--import-rows", "5000", "--reader-share", "0.5",
         "--max-kills-per-episode", "3"],
        capture_output=True, text=True, timeout=900, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["kills_total"] >= 10
    assert set(result["episodes_per_command"]) == {"import", "dedup_into"}
    assert result["invariant_violations"] == 0, result["violation_details"]
    assert result["rerun_failures"] == 0, result["rerun_failure_details"]
    assert result["invariant_checks"] >= result["kills_total"]
    assert sum(result["reruns_ok"].values()) + sum(result["reruns_clean_refusal_after_commit"].values()) >= 2
