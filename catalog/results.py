"""What the catalog's verbs return: small dataclasses whose field names are the names the CLI prints
and ``--json`` emits (``to_dict()`` gives exactly that JSON)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dataclasses to dicts, times as ISO text, paths as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict() if hasattr(value, "to_dict") else {
            f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


class Result:
    """Base of the result dataclasses: ``to_dict()`` is the ``--json`` form."""

    def to_dict(self) -> dict:
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


@dataclasses.dataclass
class PiiSummary(Result):
    """What the PII guard found (:mod:`catalog.pii_guard`): rows with personal data, findings per kind."""

    mode: str
    rows_scanned: int
    rows_with_pii: int
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    scan_id: int | None = None

    def describe(self) -> str:
        """``"1 email, 2 phone numbers"``."""
        from catalog.privacy import describe_counts

        return describe_counts(self.counts)


@dataclasses.dataclass
class ImportResult(Result):
    """An import: rows stored, rows rejected (with ``skip_bad``), texts embedded, seconds taken."""

    dataset: str
    kind: str
    origin: str
    rows: int
    rejected: int = 0
    embedded: int = 0
    seconds: float = 0.0
    rejects_file: str | None = None
    first_errors: list[str] = dataclasses.field(default_factory=list)
    pii: PiiSummary | None = None  # None when the guard was off


@dataclasses.dataclass
class ExportResult(Result):
    dataset: str
    out: str
    format: str
    rows: int
    origin: str
    sidecar: str | None = None


@dataclasses.dataclass
class ChildLoss(Result):
    """A dataset derived from a deleted one, and how many lineage links into it it lost."""

    dataset: str
    lineage_links: int


@dataclasses.dataclass
class DeleteResult(Result):
    dataset: str
    rows: int
    records_removed: int
    children: list[ChildLoss] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class EmbedResult(Result):
    dataset: str
    embedder: str
    embedded: int


@dataclasses.dataclass
class SqlResult(Result):
    """Rows of a read-only query; ``truncated`` when more rows than the limit existed."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = False

    def as_dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in self.rows]


@dataclasses.dataclass
class Record(Result):
    """A text-like record: its searchable text and the fields its row had."""

    record_id: int
    dataset: str
    external_id: str | None
    text: str
    fields: dict
    quality: float | None
    status: str
    created_at: datetime
    content_hash: str

    @property
    def id(self) -> str:
        """The user's id when the file had one, else the catalog's record id."""
        return self.external_id if self.external_id is not None else str(self.record_id)


@dataclasses.dataclass
class LineageLink(Result):
    """One lineage row: ``record_id`` was made from ``source_record_id`` (``relation``, rank, score)."""

    record_id: int
    dataset: str
    source_record_id: int
    source_dataset: str
    relation: str
    rank: int | None = None
    score: float | None = None


@dataclasses.dataclass
class RecordLineage(Result):
    """Where a record came from (``sources``) and what was made from it (``derived``)."""

    record_id: int
    dataset: str
    sources: list[LineageLink]
    derived: list[LineageLink]


@dataclasses.dataclass
class LineageSummary(Result):
    """``links`` lineage rows of one ``relation`` from a dataset's records to ``source_dataset``."""

    relation: str
    source_dataset: str
    links: int


@dataclasses.dataclass
class DatasetLineage(Result):
    dataset: str
    parents: list[str]
    children: list[str]
    links: list[LineageSummary]


@dataclasses.dataclass
class ColumnInfo(Result):
    name: str
    type: str


@dataclasses.dataclass
class EvaluationSummary(Result):
    """A stored evaluation a dataset took part in, with its headline figures."""

    evaluation_id: int
    synthetic: str
    real: str
    kind: str
    headline: dict
    report: str | None
    created_at: str


@dataclasses.dataclass
class GenerationJobSummary(Result):
    job_id: str
    status: str
    target: int
    attempts: int
    rejections: dict
    usage: dict
    stop_reason: str | None = None

    @property
    def tokens(self) -> int:
        """Tokens the job has used: generation plus judge, prompt plus completion."""
        judge = self.usage.get("judge") or {}
        return int(self.usage.get("total_tokens", 0)) + int(judge.get("total_tokens", 0))

    def to_dict(self) -> dict:
        return dict(super().to_dict(), tokens=self.tokens)


@dataclasses.dataclass
class DatasetInfo(Result):
    """What ``show`` prints: the dataset, record counts by status, a sample, columns (tables),
    parents and children, lineage, generation jobs and evaluations."""

    dataset: Any  # catalog.store.Dataset
    status_counts: dict[str, int]
    sample: list[dict]
    columns: list[ColumnInfo]
    children: list[str]
    lineage: list[LineageSummary]
    generation_jobs: list[GenerationJobSummary]
    evaluations: list[EvaluationSummary]
    pii_scans: list[PiiSummary] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        out = self.dataset.to_dict()
        for f in dataclasses.fields(self):
            if f.name != "dataset":
                out[f.name] = jsonable(getattr(self, f.name))
        return out


@dataclasses.dataclass
class IndexStatus(Result):
    """Does an embedder's FAISS file agree with the vectors DuckDB holds?"""

    embedder_id: str
    records_in_duckdb: int
    records_in_index: int | None
    index_type: str | None
    nprobe: int | None  # IVF lists scanned per query by default; None for exact layouts
    dimension: int | None
    file: str
    in_sync: bool
    problems: list[str]


