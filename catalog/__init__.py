"""synthcat's catalog: the DuckDB store and everything that reads it.

    from catalog import open_catalog
    with open_catalog("my-catalog", create=True) as cat:
        cat.import_file("pairs.jsonl", "support-seed", origin="real")
        cat.export("support-seed", "out.jsonl")
"""

from catalog.errors import SynthcatError
from catalog.store import Catalog, Dataset, open_catalog

__all__ = ["Catalog", "Dataset", "SynthcatError", "open_catalog"]
