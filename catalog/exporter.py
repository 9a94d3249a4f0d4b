"""Export a dataset to JSONL, CSV or Parquet (by extension), or chat-message JSONL, with a sidecar.

The sidecar ``FILE.meta.json`` says what the file holds: dataset metadata, origin (real or
synthetic), parent datasets, lineage counts and each exported record's id and content hash.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import BadInput, SynthcatError
from catalog.outputs import check_output, temp_beside
from catalog.record_mapping import FieldMapping, chat_messages
from catalog.results import ExportResult
from catalog.store import CatalogStore

_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".json": "jsonl"}
_CHUNK = 50_000


def _target_format(out: Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in ("jsonl", "csv", "parquet", "chat"):
            raise BadInput(f"unknown export format '{fmt}': choose jsonl, csv, parquet or chat")
        return fmt
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise BadInput("cannot tell the format from the extension: use .jsonl, .csv or .parquet "
                       "(or `format`)", file=str(out))
    return fmt


def _write_jsonl(cat: CatalogStore, dataset_id: int, out, mapping: FieldMapping, chat: bool,
                 include_removed: bool, redactor=None) -> tuple[list[int], list[str]]:
    status = "" if include_removed else "AND status = 'active'"
    cur = cat.con.execute(
        f"SELECT record_id, content_hash, fields FROM records WHERE dataset_id = ? {status} ORDER BY record_id",
        [dataset_id],
    )
    ids: list[int] = []
    hashes: list[str] = []
    while True:
        rows = cur.fetchmany(_CHUNK)
        if not rows:
            break
        lines = []
        if redactor is not None:
            redacted = redactor.rows([json.loads(fields) for _, _, fields in rows])
        for n, (record_id, chash, fields) in enumerate(rows):
            ids.append(record_id)
            hashes.append(chash)
            data = redacted[n] if redactor is not None else None
            if chat:
                lines.append(json.dumps({"messages": chat_messages(data or json.loads(fields), mapping)},
                                        ensure_ascii=False))
            else:
                lines.append(fields if data is None else json.dumps(data, ensure_ascii=False))
        out.write("\n".join(lines) + "\n")
    return ids, hashes


def sidecar_path(out: Path) -> Path:
    return Path(str(out) + ".meta.json")


def check_export_target(cat: CatalogStore, out: str | os.PathLike, *, fmt: str | None = None, sidecar: bool = True,
                        force: bool = False) -> tuple[Path, str]:
    """Check an export target before anything is written; return (path, format)."""
    out = Path(out)
    fmt = _target_format(out, fmt)
    check_output(out, catalog_dir=cat.directory, force=force)
    if sidecar:
        check_output(sidecar_path(out), catalog_dir=cat.directory, force=force, option="the metadata sidecar")
    return out, fmt


@dataclass
class StagedExport:
    """An export written under temporary names beside its targets: :meth:`commit` moves the files into
    place, :meth:`discard` removes them. Lets a caller write an export inside a transaction and
    publish it only after the commit."""

    summary: ExportResult | None
    moves: list[tuple[Path, Path]]

    def commit(self) -> ExportResult:
        for tmp, final in self.moves:
            try:
                os.replace(tmp, final)
            except OSError as exc:
                self.discard()
                raise SynthcatError(f"cannot write {final}: {exc.strerror or exc}") from None
        self.moves = []
        assert self.summary is not None
        return self.summary

    def discard(self) -> None:
        for tmp, _ in self.moves:
            tmp.unlink(missing_ok=True)
        self.moves = []


def stage_export(cat: CatalogStore, name: str, out: Path, fmt: str, *, include_removed: bool = False,
                 sidecar: bool = True, redact_pii: bool = False) -> StagedExport:
    """Write dataset ``name`` as ``fmt`` to temporary files beside ``out`` (and its sidecar).

    Call after :func:`check_export_target`; nothing is written to ``out`` itself until commit.
    """
    ds = cat.dataset(name)
    if fmt == "chat" and ds.kind not in ("pairs", "conversations"):
        raise BadInput(f"format chat needs pairs or conversations; '{name}' holds {ds.kind}", param="format")
    staged = StagedExport(summary=None, moves=[])
    try:
        data_tmp = temp_beside(out)
        staged.moves.append((data_tmp, out))
        redactor = None
        if redact_pii:
            from catalog.pii_guard import Redactor

            redactor = Redactor(cat)
        record_ids, hashes = _write_data(cat, ds, data_tmp, fmt, include_removed, redactor)
        rows = ds.row_count if ds.kind == "table" else len(record_ids)
        meta_path = None
        if sidecar:
            meta_path = sidecar_path(out)
            meta_tmp = temp_beside(meta_path)
            staged.moves.append((meta_tmp, meta_path))
            meta = dataset_metadata(cat, name)
            meta.update({"file": out.name, "format": fmt, "rows": rows,
                         "pii": redactor.summary() if redactor is not None else {"redacted": False},
                         "records": [{"record_id": r, "content_hash": h} for r, h in zip(record_ids, hashes)]})
            _write_text(meta_tmp, json.dumps(meta, indent=1, ensure_ascii=False, default=str))
    except BaseException:
        staged.discard()
        raise
    staged.summary = ExportResult(dataset=name, out=str(out), format=fmt, rows=rows, origin=ds.origin,
                                  sidecar=str(meta_path) if meta_path else None)
    return staged


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SynthcatError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_data(cat: CatalogStore, ds, path: Path, fmt: str, include_removed: bool,
                redactor=None) -> tuple[list[int], list[str]]:
    """Write the rows of ``ds`` to ``path``; return the exported record ids and content hashes."""
    if ds.kind == "table":
        options = {"jsonl": "(FORMAT json)", "csv": "(FORMAT csv, HEADER true)", "parquet": "(FORMAT parquet)"}
        source = ds.table_name
        if redactor is not None:
            source = "_redacted_table"
            cat.con.register(source, _redacted_table(cat, ds.table_name, redactor))
        try:
            select = _table_select(cat, source, finite_only=fmt == "jsonl")
            cat.con.execute(f"COPY ({select}) TO '{_sql_path(path)}' {options[fmt]}")
        finally:
            if redactor is not None:
                cat.con.unregister(source)
        return [], []
    mapping = FieldMapping.from_dict(ds.parameters.get("mapping", {"kind": ds.kind}))
    if fmt in ("jsonl", "chat"):
        try:
            with open(path, "w", encoding="utf-8") as fh:
                return _write_jsonl(cat, ds.dataset_id, fh, mapping, fmt == "chat", include_removed, redactor)
        except OSError as exc:
            raise SynthcatError(f"cannot write {path}: {exc.strerror or exc}") from None
    staging = temp_beside(path)
    try:
        with open(staging, "w", encoding="utf-8") as fh:
            ids, hashes = _write_jsonl(cat, ds.dataset_id, fh, mapping, False, include_removed, redactor)
        if ids:
            option = "(FORMAT csv, HEADER true)" if fmt == "csv" else "(FORMAT parquet)"
            cat.con.execute(f"COPY (SELECT * FROM read_json('{_sql_path(staging)}', format = 'newline_delimited')) "
                            f"TO '{_sql_path(path)}' {option}")
        return ids, hashes
    finally:
        staging.unlink(missing_ok=True)


def export_dataset(cat: CatalogStore, name: str, out: str | os.PathLike, *, fmt: str | None = None,
                   include_removed: bool = False, sidecar: bool = True, force: bool = False,
                   redact_pii: bool = False) -> ExportResult:
    """Write dataset ``name`` to ``out``; return a summary (rows, format, paths).

    The target may not lie inside the catalog directory, and an existing file (or sidecar) is
    replaced only with ``force``. Files are written under temporary names and renamed on success.
    """
    ds = cat.dataset(name)
    out, fmt = check_export_target(cat, out, fmt=fmt, sidecar=sidecar, force=force)
    if fmt == "chat" and ds.kind == "table":
        raise BadInput(f"format chat needs pairs or conversations; '{name}' is a table", param="format")
    return stage_export(cat, name, out, fmt, include_removed=include_removed, sidecar=sidecar,
                        redact_pii=redact_pii).commit()


def _redacted_table(cat: CatalogStore, table_name: str, redactor):
    """The table as a DataFrame with personal data in its text columns replaced by placeholders."""
    frame = cat.con.execute(f'SELECT * FROM "{table_name}"').df()
    text_columns = [c for c, t, *_ in cat.con.execute(f'DESCRIBE "{table_name}"').fetchall() if t == "VARCHAR"]
    if text_columns and len(frame):
        rows = [{c: v for c, v in zip(text_columns, values) if isinstance(v, str)}
                for values in frame[text_columns].itertuples(index=False, name=None)]
        for i, (before, after) in enumerate(zip(rows, redactor.rows(rows))):
            if after is not before:
                for column, value in after.items():
                    frame.at[frame.index[i], column] = value
    return frame


def _table_select(cat: CatalogStore, table_name: str, *, finite_only: bool) -> str:
    """SELECT of a typed table; for JSON, non-finite floats become null (JSON has no NaN or Infinity)."""
    if not finite_only:
        return f'SELECT * FROM "{table_name}"'
    columns = []
    for column, column_type, *_ in cat.con.execute(f'DESCRIBE "{table_name}"').fetchall():
        quoted = '"' + column.replace('"', '""') + '"'
        if column_type in ("FLOAT", "DOUBLE"):
            columns.append(f"CASE WHEN isfinite({quoted}) THEN {quoted} END AS {quoted}")
        else:
            columns.append(quoted)
    return f'SELECT {", ".join(columns)} FROM "{table_name}"'


def dataset_metadata(cat: CatalogStore, name: str) -> dict:
    ds = cat.dataset(name)
    meta = ds.to_dict()
    if ds.kind != "table":
        lineage = cat.con.execute(
            "SELECT l.relation, sd.name, count(*) FROM lineage l JOIN records r ON r.record_id = l.record_id "
            "JOIN records s ON s.record_id = l.source_record_id JOIN datasets sd ON sd.dataset_id = s.dataset_id "
            "WHERE r.dataset_id = ? GROUP BY ALL ORDER BY 1, 2", [ds.dataset_id]).fetchall()
        meta["lineage"] = [{"relation": rel, "source_dataset": src, "links": n} for rel, src, n in lineage]
    return meta


def _sql_path(path: Path) -> str:
    """A path as the inside of an SQL string literal (COPY takes no parameters)."""
    return str(path).replace("'", "''")
