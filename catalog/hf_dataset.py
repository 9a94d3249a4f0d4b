"""Hugging Face ``datasets`` export and import: Parquet shards under ``data/`` and a ``README.md`` card.

``export_hf`` writes a directory that ``datasets.load_dataset("parquet", data_dir=DIR)`` (or
``load_dataset(DIR)``) loads as one ``train`` split; ``import_hf`` reads such a directory back into a
catalog with the same rows, fields, ids, kind and origin.

Text-like records become one row each: the fields the record was imported with, as typed Parquet
columns, plus ``catalog_record_id`` and ``catalog_external_id``. A field is typed only where that is
lossless: every record's value must come back from Arrow as exactly the same Python value (a
``bool`` stays a ``bool``, an ``int`` an ``int``, a list of ``{role, content}`` messages a list of
structs). A field whose values do not fit one Arrow type (ints beside floats, messages with extra
keys in some rows, numbers past int64) is written as JSON text of each value. Parquet has no
"absent", so a field that some records lack is marked in the card (``optional``, or ``json``
when some records also hold an explicit null) and the importer drops those nulls again. Tables
are written by DuckDB with their own column types.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.errors import BadInput, SynthcatError
from catalog.hf_card import CARD_FILE, LANGUAGE_TAG, LICENSE_TAG, CardContext, ColumnSpec, read_card, render_card
from catalog.outputs import _inside
from catalog.results import HfExportResult, ImportResult, Record
from catalog.store import CatalogStore, validate_dataset_name

SHARD_ROWS = 100_000  # records per Parquet file
CHUNK = 10_000  # records converted to Arrow at a time
RECORD_ID = "catalog_record_id"
EXTERNAL_ID = "catalog_external_id"
_MISSING = object()


# ------------------------------------------------------------------------------ column planning


def same_value(a: Any, b: Any) -> bool:
    """``a == b`` with types compared too (``True`` is not ``1``, ``1`` is not ``1.0``), walking lists
    and dicts: what a lossless round trip through Arrow must give back."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b


@dataclass
class _Column:
    """What one pass over the records learned about a field."""

    name: str
    type: Any = None  # pyarrow.DataType once a non-null value was seen
    json: bool = False
    missing: bool = False  # some record lacks the field
    nulls: bool = False  # some record holds an explicit null

    @property
    def encoding(self) -> str:
        if self.json:
            return "json"
        return "optional" if self.missing else "typed"


def _inspect_chunk(columns: dict[str, _Column], rows: list[dict], seen: int) -> None:
    """Learn from ``rows`` (after ``seen`` earlier records): new columns, absent and null values,
    and whether each column's values make one Arrow type that gives them back exactly."""
    import pyarrow as pa

    for row in rows:
        for key in row:
            if key not in columns:
                columns[key] = _Column(key, missing=seen > 0)  # every earlier record lacked it
    for column in columns.values():
        values = [row.get(column.name, _MISSING) for row in rows]
        plain = [None if v is _MISSING else v for v in values]
        column.missing |= any(v is _MISSING for v in values)
        column.nulls |= any(v is None for v in values)
        if column.json:
            continue
        try:
            array = pa.array(plain)
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            column.json = True
            continue
        if not same_value(array.to_pylist(), plain):
            column.json = True
        elif pa.types.is_null(array.type):
            pass
        elif column.type is None:
            column.type = array.type
        elif column.type != array.type:
            column.json = True


def plan_columns(records: Iterable[Record], redactor=None) -> tuple[list[_Column], int]:
    """One pass over ``records`` (their fields as ``redactor`` leaves them, if given): the columns
    (in first-seen order) with their Arrow type and encoding, and how many records there are."""
    columns: dict[str, _Column] = {}
    count = 0
    for chunk in _chunks(records, CHUNK):
        fields = [r.fields for r in chunk]
        _inspect_chunk(columns, redactor.rows(fields) if redactor is not None else fields, count)
        count += len(chunk)
    for column in columns.values():
        if column.type is None or (column.missing and column.nulls):
            column.json = True  # only nulls seen, or absent and null must stay apart
    for reserved in (RECORD_ID, EXTERNAL_ID):
        if reserved in columns:
            raise BadInput(f"the records have a field named '{reserved}', which the export uses for the catalog's "
                           "ids; rename that field first", field=reserved)
    return list(columns.values()), count


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _arrow_schema(columns: list[_Column]):
    import pyarrow as pa

    fields = [pa.field(RECORD_ID, pa.int64(), nullable=False), pa.field(EXTERNAL_ID, pa.string())]
    fields += [pa.field(c.name, pa.string() if c.json else c.type) for c in columns]
    return pa.schema(fields)


