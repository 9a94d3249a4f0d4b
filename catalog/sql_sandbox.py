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

import json

import duckdb

from catalog.errors import BadInput, SynthcatError
from catalog.json_values import json_safe
from catalog.location import DB_FILE
from catalog.results import SqlResult

CATALOG_ALIAS = "catalog"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_sandbox(directory, query: str = "", key: str | None = None) -> duckdb.DuckDBPyConnection:
    """A connection that can read the catalog in ``directory`` and nothing else, with a view named
    after each dataset the ``query`` mentions (see :func:`dataset_views`). ``key``: the key of an
    encrypted catalog."""
    from catalog.encryption import attach_encrypted
    from catalog.search.keyword import extension_path

    con = duckdb.connect(":memory:")
    try:
        if key is not None:
            attach_encrypted(con, directory / DB_FILE, key, alias=CATALOG_ALIAS, read_only=True)
        else:
            con.execute(f"ATTACH {_literal(str(directory / DB_FILE))} AS {CATALOG_ALIAS} (READ_ONLY)")
        con.execute(f"USE {CATALOG_ALIAS}")
        fts = extension_path()
        if fts is not None:
            con.execute(f"LOAD {_literal(str(fts))}")
        dataset_views(con, query)
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise SynthcatError(f"cannot open the catalog for SQL: {str(exc).strip().splitlines()[0]}") from None
    return con


_RECORD_COLUMNS = ("record_id", "external_id", "text", "status", "quality_score", "created_at")
MAX_FIELD_COLUMNS = 200


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def dataset_views(con: duckdb.DuckDBPyConnection, query: str) -> list[str]:
    """Temporary views named after the datasets ``query`` mentions: a typed table as itself, a text
    dataset as its records with each field as a column (typed from the fields' JSON) followed by
    record_id, external_id, text, status, quality_score and created_at (a field of the same name
    wins). A dataset whose name is one of the catalog's own tables gets no view. Returns the names."""
    own = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                     f"WHERE table_catalog = '{CATALOG_ALIAS}'").fetchall()}
    wanted = query.casefold()
    made = []
    rows = con.execute("SELECT dataset_id, name, kind, table_name FROM datasets ORDER BY dataset_id").fetchall()
    for dataset_id, name, kind, table_name in rows:
        if name in own or name.casefold() not in wanted:
            continue
        if kind == "table":
            body = f"SELECT * FROM {_ident(table_name)}"
        else:
            structure = con.execute("SELECT json_group_structure(fields::JSON) FROM records WHERE dataset_id = ?",
                                    [dataset_id]).fetchone()[0]
            keys = list(json.loads(structure)) if structure and structure.startswith("{") else []
            if 0 < len(keys) <= MAX_FIELD_COLUMNS:
                fields = [f"t.f.{_ident(k)} AS {_ident(k)}" for k in keys]
                inner = f"SELECT r.*, json_transform(r.fields, {_literal(structure)}) AS f FROM records r"
            else:  # no fields, or too many to be columns: the JSON itself
                fields = ["t.fields::JSON AS fields"]
                inner = "SELECT r.* FROM records r"
            taken = set(keys) if fields[0] != "t.fields::JSON AS fields" else {"fields"}
            base = [f"t.{c}" for c in _RECORD_COLUMNS if c not in taken]
            body = f"SELECT {', '.join(fields + base)} FROM ({inner} WHERE r.dataset_id = {int(dataset_id)}) t"
        con.execute(f"CREATE TEMP VIEW {_ident(name)} AS {body}")
        made.append(name)
    return made


def run_sql(cat, query: str, *, limit: int | None = None) -> SqlResult:
    """Run one read-only query in a sandbox that sees only the catalog, each dataset the query
    names visible as a view of that name; at most ``limit`` rows (``None``: all)."""
    if not isinstance(query, str) or not query.strip():
        raise BadInput("is empty: give an SQL query", param="query")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise BadInput(f"must be a whole number of at least 1, got {limit!r}", param="limit")
    if not cat.read_only:
        raise SynthcatError("SQL runs on a catalog opened read-only: Catalog.open(directory, read_only=True)")
    con = open_sandbox(cat.directory, query, cat._key)
    try:
        cur = con.execute(query)
        columns = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchmany(limit + 1) if limit is not None else cur.fetchall()
    except duckdb.Error as exc:
        raise SynthcatError(f"SQL error: {_first_line(exc)}") from None
    finally:
        con.close()
    truncated = limit is not None and len(rows) > limit
    rows = rows[:limit] if truncated else rows
    return SqlResult(columns=columns, rows=[[json_safe(v) for v in r] for r in rows], truncated=truncated)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
