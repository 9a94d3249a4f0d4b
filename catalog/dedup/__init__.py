"""Deduplication engine: exact, MinHash near-duplicate and semantic stages over in-memory items;
what pairs and conversations are compared on; n-gram decontamination against evaluation sets.

Import the public API from here; heavy libraries (faiss, pyarrow) load only when used.
"""

from catalog.dedup.clusters import KEEP_POLICIES
from catalog.dedup.decontaminate import (
    ContaminatedRecord,
    DecontaminationResult,
    EvalSetReport,
    NgramMatch,
    decontaminate,
)
from catalog.dedup.engine import Cluster, DedupItem, DedupResult, Removal, find_duplicates
from catalog.dedup.eval_files import read_eval_file
from catalog.dedup.eval_index import EvalSet, build_eval_index
from catalog.dedup.fields import DEFAULT_ON, ON_CHOICES, dedup_text, dedup_texts, find_pair_duplicates, resolve_on
from catalog.dedup.normalize import normalize_text, text_hash

__all__ = ["DEFAULT_ON", "KEEP_POLICIES", "ON_CHOICES", "Cluster", "ContaminatedRecord", "DecontaminationResult",
           "DedupItem", "DedupResult", "EvalSet", "EvalSetReport", "NgramMatch", "Removal", "build_eval_index",
           "decontaminate", "dedup_text", "dedup_texts", "find_duplicates", "find_pair_duplicates",
           "normalize_text", "read_eval_file", "resolve_on", "text_hash"]
