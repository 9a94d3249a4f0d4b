"""Shared fixtures: a fresh catalog directory per test, a CLI runner, small input files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return tmp_path / "cat"


@pytest.fixture
def cat(catalog_dir: Path):
    from catalog import open_catalog

    with open_catalog(catalog_dir, create=True) as catalog:
        yield catalog


@pytest.fixture
def runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture
def invoke(runner, catalog_dir):
    """Run the CLI against the test's catalog: invoke("import", "f.jsonl", "--dataset", "x")."""
    from cli import app

    def _invoke(*args: str, input: str | None = None):
        return runner.invoke(app, ["--catalog", str(catalog_dir), *args], input=input)

    return _invoke


def write_jsonl(path: Path, rows: list) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


SUPPORT_PAIRS = [
    {"id": "p1", "prompt": "My internet keeps dropping every evening.",
     "response": "Evening drops usually mean congestion; restart the router and we will check the line."},
    {"id": "p2", "prompt": "How do I change my wifi password?",
     "response": "Open the router page at 192.168.1.1, log in, and set a new password under Wireless."},
    {"id": "p3", "prompt": "I was billed twice this month.",
     "response": "Sorry about that: the duplicate charge will be refunded within five working days."},
    {"id": "p4", "prompt": "Can I move my plan to my new flat?",
     "response": "Yes, tell us the new address and moving date and we will schedule the transfer."},
    {"id": "p5", "prompt": "How do I change my wifi password?",
     "response": "Open the router page at 192.168.1.1, log in, and set a new password under Wireless."},
]


@pytest.fixture
def pairs_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "pairs.jsonl", SUPPORT_PAIRS)
