"""Reading and removing datasets: list, show, delete, and read-only SQL."""

from __future__ import annotations

import json

import duckdb

from catalog.embedding_store import schedule_index_rebuild
from catalog.errors import SynthcatError
from catalog.exporter import dataset_metadata
from catalog.store import Catalog

# Tables holding per-record rows (record_id column) that must go when their records go.
# Later features append their own tables here.
RECORD_TABLES: list[str] = ["lineage", "generation_provenance"]


def list_datasets(cat: Catalog) -> list[dict]:
    counts = dict(cat.con.execute(
        "SELECT dataset_id, count(*) FILTER (WHERE status <> 'active') FROM records GROUP BY 1").fetchall())
    out = []
    for ds in cat.datasets():
        out.append({"name": ds.name, "kind": ds.kind, "origin": ds.origin, "rows": ds.row_count,
                    "removed": int(counts.get(ds.dataset_id, 0)), "embedder": ds.embedder,
                    "generator": ds.generator, "parents": ds.parents, "tags": ds.tags,
                    "created_at": str(ds.created_at)})
    return out


def show_dataset(cat: Catalog, name: str, *, sample: int = 3) -> dict:
    """Metadata, counts by status, sample rows, parents/children and lineage of dataset ``name``."""
    ds = cat.dataset(name)
    info = dataset_metadata(cat, name)
    if ds.kind == "table":
        info["columns"] = [{"name": c, "type": t} for c, t, *_ in
                           cat.con.execute(f'DESCRIBE "{ds.table_name}"').fetchall()]
        info["sample"] = json.loads(cat.con.execute(
            f'SELECT * FROM "{ds.table_name}" LIMIT {int(sample)}').df().to_json(orient="records",
                                                                                 date_format="iso"))
    else:
        info["status_counts"] = dict(cat.con.execute(
            "SELECT status, count(*) FROM records WHERE dataset_id = ? GROUP BY 1 ORDER BY 1",
            [ds.dataset_id]).fetchall())
        info["sample"] = [
            {"record_id": rid, "external_id": ext, "text": text[:300]}
            for rid, ext, text in cat.con.execute(
                "SELECT record_id, external_id, text FROM records WHERE dataset_id = ? AND status = 'active' "
                "ORDER BY record_id LIMIT ?", [ds.dataset_id, sample]).fetchall()
        ]
    info["children"] = [r[0] for r in cat.con.execute(
        "SELECT name FROM datasets WHERE list_contains(parents, ?) ORDER BY name", [name]).fetchall()]
    info.pop("records", None)
    for extra in SHOW_SECTIONS:
        info.update(extra(cat, ds))
    return info


def generation_section(cat: Catalog, ds) -> dict:
    """Generation jobs that wrote this dataset: progress, attempts and rejections by reason."""
    rows = cat.con.execute(
        "SELECT job_id, status, target, attempts, rejections, usage FROM generation_jobs WHERE dataset = ? "
        "ORDER BY created_at", [ds.name]).fetchall()
    if not rows:
        return {}
    jobs = []
    for j, st, t, a, r, u in rows:
        usage = json.loads(u or "{}")
        judge = usage.get("judge") or {}
        # Tokens of every call of the job (generation and judge), as `generate jobs` counts them.
        tokens = {key: int(usage.get(key, 0)) + int(judge.get(key, 0)) for key in ("prompt_tokens",
                                                                                    "completion_tokens")}
        jobs.append({"job_id": j, "status": st, "target": t, "attempts": a, "rejections": json.loads(r),
                     "tokens": f"{sum(tokens.values())} (prompt {tokens['prompt_tokens']}, completion "
                               f"{tokens['completion_tokens']})", "usage": usage})
    return {"section:generation": jobs}


# Functions (catalog, dataset) -> dict adding sections to `show`; later features register here.
def _evaluations(cat: Catalog, ds) -> dict:
    from catalog.evaluation_runs import evaluations_section

    return evaluations_section(cat, ds)


SHOW_SECTIONS: list = [generation_section, _evaluations]


def delete_dataset(cat: Catalog, name: str) -> dict:
    """Remove a dataset, its records, their lineage and vectors no other record uses."""
    ds = cat.dataset(name)
    with cat.transaction():
        ids_sql = "SELECT record_id FROM records WHERE dataset_id = ?"
        for table in RECORD_TABLES:
            cat.con.execute(f"DELETE FROM {table} WHERE record_id IN ({ids_sql})", [ds.dataset_id])
        cat.con.execute(f"DELETE FROM lineage WHERE source_record_id IN ({ids_sql})", [ds.dataset_id])
        removed = cat.con.execute("DELETE FROM records WHERE dataset_id = ?", [ds.dataset_id]).fetchone()[0]
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
        cat.con.execute("DELETE FROM generation_jobs WHERE dataset = ?", [name])
        cat.con.execute("DELETE FROM datasets WHERE dataset_id = ?", [ds.dataset_id])
    return {"dataset": name, "records_removed": int(removed or 0) if ds.kind != "table" else 0,
            "rows": ds.row_count}


def run_sql(cat: Catalog, query: str, *, limit: int | None = None) -> dict:
    """Run one read-only query; return column names and rows."""
    if not query.strip():
        raise SynthcatError("empty SQL query")
    if not cat.read_only:
        raise SynthcatError("run_sql needs a catalog opened read-only")
    try:
        cur = cat.con.execute(query)
        columns = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchmany(limit) if limit else cur.fetchall()
    except duckdb.Error as exc:
        raise SynthcatError(f"SQL error: {str(exc).strip().splitlines()[0]}") from None
    return {"columns": columns, "rows": [list(r) for r in rows]}
