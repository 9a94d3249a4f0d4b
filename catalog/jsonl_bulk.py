"""Bulk JSON Lines import: DuckDB's JSON functions parse and check the rows, not Python.

Python only cuts the file into lines (C-speed ``bytes.split``); DuckDB extracts the fields, builds
the searchable text and hashes it, in the import's transaction. The row checks are strict: a row is
taken only when the row-by-row importer would take it unchanged (an object; the mapped fields are
strings holding more than whitespace; ids are non-empty strings, unique in the file). When any row
fails them, the rows inserted here are deleted and :func:`bulk_import_jsonl` returns ``None``: the
caller then runs the row-by-row importer, which names the file, line and field of the bad row (or
writes it to the rejects file). A clean file is never parsed twice; a bad one costs one extra read.

Not taken here: conversations, a quality field and non-string ids (the row-by-row importer handles
them).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

from catalog.json_values import MAX_NESTING, json_pointer
from catalog.readers import open_binary
from catalog.record_mapping import FieldMapping

BLOCK_BYTES = 1 << 24

# Characters Python's str.strip() removes; a text is non-empty when it has any other character.
_NOT_SPACE = (r"[^\t\n\x{0b}\f\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
              r"\x{202f}\x{205f}\x{3000}]")


def bulk_supported(mapping: FieldMapping) -> bool:
    return mapping.kind in ("pairs", "text") and mapping.quality_field is None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _pointer(name: str) -> str:
    """A JSON pointer literal for top-level key ``name`` (any characters)."""
    return _literal(json_pointer(name))


def _has_text(expr: str) -> str:
    return f"regexp_matches({expr}, {_literal(_NOT_SPACE)})"


def _select(mapping: FieldMapping) -> tuple[str, str]:
    """(SQL text expression, SQL condition every taken row meets) over a column ``line``."""
    def typ(name: str) -> str:
        return f"json_type(line, {_pointer(name)})"

    def val(name: str) -> str:
        return f"json_extract_string(line, {_pointer(name)})"

    checks = ["json_valid(line)", "json_type(line) = 'OBJECT'",
              # orjson (the row path) refuses NaN and Infinity, which DuckDB reads, and keeps the
              # last of repeated keys; such lines (or look-alikes inside a string) go to the row path.
              "NOT (contains(line, 'NaN') OR contains(line, 'Infinity'))",
              "len(json_keys(line)) = len(list_distinct(json_keys(line)))",
              # a line with many brackets may nest too deeply: the row path measures it exactly
              f"length(line) - length(replace(replace(line, '[', ''), '{{', '')) <= {MAX_NESTING}"]
    if mapping.kind == "pairs":
        p, r = mapping.pair_fields()
        text = f"{val(p)} || chr(10) || chr(10) || {val(r)}"
        checks += [f"{typ(p)} = 'VARCHAR'", f"{typ(r)} = 'VARCHAR'", _has_text(val(p)), _has_text(val(r))]
    else:
        fields = mapping.text_fields
        checks += [f"coalesce({typ(n)}, 'NULL') IN ('VARCHAR', 'NULL')" for n in fields]
        text = f"concat_ws(' ', {', '.join(val(n) for n in fields)})" if len(fields) > 1 else val(fields[0])
        any_string = " OR ".join(f"{typ(n)} = 'VARCHAR'" for n in fields)
        checks += [f"({any_string})", _has_text(text)]
    if mapping.id_field:
        checks += [f"{typ(mapping.id_field)} = 'VARCHAR'", f"{val(mapping.id_field)} <> ''"]
    return text, " AND ".join(f"coalesce({c}, false)" for c in checks)


def _lines(path: Path, progress: Callable[[int], None] | None) -> Iterator[list[bytes]]:
    """Blocks of stripped, non-blank lines (bytes) from a JSONL or JSONL.gz file."""
    fh, position = open_binary(path)
    rest = b""
    last = 0
    try:
        while True:
            block = fh.read(BLOCK_BYTES)
            if not block:
                break
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            lines = [s for s in (line.strip() for line in block[:cut].split(b"\n")) if s]
            if progress:
                pos = position()
                progress(pos - last)
                last = pos
            if lines:
                yield lines
        tail = rest.strip()
        if tail:
            yield [tail]
    finally:
        fh.close()


def _prefetched(blocks: Iterator[list[bytes]]) -> Iterator[list[bytes] | BaseException]:
    """Read and split the next block on a thread while DuckDB (which releases the GIL) inserts this one."""
    ready: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for block in blocks:
                if stop.is_set():
                    return
                ready.put(block)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            ready.put(exc)
        ready.put(None)

    thread = threading.Thread(target=produce, name="synthcat-jsonl-reader", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not None:
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()


def bulk_import_jsonl(writer, path: Path, mapping: FieldMapping,
                      progress: Callable[[int], None] | None = None) -> int | None:
    """Insert every row of ``path`` through ``writer`` (a :class:`catalog.writer.RecordWriter`);
    return the count, or ``None`` (nothing left inserted) when the row-by-row path must decide."""
    text, ok = _select(mapping)
    ext = (f"json_extract_string(line, {_pointer(mapping.id_field)})" if mapping.id_field
           else "NULL::VARCHAR")
    select = (f"SELECT record_id, {ext} AS external_id, {text} AS text, line AS fields, "
              f"NULL::DOUBLE AS quality_score FROM _bulk_lines WHERE {ok}")
    con = writer.cat.con
    first_id = writer.next_id
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    # One DuckDB thread measured faster here (the JSON work is light; the other core reads the file).
    con.execute("SET threads = 1")
    try:
        for lines in _prefetched(_lines(path, progress)):
            if isinstance(lines, BaseException):
                raise lines
            try:
                column = pa.array(lines, pa.string())
            except (pa.ArrowInvalid, UnicodeDecodeError):
                _undo(writer, first_id)  # not UTF-8: the row path names the line
                return None
            n = len(lines)
            table = pa.table({"record_id": pa.array(writer.reserve(n), pa.int64()), "line": column})
            con.register("_bulk_lines", table)
            try:
                inserted = writer.insert_relation(select)
            finally:
                con.unregister("_bulk_lines")
            if inserted != n:
                _undo(writer, first_id)
                return None
    except (OSError, EOFError):
        _undo(writer, first_id)  # the row path reports the read error
        return None
    finally:
        con.execute(f"SET threads = {int(threads)}")
    if mapping.id_field:
        repeated = con.execute(
            "SELECT count(*) - count(DISTINCT external_id) FROM records WHERE dataset_id = ? AND record_id >= ?",
            [writer.dataset_id, first_id]).fetchone()[0]
        if repeated:
            _undo(writer, first_id)
            return None
    return writer.next_id - first_id


def _undo(writer, first_id: int) -> None:
    """Take back every record inserted from ``first_id`` on: the row-by-row path starts over."""
    writer.discard_from(first_id)
