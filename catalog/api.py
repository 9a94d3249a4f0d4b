"""The catalog as Python users hold it: ``from catalog import Catalog``.

    with Catalog.open("my-catalog", create=True) as cat:
        cat.import_file("pairs.jsonl", "support-seed", id_field="id")
        for hit in cat.search("router keeps restarting", k=5):
            print(hit.dataset, hit.id, hit.score)
        report = cat.dedup("support-seed", into="support-clean")

Every verb of the CLI is a method here with the same names; each returns a small dataclass from
:mod:`catalog.results` whose ``to_dict()`` is what the CLI's ``--json`` prints. Generation and
synthesis live in ``generators`` and take the catalog: ``from generators import generate_text,
synthesize_table``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, overload

from catalog.dedup import defaults as dedup_defaults
from catalog.errors import BadInput, SynthcatError
from catalog.location import DB_FILE, resolve_catalog_dir
from catalog.progress import Progress
from catalog.results import (
    DatasetInfo,
    DatasetLineage,
    DecontaminationReport,
    DedupReport,
    DedupRun,
    DedupRunDetail,
    DeleteResult,
    EmbedResult,
    Evaluation,
    EvaluationSummary,
    ExportResult,
    ImportResult,
    IndexStatus,
    Record,
    RecordLineage,
    SqlResult,
    UndoResult,
)
from catalog.store import CatalogStore

if TYPE_CHECKING:
    import pandas as pd

    from catalog.compute_backend import ComputeBackend
    from catalog.results import DedupClusterPage, RecordPage, RecordRemoval, TablePage
    from catalog.search.api import Hit, Searcher


class Catalog(CatalogStore):
    """An open catalog. Open with :meth:`open` (or make one with :meth:`create`); use as a context
    manager so it is closed. Writing methods run in one transaction each: on error the catalog is
    left as it was. Errors a user can fix raise :class:`catalog.errors.SynthcatError`."""

    @classmethod
    def create(cls, directory: str | os.PathLike, *, exist_ok: bool = False, encrypt: bool = False,
               key: str | None = None) -> Catalog:
        """Make a new, empty catalog in ``directory`` (refused if one is there, unless ``exist_ok``).

        ``encrypt=True`` encrypts everything it keeps on disk under ``key`` (else ``SYNTHCAT_KEY``
        or ``SYNTHCAT_KEY_FILE``); every later open needs the same key. See :mod:`catalog.encryption`.
        """
        path = resolve_catalog_dir(directory)
        if (path / DB_FILE).exists() and not exist_ok:
            raise SynthcatError(f"a catalog already exists at {path}: open it with Catalog.open, or pass "
                                "exist_ok=True")
        return cls.open(path, create=True, encrypt=encrypt, key=key)

    # ------------------------------------------------------------------------------- reading
    def show(self, name: str, *, sample: int = 3) -> DatasetInfo:
        """A dataset with its record counts by status, ``sample`` rows, columns (tables), children,
        lineage, generation jobs and evaluations: what ``synthcat show`` prints."""
        from catalog.reading import dataset_info

        return dataset_info(self, name, sample=sample)

    def records(self, name: str, *, include_removed: bool = False, status: str | None = None,
                limit: int | None = None) -> Iterator[Record]:
        """The records of text dataset ``name`` in id order, each with its text and fields; records
        removed by dedup only with ``include_removed`` (or ``status="removed"``). Streams."""
        from catalog.reading import iter_records

        return iter_records(self, name, include_removed=include_removed, status=status, limit=limit)

    def record(self, record_id: int) -> Record:
        """One record by its catalog id."""
        from catalog.reading import get_record

        return get_record(self, record_id)

    def table(self, name: str) -> pd.DataFrame:
        """The rows of table dataset ``name`` as a pandas DataFrame."""
        from catalog.tables import read_table

        return read_table(self, name)

    @overload
    def lineage(self, target: int) -> RecordLineage: ...

    @overload
    def lineage(self, target: str) -> DatasetLineage: ...

    def lineage(self, target: int | str) -> RecordLineage | DatasetLineage:
        """Lineage of a record (by id: the records it was made from and those made from it) or of a
        dataset (by name: parents, children, and its records' links summed per source dataset)."""
        from catalog.reading import dataset_lineage, record_lineage

        if isinstance(target, bool) or not isinstance(target, (int, str)):
            raise BadInput(f"must be a record id or a dataset name, got {type(target).__name__}", param="target")
        return record_lineage(self, target) if isinstance(target, int) else dataset_lineage(self, target)

    def sql(self, query: str, *, limit: int | None = None) -> SqlResult:
        """A read-only query (the catalog must be open read-only). Each dataset the query names is a
        view of that name; the query cannot reach files, the network or other databases."""
        from catalog.sql_sandbox import run_sql

        return run_sql(self, query, limit=limit)

    # ------------------------------------------------------------------------------ browsing
    def records_page(self, name: str, *, page: int = 1, size: int = 50, status: str | None = None,
                     include_removed: bool = False) -> RecordPage:
        """Page ``page`` (1-based, ``size`` a page) of text dataset ``name``'s records in id order,
        with the total and page count; a page past the last is a :class:`BadInput`."""
        from catalog.browsing import records_page

        return records_page(self, name, page=page, size=size, status=status, include_removed=include_removed)

    def table_page(self, name: str, *, page: int = 1, size: int = 50) -> TablePage:
        """Page ``page`` of table dataset ``name``'s rows (values as JSON data) with its columns."""
        from catalog.browsing import table_page

        return table_page(self, name, page=page, size=size)

    def record_removals(self, record_id: int) -> list[RecordRemoval]:
        """The dedup runs that removed record ``record_id`` (stage, cluster, what it duplicates)."""
        from catalog.browsing import record_removals

        return record_removals(self, record_id)

    def dedup_clusters(self, run_id: int, *, page: int = 1, size: int = 20) -> DedupClusterPage:
        """Dedup run ``run_id`` with a page of its clusters: the record kept beside those removed."""
        from catalog.browsing import dedup_clusters

        return dedup_clusters(self, run_id, page=page, size=size)

    def evaluations(self) -> list[EvaluationSummary]:
        """Every stored evaluation with its headline figures, oldest first."""
        from catalog.browsing import list_evaluations

        return list_evaluations(self)

    def evaluation(self, evaluation_id: int) -> Evaluation:
        """A stored evaluation with every score it produced."""
        from catalog.browsing import stored_evaluation

        return stored_evaluation(self, evaluation_id)

    # ------------------------------------------------------------------------------- writing
    def import_file(self, path: str | os.PathLike, dataset: str, *, origin: str | None = None, kind: str | None = None,
                    format: str | None = None, text_fields: Sequence[str] | None = None,
                    prompt_field: str | None = None, response_field: str | None = None,
                    messages_field: str | None = None, id_field: str | None = None,
                    quality_field: str | None = None, description: str | None = None, tags: Sequence[str] = (),
                    embed: bool = True, embedder: str | None = None, skip_bad: str | os.PathLike | None = None,
                    force: bool = False, pii: str = "warn", progress: Progress | None = None) -> ImportResult:
        """Import a JSONL (also gzipped), JSON, CSV/TSV or Parquet file as the new dataset ``dataset``.

        Text-like records (``kind`` text, pairs or conversations; detected from the fields when not
        given) are embedded unless ``embed=False``; CSV/Parquet files become typed tables unless a
        text option is given. All or nothing, unless ``skip_bad`` names a file for rejected rows
        (``force`` replaces an existing one). ``origin`` is ``real`` unless given. ``pii`` guards
        against personal data: ``"warn"`` records what it finds, ``"redact"`` replaces it with
        placeholders such as ``[EMAIL]``, ``"refuse"`` stops the import, ``"off"`` skips the scan (see
        :mod:`catalog.pii_guard`).

        A directory (or ``format="hf"``) is read as a Hugging Face dataset: Parquet shards and a
        ``README.md`` card; a card written by ``export(..., format="hf")`` restores kind, fields, ids,
        origin, description and tags (see :func:`catalog.hf_dataset.import_hf`).
        """
        if format == "hf" or os.path.isdir(path):
            from catalog.hf_dataset import import_hf

            return import_hf(self, path, dataset, origin=origin, kind=kind, text_fields=list(text_fields or []),
                             prompt_field=prompt_field, response_field=response_field, messages_field=messages_field,
                             id_field=id_field, quality_field=quality_field, description=description, tags=tags,
                             embed=embed, embedder=embedder, skip_bad=skip_bad, force=force, pii=pii,
                             progress=progress)
        from catalog.importer import import_file

        return import_file(self, path, dataset, origin=origin or "real", kind=kind, fmt=format, progress=progress,
                           text_fields=list(text_fields) if text_fields else None, prompt_field=prompt_field,
                           response_field=response_field, messages_field=messages_field, id_field=id_field,
                           quality_field=quality_field, description=description, tags=tuple(tags), embed=embed,
                           embedder=embedder, skip_bad=skip_bad, force=force, pii=pii)

    def add_records(self, dataset: str, rows: Iterable[dict], *, origin: str = "real", kind: str | None = None,
                    text_fields: Sequence[str] | None = None, prompt_field: str | None = None,
                    response_field: str | None = None, messages_field: str | None = None,
                    id_field: str | None = None, quality_field: str | None = None,
                    description: str | None = None, tags: Sequence[str] = (), embed: bool = True,
                    embedder: str | None = None, parents: Sequence[str] = (), generator: str | None = None,
                    parameters: dict | None = None, model: str | None = None, seed: int | None = None,
                    pii: str = "warn", progress: Progress | None = None) -> ImportResult:
        """Store in-memory dicts as the new text-like dataset ``dataset`` (same options as
        :meth:`import_file`, plus the lineage of data you made yourself: ``parents``,
        ``generator``, ``parameters``, ``model``, ``seed``)."""
        from catalog.importer import add_records

        return add_records(self, dataset, rows, origin=origin, kind=kind,
                           text_fields=list(text_fields) if text_fields else None, prompt_field=prompt_field,
                           response_field=response_field, messages_field=messages_field, id_field=id_field,
                           quality_field=quality_field, description=description, tags=tuple(tags), embed=embed,
                           embedder=embedder, parents=tuple(parents), generator=generator, parameters=parameters,
                           model=model, seed=seed, pii=pii, progress=progress)

    def add_table(self, dataset: str, frame: pd.DataFrame, *, origin: str = "real", description: str | None = None,
                  tags: Sequence[str] = (), parents: Sequence[str] = (), generator: str | None = None,
                  parameters: dict | None = None, model: str | None = None, seed: int | None = None) -> ImportResult:
        """Store a pandas DataFrame as the new typed table dataset ``dataset``."""
        import time

        from catalog.tables import create_table_from_frame

        started = time.perf_counter()
        with self.transaction():
            rows = create_table_from_frame(self, dataset, frame, origin=origin, description=description,
                                           tags=tags, generator=generator, parameters=parameters, model=model,
                                           seed=seed, parents=parents)
        return ImportResult(dataset=dataset, kind="table", origin=origin, rows=rows,
                            seconds=round(time.perf_counter() - started, 3))

    def embed(self, dataset: str, *, embedder: str | None = None, progress: Progress | None = None,
              compute: ComputeBackend | None = None) -> EmbedResult:
        """Embed the texts of a dataset imported with ``embed=False`` (identical texts once).
        ``compute`` computes the vectors elsewhere, e.g. ``RayCompute.connect("local")``
        (:mod:`catalog.ray_compute`); they are written here, in one transaction, all the same."""
        from catalog.embedding_store import embed_dataset

        return embed_dataset(self, dataset, embedder, progress, compute=compute)

    def delete(self, dataset: str, *, force: bool = False) -> DeleteResult:
        """Delete a dataset and every row that refers to it. A dataset others were derived from
        needs ``force`` (they lose their lineage links to it; the result says how many)."""
        from catalog.deletion import delete_dataset

        return delete_dataset(self, dataset, force=force)

    def export(self, dataset: str, out: str | os.PathLike, *, format: str | None = None,
               include_removed: bool = False, sidecar: bool = True, force: bool = False,
               redact_pii: bool = False, license: str | None = None, language: Sequence[str] = ()) -> ExportResult:
        """Write a dataset to ``out`` (.jsonl, .csv, .parquet, or ``format="chat"`` messages) with a
        ``.meta.json`` sidecar. Never inside the catalog; an existing file only with ``force``.
        ``redact_pii`` replaces personal data with placeholders in the written file (the catalog
        keeps what it holds) and counts what it replaced in the sidecar.

        ``format="hf"`` writes a Hugging Face dataset directory instead: Parquet shards under
        ``data/`` and a ``README.md`` card generated from the catalog, with ``license`` and
        ``language`` in its metadata (an :class:`HfExportResult`; see :mod:`catalog.hf_dataset`).
        """
        if format == "hf":
            from catalog.hf_dataset import export_hf

            return export_hf(self, dataset, out, include_removed=include_removed, license=license,
                             language=language, force=force, redact_pii=redact_pii)
        if license is not None or language:
            raise BadInput("`license` and `language` go into the dataset card of format hf")
        from catalog.exporter import export_dataset

        return export_dataset(self, dataset, out, fmt=format, include_removed=include_removed, sidecar=sidecar,
                              force=force, redact_pii=redact_pii)

    # -------------------------------------------------------------------------------- search
    def search(self, query: str, *, mode: str = "hybrid", k: int = 10, datasets: Sequence[str] = (),
               origin: str | None = None, kind: str | None = None, tags: Sequence[str] = (),
               field_equals: dict[str, str] | None = None, min_quality: float | None = None,
               created_after: datetime | str | None = None, created_before: datetime | str | None = None,
               include_removed: bool = False, explain: bool = False, depth: int | None = None,
               fusion: str | None = None, alpha: float | None = None, embedder: str | None = None) -> list[Hit]:
        """The ``k`` records that best match ``query``.

        ``mode``: ``keyword`` (BM25), ``vector`` (cosine over the records' embeddings) or ``hybrid``
        (both, fused: ``fusion="convex"`` with weight ``alpha`` on vectors, or ``"rrf"``). Filters
        apply inside each retriever. ``explain`` adds each retriever's rank and score to the hits.
        For many queries, make one :meth:`searcher` and call its ``run``.
        """
        return self.searcher(mode=mode, datasets=datasets, origin=origin, kind=kind, tags=tags,
                             field_equals=field_equals, min_quality=min_quality, created_after=created_after,
                             created_before=created_before, include_removed=include_removed, depth=depth,
                             fusion=fusion, alpha=alpha, embedder=embedder).run([query], k, explain)[0]

    def searcher(self, *, mode: str = "hybrid", datasets: Sequence[str] = (), origin: str | None = None,
                 kind: str | None = None, tags: Sequence[str] = (), field_equals: dict[str, str] | None = None,
                 min_quality: float | None = None, created_after: datetime | str | None = None,
                 created_before: datetime | str | None = None, include_removed: bool = False,
                 depth: int | None = None, fusion: str | None = None, alpha: float | None = None,
                 embedder: str | None = None) -> Searcher:
        """A searcher with these settings (models and indexes loaded once): ``searcher.run(queries, k)``."""
        from catalog.search.api import DEFAULT_ALPHA, DEFAULT_DEPTH, DEFAULT_FUSION, Searcher
        from catalog.search.filters import SearchFilters

        filters = SearchFilters(datasets=list(datasets), origin=origin, kind=kind, tags=list(tags),
                                created_after=created_after, created_before=created_before, min_quality=min_quality,
                                field_equals=dict(field_equals or {}), include_removed=include_removed)
        return Searcher(self, mode=mode, filters=filters, embedder=embedder,
                        depth=DEFAULT_DEPTH if depth is None else depth,
                        fusion=DEFAULT_FUSION if fusion is None else fusion,
                        alpha=DEFAULT_ALPHA if alpha is None else alpha)

    # --------------------------------------------------------------------------------- dedup
    def dedup(self, datasets: str | Sequence[str], *, against: Sequence[str] = (), exact: bool = True,
              minhash: bool = True, semantic: bool = True, punctuation_blind: bool = False,
              minhash_threshold: float = dedup_defaults.MINHASH_THRESHOLD,
              semantic_threshold: float = dedup_defaults.SEMANTIC_THRESHOLD, keep: str = "first",
              dry_run: bool = False, into: str | None = None, out: str | os.PathLike | None = None,
              force: bool = False, seed: int = 1, on: str | None = None,
              compute: ComputeBackend | None = None) -> DedupReport:
        """Remove duplicates within and across ``datasets`` (records of ``against`` are references,
        never removed): exact, then MinHash near-duplicates, then semantic. Removals are stored and
        reversible (:meth:`undo_dedup`); ``into`` copies the survivors to a new dataset, ``out``
        exports them. ``dry_run`` reports what would go and changes nothing.

        ``on`` chooses what is compared (:mod:`catalog.dedup.fields`): for pairs ``"both"`` (the
        default: prompt *and* response must be duplicates, so two questions sharing a canned answer
        both stay), ``"prompt"``, ``"response"`` or ``"text"``; for conversations ``"user_turns"``
        (default), ``"first_user"`` or ``"text"``. Datasets of several kinds compare whole texts.
        ``compute`` (e.g. :class:`catalog.ray_compute.RayCompute`) computes MinHash sketches and
        missing embeddings elsewhere; the decisions and writes are made here all the same."""
        from catalog.dedup_runs import dedup

        names = [datasets] if isinstance(datasets, str) else list(datasets)
        return dedup(self, names, against=list(against), exact=exact, minhash=minhash, semantic=semantic,
                     punctuation_blind=punctuation_blind, minhash_threshold=minhash_threshold,
                     semantic_threshold=semantic_threshold, keep=keep, dry_run=dry_run,
                     out=os.fspath(out) if out is not None else None, into=into, seed=seed, force=force, on=on,
                     compute=compute)

    def decontaminate(self, dataset: str, against: str | Sequence[str], *, mode: str = "drop",
                      ngram: int | None = None, min_ngram: int | None = None,
                      text_fields: Sequence[str] | None = None, id_field: str | None = None, dry_run: bool = False,
                      out: str | os.PathLike | None = None, force: bool = False) -> DecontaminationReport:
        """Find evaluation (benchmark) text inside the records of ``dataset``: word n-grams
        (``ngram``, default 13; evaluation texts of ``min_ngram``-12 words match whole) after the
        exact-dedup normalisation, against each of ``against`` -- catalog datasets, or files
        (JSONL/CSV/Parquet; ``text_fields`` and ``id_field`` say what to read).

        ``mode``: ``"drop"`` marks contaminated records removed (undo with :meth:`undo_dedup`),
        ``"cut"`` stores cleaned copies with the matched spans removed, ``"flag"`` only records the
        matches. ``out`` exports the surviving records. See :mod:`catalog.decontamination_runs`.
        """
        from catalog.decontamination_runs import decontaminate_dataset
        from catalog.dedup import defaults

        return decontaminate_dataset(
            self, dataset, [against] if isinstance(against, str) else list(against), mode=mode,
            ngram=defaults.DECONTAM_NGRAM if ngram is None else ngram,
            min_ngram=defaults.DECONTAM_MIN_NGRAM if min_ngram is None else min_ngram,
            text_fields=text_fields, id_field=id_field, dry_run=dry_run,
            out=os.fspath(out) if out is not None else None, force=force)

    def dedup_runs(self) -> list[DedupRun]:
        """Every dedup run (decontamination runs too: ``kind``), oldest first."""
        from catalog.dedup_runs import list_runs

        return list_runs(self)

    def dedup_run(self, run_id: int, *, limit: int = 50) -> DedupRunDetail:
        """One dedup run with (at most ``limit`` of) its removals."""
        from catalog.dedup_runs import show_run

        return show_run(self, run_id, limit=limit)

    def undo_dedup(self, run_id: int) -> UndoResult:
        """Restore the records a dedup run removed."""
        from catalog.dedup_runs import undo

        return undo(self, run_id)

    # ---------------------------------------------------------------------------- evaluation
    def evaluate(self, synthetic: str, real: str, *, holdout: str | None = None, target: str | None = None,
                 sensitive: Sequence[str] = (), report: str | os.PathLike | None = None,
                 na_values: Sequence[str] | None = None, skip: Sequence[str] = (), seed: int = 0, store: bool = True,
                 force: bool = False) -> Evaluation:
        """Compare a synthetic dataset with the real one it imitates (catalog names or files):
        fidelity, diagnostics, utility (``target``, ``holdout``), privacy and bias (``sensitive``)
        for tables; diversity, novelty and PII for texts. Stored in the catalog unless
        ``store=False``; ``report`` writes a self-contained HTML page."""
        from catalog.evaluation_runs import evaluate

        return evaluate(self, synthetic, real, holdout=holdout, target=target, sensitive=list(sensitive),
                        report=os.fspath(report) if report is not None else None,
                        na_values=list(na_values) if na_values else None, seed=seed, skip=list(skip), store=store,
                        force=force)

    # ------------------------------------------------------------------------ vector indexes
    def index_status(self) -> list[IndexStatus]:
        """For each embedder: does its FAISS file agree with the vectors DuckDB holds?"""
        from catalog.vector_index import index_status

        return index_status(self)

    def rebuild_indexes(self) -> list[IndexStatus]:
        """Rebuild every FAISS file from DuckDB."""
        from catalog.vector_index import rebuild_indexes

        return rebuild_indexes(self)


def open_catalog(directory: str | os.PathLike | None = None, *, create: bool = False,
                 read_only: bool = False) -> Catalog:
    """Same as :meth:`Catalog.open`."""
    return Catalog.open(directory, create=create, read_only=read_only)

