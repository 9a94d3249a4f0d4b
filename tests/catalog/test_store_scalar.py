"""CatalogStore.scalar: one value from a query that always yields a row, and a clear error if not."""

from __future__ import annotations

import pytest


def test_scalar_returns_the_first_column_of_the_first_row(cat):
    assert cat.scalar("SELECT count(*) FROM datasets") == 0
    assert cat.scalar("SELECT ? + 1", [41]) == 42


def test_scalar_names_the_query_when_it_yields_no_row(cat):
    with pytest.raises(RuntimeError, match="returned no row: SELECT 1 WHERE false"):
        cat.scalar("SELECT 1 WHERE false")


def test_close_twice_is_harmless_and_a_closed_store_refuses_queries(catalog_dir):
    import duckdb

    from catalog.store import CatalogStore

    store = CatalogStore.open(catalog_dir, create=True)
    store.close()
    store.close()
    with pytest.raises(duckdb.ConnectionException):
        store.scalar("SELECT 1")
