"""Search over the catalog: keyword (BM25 via DuckDB's full-text extension), vector (FAISS) and hybrid.

Use it through the catalog: ``cat.search("router keeps rebooting", k=10, datasets=["support-seed"])``,
or ``cat.searcher(...)`` for many queries with models and indexes loaded once.
"""

from catalog.search.api import Hit, Searcher
from catalog.search.filters import SearchFilters

__all__ = ["Hit", "SearchFilters", "Searcher"]
