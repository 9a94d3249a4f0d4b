"""Export a dataset to JSONL, CSV or Parquet (by extension), or chat-message JSONL, with a sidecar.

The sidecar ``FILE.meta.json`` says what the file holds: dataset metadata, origin (real or
synthetic), parent datasets, lineage counts and each exported record's id and content hash.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from catalog.errors import BadInput
from catalog.record_mapping import FieldMapping, chat_messages
from catalog.store import Catalog

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
                       "(or --format)", file=str(out))
    return fmt


def _write_jsonl(cat: Catalog, dataset_id: int, out, mapping: FieldMapping, chat: bool,
                 include_removed: bool) -> tuple[list[int], list[str]]:
    status = "" if include_removed else "AND status = 'active'"
    # Generated records carry their quality score (and an LLM judge's rationale) as fields of their own.
    cur = cat.con.execute(
        f"SELECT r.record_id, r.content_hash, r.fields, r.quality_score, p.record_id IS NOT NULL, p.judge_rationale "
        f"FROM records r LEFT JOIN generation_provenance p USING (record_id) WHERE r.dataset_id = ? {status} "
        "ORDER BY r.record_id",
        [dataset_id],
    )
    ids: list[int] = []
    hashes: list[str] = []
    while True:
        rows = cur.fetchmany(_CHUNK)
        if not rows:
            break
        lines = []
        for record_id, chash, fields, quality, generated, rationale in rows:
            ids.append(record_id)
            hashes.append(chash)
            if chat:
                lines.append(json.dumps({"messages": chat_messages(json.loads(fields), mapping)},
                                        ensure_ascii=False))
            elif generated and quality is not None:
                row = json.loads(fields)
                row.setdefault("quality", quality)
                if rationale:
                    row.setdefault("quality_rationale", rationale)
                lines.append(json.dumps(row, ensure_ascii=False))
            else:
                lines.append(fields)
        out.write("\n".join(lines) + "\n")
    return ids, hashes


def export_dataset(cat: Catalog, name: str, out: str | os.PathLike, *, fmt: str | None = None,
                   include_removed: bool = False, sidecar: bool = True) -> dict:
    """Write dataset ``name`` to ``out``; return a summary (rows, format, paths)."""
    ds = cat.dataset(name)
    out = Path(out)
    fmt = _target_format(out, fmt)
    if out.parent and not out.parent.exists():
        raise BadInput("the output directory does not exist", file=str(out.parent))
    record_ids: list[int] = []
    hashes: list[str] = []
    if ds.kind == "table":
        if fmt == "chat":
            raise BadInput(f"--format chat needs pairs or conversations; '{name}' is a table")
        options = {"jsonl": "(FORMAT json)", "csv": "(FORMAT csv, HEADER true)", "parquet": "(FORMAT parquet)"}
        cat.con.execute(f"COPY (SELECT * FROM \"{ds.table_name}\") TO '{_sql_path(out)}' {options[fmt]}")
        rows = ds.row_count
    else:
        mapping = FieldMapping.from_dict(ds.parameters.get("mapping", {"kind": ds.kind}))
        if fmt == "chat" and ds.kind not in ("pairs", "conversations"):
            raise BadInput(f"--format chat needs pairs or conversations; '{name}' holds {ds.kind}")
        if fmt in ("jsonl", "chat"):
            with _atomic_text(out) as fh:
                record_ids, hashes = _write_jsonl(cat, ds.dataset_id, fh, mapping, fmt == "chat",
                                                  include_removed)
        else:
            fd, tmp = tempfile.mkstemp(suffix=".jsonl")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    record_ids, hashes = _write_jsonl(cat, ds.dataset_id, fh, mapping, False, include_removed)
                if record_ids:
                    option = "(FORMAT csv, HEADER true)" if fmt == "csv" else "(FORMAT parquet)"
                    cat.con.execute(
                        f"COPY (SELECT * FROM read_json('{_sql_path(Path(tmp))}', format = 'newline_delimited')) "
                        f"TO '{_sql_path(out)}' {option}")
                else:
                    out.write_text("")
            finally:
                os.unlink(tmp)
        rows = len(record_ids)
    meta_path = None
    if sidecar:
        meta_path = Path(str(out) + ".meta.json")
        meta = dataset_metadata(cat, name)
        meta.update({"file": out.name, "format": fmt, "rows": rows,
                     "records": [{"record_id": r, "content_hash": h} for r, h in zip(record_ids, hashes)]})
        meta_path.write_text(json.dumps(meta, indent=1, ensure_ascii=False, default=str))
    return {"dataset": name, "out": str(out), "format": fmt, "rows": rows, "origin": ds.origin,
            "sidecar": str(meta_path) if meta_path else None}


def dataset_metadata(cat: Catalog, name: str) -> dict:
    ds = cat.dataset(name)
    meta = ds.to_dict()
    if ds.kind != "table":
        lineage = cat.con.execute(
            "SELECT l.relation, sd.name, count(*) FROM lineage l JOIN records r ON r.record_id = l.record_id "
            "JOIN records s ON s.record_id = l.source_record_id JOIN datasets sd ON sd.dataset_id = s.dataset_id "
            "WHERE r.dataset_id = ? GROUP BY ALL ORDER BY 1, 2", [ds.dataset_id]).fetchall()
        meta["lineage"] = [{"relation": rel, "source_dataset": src, "links": n} for rel, src, n in lineage]
    return meta


class _atomic_text:
    """Write a text file under a temporary name and move it into place on success."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        self.fh = os.fdopen(fd, "w", encoding="utf-8")
        return self.fh

    def __exit__(self, exc_type, *exc) -> None:
        self.fh.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)


def _sql_path(path: Path) -> str:
    """A path as the inside of an SQL string literal (COPY takes no parameters)."""
    return str(path).replace("'", "''")
