"""Read a table file for the synthesizers, with missing-value markers only where the user says so."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from catalog.errors import BadInput

READERS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet", ".json": "json",
           ".jsonl": "jsonl", ".ndjson": "jsonl"}


def read_table(path: str | Path, na_values: list[str] | None = None) -> pd.DataFrame:
    """Load CSV/TSV (also .gz), Parquet, JSON or JSON Lines into a DataFrame.

    Only empty CSV fields count as missing by default; strings such as ``"?"`` (Adult) stay
    labels unless listed in ``na_values``, so nothing is guessed silently."""
    path = Path(path)
    if not path.is_file():
        raise BadInput("table file not found", file=str(path))
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    kind = READERS.get(suffixes[-1] if suffixes else "")
    if kind is None:
        raise BadInput(f"cannot tell the format from the name (known: {', '.join(READERS)})", file=str(path))
    try:
        if kind in ("csv", "tsv"):
            return pd.read_csv(path, sep="," if kind == "csv" else "\t", na_values=["", *(na_values or [])],
                               keep_default_na=False, skipinitialspace=True)
        if kind == "parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_json(path, lines=kind == "jsonl")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise BadInput(f"cannot read the table: {exc}", file=str(path)) from exc
    if na_values:
        df = df.replace(list(na_values), pd.NA)
    return df

