"""synthcat's catalog: the DuckDB store and everything that reads it.

    from catalog import Catalog

    with Catalog.open("my-catalog", create=True) as cat:
        cat.import_file("pairs.jsonl", "support-seed", origin="real")
        hits = cat.search("router keeps restarting", k=5)
        cat.export("support-seed", "out.jsonl")

See :class:`catalog.api.Catalog` for every verb and :mod:`catalog.results` for what they return.
"""

from catalog.api import Catalog, open_catalog
from catalog.errors import BadInput, SynthcatError
from catalog.results import (
    DatasetInfo,
    DatasetLineage,
    DedupReport,
    DedupRun,
    DedupRunDetail,
    DeleteResult,
    EmbedResult,
    Evaluation,
    ExportResult,
    ImportResult,
    IndexStatus,
    Record,
    RecordLineage,
    SqlResult,
    UndoResult,
)
from catalog.search.api import Hit
from catalog.store import Dataset

__all__ = [
    "BadInput", "Catalog", "Dataset", "DatasetInfo", "DatasetLineage", "DedupReport", "DedupRun", "DedupRunDetail",
    "DeleteResult", "EmbedResult", "Evaluation", "ExportResult", "Hit", "ImportResult", "IndexStatus", "Record",
    "RecordLineage", "SqlResult", "SynthcatError", "UndoResult", "open_catalog",
]
