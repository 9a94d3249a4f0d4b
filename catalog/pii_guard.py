"""The PII guard of imports (``pii="warn"|"redact"|"refuse"|"off"``) and exports (``redact_pii``).

An import scans the records it has just stored, inside its own transaction, so every reader path
(bulk JSONL, row by row, tables) is guarded the same way:

* ``warn`` (the default) keeps the data and records each finding;
* ``redact`` replaces each match by a typed placeholder (``[EMAIL]``, ``[PHONE]``...) in the stored
  fields, rebuilds the record's searchable text and content hash from them (the vectors are made
  after, from the redacted text) and records where each placeholder went;
* ``refuse`` stops the import at the first finding, naming the file, row and field (never the value);
* ``off`` skips the scan (for bulk loads of data known to be clean).

Findings are rows of ``pii_findings`` under one ``pii_scans`` row: the record (or table row), the
field as a JSON pointer, the kind, the span, where a placeholder starts, and a keyed hash of the
value (the key is the catalog's own, made on first use), never the value itself. Typed tables are
scanned in their text columns.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Iterator

import pyarrow as pa

from catalog.errors import BadInput
from catalog.results import PiiSummary

MODES = ("warn", "redact", "refuse", "off")
_CHUNK = 5_000
_KEY = "pii_hash_key"


class Redactor:
    """Redacts rows on their way out of the catalog (``export(redact_pii=True)``), counting what it
    replaced; it writes nothing to the catalog, which may be open read-only."""

    def __init__(self, cat) -> None:
        from catalog.privacy import PiiDetector

        key = cat.get_meta(_KEY)
        self.detector = PiiDetector(hash_key=bytes.fromhex(key)) if key else PiiDetector()
        self.counts: Counter = Counter()
        self.rows_scanned = 0
        self.rows_with_pii = 0

    def rows(self, rows: list) -> list:
        from catalog.privacy import scan_rows

        result = scan_rows(rows, redact=True, detector=self.detector)
        self.rows_scanned += len(rows)
        self.rows_with_pii += result.rows_with_pii
        self.counts.update(f.kind for f in result.findings)
        return result.rows

    def summary(self) -> dict:
        from catalog.privacy import KINDS

        return {"redacted": True, "rows_scanned": self.rows_scanned, "rows_with_pii": self.rows_with_pii,
                "counts": {k: int(self.counts.get(k, 0)) for k in KINDS}}


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise BadInput(f"unknown PII mode {mode!r}: choose {', '.join(MODES)}", param="pii")
    return mode


def _detector(cat):
    from catalog.privacy import PiiDetector

    key = cat.get_meta(_KEY)
    if key is None:
        key = secrets.token_hex(32)
        cat.set_meta(_KEY, key)
    return PiiDetector(hash_key=bytes.fromhex(key))


def _text_chunks(cat, dataset_id: int, first_id: int) -> Iterator[list[tuple[int, str]]]:
    """The new records in chunks, read on the importer's own connection (it sees the transaction's
    uncommitted rows); the caller must not run other statements until the last chunk."""
    result = cat.con.execute("SELECT record_id, fields FROM records WHERE dataset_id = ? AND record_id >= ? "
                             "ORDER BY record_id", [dataset_id, first_id])
    while rows := result.fetchmany(_CHUNK):
        yield rows


def guard_records(cat, dataset, mode: str, *, first_id: int, source: str, mapping, id_field: str | None = None,
                  operation: str = "import") -> PiiSummary | None:
    """Scan the records of ``dataset`` from ``first_id`` on (inside the caller's transaction) under
    ``mode``; returns the summary (``None`` for ``off``)."""
    from catalog.privacy import scan_rows
    from catalog.record_mapping import row_text
    from catalog.writer import content_hash

    if check_mode(mode) == "off":
        return None
    detector = _detector(cat)
    scanned = 0
    counts: Counter = Counter()
    findings: list[tuple] = []
    rows_with = 0
    changed: list[tuple[int, dict]] = []
    for chunk in _text_chunks(cat, dataset.dataset_id, first_id):
        ids = [rid for rid, _ in chunk]
        rows = [json.loads(fields) for _, fields in chunk]
        result = scan_rows(rows, redact=mode == "redact", detector=detector,
                           skip_fields=[id_field] if id_field else ())
        if mode == "refuse" and result.findings:
            _refuse(result.findings[0], f"record {scanned + result.findings[0].row + 1:,} of the file", source)
        scanned += len(rows)
        rows_with += result.rows_with_pii
        counts.update(f.kind for f in result.findings)
        findings += [(ids[f.row], None, f.field, f.kind, f.detail, f.start, f.end, f.placeholder_start,
                      f.value_hash, f.confidence, "redacted" if mode == "redact" else "warned")
                     for f in result.findings]
        if mode == "redact":
            changed += [(ids[i], new) for i, (new, old) in enumerate(zip(result.rows, rows)) if new is not old]
    _rewrite(cat, changed, mapping, row_text, content_hash)
    return _store(cat, dataset.dataset_id, operation, mode, scanned, rows_with, counts, findings)


def _rewrite(cat, changed: list[tuple[int, dict]], mapping, row_text, content_hash) -> None:
    """Store redacted fields, and the text and content hash rebuilt from them."""
    if not changed:
        return
    texts = [row_text(fields, mapping) for _, fields in changed]
    table = pa.table({"record_id": pa.array([rid for rid, _ in changed], pa.int64()),
                      "fields": pa.array([json.dumps(f, ensure_ascii=False) for _, f in changed], pa.string()),
                      "text": pa.array(texts, pa.string()),
                      "content_hash": pa.array([content_hash(t) for t in texts], pa.string())})
    cat.con.register("_redacted", table)
    try:
        cat.con.execute("UPDATE records SET fields = x.fields, text = x.text, content_hash = x.content_hash "
                        "FROM _redacted x WHERE records.record_id = x.record_id")
    finally:
        cat.con.unregister("_redacted")


def guard_table(cat, dataset, mode: str, *, source: str, operation: str = "import") -> PiiSummary | None:
    """Scan the text columns of a typed table dataset under ``mode`` (inside the caller's
    transaction); ``redact`` rewrites the values in place."""
    from catalog.privacy import scan_rows

    if check_mode(mode) == "off":
        return None
    columns = [c for c, t, *_ in cat.con.execute(f'DESCRIBE "{dataset.table_name}"').fetchall() if t == "VARCHAR"]
    if not columns:
        return _store(cat, dataset.dataset_id, operation, mode, 0, 0, Counter(), [])
    detector = _detector(cat)
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    scanned = rows_with = 0
    counts: Counter = Counter()
    findings: list[tuple] = []
    updates: list[tuple[int, dict]] = []
    # read on the importer's own connection, which sees the uncommitted table
    table = cat.con.execute(f'SELECT rowid, {quoted} FROM "{dataset.table_name}" ORDER BY rowid')
    while chunk := table.fetchmany(_CHUNK):
        rows = [{c: v for c, v in zip(columns, values) if v is not None} for _, *values in chunk]
        rowids = [r[0] for r in chunk]
        result = scan_rows(rows, redact=mode == "redact", detector=detector)
        if mode == "refuse" and result.findings:
            _refuse(result.findings[0], f"row {scanned + result.findings[0].row + 1:,} of the table", source)
        scanned += len(rows)
        rows_with += result.rows_with_pii
        counts.update(f.kind for f in result.findings)
        # the row's position in the table (1-based); rowids of uncommitted rows mean nothing after commit
        findings += [(None, scanned - len(rows) + f.row + 1, f.field, f.kind, f.detail, f.start, f.end,
                      f.placeholder_start, f.value_hash, f.confidence, "redacted" if mode == "redact" else "warned")
                     for f in result.findings]
        if mode == "redact":
            updates += [(rowids[i], new) for i, (new, old) in enumerate(zip(result.rows, rows)) if new is not old]
    for rowid, values in updates:
        assignments = ", ".join(f'"{c.replace(chr(34), chr(34) * 2)}" = ?' for c in values)
        cat.con.execute(f'UPDATE "{dataset.table_name}" SET {assignments} WHERE rowid = ?', [*values.values(), rowid])
    return _store(cat, dataset.dataset_id, operation, mode, scanned, rows_with, counts, findings)


def _refuse(first, where: str, source: str) -> None:
    from catalog.privacy import PiiFound

    raise PiiFound(f"personal data in {where}: {first.kind.replace('_', ' ')} ({first.detail}); import with "
                   "`pii` redact to replace it with placeholders, or `pii` warn to keep it",
                   file=source, field=first.field.lstrip("/") or None)


def _store(cat, dataset_id: int, operation: str, mode: str, scanned: int, rows_with: int, counts: Counter,
           findings: list[tuple]) -> PiiSummary:
    from catalog.privacy import KINDS

    scan_id = int(cat.con.execute("SELECT coalesce(max(scan_id), 0) + 1 FROM pii_scans").fetchone()[0])
    full = {k: int(counts.get(k, 0)) for k in KINDS}
    cat.con.execute("INSERT INTO pii_scans VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                    [scan_id, dataset_id, operation, mode, scanned, rows_with, json.dumps(full)])
    if findings:
        cat.con.executemany("INSERT INTO pii_findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [(scan_id, *f) for f in findings])
    return PiiSummary(mode=mode, rows_scanned=scanned, rows_with_pii=rows_with, counts=full, scan_id=scan_id)
