"""Read-only SQL for users: a query sees the catalog and nothing else on the machine.

A user's query runs on a connection of its own: an in-memory DuckDB that attaches the catalog file
``READ_ONLY``, loads the full-text extension (so the index's macros work), and then turns off
external access and locks its configuration. DuckDB then refuses, for that connection, every way
out of the catalog: ``COPY ... TO``, ``EXPORT DATABASE``, ``ATTACH``, ``INSTALL``/``LOAD``,
``read_text``/``read_csv``/``glob`` and friends, and any attempt to switch the setting back on.
The catalog's own connection is not touched, so the library can still import and export after a
query.
"""

from __future__ import annotations

import duckdb

from catalog.errors import BadInput, SynthcatError
from catalog.json_values import json_safe
from catalog.location import DB_FILE

CATALOG_ALIAS = "catalog"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_sandbox(directory) -> duckdb.DuckDBPyConnection:
    """A connection that can read the catalog in ``directory`` and nothing else."""
    from catalog.search.keyword import extension_path

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {_literal(str(directory / DB_FILE))} AS {CATALOG_ALIAS} (READ_ONLY)")
        con.execute(f"USE {CATALOG_ALIAS}")
        fts = extension_path()
        if fts is not None:
            con.execute(f"LOAD {_literal(str(fts))}")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise SynthcatError(f"cannot open the catalog for SQL: {str(exc).strip().splitlines()[0]}") from None
    return con


def run_query(con: duckdb.DuckDBPyConnection, query: str, *, limit: int | None) -> dict:
    """Run ``query`` on a sandbox connection; at most ``limit`` rows (``None``: all)."""
    if not isinstance(query, str) or not query.strip():
        raise BadInput("empty SQL query", field="query")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise BadInput(f"limit must be a whole number of at least 1, got {limit!r}", field="limit")
    try:
        cur = con.execute(query)
        columns = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchmany(limit + 1) if limit is not None else cur.fetchall()
    except duckdb.Error as exc:
        raise SynthcatError(f"SQL error: {_first_line(exc)}") from None
    truncated = limit is not None and len(rows) > limit
    rows = rows[:limit] if truncated else rows
    return {"columns": columns, "rows": [[json_safe(v) for v in r] for r in rows], "truncated": truncated}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
