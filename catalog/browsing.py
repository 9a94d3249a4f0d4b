"""Reading a catalog page by page, for people browsing it (``synthcat serve``) and for scripts.

The CLI's reading verbs print everything at once; a browser needs bounded pieces: a dataset's
records or table rows a page at a time, the clusters of a dedup run (kept record beside the
records removed as its duplicates), the dedup runs that removed a record, and stored evaluations.
Every function validates its page arguments, so a page past the end is a :class:`BadInput` (the
web app answers 4xx), never an SQL error.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from decimal import Decimal
from typing import Any

from catalog.errors import BadInput, UnknownItem
from catalog.evaluation.headline import headline_figures
from catalog.reading import _RECORD_COLUMNS, STATUSES, get_record
from catalog.reading import _record as record_from_row
from catalog.results import (
    ClusterMember,
    ColumnInfo,
    DedupCluster,
    DedupClusterPage,
    Evaluation,
    EvaluationSummary,
    RecordPage,
    RecordRemoval,
    TablePage,
)
from catalog.store import CatalogStore

MAX_PAGE_SIZE = 1000
_CLUSTER_TEXT = 300  # characters of each cluster member's text


def _check_page(page: int, size: int) -> None:
    for value, name in ((page, "page"), (size, "size")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadInput(f"must be a whole number >= 1, got {value!r}", param=name)
    if size > MAX_PAGE_SIZE:
        raise BadInput(f"must be at most {MAX_PAGE_SIZE}, got {size}", param="size")


def _pages(total: int, page: int, size: int) -> int:
    """How many pages ``total`` items make (at least one, so an empty dataset has an empty page 1);
    a page past the last is refused."""
    pages = max(1, math.ceil(total / size))
    if page > pages:
        raise BadInput(f"page {page} is past the last page ({pages})", param="page")
    return pages


def records_page(cat: CatalogStore, name: str, *, page: int = 1, size: int = 50, status: str | None = None,
                 include_removed: bool = False) -> RecordPage:
    """Page ``page`` (1-based, ``size`` records a page) of text dataset ``name`` in record id order:
    active records, all with ``include_removed``, or exactly those with ``status``."""
    _check_page(page, size)
    ds = cat.dataset(name)
    if ds.kind == "table":
        raise BadInput(f"dataset '{name}' is a table: read it with `table_page`", param="name")
    if status is not None and status not in STATUSES:
        raise BadInput(f"unknown status {status!r}: choose {', '.join(STATUSES)}", param="status")
    where, params = "r.dataset_id = ?", [ds.dataset_id]  # type: tuple[str, list[object]]
    if status is not None:
        where += " AND r.status = ?"
        params.append(status)
    elif not include_removed:
        where += " AND r.status = 'active'"
    total = int(cat.scalar(f"SELECT count(*) FROM records r WHERE {where}", params))
    pages = _pages(total, page, size)
    rows = cat.con.execute(
        f"SELECT {_RECORD_COLUMNS} FROM records r JOIN datasets d USING (dataset_id) WHERE {where} "
        "ORDER BY r.record_id LIMIT ? OFFSET ?", [*params, size, (page - 1) * size]).fetchall()
    return RecordPage(dataset=name, page=page, size=size, total=total, pages=pages,
                      records=[record_from_row(row) for row in rows])


def json_cell(value: Any) -> Any:
    """A table cell as JSON data: times as ISO text, decimals as numbers, non-finite floats as
    null, bytes as hex, lists and structs walked."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [json_cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_cell(v) for k, v in value.items()}
    return value


def table_page(cat: CatalogStore, name: str, *, page: int = 1, size: int = 50) -> TablePage:
    """Page ``page`` (1-based, ``size`` rows a page) of table dataset ``name``, in stored order,
    with its columns and their types."""
    _check_page(page, size)
    ds = cat.dataset(name)
    if ds.kind != "table":
        raise BadInput(f"dataset '{name}' holds {ds.kind} records: read it with `records_page`", param="name")
    table = '"' + str(ds.table_name).replace('"', '""') + '"'
    columns = [ColumnInfo(c, t) for c, t, *_ in cat.con.execute(f"DESCRIBE {table}").fetchall()]
    total = int(cat.scalar(f"SELECT count(*) FROM {table}"))
    pages = _pages(total, page, size)
    cursor = cat.con.execute(f"SELECT * FROM {table} ORDER BY rowid LIMIT ? OFFSET ?", [size, (page - 1) * size])
    names = [c.name for c in columns]
    rows = [dict(zip(names, (json_cell(v) for v in row))) for row in cursor.fetchall()]
    return TablePage(dataset=name, page=page, size=size, total=total, pages=pages, columns=columns, rows=rows)


