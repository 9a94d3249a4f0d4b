"""What must hold in a catalog at any moment a process can observe it (used by benchmarks/soak.py).

A killed writer may leave the FAISS cache behind DuckDB (that is allowed: the cache is rebuilt on
load, never used stale), but never a catalog that contradicts itself. Each check returns a list of
violations (strings); an empty list means the catalog is whole:

* every dataset's ``row_count`` equals the rows it really holds (records, or its typed table);
* nothing refers to a record, dataset or run that does not exist -- the references are the ones
  ``catalog.deletion`` lists, so a new reference in the schema is checked here as soon as it is
  listed there;
* every dedup/decontamination run holds exactly the removals it counts, and every removed record is
  explained by a run that has not been undone (or by an undone cut whose copy it is);
* every record of a generated dataset has its provenance, and its job exists;
* each FAISS index, when loaded the way searches load it, holds exactly DuckDB's vectors (a stale
  file is rebuilt, never answers), and a query with a stored vector finds only records that exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class CheckResult:
    violations: list[str] = field(default_factory=list)
    stale_indexes: int = 0  # FAISS files found behind DuckDB (allowed; they must be rebuilt on load)
    stale_keyword: int = 0  # keyword index behind the records (allowed; rebuilt by the next search)


def _rows(con, sql: str, params=None) -> list:
    return con.execute(sql, params or []).fetchall()


def check_counts(cat) -> list[str]:
    """Row counts agree with the rows stored, for every dataset."""
    out = []
    for name, kind, row_count, actual in _rows(cat.con,
            "SELECT d.name, d.kind, d.row_count, (SELECT count(*) FROM records r WHERE r.dataset_id = d.dataset_id) "
            "FROM datasets d WHERE d.kind <> 'table' ORDER BY d.dataset_id"):
        if row_count != actual:
            out.append(f"dataset {name!r} ({kind}) says {row_count} rows but holds {actual} records")
    for name, table, row_count in _rows(cat.con, "SELECT name, table_name, row_count FROM datasets "
                                                 "WHERE kind = 'table' ORDER BY dataset_id"):
        exists = cat.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchone()[0]
        if not exists:
            out.append(f"table dataset {name!r} has no table {table!r}")
            continue
        actual = cat.con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        if actual != row_count:
            out.append(f"table dataset {name!r} says {row_count} rows but its table holds {actual}")
    orphans = cat.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'table\\_%' ESCAPE '\\' "
                              "AND table_name NOT IN (SELECT table_name FROM datasets WHERE table_name IS NOT NULL)"
                              ).fetchone()[0]
    if orphans:
        out.append(f"{orphans} typed table(s) belong to no dataset")
    return out


def check_references(cat) -> list[str]:
    """No row names a record, dataset or run that does not exist (catalog.deletion's list)."""
    from catalog.deletion import DATASET_ID_REFERENCES, DATASET_NAME_REFERENCES, RECORD_REFERENCES

    out = []
    for ref in RECORD_REFERENCES:
        n = cat.con.execute(f"SELECT count(*) FROM {ref.table} t WHERE t.{ref.column} IS NOT NULL AND NOT EXISTS "
                            f"(SELECT 1 FROM records r WHERE r.record_id = t.{ref.column})").fetchone()[0]
        if n:
            out.append(f"{n} row(s) of {ref.table}.{ref.column} name records that do not exist")
    for ref in DATASET_ID_REFERENCES:
        if ref.on_delete == "unlist":
            sql = (f"SELECT count(*) FROM (SELECT unnest({ref.column}) AS v FROM {ref.table}) t "
                   "WHERE v IS NOT NULL AND v NOT IN (SELECT dataset_id FROM datasets)")
        else:
            sql = (f"SELECT count(*) FROM {ref.table} t WHERE t.{ref.column} IS NOT NULL AND "
                   f"t.{ref.column} NOT IN (SELECT dataset_id FROM datasets)")
        n = cat.con.execute(sql).fetchone()[0]
        if n:
            out.append(f"{n} value(s) of {ref.table}.{ref.column} name datasets that do not exist")
    for ref in DATASET_NAME_REFERENCES:
        if ref.table == "decontam_matches":
            continue  # evaluation sets may be files, not datasets
        if ref.on_delete == "unlist":
            # a decontamination run's `against` also names evaluation files, which are no datasets
            files = (" WHERE coalesce(json_extract_string(parameters, '$.kind'), 'dedup') <> 'decontaminate'"
                     if (ref.table, ref.column) == ("dedup_runs", "against") else "")
            sql = (f"SELECT count(*) FROM (SELECT unnest({ref.column}) AS v FROM {ref.table}{files}) t "
                   "WHERE v IS NOT NULL AND v NOT IN (SELECT name FROM datasets)")
        else:
            sql = (f"SELECT count(*) FROM {ref.table} t WHERE t.{ref.column} IS NOT NULL AND "
                   f"t.{ref.column} NOT IN (SELECT name FROM datasets)")
        n = cat.con.execute(sql).fetchone()[0]
        if n:
            out.append(f"{n} value(s) of {ref.table}.{ref.column} name datasets that do not exist")
    for table in ("dedup_removals", "decontam_matches", "decontam_cuts"):
        n = cat.con.execute(f"SELECT count(*) FROM {table} t WHERE t.run_id NOT IN (SELECT run_id FROM dedup_runs)"
                            ).fetchone()[0]
        if n:
            out.append(f"{n} row(s) of {table} belong to no run")
    n = cat.con.execute("SELECT count(*) FROM pii_findings f WHERE f.scan_id NOT IN (SELECT scan_id FROM pii_scans)"
                        ).fetchone()[0]
    if n:
        out.append(f"{n} PII finding(s) belong to no scan")
    return out


def check_runs(cat) -> list[str]:
    """Dedup and decontamination runs are complete or absent; every removed record has a reason."""
    out = []
    for run_id, removed, actual in _rows(cat.con,
            "SELECT run_id, removed, (SELECT count(*) FROM dedup_removals x WHERE x.run_id = r.run_id) "
            "FROM dedup_runs r ORDER BY run_id"):
        if removed != actual:
            out.append(f"run {run_id} counts {removed} removals but holds {actual}")
    unexplained = cat.con.execute(
        "SELECT count(*) FROM records r WHERE r.status = 'removed' "
        "AND NOT EXISTS (SELECT 1 FROM dedup_removals x JOIN dedup_runs u USING (run_id) "
        "                WHERE x.record_id = r.record_id AND u.undone_at IS NULL) "
        "AND NOT EXISTS (SELECT 1 FROM decontam_cuts c JOIN dedup_runs u USING (run_id) "
        "                WHERE c.copy_record_id = r.record_id AND u.undone_at IS NOT NULL)").fetchone()[0]
    if unexplained:
        out.append(f"{unexplained} removed record(s) are explained by no live run")
    not_removed = cat.con.execute(
        "SELECT count(*) FROM dedup_removals x JOIN dedup_runs u USING (run_id) JOIN records r USING (record_id) "
        "WHERE u.undone_at IS NULL AND r.status = 'active'").fetchone()[0]
    if not_removed:
        out.append(f"{not_removed} record(s) removed by a live run are still active")
    return out


def check_generation(cat) -> list[str]:
    """Generated records carry provenance from a job that exists and names their dataset."""
    out = []
    n = cat.con.execute(
        "SELECT count(*) FROM records r JOIN datasets d USING (dataset_id) WHERE d.generator LIKE 'llm%' "
        "AND NOT EXISTS (SELECT 1 FROM generation_provenance p JOIN generation_jobs j USING (job_id) "
        "                WHERE p.record_id = r.record_id AND j.dataset = d.name)").fetchone()[0]
    if n:
        out.append(f"{n} generated record(s) have no provenance from their dataset's job")
    n = cat.con.execute("SELECT count(*) FROM datasets d WHERE d.generator LIKE 'llm%' AND NOT EXISTS "
                        "(SELECT 1 FROM generation_jobs j WHERE j.dataset = d.name)").fetchone()[0]
    if n:
        out.append(f"{n} generated dataset(s) have no job")
    n = cat.con.execute(
        "SELECT count(*) FROM generation_provenance p JOIN records r USING (record_id) JOIN datasets d "
        "USING (dataset_id) WHERE NOT EXISTS (SELECT 1 FROM lineage l WHERE l.record_id = p.record_id) "
        "AND d.generator = 'llm-grounded'").fetchone()[0]
    if n:
        out.append(f"{n} grounded record(s) have no lineage to what grounded them")
    return out


def check_embeddings(cat) -> list[str]:
    """A dataset that names an embedder has a vector for every record (embedding is all or nothing)."""
    out = []
    for name, missing in _rows(cat.con,
            "SELECT d.name, count(*) FROM records r JOIN datasets d USING (dataset_id) WHERE d.embedder IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.embedder_id = d.embedder "
            "                AND e.content_hash = r.content_hash) GROUP BY d.name"):
        out.append(f"dataset {name!r} names an embedder but {missing} record(s) have no vector")
    return out


def check_vector_indexes(cat, *, load: bool, rng: np.random.Generator | None = None) -> tuple[list[str], int]:
    """Index status vs DuckDB; with ``load``, load each index as a search does and verify what it holds.

    Returns (violations, indexes found stale). A stale file is no violation by itself: loading must
    rebuild it, so a violation is an index that, once loaded, disagrees with DuckDB."""
    import faiss

    from catalog.vector_index import VectorIndex, embedder_ids

    out, stale = [], 0
    for embedder_id in embedder_ids(cat):
        index = VectorIndex(cat, embedder_id)
        if not index.status().in_sync:
            stale += 1
        if not load:
            continue
        loaded = index.load()
        want = _rows(cat.con, "SELECT record_id FROM record_embeddings WHERE embedder_id = ? ORDER BY 1",
                     [embedder_id])
        want_ids = np.array([r[0] for r in want], dtype=np.int64)
        if loaded is None:
            if len(want_ids):
                out.append(f"index {embedder_id}: nothing loaded but DuckDB holds {len(want_ids)} vectors")
            continue
        if int(loaded.ntotal) != len(want_ids):
            out.append(f"index {embedder_id}: loaded {loaded.ntotal} vectors, DuckDB holds {len(want_ids)}")
            continue
        if hasattr(loaded, "id_map"):
            held = np.sort(faiss.vector_to_array(loaded.id_map).astype(np.int64))
            if not np.array_equal(held, want_ids):
                out.append(f"index {embedder_id}: holds other record ids than DuckDB")
        if not index.status().in_sync:
            out.append(f"index {embedder_id}: still out of sync after load")
        if len(want_ids):
            pick = int(want_ids[(rng or np.random.default_rng(0)).integers(len(want_ids))])
            vec = np.asarray(cat.con.execute("SELECT vector FROM record_embeddings WHERE embedder_id = ? "
                                             "AND record_id = ?", [embedder_id, pick]).fetchone()[0],
                             dtype=np.float32)
            _, ids = index.search(vec.reshape(1, -1), 5)
            found = [int(i) for i in ids[0] if i >= 0]
            if not set(found) <= set(want_ids.tolist()):
                out.append(f"index {embedder_id}: a search answered record ids DuckDB does not hold")
            if not found:
                out.append(f"index {embedder_id}: a stored vector found nothing")
    return out, stale


def check_keyword(cat) -> tuple[list[str], int]:
    """A keyword search (rebuilding a stale index; needs a writable catalog) answers only live records."""
    from catalog.search import keyword

    stale = 0 if keyword.is_fresh(cat) else 1
    out = []
    hits = cat.search("router restart", mode="keyword", k=10)
    if hits:
        ids = [h.record_id for h in hits]
        alive = cat.con.execute("SELECT count(*) FROM records WHERE status = 'active' AND record_id IN "
                                "(SELECT unnest(?))", [ids]).fetchone()[0]
        if alive != len(ids):
            out.append(f"keyword search answered {len(ids) - alive} record(s) that are not live")
    return out, stale


def check_all(cat, *, load_indexes: bool, rng: np.random.Generator | None = None) -> CheckResult:
    """Every check on an open catalog (read-only is enough; loading a stale index writes only vectors/)."""
    result = CheckResult()
    for check in (check_counts, check_references, check_runs, check_generation, check_embeddings):
        result.violations += check(cat)
    found, stale = check_vector_indexes(cat, load=load_indexes, rng=rng)
    result.violations += found
    result.stale_indexes = stale
    return result
