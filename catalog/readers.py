"""Streaming readers for the files users import: JSONL (also gzipped), JSON arrays, CSV/TSV, Parquet.

Rows come out in chunks so a million-line file never sits in memory as a million Python objects.
Each row carries its line number (1-based; for JSON arrays the element number, for CSV the line of
the row) and, for JSON Lines, the raw text, which is stored as the record's fields without
re-serialising it.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import BadInput
from catalog.json_values import MAX_NESTING

FORMATS = ("jsonl", "json", "csv", "tsv", "parquet")


@dataclass(slots=True)
class SourceRow:
    line: int
    data: dict | None
    raw: str | None = None
    error: str | None = None  # set when the line could not be parsed into an object


def detect_format(path: Path, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in FORMATS:
            raise BadInput(f"unknown format '{explicit}': choose one of {', '.join(FORMATS)}", file=str(path))
        return explicit
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for suffix, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "json"), (".csv", "csv"),
                        (".tsv", "tsv"), (".parquet", "parquet"), (".pq", "parquet")):
        if name.endswith(suffix):
            return fmt
    raise BadInput(
        "unknown file format: use .jsonl, .jsonl.gz, .json, .csv, .tsv or .parquet (or `format`)",
        file=str(path),
    )


def check_readable(path: Path) -> None:
    if not path.exists():
        raise BadInput("file not found", file=str(path))
    if path.is_dir():
        raise BadInput("is a directory, not a file", file=str(path))
    if path.stat().st_size == 0:
        raise BadInput("file is empty", file=str(path))


def open_binary(path: Path) -> tuple[io.BufferedIOBase, Callable[[], int]]:
    """The file's bytes (decompressed for .gz) and a function giving how far into the file we are.

    Closing the returned file closes the file on disk too (a GzipFile given a file object would not).
    """
    if path.name.lower().endswith(".gz"):
        fh = gzip.open(path, "rb")
        compressed = fh.fileobj  # the file gzip.open opened itself (typeshed types it as a bare protocol)
        assert isinstance(compressed, io.BufferedReader)
        return fh, compressed.tell  # progress follows the compressed bytes
    raw = open(path, "rb")
    return raw, raw.tell


def _json_error(exc: Exception) -> str:
    text = str(exc)
    if "depth limit" in text or "recursion" in text.lower():
        return f"nested deeper than {MAX_NESTING} levels"
    return f"malformed JSON ({text.split(':')[0]})"


def iter_jsonl(path: Path, chunk_size: int, progress: Callable[[int], None] | None) -> Iterator[list[SourceRow]]:
    fh, position = open_binary(path)
    import orjson

    chunk: list[SourceRow] = []
    loads = orjson.loads
    last_pos = 0
    limit = min(chunk_size, 1000)  # a small first chunk: the importer decides the mapping from it
    try:
        for line_no, line in enumerate(fh, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                obj = loads(text)
            except orjson.JSONDecodeError as exc:
                chunk.append(SourceRow(line_no, None, text.decode("utf-8", "replace"), _json_error(exc)))
            else:
                if type(obj) is dict:
                    chunk.append(SourceRow(line_no, obj, text.decode("utf-8")))
                else:
                    chunk.append(SourceRow(line_no, None, text.decode("utf-8", "replace"),
                                           f"expected a JSON object, got {type(obj).__name__}"))
            if len(chunk) >= limit:
                yield chunk
                chunk = []
                limit = chunk_size
                if progress:
                    pos = position()
                    progress(pos - last_pos)
                    last_pos = pos
        if chunk:
            yield chunk
        if progress:
            progress(position() - last_pos)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read file: {exc}", file=str(path)) from None
    finally:
        fh.close()


def iter_json_array(path: Path, chunk_size: int, progress: Callable[[int], None] | None) -> Iterator[list[SourceRow]]:
    import orjson

    fh, _ = open_binary(path)
    try:
        head = fh.read(1 << 16)
        stripped = head.lstrip()
        if stripped.startswith(b"\xef\xbb\xbf"):
            stripped = stripped[3:].lstrip()
        if stripped[:1] == b"{":
            # A .json file holding JSON Lines (or one object): read it as JSON Lines.
            fh.close()
            yield from iter_jsonl(path, chunk_size, progress)
            return
        try:
            data = orjson.loads(stripped + fh.read())
        except orjson.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}: " if getattr(exc, "lineno", None) else ""
            raise BadInput(f"{where}{_json_error(exc)}", file=str(path)) from None
    except (OSError, EOFError) as exc:
        raise BadInput(f"cannot read file: {exc}", file=str(path)) from None
    finally:
        fh.close()
    if not isinstance(data, list):
        raise BadInput("expected a JSON array of objects (or JSON Lines)", file=str(path))
    yield from object_chunks(data, chunk_size,
                             lambda i, obj: f"array element {i} is {type(obj).__name__}, not an object")
    if progress:
        progress(path.stat().st_size)


def object_chunks(objects: Iterable[object], chunk_size: int,
                  not_an_object: Callable[[int, object], str]) -> Iterator[list[SourceRow]]:
    """Chunks of :class:`SourceRow` from objects already in memory; non-dicts become error rows."""
    chunk: list[SourceRow] = []
    for i, obj in enumerate(objects, start=1):
        if isinstance(obj, dict):
            chunk.append(SourceRow(i, obj))
        else:
            chunk.append(SourceRow(i, None, None, not_an_object(i, obj)))
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def iter_delimited(path: Path, sep: str, chunk_size: int,
                   progress: Callable[[int], None] | None) -> Iterator[list[SourceRow]]:
    """Rows of a CSV/TSV file as dicts of strings keyed by the header; a row with another number of
    fields than the header becomes an error row naming both counts (its line is the file's line)."""
    import csv

    csv.field_size_limit(2**31 - 1)
    source = str(path)
    try:
        fh = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise BadInput(f"cannot read file: {exc.strerror or exc}", file=source) from None
    with fh:
        reader = csv.reader(fh, delimiter=sep)
        try:
            header = next(reader, None)
            if header is None:
                raise BadInput("no header row", file=source)
            seen: set[str] = set()
            for name in header:
                if name in seen:
                    raise BadInput(f"column {name!r} appears twice in the header", file=source, line=1)
                seen.add(name)
            width = len(header)
            chunk: list[SourceRow] = []
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) != width:
                    chunk.append(SourceRow(line, None, sep.join(row),
                                           f"expected {width} fields as in the header, found {len(row)}"))
                else:
                    chunk.append(SourceRow(line, dict(zip(header, row))))
                if len(chunk) >= chunk_size:
                    yield chunk
                    chunk = []
                    if progress:
                        progress(0)
            if chunk:
                yield chunk
        except csv.Error as exc:
            raise BadInput(f"cannot parse {sep!r}-separated file: {exc}", file=source, line=reader.line_num) from None
        except UnicodeDecodeError as exc:
            raise BadInput(f"not UTF-8 text ({exc.reason}) near line {reader.line_num + 1}", file=source) from None
    if progress:
        progress(path.stat().st_size)


def iter_parquet(path: Path, chunk_size: int, progress: Callable[[int], None] | None) -> Iterator[list[SourceRow]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
        raise BadInput(f"not a readable Parquet file: {exc}", file=str(path)) from None
    line = 0
    for batch in pf.iter_batches(batch_size=chunk_size):
        rows = batch.to_pylist()
        yield [SourceRow(line + i + 1, row) for i, row in enumerate(rows)]
        line += len(rows)
    if progress:
        progress(path.stat().st_size)


def iter_rows(path: Path, fmt: str, *, chunk_size: int = 20_000,
              progress: Callable[[int], None] | None = None) -> Iterator[list[SourceRow]]:
    """Chunks of :class:`SourceRow` from ``path`` in format ``fmt`` (see :func:`detect_format`)."""
    check_readable(path)
    if fmt == "jsonl":
        return iter_jsonl(path, chunk_size, progress)
    if fmt == "json":
        return iter_json_array(path, chunk_size, progress)
    if fmt in ("csv", "tsv"):
        return iter_delimited(path, "," if fmt == "csv" else "\t", chunk_size, progress)
    if fmt == "parquet":
        return iter_parquet(path, chunk_size, progress)
    raise BadInput(f"unknown format '{fmt}'", file=str(path))
