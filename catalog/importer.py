"""Import files and in-memory rows as datasets, in one transaction.

Text-like records (text, pairs, conversations) stream through in chunks; tables go to DuckDB's
own typed readers. A bad row aborts the import with file, line and field, leaving the catalog as it
was, unless the caller asked to skip bad rows into a rejects file.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from catalog.embedders import get_embedder
from catalog.embedding_store import embed_missing
from catalog.errors import BadInput, SynthcatError
from catalog.json_values import NotStorable, stored_json
from catalog.jsonl_bulk import bulk_import_jsonl, bulk_supported
from catalog.pii_guard import check_mode as check_pii_mode
from catalog.pii_guard import guard_records, guard_table
from catalog.progress import NullProgress, Progress
from catalog.readers import SourceRow, check_readable, detect_format, iter_rows, object_chunks
from catalog.record_mapping import (
    FieldError,
    FieldMapping,
    infer_mapping,
    row_external_id,
    row_quality,
    text_extractor,
)
from catalog.rejects import RejectsFile
from catalog.results import ImportResult
from catalog.store import TEXT_KINDS, CatalogStore, validate_dataset_name
from catalog.tables import create_table_from_file
from catalog.writer import RecordWriter


class _BackgroundInserts:
    """Inserts chunks on a background thread so DuckDB's work overlaps parsing the next chunk.

    DuckDB releases the GIL while it executes; only this thread touches the connection until
    :meth:`close` returns, so the caller's transaction sees every chunk, in order.
    """

    def __init__(self, writer: RecordWriter) -> None:
        self.writer = writer
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="synthcat-import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            if self.error is None:
                try:
                    texts, fields, ids, quality = batch
                    self.writer.add(texts, fields, external_ids=ids, quality=quality)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller in close()
                    self.error = exc

    def put(self, batch: tuple) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _load_rows(writer: RecordWriter, chunks: Iterable[list[SourceRow]], mapping: FieldMapping,
               source: str, rejects: RejectsFile | None) -> int:
    """Validate and insert rows; return how many were stored."""
    inserts = _BackgroundInserts(writer)
    try:
        stored = _parse_rows(chunks, mapping, source, rejects, inserts)
    except BaseException:
        inserts.error = inserts.error or RuntimeError("import aborted")
        _drain(inserts)
        raise
    inserts.close()
    return stored


def _drain(inserts: _BackgroundInserts) -> None:
    """Stop the inserts after the current one (the caller is rolling back)."""
    inserts.queue.put(None)
    inserts.thread.join()


def _parse_rows(chunks: Iterable[list[SourceRow]], mapping: FieldMapping, source: str,
                rejects: RejectsFile | None, inserts: _BackgroundInserts) -> int:
    seen_ids: dict[str, int] | None = {} if mapping.id_field else None
    extract = text_extractor(mapping)
    id_field = mapping.id_field
    with_quality = mapping.quality_field is not None
    stored = 0
    for chunk in chunks:
        ids: list[str | None] = []
        texts: list[str] = []
        fields: list[str] = []
        quality: list[float | None] = []
        for row in chunk:
            try:
                if row.error is not None:
                    raise FieldError(None, row.error)
                data = row.data
                text = extract(data)
                ext = None
                if seen_ids is not None:
                    ext = data.get(id_field)
                    if type(ext) is not str or not ext:
                        ext = row_external_id(data, mapping)
                    first = seen_ids.get(ext)
                    if first is not None:
                        raise FieldError(mapping.id_field, f"duplicate id {ext!r} (first seen on line {first})")
                score = row_quality(data, mapping) if with_quality else None
                stored_fields = stored_json(data, row.raw)
            except (FieldError, NotStorable) as err:
                field_name = err.field if isinstance(err, FieldError) else None
                reason = err.reason if isinstance(err, FieldError) else str(err)
                if rejects is None:
                    raise BadInput(reason, file=source, line=row.line, field=field_name) from None
                rejects.add(row.line, field_name, reason, row=row.data, raw=row.raw)
                continue
            if seen_ids is not None:
                seen_ids[ext] = row.line
                ids.append(ext)
            if with_quality:
                quality.append(score)
            texts.append(text)
            fields.append(stored_fields)
        if texts:
            inserts.put((texts, fields, ids if seen_ids is not None else None, quality if with_quality else None))
            stored += len(texts)
    return stored


def _peek(chunks: Iterator[list[SourceRow]], source: str) -> tuple[dict, Iterator[list[SourceRow]]]:
    """The first parseable row (to infer the mapping) and the chunks with nothing consumed."""
    seen: list[list[SourceRow]] = []
    for chunk in chunks:
        seen.append(chunk)
        for row in chunk:
            if row.data is not None:
                def replay() -> Iterator[list[SourceRow]]:
                    yield from seen
                    yield from chunks
                return row.data, replay()
    if not seen:
        raise BadInput("no records in file", file=source)
    bad = [row for chunk in seen for row in chunk]
    first = bad[0]
    raise BadInput(f"no valid records: all {len(bad)} rows are bad; the first, line {first.line}: {first.error}",
                   file=source)


def import_records(cat: CatalogStore, dataset: str, chunks: Iterable[list[SourceRow]], *, source: str,
                   origin: str = "real", kind: str | None = None, text_fields: list[str] | None = None,
                   prompt_field: str | None = None, response_field: str | None = None,
                   messages_field: str | None = None, id_field: str | None = None,
                   quality_field: str | None = None, description: str | None = None,
                   tags: Iterable[str] = (), embed: bool = True, embedder: str | None = None,
                   skip_bad: str | os.PathLike | None = None, generator: str | None = None,
                   parameters: dict | None = None, model: str | None = None, seed: int | None = None,
                   parents: Iterable[str] = (), progress: Progress | None = None,
                   bulk_path: Path | None = None, input_path: Path | None = None,
                   force: bool = False, pii: str = "warn") -> ImportResult:
    """Store text-like rows as dataset ``dataset`` in one transaction.

    With ``bulk_path`` (the JSON Lines file the chunks come from), DuckDB reads the file first
    (:mod:`catalog.jsonl_bulk`); the chunks are parsed only if some row needs the row-by-row checks.
    ``skip_bad`` names the rejects file (see :class:`catalog.rejects.RejectsFile`; ``force``
    replaces an existing one; it may never be ``input_path``). ``pii`` is the PII guard's mode
    (:mod:`catalog.pii_guard`): warn, redact, refuse or off.
    """
    progress = progress or NullProgress()
    started = time.perf_counter()
    check_pii_mode(pii)
    validate_dataset_name(dataset)
    cat.require_new_name(dataset)
    rejects = RejectsFile(skip_bad, source=input_path, catalog_dir=cat.directory, force=force) \
        if skip_bad is not None else None
    try:
        first, chunks = _peek(iter(chunks), source)
        mapping = infer_mapping(first, kind=kind, text_fields=text_fields, prompt_field=prompt_field,
                                response_field=response_field, messages_field=messages_field,
                                id_field=id_field, quality_field=quality_field, source=source)
        model_ = get_embedder(embedder) if embed else None
        params = dict(parameters or {}, mapping=mapping.to_dict())
        with cat.transaction():
            ds = cat.create_dataset(dataset, kind=mapping.kind, origin=origin, description=description,
                                    tags=list(tags), generator=generator, parameters=params, model=model,
                                    seed=seed, parents=list(parents),
                                    embedder=model_.id if model_ else None, source=source)
            writer = RecordWriter(cat, ds.dataset_id)
            stored = None
            if bulk_path is not None and bulk_supported(mapping):
                stored = bulk_import_jsonl(writer, bulk_path, mapping, progress.advance)
                if stored is None:
                    progress.start(f"checking {bulk_path.name} row by row", bulk_path.stat().st_size)
            if stored is None:
                stored = _load_rows(writer, chunks, mapping, source, rejects)
            progress.finish()
            if stored == 0:
                detail = f": all {rejects.count} rows were rejected (first: {rejects.examples[0]})" \
                    if rejects and rejects.examples else ""
                raise BadInput(f"no valid records to import{detail}", file=source)
            if pii != "off":
                progress.start("checking for personal data", None)
            found = guard_records(cat, ds, pii, first_id=writer.first_id, source=source, mapping=mapping,
                                  id_field=mapping.id_field)
            embedded = embed_missing(cat, ds.dataset_id, model_, progress, writer=writer) if model_ else 0
            writer.finish(embedder_id=model_.id if model_ else None)
    except BaseException:
        if rejects:
            rejects.discard()
        raise
    if rejects:
        rejects.commit()
    return ImportResult(dataset=dataset, kind=mapping.kind, origin=origin, rows=stored,
                        rejected=rejects.count if rejects else 0, embedded=embedded,
                        seconds=round(time.perf_counter() - started, 3),
                        rejects_file=str(skip_bad) if skip_bad else None,
                        first_errors=rejects.examples if rejects else [], pii=found)


def import_file(cat: CatalogStore, path: str | os.PathLike, dataset: str, *, origin: str = "real",
                kind: str | None = None, fmt: str | None = None, progress: Progress | None = None,
                chunk_size: int = 50_000, **options) -> ImportResult:
    """Import ``path`` as dataset ``dataset``. See :func:`import_records` for the options.

    CSV and Parquet files become typed tables unless a text-like kind or text options are given.
    """
    path = Path(path)
    progress = progress or NullProgress()
    source = str(path)
    check_readable(path)
    fmt = detect_format(path, fmt)
    if origin not in ("real", "synthetic"):
        raise SynthcatError(f"unknown origin '{origin}': choose 'real' or 'synthetic'")
    text_options = any(options.get(k) for k in ("text_fields", "prompt_field", "response_field",
                                                  "messages_field"))
    if kind == "table" or (kind is None and fmt in ("csv", "tsv", "parquet") and not text_options):
        return _import_table(cat, path, fmt, dataset, origin=origin, **options)
    if kind is not None and kind not in TEXT_KINDS:
        raise SynthcatError(f"unknown kind '{kind}': choose text, pairs, conversations or table")
    progress.start(f"importing {path.name}", path.stat().st_size)
    chunks = iter_rows(path, fmt, chunk_size=chunk_size, progress=progress.advance)
    return import_records(cat, dataset, chunks, source=source, origin=origin, kind=kind,
                          progress=progress, bulk_path=path if fmt == "jsonl" else None, input_path=path,
                          **options)


_TEXT_ONLY_OPTIONS = ("quality_field", "embedder")


def _import_table(cat: CatalogStore, path: Path, fmt: str, dataset: str, *, origin: str,
                  description: str | None = None, tags: Iterable[str] = (), id_field: str | None = None,
                  skip_bad: str | os.PathLike | None = None, force: bool = False, pii: str = "warn",
                  **options) -> ImportResult:
    """A CSV/TSV/Parquet (or JSON with kind="table") file as a typed table, in one transaction."""
    for name in _TEXT_ONLY_OPTIONS:
        if options.get(name):
            raise BadInput(f"`{name}` applies to text records; '{path.name}' is imported as a typed table",
                           file=str(path))
    started = time.perf_counter()
    check_pii_mode(pii)
    validate_dataset_name(dataset)
    cat.require_new_name(dataset)
    rejects = RejectsFile(skip_bad, source=path, catalog_dir=cat.directory, force=force) \
        if skip_bad is not None else None
    try:
        with cat.transaction():
            rows = create_table_from_file(cat, path, fmt, dataset, origin=origin, description=description,
                                          tags=tags or (), id_column=id_field, rejects=rejects)
            found = guard_table(cat, cat.dataset(dataset), pii, source=str(path))
    except BaseException:
        if rejects:
            rejects.discard()
        raise
    if rejects:
        rejects.commit()
    return ImportResult(dataset=dataset, kind="table", origin=origin, rows=rows,
                        rejected=rejects.count if rejects else 0,
                        rejects_file=str(skip_bad) if skip_bad else None,
                        first_errors=rejects.examples if rejects else [], pii=found,
                        seconds=round(time.perf_counter() - started, 3))


def add_records(cat: CatalogStore, dataset: str, rows: Iterable[dict], **options) -> ImportResult:
    """Store in-memory dicts as a dataset (same options as :func:`import_records`)."""
    chunks = object_chunks(rows, 10_000, lambda i, row: f"expected a dict, got {type(row).__name__}")
    return import_records(cat, dataset, chunks, source=options.pop("source", "<records>"), **options)
