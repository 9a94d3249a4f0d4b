"""Fixtures shared by the catalog tests: one browsable catalog per session (see browse_catalog.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalog.browse_catalog import build


@pytest.fixture(scope="session")
def browse_catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """(directory, facts) of a catalog with one of everything; tests must not write to it (copy it)."""
    directory = tmp_path_factory.mktemp("browse") / "cat"
    return directory, build(directory)
