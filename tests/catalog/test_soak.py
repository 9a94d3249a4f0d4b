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

from tests.conftest import PROJECT_ROOT, SUPPORT_PAIRS

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


def test_the_soak_invariants_catch_a_catalog_that_contradicts_itself(catalog_dir, pairs_file, monkeypatch):
    """The checks the soak relies on are not vacuous: each corruption below is reported."""
    from benchmarks.soak_invariants import check_all, check_counts, check_references, check_runs
    from catalog import Catalog
    from catalog.vector_index import VectorIndex

    with Catalog.open(catalog_dir, create=True) as cat:
        cat.import_file(pairs_file, "seed", id_field="id")
        cat.import_file(pairs_file, "copy", id_field="id", embed=False)
        report = cat.dedup(["seed", "copy"], semantic=False, into="clean")
        assert report.removed >= 5  # the copy's five, and a duplicate within the pairs
        assert check_all(cat, load_indexes=True).violations == []

        cat.con.execute("UPDATE datasets SET row_count = row_count + 1 WHERE name = 'seed'")
        assert check_counts(cat) == [f"dataset 'seed' (pairs) says {len(SUPPORT_PAIRS) + 1} rows but holds "
                                     f"{len(SUPPORT_PAIRS)} records"]
        cat.con.execute("UPDATE datasets SET row_count = row_count - 1 WHERE name = 'seed'")

        removed = cat.scalar("SELECT min(record_id) FROM records WHERE status = 'removed'")
        cat.con.execute("UPDATE records SET status = 'active' WHERE record_id = ?", [removed])
        assert check_runs(cat) == ["1 record(s) removed by a live run are still active"]
        cat.con.execute("UPDATE records SET status = 'removed' WHERE record_id = ?", [removed])

        source = cat.scalar("SELECT min(source_record_id) FROM lineage")
        cat.con.execute("UPDATE lineage SET source_record_id = 999999 WHERE source_record_id = ?", [source])
        assert "name records that do not exist" in " ".join(check_references(cat))
        cat.con.execute("UPDATE lineage SET source_record_id = ? WHERE source_record_id = 999999", [source])
        assert check_all(cat, load_indexes=True).violations == []

    # an index loader that trusted a stale file would answer from it: the check must see that
    with Catalog.open(catalog_dir) as cat:
        monkeypatch.setattr(VectorIndex, "_disagreements", lambda self, expected, manifest: [])
        cat.con.execute("DELETE FROM records WHERE record_id = (SELECT max(record_id) FROM records "
                        "WHERE dataset_id = (SELECT dataset_id FROM datasets WHERE name = 'seed'))")
        found = check_all(cat, load_indexes=True).violations
        assert any("DuckDB holds" in v for v in found), found
