"""synthcat's catalog: the DuckDB store and everything that reads it."""
