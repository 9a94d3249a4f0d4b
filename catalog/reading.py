"""Reading a catalog: records with their fields, lineage of a record or a dataset, and ``show``."""

from __future__ import annotations

import json
from collections.abc import Iterator

from catalog.errors import BadInput, UnknownItem
from catalog.results import (
    ColumnInfo,
    DatasetInfo,
    DatasetLineage,
    GenerationJobSummary,
    LineageLink,
    LineageSummary,
    PiiSummary,
    Record,
    RecordLineage,
)
from catalog.store import CatalogStore

_RECORD_COLUMNS = ("r.record_id, d.name, r.external_id, r.text, r.fields, r.quality_score, r.status, "
                   "r.created_at, r.content_hash")
STATUSES = ("active", "removed")


def _record(row) -> Record:
    record_id, dataset, external_id, text, fields, quality, status, created_at, chash = row
    return Record(record_id=int(record_id), dataset=dataset, external_id=external_id, text=text,
                  fields=json.loads(fields) if fields else {}, quality=quality, status=status,
                  created_at=created_at, content_hash=chash)


def iter_records(cat: CatalogStore, name: str, *, include_removed: bool = False, status: str | None = None,
                 limit: int | None = None, batch_size: int = 10_000) -> Iterator[Record]:
    """The records of text dataset ``name`` in id order (active ones unless ``include_removed``, or
    exactly those with ``status``), read in batches so any size streams."""
    ds = cat.dataset(name)
    if ds.kind == "table":
        raise BadInput(f"dataset '{name}' is a table: read it with `table`", param="name")
    if status is not None and status not in STATUSES:
        raise BadInput(f"unknown status {status!r}: choose {', '.join(STATUSES)}", param="status")
    if limit is not None and limit < 0:
        raise BadInput(f"must be >= 0, got {limit}", param="limit")
    where = "r.dataset_id = ?"
    params: list = [ds.dataset_id]
    if status is not None:
        where += " AND r.status = ?"
        params.append(status)
    elif not include_removed:
        where += " AND r.status = 'active'"
    sql = (f"SELECT {_RECORD_COLUMNS} FROM records r JOIN datasets d USING (dataset_id) WHERE {where} "
           "AND r.record_id > ? ORDER BY r.record_id LIMIT ?")
    return _pages(cat, sql, params, limit, batch_size)  # checked above, now; read lazily below


def _pages(cat: CatalogStore, sql: str, params: list, limit: int | None, batch_size: int) -> Iterator[Record]:
    """Records page by page, each page its own query by record id: the caller may use the catalog
    between records, and inside a transaction the pages see what it has written so far."""
    last, left = -1, limit
    while left is None or left > 0:
        size = batch_size if left is None else min(batch_size, left)
        rows = cat.con.execute(sql, [*params, last, size]).fetchall()
        yield from (_record(row) for row in rows)
        if len(rows) < size:
            return
        last = rows[-1][0]
        if left is not None:
            left -= len(rows)


def get_record(cat: CatalogStore, record_id: int) -> Record:
    row = cat.con.execute(f"SELECT {_RECORD_COLUMNS} FROM records r JOIN datasets d USING (dataset_id) "
                          "WHERE r.record_id = ?", [int(record_id)]).fetchone()
    if row is None:
        raise UnknownItem(f"no record with id {record_id}")
    return _record(row)


_LINK_SQL = ("SELECT l.record_id, rd.name, l.source_record_id, sd.name, l.relation, l.rank, l.score FROM lineage l "
             "JOIN records r ON r.record_id = l.record_id JOIN datasets rd ON rd.dataset_id = r.dataset_id "
             "JOIN records s ON s.record_id = l.source_record_id JOIN datasets sd ON sd.dataset_id = s.dataset_id ")


def _links(cat: CatalogStore, where: str, record_id: int) -> list[LineageLink]:
    rows = cat.con.execute(_LINK_SQL + f"WHERE {where} ORDER BY l.relation, l.rank NULLS LAST, 3, 1",
                           [record_id]).fetchall()
    return [LineageLink(record_id=int(r), dataset=rd, source_record_id=int(s), source_dataset=sd, relation=rel,
                        rank=rank, score=score) for r, rd, s, sd, rel, rank, score in rows]