def _record_table(chunk: list[Record], fields: list[dict], columns: list[_Column], schema):
    import orjson
    import pyarrow as pa

    arrays = [pa.array([r.record_id for r in chunk], pa.int64()), pa.array([r.external_id for r in chunk], pa.string())]
    for column, field in zip(columns, list(schema)[2:]):
        values = [row.get(column.name, _MISSING) for row in fields]
        if column.json:
            arrays.append(pa.array([None if v is _MISSING else orjson.dumps(v).decode() for v in values], pa.string()))
        else:
            arrays.append(pa.array([None if v is _MISSING else v for v in values], field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


# ----------------------------------------------------------------------------------- export


def _is_previous_export(directory: Path) -> bool:
    """Does ``directory`` hold only a synthcat HF export (a card with a synthcat block and Parquet
    files under data/)? Only such a directory is replaced with ``force``."""
    entries = {p.name for p in directory.iterdir()}
    if not entries <= {CARD_FILE, "data"} or CARD_FILE not in entries:
        return False
    try:
        if "synthcat" not in read_card(directory):
            return False
    except BadInput:
        return False
    data = directory / "data"
    return not data.exists() or (data.is_dir() and all(p.is_file() and p.suffix == ".parquet"
                                                       for p in data.iterdir()))


def check_hf_target(cat: CatalogStore, out: str | os.PathLike, *, force: bool = False) -> Path:
    """Check an export directory before anything is written: outside the catalog, its parent
    writable; an existing non-empty directory only with ``force`` and only if it holds an earlier
    synthcat export (nothing else is ever deleted)."""
    out = Path(out)
    shown = str(out)
    if _inside(out, cat.directory):
        raise BadInput(f"`out` points inside the catalog directory {cat.directory}: choose a path outside it",
                       file=shown)
    if out.exists() and not out.is_dir():
        raise BadInput("`out` is a file; a Hugging Face export is a directory", file=shown)
    parent = out.absolute().parent
    if not parent.is_dir():
        raise BadInput("the directory that would hold `out` does not exist: create it first", file=str(parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadInput("cannot write `out` there: permission denied", file=shown)
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise BadInput("`out` exists and is not empty: pass `force` to replace an earlier export there, or "
                           "choose another directory", file=shown)
        if not _is_previous_export(out):
            raise BadInput("`out` holds files that are not a synthcat export; not replacing them, even with "
                           "`force`", file=shown)
    return out


def _shard_names(total: int, shard_rows: int) -> list[str]:
    count = max(1, math.ceil(total / shard_rows))
    return [f"train-{i:05d}-of-{count:05d}.parquet" for i in range(count)]


def _redactor(cat, redact_pii: bool):
    if not redact_pii:
        return None
    from catalog.pii_guard import Redactor

    return Redactor(cat)


def _write_records(cat, name: str, data: Path, include_removed: bool, shard_rows: int,
                   redact_pii: bool) -> tuple[list[ColumnSpec], list[str], int, dict | None]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns, total = plan_columns(cat.records(name, include_removed=include_removed), _redactor(cat, redact_pii))
    redactor = _redactor(cat, redact_pii)  # a fresh one: it counts what the written rows had
    schema = _arrow_schema(columns)
    shards = _shard_names(total, shard_rows)
    records = cat.records(name, include_removed=include_removed)
    for index, shard in enumerate(shards):
        with pq.ParquetWriter(data / shard, schema) as writer:
            remaining = min(shard_rows, total - index * shard_rows)
            if remaining <= 0:
                writer.write_table(schema.empty_table())
            while remaining > 0:
                chunk = [r for _, r in zip(range(min(CHUNK, remaining)), records)]
                if not chunk:
                    break
                fields = [r.fields for r in chunk]
                fields = redactor.rows(fields) if redactor is not None else fields
                writer.write_table(_record_table(chunk, fields, columns, schema))
                remaining -= len(chunk)
    specs = [ColumnSpec(RECORD_ID, str(pa.int64()), role="record_id"),
             ColumnSpec(EXTERNAL_ID, str(pa.string()), role="external_id")]
    specs += [ColumnSpec(c.name, str(pa.string() if c.json else c.type), encoding=c.encoding) for c in columns]
    return specs, shards, total, redactor.summary() if redactor is not None else None


def _write_table(cat, name: str, data: Path, shard_rows: int,
                 redact_pii: bool) -> tuple[list[ColumnSpec], list[str], int, dict | None]:
    import pyarrow.parquet as pq

    ds = cat.dataset(name)
    table = '"' + str(ds.table_name).replace('"', '""') + '"'
    order = "ORDER BY rowid"
    redactor = _redactor(cat, redact_pii)
    if redactor is not None:  # the export's own redaction of text columns (through pandas, as there)
        from catalog.exporter import _redacted_table

        table, order = "_hf_redacted", ""
        cat.con.register(table, _redacted_table(cat, ds.table_name, redactor))
    try:
        total = int(cat.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        shards = _shard_names(total, shard_rows)
        for index, shard in enumerate(shards):
            target = str(data / shard).replace("'", "''")
            cat.con.execute(f"COPY (SELECT * FROM {table} {order} LIMIT {int(shard_rows)} "
                            f"OFFSET {index * int(shard_rows)}) TO '{target}' (FORMAT parquet)")
    finally:
        if redactor is not None:
            cat.con.unregister(table)
    schema = pq.read_schema(data / shards[0])
    return ([ColumnSpec(f.name, str(f.type)) for f in schema], shards, total,
            redactor.summary() if redactor is not None else None)


def export_hf(cat, name: str, out: str | os.PathLike, *, include_removed: bool = False, license: str | None = None,
              language: Sequence[str] = (), force: bool = False, shard_rows: int = SHARD_ROWS,
              redact_pii: bool = False) -> HfExportResult:
    """Write dataset ``name`` as a Hugging Face dataset directory ``out``: Parquet shards under
    ``data/`` and a ``README.md`` card (``license`` and ``language`` go into its metadata).
    ``redact_pii`` replaces personal data with placeholders in the written rows (as for other
    exports; the card says what was replaced).

    Written under a temporary name beside ``out`` and renamed into place, so a failure leaves no
    half export; an earlier export in ``out`` is replaced only with ``force``.
    """
    if isinstance(shard_rows, bool) or not isinstance(shard_rows, int) or shard_rows < 1:
        raise BadInput(f"must be a whole number >= 1, got {shard_rows!r}", param="shard_rows")
    languages = [language] if isinstance(language, str) else list(language)
    for value, param in ((license, "license"), *((lang, "language") for lang in languages)):
        if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}", value):
            raise BadInput(f"{value!r} is not an identifier such as 'cc-by-4.0' or 'en'", param=param)
    ds = cat.dataset(name)
    out = check_hf_target(cat, out, force=force)
    staging = Path(tempfile.mkdtemp(dir=out.absolute().parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        data = staging / "data"
        data.mkdir()
        if ds.kind == "table":
            columns, shards, rows, pii = _write_table(cat, name, data, shard_rows, redact_pii)
        else:
            columns, shards, rows, pii = _write_records(cat, name, data, include_removed, shard_rows, redact_pii)
        from catalog.dedup_runs import list_runs
        from catalog.reading import dataset_info

        info = dataset_info(cat, name, sample=0)
        runs = [r for r in list_runs(cat) if name in r.datasets or name in r.against
                or r.run_id == ds.parameters.get("dedup_run")]
        card = render_card(CardContext(info=info, dedup_runs=runs, rows=rows, shards=shards, columns=columns,
                                       license=license, languages=languages, pii_redaction=pii))
        (staging / CARD_FILE).write_text(card, encoding="utf-8")
        _publish(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise SynthcatError(f"cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return HfExportResult(dataset=name, out=str(out), format="hf", rows=rows, origin=ds.origin,
                          shards=[f"data/{s}" for s in shards], card=str(out / CARD_FILE))


def _publish(staging: Path, out: Path) -> None:
    """Move the finished export into place; an earlier export there (checked) is removed after."""
    old = None
    if out.exists():
        if any(out.iterdir()):
            old = out.with_name(f".{out.name}.old-{os.getpid()}-{time.time_ns()}")
            out.rename(old)
        else:
            out.rmdir()
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------------- import

_SHARD = re.compile(r"^(?P<split>[A-Za-z0-9_.]+?)-\d{5}-of-\d{5}\.parquet$")
_SPLITS = ("train", "test", "validation", "valid", "dev")


def _split_of(path: Path) -> str:
    match = _SHARD.match(path.name)
    if match:
        return match.group("split")
    if path.stem in _SPLITS:
        return path.stem
    return path.parent.name if path.parent.name in _SPLITS else "train"


def dataset_files(directory: Path) -> list[Path]:
    """The Parquet files of a Hugging Face dataset directory (under ``data/``, else at its top), all
    of one split."""
    data = directory / "data"
    files = sorted(data.rglob("*.parquet")) if data.is_dir() else []
    files = files or sorted(directory.glob("*.parquet"))
    if not files:
        raise BadInput("no Parquet files under data/ or at the top: not a Hugging Face dataset directory",
                       file=str(directory))
    splits = sorted({_split_of(f) for f in files})
    if len(splits) > 1:
        raise BadInput(f"holds the splits {', '.join(splits)}; one directory is imported as one dataset: move the "
                       "other splits' files out first", file=str(directory))
    return files


@dataclass
class _Decoding:
    """How the columns of a synthcat export turn back into a record's fields."""

    json: set[str]
    optional: set[str]
    drop: set[str]

    @classmethod
    def from_block(cls, block: dict) -> _Decoding:
        columns = block.get("columns") or []
        return cls(json={c["name"] for c in columns if c.get("encoding") == "json"},
                   optional={c["name"] for c in columns if c.get("encoding") == "optional"},
                   drop={c["name"] for c in columns if c.get("role") in ("record_id", "external_id")})

    def row(self, row: dict, line: int, source: str) -> dict:
        import orjson

        out = {}
        for key, value in row.items():
            if key in self.drop or (value is None and (key in self.json or key in self.optional)):
                continue
            if key in self.json:
                try:
                    value = orjson.loads(value)
                except (orjson.JSONDecodeError, TypeError):
                    raise BadInput(f"column '{key}' should hold JSON text", file=source, line=line, field=key) \
                        from None
            out[key] = value
        return out


def _text_rows(files: list[Path], decoding: _Decoding) -> Iterator[dict]:
    import pyarrow.parquet as pq

    line = 0
    for path in files:
        try:
            parquet = pq.ParquetFile(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
            raise BadInput(f"cannot read as Parquet: {exc}", file=str(path)) from None
        for batch in parquet.iter_batches(batch_size=CHUNK):
            for row in batch.to_pylist():
                line += 1
                yield decoding.row(row, line, str(path))


def _card_tags(meta: dict, block: dict) -> list[str]:
    """The dataset's tags from a card: the exporting dataset's own (a synthcat card) or the card's
    tags, plus its license and languages as ``license:``/``language:`` tags."""
    if block:
        tags = [str(t) for t in block.get("tags") or []]
    else:
        tags = [str(t) for t in meta.get("tags") or [] if t not in ("synthcat", "real", "synthetic")]
    license_ = meta.get("license")
    languages = meta.get("language") or []
    for value in ([license_] if isinstance(license_, str) else license_ or []):
        tags.append(LICENSE_TAG + str(value))
    for value in [languages] if isinstance(languages, str) else languages:
        tags.append(LANGUAGE_TAG + str(value))
    return tags


def import_hf(cat, directory: str | os.PathLike, dataset: str, *, origin: str | None = None, kind: str | None = None,
              text_fields: list[str] | None = None, prompt_field: str | None = None,
              response_field: str | None = None, messages_field: str | None = None, id_field: str | None = None,
              quality_field: str | None = None, description: str | None = None, tags: Sequence[str] = (),
              embed: bool = True, embedder: str | None = None, skip_bad: str | os.PathLike | None = None,
              force: bool = False, pii: str = "warn", progress=None) -> ImportResult:
    """Import a Hugging Face dataset directory (Parquet shards, optional ``README.md`` card) as
    dataset ``dataset``, in one transaction.

    A card written by :func:`export_hf` gives the kind, field mapping, origin, provenance, description
    and tags, and says how to decode its columns, so the records come back with the fields and
    external ids they were exported with. Options given here override the card; ``origin`` may not
    contradict it. Without a synthcat card, the files are a table unless a text option or ``kind``
    says otherwise, as for a single Parquet file. ``pii`` is the PII guard's mode, as for any import.
    """
    from catalog.pii_guard import check_mode

    check_mode(pii)
    directory = Path(directory)
    if not directory.is_dir():
        raise BadInput("not a directory", file=str(directory))
    validate_dataset_name(dataset)
    cat.require_new_name(dataset)
    files = dataset_files(directory)
    meta = read_card(directory)
    block = meta.get("synthcat") or {}
    card_origin = block.get("origin")
    if card_origin is not None and card_origin not in ("real", "synthetic"):
        raise BadInput(f"the card's origin {card_origin!r} is neither real nor synthetic",
                       file=str(directory / CARD_FILE))
    if origin is not None and origin not in ("real", "synthetic"):
        raise BadInput(f"unknown origin '{origin}': choose 'real' or 'synthetic'", param="origin")
    if origin is not None and card_origin is not None and origin != card_origin:
        raise BadInput(f"the dataset card says these rows are {card_origin}; importing them as {origin} would "
                       "mislabel them", param="origin")
    origin = origin or card_origin or "real"
    if description is None:
        description = block.get("description") if block else meta.get("pretty_name")
    all_tags = list(dict.fromkeys([*tags, *_card_tags(meta, block)]))
    mapping = dict(block.get("mapping") or {})
    text_options = any((text_fields, prompt_field, response_field, messages_field))
    kind = kind or (None if text_options else block.get("kind")) or (None if text_options else "table")
    # the exporting catalog's parameters, parents and run ids mean nothing here: kept apart, as a record
    parameters = {"imported_from": {"dataset": block.get("dataset"), "parents": block.get("parents") or [],
                                    "created_at": block.get("created_at"),
                                    "parameters": block.get("parameters") or {}}} if block else {}
    provenance: dict[str, Any] = {"generator": block.get("generator"), "parameters": parameters,
                                  "model": block.get("model"), "seed": block.get("seed")}
    if kind == "table":
        for value, param in ((id_field, "id_field"), (quality_field, "quality_field"), (skip_bad, "skip_bad")):
            if value:
                raise BadInput(f"`{param}` applies to text records; '{directory.name}' is imported as a table",
                               param=param)
        return _import_table(cat, files, dataset, origin=origin, description=description, tags=all_tags,
                             source=str(directory), pii=pii, **provenance)
    from catalog.importer import import_records
    from catalog.readers import object_chunks

    same_kind = kind == mapping.get("kind")
    options: dict[str, Any] = dict(
        text_fields=text_fields or (mapping.get("text_fields") if same_kind else None),
        prompt_field=prompt_field or (mapping.get("prompt_field") if same_kind else None),
        response_field=response_field or (mapping.get("response_field") if same_kind else None),
        messages_field=messages_field or (mapping.get("messages_field") if same_kind else None),
        id_field=id_field or mapping.get("id_field"), quality_field=quality_field or mapping.get("quality_field"))
    rows = _text_rows(files, _Decoding.from_block(block))
    chunks = object_chunks(rows, CHUNK, lambda i, row: "not an object")
    return import_records(cat, dataset, chunks, source=str(directory), origin=origin, kind=kind,
                          description=description, tags=all_tags, embed=embed, embedder=embedder,
                          skip_bad=skip_bad, force=force, pii=pii, progress=progress, **options, **provenance)


def _import_table(cat, files: list[Path], dataset: str, *, origin: str, description: str | None, tags: list[str],
                  source: str, generator: str | None, parameters: dict, model: str | None,
                  seed: int | None, pii: str) -> ImportResult:
    import duckdb

    from catalog.pii_guard import guard_table

    started = time.perf_counter()
    with cat.transaction():
        ds = cat.create_dataset(dataset, kind="table", origin=origin, description=description, tags=tags,
                                generator=generator, parameters=parameters, model=model, seed=seed, source=source)
        try:
            cat.con.execute(f'CREATE TABLE "{ds.table_name}" AS SELECT * FROM read_parquet(?, union_by_name = true)',
                            [[str(f) for f in files]])
        except duckdb.Error as exc:
            raise BadInput(f"cannot read as a table: {str(exc).strip().splitlines()[0]}", file=source) from None
        rows = int(cat.con.execute(f'SELECT count(*) FROM "{ds.table_name}"').fetchone()[0])
        if rows == 0:
            raise BadInput("no rows to import", file=source)
        cat.update_dataset(dataset, row_count=rows)
        found = guard_table(cat, cat.dataset(dataset), pii, source=source)
    return ImportResult(dataset=dataset, kind="table", origin=origin, rows=rows,
                        seconds=round(time.perf_counter() - started, 3), pii=found)