@dataclasses.dataclass
class DedupRecordRef(Result):
    record_id: int
    text: str
    stage: str | None = None
    score: float | None = None


@dataclasses.dataclass
class DedupExample(Result):
    """One cluster of duplicates: the record kept and those removed."""

    cluster: int
    keep: DedupRecordRef
    remove: list[DedupRecordRef]


@dataclasses.dataclass
class SurvivorsCopy(Result):
    dataset: str
    rows: int


@dataclasses.dataclass
class DedupReport(Result):
    """A dedup run (or dry run): what was checked, removed per stage, examples, where survivors went."""

    datasets: list[str]
    against: list[str]
    checked: int
    references: int
    removed: int
    counts: dict[str, int]
    parameters: dict
    dry_run: bool
    examples: list[DedupExample]
    run_id: int | None = None
    seconds: float = 0.0
    into: SurvivorsCopy | None = None
    out: ExportResult | None = None


@dataclasses.dataclass
class DecontaminationExample(Result):
    """A contaminated record: what happens to it, and its first match (field, evaluation set and
    record, the n-gram, its character span in the field)."""

    record_id: int
    action: str
    field: str
    eval_set: str
    eval_record: str
    ngram: str
    start: int
    end: int


@dataclasses.dataclass
class DecontaminationReport(Result):
    """A decontamination run (or dry run): records checked and contaminated, what was done
    (drop / cut / flag counts), per evaluation set what was indexed and hit, examples."""

    dataset: str
    against: list[str]
    checked: int
    contaminated: int
    counts: dict[str, int]
    eval_sets: list[dict]
    parameters: dict
    dry_run: bool
    examples: list[DecontaminationExample]
    run_id: int | None = None
    seconds: float = 0.0
    out: ExportResult | None = None


@dataclasses.dataclass
class DedupRun(Result):
    run_id: int
    datasets: list[str]
    against: list[str]
    removed: int
    counts: dict[str, int]
    parameters: dict
    created_at: str
    undone_at: str | None
    kind: str = "dedup"  # or "decontaminate"


@dataclasses.dataclass
class DedupRemoval(Result):
    """A record a run removed: its stage and cluster, the kept record it duplicates, the record it
    matched directly, and the score of that match."""

    record_id: int
    external_id: str | None
    dataset: str
    stage: str
    cluster: int
    duplicate_of: int | None
    matched: int | None
    score: float | None
    text: str


@dataclasses.dataclass
class DedupRunDetail(DedupRun):
    removals: list[DedupRemoval] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class UndoResult(Result):
    run_id: int
    restored: int


@dataclasses.dataclass
class Evaluation(Result):
    """An evaluation of a synthetic dataset against real data.

    ``headline`` holds the figures people look at first (see
    :func:`catalog.evaluation.headline.headline_figures`); ``results`` every score.
    """

    kind: str
    datasets: dict[str, str | None]
    headline: dict[str, float | None]
    results: dict
    evaluation_id: int | None = None
    report: str | None = None

    def to_dict(self) -> dict:
        return {**jsonable(self.results), "kind": self.kind, "datasets": self.datasets,
                "headline": jsonable(self.headline), "evaluation_id": self.evaluation_id, "report": self.report}


# ----------------------------------------------------------------- browsing (pages, clusters)


@dataclasses.dataclass
class RecordPage(Result):
    """One page of a text dataset's records, in id order: page ``page`` of ``pages`` (``size`` a page),
    ``total`` records with the requested status."""

    dataset: str
    page: int
    size: int
    total: int
    pages: int
    records: list[Record]


@dataclasses.dataclass
class TablePage(Result):
    """One page of a table dataset's rows (values as JSON: dates and times as ISO text)."""

    dataset: str
    page: int
    size: int
    total: int
    pages: int
    columns: list[ColumnInfo]
    rows: list[dict]


@dataclasses.dataclass
class RecordRemoval(Result):
    """A dedup run that removed a record: its stage, cluster, the kept record it duplicates, the
    record it matched and the score; ``undone`` when the run was undone since."""

    run_id: int
    stage: str
    cluster: int
    duplicate_of: int | None
    matched: int | None
    score: float | None
    undone: bool


@dataclasses.dataclass
class ClusterMember(Result):
    """A record of a dedup cluster; ``stage``, ``score`` and ``matched`` are set for removed ones."""

    record_id: int
    external_id: str | None
    dataset: str
    text: str
    stage: str | None = None
    score: float | None = None
    matched: int | None = None


@dataclasses.dataclass
class DedupCluster(Result):
    """One cluster of a dedup run: the record kept and the records removed as its duplicates."""

    cluster: int
    kept: ClusterMember | None
    removed: list[ClusterMember]


@dataclasses.dataclass
class DedupClusterPage(Result):
    """A dedup run with one page of its clusters (in cluster order)."""

    run: DedupRun
    page: int
    size: int
    total: int
    pages: int
    clusters: list[DedupCluster]


@dataclasses.dataclass
class HfExportResult(ExportResult):
    """A Hugging Face export: ``out`` is a directory with Parquet ``shards`` under ``data/`` and the
    dataset ``card`` (README.md)."""

    shards: list[str] = dataclasses.field(default_factory=list)
    card: str | None = None
