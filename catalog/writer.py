"""The one writer of records: every path that adds records to a text dataset goes through here.

Import (row by row and bulk), grounded generation and dedup's survivor copy all add records with a
:class:`RecordWriter`. It owns what must be the same on every path:

* **record ids**: handed out in one increasing run per writer, never reusing an id handed out
  before (see :meth:`catalog.store.CatalogStore.next_record_id`);
* **the content hash**: :data:`CONTENT_HASH` -- MD5 of the record's searchable text in UTF-8, hex.
  It keys vectors (identical texts are embedded once) and the keyword index fingerprint;
  :func:`content_hash` computes the same value in Python;
* **the INSERT itself**: columns, creation time, ``active`` status;
* **vectors** (one per embedder and content hash; an existing one is kept), **lineage** rows, and
  the dataset's **row count**, brought up to date by :meth:`finish`, which also schedules the FAISS
  cache to take the new vectors after the transaction commits.

A writer works inside the caller's transaction (``with cat.transaction(): ...``), so a failure
anywhere leaves the catalog as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa

CONTENT_HASH = "md5(text)"  # SQL over a column named text; content_hash() is the same in Python


def content_hash(text: str) -> str:
    """The content hash of a record's searchable text (equal to DuckDB's ``md5(text)``)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


_INCOMING = pa.schema([("record_id", pa.int64()), ("external_id", pa.string()), ("text", pa.string()),
                       ("fields", pa.string()), ("quality_score", pa.float64())])


class RecordWriter:
    """Adds records to dataset ``dataset_id`` inside the caller's transaction."""

    def __init__(self, cat, dataset_id: int) -> None:
        self.cat = cat
        self.dataset_id = int(dataset_id)
        self.first_id = cat.next_record_id()
        self.next_id = self.first_id
        self._vectors_of: set[str] = set()

    # ---------------------------------------------------------------- records
    def reserve(self, n: int) -> range:
        """The ids of the next ``n`` records (for callers that build their own relation)."""
        ids = range(self.next_id, self.next_id + n)
        self.next_id += n
        return ids

    def insert_relation(self, select_sql: str, params: Sequence = ()) -> int:
        """Insert the rows of ``select_sql``, which yields ``record_id, external_id, text, fields,
        quality_score`` (ids from :meth:`reserve`); return how many rows went in."""
        row = self.cat.con.execute(
            "INSERT INTO records (record_id, dataset_id, external_id, content_hash, text, fields, quality_score, "
            f"created_at, status) SELECT record_id, {self.dataset_id}, external_id, {CONTENT_HASH}, text, fields, "
            f"quality_score, now(), 'active' FROM ({select_sql})", list(params)).fetchone()
        return int(row[0]) if row else 0

    def add(self, texts: Sequence[str], fields: Sequence[str], *, external_ids: Sequence[str | None] | None = None,
            quality: Sequence[float | None] | None = None) -> range:
        """Add records from Python lists (``fields``: each record's JSON text); return their ids."""
        n = len(texts)
        ids = self.reserve(n)
        if n == 0:
            return ids
        table = pa.table({
            "record_id": pa.array(ids, pa.int64()),
            "external_id": pa.array(external_ids if external_ids is not None else [None] * n, pa.string()),
            "text": pa.array(texts, pa.string()),
            "fields": pa.array(fields, pa.string()),
            "quality_score": pa.array(quality if quality is not None else [None] * n, pa.float64()),
        }, schema=_INCOMING)
        name = f"_incoming_{id(self)}"
        self.cat.con.register(name, table)
        try:
            self.insert_relation(f"SELECT * FROM {name}")
        finally:
            self.cat.con.unregister(name)
        return ids

    def copy_records(self, source_ids: Sequence[int], relation: str) -> range:
        """Copy existing records (text, fields, external id, score) into this dataset, in id order,
        each with a lineage row ``relation`` to the record it was copied from; return the new ids."""
        source = sorted(int(i) for i in source_ids)
        ids = self.reserve(len(source))
        if not source:
            return ids
        mapping = pa.table({"record_id": pa.array(ids, pa.int64()), "source_id": pa.array(source, pa.int64())})
        name = f"_copies_{id(self)}"
        self.cat.con.register(name, mapping)
        try:
            self.insert_relation(
                f"SELECT m.record_id, r.external_id, r.text, r.fields, r.quality_score FROM {name} m "
                "JOIN records r ON r.record_id = m.source_id")
            self.cat.con.execute(f"INSERT INTO lineage SELECT record_id, source_id, ?, NULL, NULL FROM {name}",
                                 [relation])
        finally:
            self.cat.con.unregister(name)
        return ids

    def discard_from(self, first_id: int) -> None:
        """Remove the records this writer added from ``first_id`` on (a bulk path falling back)."""
        self.cat.con.execute("DELETE FROM records WHERE dataset_id = ? AND record_id >= ?", [self.dataset_id, first_id])
        self.next_id = first_id

    # --------------------------------------------------------- lineage, vectors
    def add_lineage(self, rows: Iterable[tuple[int, int, str, int | None, float | None]]) -> None:
        """Lineage rows ``(record id, source record id, relation, rank, score)``."""
        rows = list(rows)
        if rows:
            self.cat.con.executemany("INSERT INTO lineage VALUES (?, ?, ?, ?, ?)", rows)

    def add_vectors(self, embedder_id: str, hashes: Sequence[str], vectors: np.ndarray) -> int:
        """Store one vector per content hash for ``embedder_id`` (hashes that already have one keep
        it); return how many were new. The embedder must be registered (embedding_store)."""
        if len(hashes) == 0:
            return 0
        from catalog.embedding_store import vectors_to_arrow

        batch = pa.table({"content_hash": pa.array(list(hashes), pa.string()),
                          "vector": vectors_to_arrow(np.asarray(vectors, dtype=np.float32))})
        name = f"_vectors_{id(self)}"
        self.cat.con.register(name, batch)
        try:
            row = self.cat.con.execute(
                f"INSERT INTO embeddings SELECT ?, content_hash, vector FROM (SELECT DISTINCT ON (content_hash) * "
                f"FROM {name}) v WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.embedder_id = ? "
                "AND e.content_hash = v.content_hash)", [embedder_id, embedder_id]).fetchone()
        finally:
            self.cat.con.unregister(name)
        self._vectors_of.add(embedder_id)
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------- done
    @property
    def added(self) -> int:
        return self.next_id - self.first_id

    def finish(self, *, embedder_id: str | None = None, index: bool = True) -> int:
        """Bring the dataset's row count up to date and, for ``embedder_id``, mark the vector set
        changed and (``index``) schedule the FAISS cache to take the new records after commit.
        Returns the dataset's row count."""
        rows = self.cat.con.execute(
            "UPDATE datasets SET row_count = (SELECT count(*) FROM records WHERE dataset_id = ?) "
            "WHERE dataset_id = ? RETURNING row_count", [self.dataset_id, self.dataset_id]).fetchone()[0]
        if embedder_id is not None and self.added:
            from catalog.embedding_store import schedule_index_add

            self.cat.touch_vectors(embedder_id)
            if index:
                schedule_index_add(self.cat, embedder_id, self.first_id)
        return int(rows)