def record_lineage(cat: CatalogStore, record_id: int) -> RecordLineage:
    """What a record was made from (grounding records, the record a dedup copy came from, ...) and
    what was made from it."""
    record = get_record(cat, record_id)
    return RecordLineage(record_id=record.record_id, dataset=record.dataset,
                         sources=_links(cat, "l.record_id = ?", record.record_id),
                         derived=_links(cat, "l.source_record_id = ?", record.record_id))


def lineage_summary(cat: CatalogStore, dataset_id: int) -> list[LineageSummary]:
    rows = cat.con.execute(
        "SELECT l.relation, sd.name, count(*) FROM lineage l JOIN records r ON r.record_id = l.record_id "
        "JOIN records s ON s.record_id = l.source_record_id JOIN datasets sd ON sd.dataset_id = s.dataset_id "
        "WHERE r.dataset_id = ? GROUP BY ALL ORDER BY 1, 2", [dataset_id]).fetchall()
    return [LineageSummary(relation=rel, source_dataset=src, links=int(n)) for rel, src, n in rows]


def children(cat: CatalogStore, name: str) -> list[str]:
    return [r[0] for r in cat.con.execute(
        "SELECT name FROM datasets WHERE list_contains(parents, ?) ORDER BY name", [name]).fetchall()]


def dataset_lineage(cat: CatalogStore, name: str) -> DatasetLineage:
    """A dataset's parents and children, and its records' lineage links summed per relation and source."""
    ds = cat.dataset(name)
    return DatasetLineage(dataset=name, parents=list(ds.parents), children=children(cat, name),
                          links=lineage_summary(cat, ds.dataset_id) if ds.kind != "table" else [])


def generation_jobs(cat: CatalogStore, name: str) -> list[GenerationJobSummary]:
    rows = cat.con.execute(
        "SELECT job_id, status, target, attempts, rejections, usage, stop_reason FROM generation_jobs "
        "WHERE dataset = ? ORDER BY created_at", [name]).fetchall()
    return [GenerationJobSummary(job_id=j, status=st, target=t, attempts=a, rejections=json.loads(r),
                                 usage=json.loads(u or "{}"), stop_reason=why)
            for j, st, t, a, r, u, why in rows]


def dataset_info(cat: CatalogStore, name: str, *, sample: int = 3) -> DatasetInfo:
    """Everything ``show`` prints about dataset ``name``."""
    from catalog.evaluation_runs import evaluations_of

    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 0:
        raise BadInput(f"must be a whole number >= 0, got {sample!r}", param="sample")
    ds = cat.dataset(name)
    columns: list[ColumnInfo] = []
    status_counts: dict[str, int] = {}
    if ds.kind == "table":
        columns = [ColumnInfo(c, t) for c, t, *_ in cat.con.execute(f'DESCRIBE "{ds.table_name}"').fetchall()]
        rows = json.loads(cat.con.execute(f'SELECT * FROM "{ds.table_name}" LIMIT {int(sample)}').df().to_json(
            orient="records", date_format="iso"))
    else:
        status_counts = {s: int(n) for s, n in cat.con.execute(
            "SELECT status, count(*) FROM records WHERE dataset_id = ? GROUP BY 1 ORDER BY 1",
            [ds.dataset_id]).fetchall()}
        rows = [{"record_id": r.record_id, "external_id": r.external_id, "text": r.text[:300]}
                for r in iter_records(cat, name, limit=sample)]
    return DatasetInfo(dataset=ds, status_counts=status_counts, sample=rows, columns=columns,
                       children=children(cat, name),
                       lineage=lineage_summary(cat, ds.dataset_id) if ds.kind != "table" else [],
                       generation_jobs=generation_jobs(cat, name), evaluations=evaluations_of(cat, ds),
                       pii_scans=pii_scans(cat, ds.dataset_id))


def pii_scans(cat: CatalogStore, dataset_id: int) -> list[PiiSummary]:
    """The PII guard's scans of a dataset, oldest first."""
    rows = cat.con.execute("SELECT scan_id, mode, rows_scanned, rows_with_pii, counts FROM pii_scans "
                           "WHERE dataset_id = ? ORDER BY scan_id", [dataset_id]).fetchall()
    return [PiiSummary(mode=mode, rows_scanned=int(n), rows_with_pii=int(w), counts=json.loads(c), scan_id=sid)
            for sid, mode, n, w, c in rows]
