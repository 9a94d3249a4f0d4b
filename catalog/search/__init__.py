"""Search over the catalog: keyword (BM25 via DuckDB's full-text extension), vector (FAISS) and hybrid.

    from catalog.search import search
    hits = search(cat, "router keeps rebooting", mode="hybrid", k=10, datasets=["support-seed"])
"""

from catalog.search.api import Hit, SearchFilters, search, search_many

__all__ = ["Hit", "SearchFilters", "search", "search_many"]
