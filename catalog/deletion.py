"""Deleting a dataset and every row that refers to it, by one rule driven by the list of references.

Each column in the schema that holds a record id, a dataset id or a dataset name is listed below
with what deleting the dataset does to it: ``delete`` the row, ``null`` the column (the row stays
meaningful without it, e.g. the record a removal duplicated), or ``unlist`` the value from a list
column (a child's ``parents``, a dedup run's datasets). A test walks every table afterwards and
finds no mention of the deleted dataset, so a schema change that adds a reference must add it here.

Datasets derived from the deleted one (it is among their ``parents``) lose their lineage links to
its records; that needs ``force``, and the result says which children lost how many links.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from catalog.embedding_store import schedule_index_rebuild
from catalog.errors import SynthcatError
from catalog.results import ChildLoss, DeleteResult
from catalog.search import keyword
from catalog.store import CatalogStore


@dataclass(frozen=True)
class Reference:
    table: str
    column: str
    on_delete: str  # "delete" | "null" | "unlist"


RECORD_REFERENCES = (
    Reference("lineage", "record_id", "delete"),
    Reference("lineage", "source_record_id", "delete"),
    Reference("generation_provenance", "record_id", "delete"),
    Reference("dedup_removals", "record_id", "delete"),
    Reference("dedup_removals", "duplicate_of", "null"),
    Reference("dedup_removals", "matched", "null"),
    Reference("pii_findings", "record_id", "delete"),
    Reference("decontam_matches", "record_id", "delete"),
    Reference("decontam_cuts", "record_id", "delete"),
    Reference("decontam_cuts", "copy_record_id", "delete"),
)
DATASET_ID_REFERENCES = (
    Reference("pii_scans", "dataset_id", "delete"),
    Reference("evaluations", "synthetic_id", "delete"),
    Reference("evaluations", "real_id", "delete"),
    Reference("evaluations", "holdout_id", "delete"),
    Reference("dedup_runs", "dataset_ids", "unlist"),
    Reference("dedup_runs", "against_ids", "unlist"),
    Reference("records", "dataset_id", "delete"),
)
DATASET_NAME_REFERENCES = (
    Reference("generation_jobs", "dataset", "delete"),
    # a deleted evaluation set: the matches it explained stay, without its name and record ids
    Reference("decontam_matches", "eval_set", "null"),
    Reference("datasets", "parents", "unlist"),
    Reference("dedup_runs", "datasets", "unlist"),
    Reference("dedup_runs", "against", "unlist"),
)


def _apply(cat: CatalogStore, ref: Reference, condition: str, value_sql: str, params: list) -> None:
    col = ref.column
    if ref.on_delete == "delete":
        cat.con.execute(f"DELETE FROM {ref.table} WHERE {col} {condition}", params)
    elif ref.on_delete == "null":
        cat.con.execute(f"UPDATE {ref.table} SET {col} = NULL WHERE {col} {condition}", params)
    else:
        cat.con.execute(f"UPDATE {ref.table} SET {col} = list_filter({col}, x -> x <> {value_sql}) "
                        f"WHERE list_contains({col}, {value_sql})", params * 2)


def children_of(cat: CatalogStore, name: str, dataset_id: int) -> list[ChildLoss]:
    """Datasets that name ``name`` as a parent, with how many lineage links lead into it."""
    rows = cat.con.execute(
        "SELECT c.name, (SELECT count(*) FROM lineage l JOIN records r ON r.record_id = l.record_id "
        "JOIN records s ON s.record_id = l.source_record_id WHERE r.dataset_id = c.dataset_id "
        "AND s.dataset_id = ?) FROM datasets c WHERE list_contains(c.parents, ?) ORDER BY c.name",
        [dataset_id, name]).fetchall()
    return [ChildLoss(dataset=child, lineage_links=int(links)) for child, links in rows]


def delete_dataset(cat: CatalogStore, name: str, *, force: bool = False) -> DeleteResult:
    """Remove dataset ``name``, its records, vectors no other record uses, its typed table and every
    row that refers to it (see the module docstring). Refuses a dataset others derive from unless
    ``force``."""
    ds = cat.dataset(name)
    children = children_of(cat, name, ds.dataset_id)
    if children and not force:
        listed = ", ".join(f"'{c.dataset}' ({c.lineage_links} lineage links)" for c in children)
        raise SynthcatError(f"dataset '{name}' is the parent of {listed}: deleting it drops that lineage; "
                            "pass `force` to delete it anyway, or delete the children first")
    removed_records = 0
    with cat.transaction():
        cat.set_meta("next_dataset_id", str(cat._next_id("dataset_id", "datasets", "next_dataset_id")))
        cat.set_meta("next_record_id", str(cat.next_record_id()))
        if ds.kind != "table":
            records = "IN (SELECT record_id FROM records WHERE dataset_id = ?)"
            for ref in RECORD_REFERENCES:
                _apply(cat, ref, records, "?", [ds.dataset_id])
            removed_records = cat.con.execute("SELECT count(*) FROM records WHERE dataset_id = ?",
                                              [ds.dataset_id]).fetchone()[0]
        touched_runs = [r[0] for r in cat.con.execute(
            "SELECT run_id FROM dedup_runs WHERE list_contains(dataset_ids, ?) OR list_contains(against_ids, ?)",
            [ds.dataset_id, ds.dataset_id]).fetchall()]
        # findings of a table's rows hang off its scans, not off records
        cat.con.execute("DELETE FROM pii_findings WHERE scan_id IN (SELECT scan_id FROM pii_scans "
                        "WHERE dataset_id = ?)", [ds.dataset_id])
        for ref in DATASET_ID_REFERENCES:
            _apply(cat, ref, "= ?", "?", [ds.dataset_id])
        cat.con.execute("UPDATE decontam_matches SET eval_record = NULL WHERE eval_set = ?", [name])
        for ref in DATASET_NAME_REFERENCES:
            _apply(cat, ref, "= ?", "?", [name])
        _settle_runs(cat, touched_runs)
        if ds.embedder:
            cat.con.execute(
                "DELETE FROM embeddings e WHERE e.embedder_id = ? AND NOT EXISTS ("
                "SELECT 1 FROM records r JOIN datasets d USING (dataset_id) "
                "WHERE r.content_hash = e.content_hash AND d.embedder = e.embedder_id AND d.dataset_id <> ?)",
                [ds.embedder, ds.dataset_id])
            cat.touch_vectors(ds.embedder)
            schedule_index_rebuild(cat, ds.embedder)
        if ds.table_name:
            cat.con.execute(f'DROP TABLE IF EXISTS "{ds.table_name}"')
        elif keyword.index_exists(cat):  # it holds the deleted records' ids and stems; rebuilt on the next search
            keyword.load_fts(cat.con)
            cat.con.execute("PRAGMA drop_fts_index('records')")
        cat.con.execute("DELETE FROM datasets WHERE dataset_id = ?", [ds.dataset_id])
    return DeleteResult(dataset=name, rows=ds.row_count, records_removed=int(removed_records), children=children)


def _settle_runs(cat: CatalogStore, run_ids: list[int]) -> None:
    """Dedup runs that lost a dataset: gone when no checked dataset is left, else they note the loss."""
    for run_id in run_ids:
        row = cat.con.execute("SELECT dataset_ids, parameters FROM dedup_runs WHERE run_id = ?", [run_id]).fetchone()
        if row is None:
            continue
        checked, parameters = row
        if not checked:
            cat.con.execute("DELETE FROM dedup_removals WHERE run_id = ?", [run_id])
            cat.con.execute("DELETE FROM dedup_runs WHERE run_id = ?", [run_id])
            continue
        params = json.loads(parameters)
        params["deleted_datasets"] = int(params.get("deleted_datasets", 0)) + 1
        cat.con.execute("UPDATE dedup_runs SET parameters = ? WHERE run_id = ?", [json.dumps(params), run_id])
