"""Tabular datasets: one typed DuckDB table per dataset (``table_<dataset id>``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from catalog.errors import BadInput, SynthcatError

_READERS = {
    "csv": "read_csv(?, header = true, sample_size = -1)",
    "tsv": "read_csv(?, header = true, delim = '\t', sample_size = -1)",
    "parquet": "read_parquet(?)",
    "jsonl": "read_json(?, format = 'newline_delimited')",
    "json": "read_json(?)",
}


def _finish(cat, name: str, table_name: str, source: str) -> int:
    rows = cat.con.execute(f'SELECT count(*) FROM "{table_name}"').fetchone()[0]
    if rows == 0:
        raise BadInput("no rows to import", file=source)
    cat.update_dataset(name, row_count=rows)
    return rows


def _header_fields(path: Path, delimiter: str) -> int:
    """How many fields the first line of a delimited file has when split on ``delimiter``."""
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return len(next(csv.reader([fh.readline()], delimiter=delimiter), []))
    except (OSError, UnicodeDecodeError, csv.Error):
        return 0


def _csv_reader(path: Path, fmt: str) -> tuple[str, list]:
    """The read_csv call for a delimited file, keeping every malformed row for inspection.

    When the header splits on the format's own delimiter (',' for .csv, tab for .tsv) that delimiter
    is used, so a ragged row cannot make DuckDB's sniffer fall back to one text column holding
    whole lines; otherwise (e.g. a semicolon-separated .csv) the sniffer decides. Malformed rows go
    to the ``reject_errors`` table (line, error, the line's text) instead of aborting the read.
    """
    delimiter = "," if fmt == "csv" else "\t"
    options = "header = true, sample_size = -1, ignore_errors = true, store_rejects = true"
    params: list = [str(path)]
    if _header_fields(path, delimiter) >= 2:
        options += ", delim = ?"
        params.append(delimiter)
    return f"read_csv(?, {options})", params


def _reported_rejects(cat, source: str, rejects) -> None:
    """Move DuckDB's rejected CSV rows into the rejects file, or fail on the first one."""
    rows = cat.con.execute(
        "SELECT line, column_name, error_type, error_message, csv_line FROM reject_errors ORDER BY line").fetchall()
    cat.con.execute("DELETE FROM reject_errors")
    cat.con.execute("DELETE FROM reject_scans")
    if not rows:
        return
    if rejects is None:
        line, column, _kind, message, _text = rows[0]
        more = f" ({len(rows)} bad rows in all; `skip_bad` imports the others)" if len(rows) > 1 else ""
        raise BadInput(f"{message}{more}", file=source, line=int(line), field=column or None)
    for line, column, _kind, message, text in rows:
        rejects.add(int(line), column or None, message, raw=text)


def create_table_from_file(cat, path: Path, fmt: str, name: str, *, origin: str,
                           description: str | None = None, tags=(), id_column: str | None = None,
                           rejects=None) -> int:
    """Load a CSV/TSV/Parquet/JSON file into a typed table (inside the caller's transaction).

    A malformed CSV row fails the import naming its line, unless ``rejects`` (a
    :class:`catalog.rejects.RejectsFile`) takes it. ``id_column`` must name a column whose values
    are present and unique; it is recorded with the dataset.
    """
    reader = _READERS.get(fmt)
    if reader is None:
        raise BadInput(f"cannot read format '{fmt}' as a table", file=str(path))
    params: list = [str(path)]
    if fmt in ("csv", "tsv"):
        reader, params = _csv_reader(path, fmt)
    elif rejects is not None:
        raise BadInput(f"`skip_bad` applies to CSV/TSV tables and text records, not {fmt} tables", file=str(path))
    ds = cat.create_dataset(name, kind="table", origin=origin, description=description, tags=list(tags),
                            source=str(path), parameters={"id_column": id_column} if id_column else None)
    try:
        cat.con.execute(f'CREATE TABLE "{ds.table_name}" AS SELECT * FROM {reader}', params)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise BadInput(f"cannot read as a table: {first}", file=str(path)) from None
    if fmt in ("csv", "tsv"):
        _reported_rejects(cat, str(path), rejects)
    if id_column:
        _check_id_column(cat, ds.table_name, id_column, str(path))
    return _finish(cat, name, ds.table_name, str(path))


def _check_id_column(cat, table_name: str, column: str, source: str) -> None:
    columns = [r[0] for r in cat.con.execute(f'DESCRIBE "{table_name}"').fetchall()]
    if column not in columns:
        raise BadInput(f"no column '{column}' (columns: {', '.join(columns[:20])})", file=source, field=column)
    quoted = '"' + column.replace('"', '""') + '"'
    missing = cat.con.execute(f'SELECT count(*) FROM "{table_name}" WHERE {quoted} IS NULL').fetchone()[0]
    if missing:
        raise BadInput(f"{missing} rows have no id", file=source, field=column)
    repeated = cat.con.execute(
        f'SELECT {quoted}::VARCHAR, count(*) FROM "{table_name}" GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 1'
    ).fetchone()
    if repeated:
        raise BadInput(f"duplicate id {repeated[0]!r} ({repeated[1]} rows)", file=source, field=column)


def create_table_from_frame(cat, name: str, frame, *, origin: str, description: str | None = None,
                            tags=(), generator: str | None = None, parameters: dict | None = None,
                            model: str | None = None, seed: int | None = None, parents=()) -> int:
    """Store a pandas DataFrame as a typed table dataset (inside the caller's transaction)."""
    if frame is None or len(frame.columns) == 0:
        raise BadInput("the table has no columns")
    ds = cat.create_dataset(name, kind="table", origin=origin, description=description, tags=list(tags),
                            generator=generator, parameters=parameters, model=model, seed=seed,
                            parents=list(parents))
    cat.con.register("_frame", frame)
    try:
        cat.con.execute(f'CREATE TABLE "{ds.table_name}" AS SELECT * FROM _frame')
    finally:
        cat.con.unregister("_frame")
    return _finish(cat, name, ds.table_name, "<dataframe>")


def read_table(cat, name: str):
    """The rows of a table dataset as a pandas DataFrame."""
    ds = cat.dataset(name)
    if ds.kind != "table":
        raise SynthcatError(f"dataset '{name}' holds {ds.kind} records, not a table")
    return cat.con.execute(f'SELECT * FROM "{ds.table_name}"').df()


def read_frame(cat, source: str, *, na_values: list[str] | None = None) -> tuple[pd.DataFrame, str | None]:
    """A DataFrame from a catalog table dataset or a CSV/TSV/Parquet file, and the parent dataset name.

    Files are read by DuckDB with the same type detection as `synthcat import`, so a file and the
    same file imported into the catalog compare column for column.
    """
    if cat is not None and cat.has_dataset(source):
        return read_table(cat, source), source
    path = Path(source)
    if not path.is_file():
        known = "" if cat is None else " (and no dataset of that name in the catalog)"
        raise BadInput(f"no such file{known}", file=source)
    from catalog.readers import detect_format

    fmt = detect_format(path)
    if fmt not in ("csv", "tsv", "parquet"):
        raise BadInput("expected a CSV, TSV or Parquet file, or the name of a table dataset", file=source)
    reader = _READERS[fmt]
    if na_values and fmt != "parquet":
        reader = reader[:-1] + ", nullstr = ?)"
    params = [str(path)] + ([list(na_values)] if na_values and fmt != "parquet" else [])
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT * FROM {reader}", params).df(), None
    except duckdb.Error as exc:
        raise BadInput(f"cannot read as a table: {str(exc).strip().splitlines()[0]}", file=source) from None
    finally:
        con.close()
