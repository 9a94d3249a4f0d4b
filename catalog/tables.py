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


def create_table_from_file(cat, path: Path, fmt: str, name: str, *, origin: str,
                           description: str | None = None, tags=()) -> int:
    """Load a CSV/TSV/Parquet/JSON file into a typed table (inside the caller's transaction)."""
    reader = _READERS.get(fmt)
    if reader is None:
        raise BadInput(f"cannot read format '{fmt}' as a table", file=str(path))
    ds = cat.create_dataset(name, kind="table", origin=origin, description=description, tags=list(tags),
                            source=str(path))
    try:
        cat.con.execute(f'CREATE TABLE "{ds.table_name}" AS SELECT * FROM {reader}', [str(path)])
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise BadInput(f"cannot read as a table: {first}", file=str(path)) from None
    return _finish(cat, name, ds.table_name, str(path))


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
