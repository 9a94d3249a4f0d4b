"""Reading and removing datasets: list, show, delete, and read-only SQL."""

from __future__ import annotations

import json

from catalog.errors import BadInput, SynthcatError
from catalog.exporter import dataset_metadata
from catalog.sql_sandbox import open_sandbox, run_query
from catalog.store import Catalog


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
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 0:
        raise BadInput(f"sample must be a whole number >= 0, got {sample!r}", field="sample")
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
    jobs = [{"job_id": j, "status": st, "target": t, "attempts": a, "rejections": json.loads(r),
             "usage": json.loads(u or "{}")} for j, st, t, a, r, u in rows]
    return {"section:generation": jobs}


# Functions (catalog, dataset) -> dict adding sections to `show`; later features register here.
def _evaluations(cat: Catalog, ds) -> dict:
    from catalog.evaluation_runs import evaluations_section

    return evaluations_section(cat, ds)


SHOW_SECTIONS: list = [generation_section, _evaluations]


def run_sql(cat: Catalog, query: str, *, limit: int | None = None) -> dict:
    """Run one read-only query in a sandbox that sees only the catalog; return columns, rows and
    whether rows were cut at ``limit``. See :mod:`catalog.sql_sandbox`."""
    if not cat.read_only:
        raise SynthcatError("SQL runs on a catalog opened read-only: open_catalog(directory, read_only=True)")
    con = open_sandbox(cat.directory)
    try:
        return run_query(con, query, limit=limit)
    finally:
        con.close()
