"""Fetching the rows of search hits by DuckDB rowid, in one call per query.

Filtering ``records`` on ``record_id IN (...)`` makes DuckDB decompress the text column of every row
group (260 ms a query at 1M records), so hits were fetched in two calls: the rowids first (a scan of
the id column), then the rows by rowid. :class:`RowFetcher` reads the record id -> rowid map once
(two int64 columns, 16 MB at 1M records) and fetches by rowid straight away, saving the first call
(10 hits at 1M records: 12 ms instead of 23 ms on the loaded 2-core machine; benchmarks/RESULTS.md).

The map is a snapshot and is never trusted blindly: a rowid can move (DuckDB may rewrite row groups
when a checkpoint follows deletions) and records added after the snapshot are not in it, so the
fetch keeps only rows whose record id is the one asked for, and looks up anything still missing
the slow way, by record id.
"""

from __future__ import annotations

import numpy as np

_ROWS_BY_ROWID = ("SELECT r.record_id, r.external_id, d.name, r.text FROM records r JOIN datasets d USING (dataset_id) "
                  "WHERE r.rowid IN (SELECT unnest(?))")


class RowFetcher:
    """(record id, external id, dataset name, text) of records, by record id."""

    def __init__(self, con) -> None:
        self.con = con
        got = con.execute("SELECT record_id, rowid FROM records ORDER BY record_id").fetchnumpy()
        self.record_ids = np.asarray(got["record_id"], dtype=np.int64)
        self.rowids = np.asarray(got["rowid"], dtype=np.int64)

    def _rowids(self, record_ids: list[int]) -> list[int]:
        if len(self.record_ids) == 0:
            return []
        wanted = np.asarray(record_ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.record_ids, wanted), len(self.record_ids) - 1)
        known = self.record_ids[at] == wanted
        return self.rowids[at[known]].tolist()

    def fetch(self, record_ids: list[int]) -> dict[int, tuple]:
        """Rows keyed by record id; ids of records that no longer exist are left out."""
        wanted = set(record_ids)
        rows = {r[0]: r for r in self.con.execute(_ROWS_BY_ROWID, [self._rowids(record_ids)]).fetchall()
                if r[0] in wanted}
        missing = [i for i in record_ids if i not in rows]
        if missing:  # added after the map was read, or moved: find their rowids now
            rowids = self.con.execute("SELECT rowid FROM records WHERE record_id IN (SELECT unnest(?))",
                                      [missing]).fetchnumpy()["rowid"].tolist()
            rows.update((r[0], r) for r in self.con.execute(_ROWS_BY_ROWID, [rowids]).fetchall())
        return rows
