"""Deleting a dataset leaves no row anywhere that refers to it (reliability issue, part 3).

The check walks every table of the catalog rather than the list in catalog/deletion.py, so a
column added by a later migration that refers to datasets or records, and is not handled by the
deletion rule, fails here.
"""

from __future__ import annotations

import pandas as pd
import pytest

from catalog.deletion import DATASET_ID_REFERENCES, DATASET_NAME_REFERENCES, RECORD_REFERENCES
from catalog.errors import SynthcatError
from generators.text import jobs as jobstore
from tests.conftest import SUPPORT_PAIRS, write_jsonl

NAME = "zz-doomed-seed"
RECORD_COLUMNS = {"record_id", "source_record_id", "duplicate_of", "matched", "copy_record_id"}
DATASET_COLUMNS = {"dataset_id", "synthetic_id", "real_id", "holdout_id", "dataset_ids", "against_ids"}


def _columns(cat) -> list[tuple[str, str, str]]:
    """Every column of every base table (views are derived; a dataset's description is the user's
    own free text, which may mention anything)."""
    return cat.con.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE c.table_schema = 'main' AND t.table_type = 'BASE TABLE' "
        "AND NOT (c.table_name = 'datasets' AND c.column_name = 'description') "
        "ORDER BY c.table_name, c.column_name").fetchall()


def _mentions(cat, name: str, dataset_id: int, record_ids: list[int]) -> list[str]:
    found = []
    for table, column, data_type in _columns(cat):
        quoted = f'"{table}"."{column}"'
        if "VARCHAR" in data_type or "JSON" in data_type:
            hits = cat.con.execute(f'SELECT count(*) FROM "{table}" WHERE contains({quoted}::VARCHAR, ?)',
                                   [name]).fetchone()[0]
            if hits:
                found.append(f"{table}.{column} names '{name}' ({hits} rows)")
        ids = record_ids if column in RECORD_COLUMNS else [dataset_id] if column in DATASET_COLUMNS else None
        if ids is None:
            continue
        test = f"list_has_any({quoted}, ?)" if data_type.endswith("[]") else f"{quoted} IN (SELECT unnest(?))"
        hits = cat.con.execute(f'SELECT count(*) FROM "{table}" WHERE {test}', [ids]).fetchone()[0]
        if hits and table != "records":
            found.append(f"{table}.{column} refers to the deleted dataset ({hits} rows)")
        elif hits:
            found.append(f"records still hold {hits} of its records")
    return found


def test_every_reference_column_is_handled_by_the_deletion_rule(cat):
    handled = {(r.table, r.column) for r in (*RECORD_REFERENCES, *DATASET_ID_REFERENCES, *DATASET_NAME_REFERENCES)}
    referencing = {(t, c) for t, c, _ in _columns(cat) if c in RECORD_COLUMNS | DATASET_COLUMNS}
    referencing.discard(("records", "record_id"))
    referencing.discard(("datasets", "dataset_id"))
    assert referencing <= handled, f"columns the deletion rule does not handle: {sorted(referencing - handled)}"


def _people_csv(tmp_path):
    path = tmp_path / "people.csv"
    pd.DataFrame({"age": [31, 45], "contact": ["bob@example.org", "none"]}).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_deleting_a_dataset_leaves_no_mention_of_it_anywhere(cat, tmp_path):
    seed_rows = [dict(p, id=f"{p['id']}-{n}") for n in range(2) for p in SUPPORT_PAIRS]
    seed_rows.append({"id": "pii", "prompt": "Reach me at jane.doe@example.com", "response": "We will write."})
    cat.import_file(write_jsonl(tmp_path / "seed.jsonl", seed_rows), NAME, id_field="id")
    gen_rows = [{"prompt": p["prompt"], "response": p["response"]} for p in SUPPORT_PAIRS[:3]] + \
        [{"prompt": "Does the Beam plan include a static IP address?", "response": "Yes, one static IPv4."}]
    cat.import_file(write_jsonl(tmp_path / "gen.jsonl", gen_rows), "gen", origin="synthetic")
    cat.dedup(NAME, semantic=False, into="clean")                      # a child with lineage
    cat.dedup("gen", against=[NAME], semantic=False)                   # a run that used it as reference
    cat.evaluate("gen", NAME)                                          # an evaluation naming it
    cat.decontaminate("gen", NAME, mode="flag")                        # its records as an evaluation set
    cat.decontaminate(NAME, "gen", mode="flag")                        # its own records flagged
    cat.import_file(_people_csv(tmp_path), "people")  # a table whose scan found an email
    with cat.transaction():
        jobstore.insert_job(cat, jobstore.Job(job_id="gen-test", dataset=NAME, parameters={}, target=1))
    doomed = cat.dataset(NAME)
    survivors = cat.dataset("clean").row_count
    record_ids = [r.record_id for r in cat.records(NAME, include_removed=True)]
    gen_removed = cat.dataset("gen").removed
    assert gen_removed == 3
    assert _mentions(cat, NAME, doomed.dataset_id, record_ids)  # the scan does find the references

    with pytest.raises(SynthcatError, match="parent of 'clean'"):
        cat.delete(NAME)
    result = cat.delete(NAME, force=True)
    assert [c.to_dict() for c in result.children] == [{"dataset": "clean", "lineage_links": survivors}]
    assert _mentions(cat, NAME, doomed.dataset_id, record_ids) == []

    # what was not the deleted dataset's is intact: gen's records stay removed by their run, which
    # still undoes; the child keeps its records; the table is untouched
    runs = cat.dedup_runs()
    assert [r.datasets for r in runs] == [["gen"]] and runs[0].parameters["deleted_datasets"] == 1
    assert cat.undo_dedup(runs[0].run_id).restored == gen_removed
    assert cat.dataset("clean").row_count == survivors and cat.dataset("clean").parents == []
    assert cat.table("people")["age"].tolist() == [31, 45]
    findings = "SELECT count(*) FROM pii_findings f JOIN pii_scans s USING (scan_id) WHERE s.dataset_id = ?"
    people = cat.dataset("people").dataset_id
    assert cat.con.execute(findings, [people]).fetchone()[0] == 1  # the table's own finding stays
    cat.delete("people")
    assert _mentions(cat, "people", people, []) == []
    assert cat.con.execute(findings, [people]).fetchone()[0] == 0
    # ids are never handed out again, so nothing left over can point at a newcomer
    cat.add_records(NAME, [{"text": "a new dataset under the old name"}], embed=False)
    newcomer = cat.dataset(NAME)
    assert newcomer.dataset_id > doomed.dataset_id
    new_ids = [r.record_id for r in cat.records(NAME)]
    assert min(new_ids) > max(record_ids)
    assert cat.show(NAME).status_counts == {"active": 1}
    assert cat.show(NAME).evaluations == []
