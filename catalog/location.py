"""Where a catalog lives: `--catalog DIR`, else `$SYNTHCAT_CATALOG`, else `./synthcat-catalog`."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DIR = "synthcat-catalog"
ENV_VAR = "SYNTHCAT_CATALOG"
DB_FILE = "catalog.duckdb"
VECTORS_DIR = "vectors"


def resolve_catalog_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Return the catalog directory the user meant, without creating it."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(DEFAULT_DIR)