def record_removals(cat: CatalogStore, record_id: int) -> list[RecordRemoval]:
    """The dedup runs that removed record ``record_id`` (undone ones included, marked), oldest first."""
    get_record(cat, record_id)  # an unknown id is an error, not an empty list
    rows = cat.con.execute(
        "SELECT x.run_id, x.stage, x.cluster, x.duplicate_of, x.matched, x.score, u.undone_at IS NOT NULL "
        "FROM dedup_removals x JOIN dedup_runs u USING (run_id) WHERE x.record_id = ? ORDER BY x.run_id",
        [int(record_id)]).fetchall()
    return [RecordRemoval(run_id=int(run), stage=stage, cluster=int(cluster), duplicate_of=dup, matched=matched,
                          score=round(float(score), 4) if score is not None else None, undone=bool(undone))
            for run, stage, cluster, dup, matched, score, undone in rows]


def dedup_clusters(cat: CatalogStore, run_id: int, *, page: int = 1, size: int = 20) -> DedupClusterPage:
    """Dedup run ``run_id`` with page ``page`` of its clusters: in each, the record kept and the
    records removed as its duplicates (stage, score, the record each matched directly)."""
    from catalog.dedup_runs import list_runs

    _check_page(page, size)
    runs = [r for r in list_runs(cat) if r.run_id == run_id]
    if not runs:
        raise UnknownItem(f"unknown dedup run {run_id} (see: synthcat dedup-runs list)")
    total = int(cat.scalar("SELECT count(DISTINCT cluster) FROM dedup_removals WHERE run_id = ?", [run_id]))
    pages = _pages(total, page, size)
    rows = cat.con.execute(
        "WITH page AS (SELECT DISTINCT cluster FROM dedup_removals WHERE run_id = ? ORDER BY cluster LIMIT ? OFFSET ?) "
        "SELECT x.cluster, x.record_id, r.external_id, d.name, r.text, x.stage, x.score, x.matched, x.duplicate_of "
        "FROM dedup_removals x JOIN page USING (cluster) JOIN records r ON r.record_id = x.record_id "
        "JOIN datasets d ON d.dataset_id = r.dataset_id WHERE x.run_id = ? ORDER BY x.cluster, x.record_id",
        [run_id, size, (page - 1) * size, run_id]).fetchall()
    kept_ids = sorted({int(row[8]) for row in rows if row[8] is not None})
    kept = {int(r[0]): ClusterMember(record_id=int(r[0]), external_id=r[1], dataset=r[2], text=r[3][:_CLUSTER_TEXT])
            for r in cat.con.execute(
                "SELECT r.record_id, r.external_id, d.name, r.text FROM records r JOIN datasets d USING (dataset_id) "
                "WHERE r.record_id IN (SELECT unnest(?))", [kept_ids]).fetchall()}
    clusters: dict[int, DedupCluster] = {}
    for cluster, rid, ext, dataset, text, stage, score, matched, dup in rows:
        entry = clusters.setdefault(int(cluster), DedupCluster(cluster=int(cluster),
                                                               kept=kept.get(int(dup)) if dup is not None else None,
                                                               removed=[]))
        entry.removed.append(ClusterMember(record_id=int(rid), external_id=ext, dataset=dataset,
                                           text=text[:_CLUSTER_TEXT], stage=stage,
                                           score=round(float(score), 4) if score is not None else None,
                                           matched=matched))
    return DedupClusterPage(run=runs[0], page=page, size=size, total=total, pages=pages,
                            clusters=list(clusters.values()))


_EVALUATION_COLUMNS = "evaluation_id, synthetic, real, kind, results, report, created_at"


def list_evaluations(cat: CatalogStore) -> list[EvaluationSummary]:
    """Every stored evaluation with its headline figures, oldest first."""
    rows = cat.con.execute(f"SELECT {_EVALUATION_COLUMNS} FROM evaluations ORDER BY evaluation_id").fetchall()
    return [EvaluationSummary(evaluation_id=int(eid), synthetic=syn, real=real, kind=kind,
                              headline=headline_figures(json.loads(results)), report=report, created_at=str(created))
            for eid, syn, real, kind, results, report, created in rows]


def stored_evaluation(cat: CatalogStore, evaluation_id: int) -> Evaluation:
    """A stored evaluation with every score it produced (what ``evaluate`` returned when it ran)."""
    row = cat.con.execute(f"SELECT {_EVALUATION_COLUMNS}, holdout FROM evaluations WHERE evaluation_id = ?",
                          [int(evaluation_id)]).fetchone()
    if row is None:
        raise UnknownItem(f"no evaluation with id {evaluation_id}")
    eid, synthetic, real, kind, results, report, _created, holdout = row
    data = json.loads(results)
    return Evaluation(kind=kind, datasets={"synthetic": synthetic, "real": real, "holdout": holdout},
                      headline=headline_figures(data), results=data, evaluation_id=int(eid), report=report)

