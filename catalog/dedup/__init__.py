"""Deduplication engine: exact, MinHash near-duplicate and semantic stages over in-memory items.

Import the public API from here; heavy libraries (faiss) load only when the semantic stage runs.
"""

from catalog.dedup.clusters import KEEP_POLICIES
from catalog.dedup.engine import Cluster, DedupItem, DedupResult, Removal, find_duplicates
from catalog.dedup.normalize import normalize_text, text_hash

__all__ = ["KEEP_POLICIES", "Cluster", "DedupItem", "DedupResult", "Removal", "find_duplicates",
           "normalize_text", "text_hash"]
