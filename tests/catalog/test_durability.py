"""A killed import leaves the catalog whole; a second writer gets a clear 'catalog in use'."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest

from catalog import open_catalog
from catalog.errors import CatalogInUse
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _spawn(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _big_file(path, n: int):
    with open(path, "w") as fh:
        for i in range(n):
            fh.write(json.dumps({"prompt": f"question number {i} about routers",
                                 "response": f"answer {i}: restart the router and wait {i % 60} seconds"}) + "\n")
    return path


def test_sigkill_mid_import_keeps_all_or_nothing(catalog_dir, pairs_file, tmp_path):
    with open_catalog(catalog_dir, create=True) as cat:
        cat.import_file(pairs_file, "before", embed=True)
    big = _big_file(tmp_path / "big.jsonl", 400_000)
    proc = _spawn(f"""
        import sys
        from catalog import open_catalog
        class Tell:
            said = False
            def start(self, label, total): pass
            def finish(self): pass
            def advance(self, n=1):
                if not self.said:
                    print("started", flush=True); self.said = True
        with open_catalog({str(catalog_dir)!r}, create=True) as cat:
            cat.import_file({str(big)!r}, "big", embed=False, progress=Tell())
        print("finished", flush=True)
    """)
    assert proc.stdout.readline().strip() == "started"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with open_catalog(catalog_dir) as cat:
        names = [d.name for d in cat.datasets()]
        assert names == ["before"]
        assert cat.dataset("before").row_count == 5 and len(list(cat.records("before"))) == 5
        status = cat.index_status()[0]
        assert status.in_sync and status.records_in_index == 5


def test_sigkill_between_commit_and_faiss_write_is_repaired_on_open(catalog_dir, pairs_file, tmp_path):
    with open_catalog(catalog_dir, create=True) as cat:
        cat.import_file(pairs_file, "before", embed=True)
    extra = tmp_path / "extra.jsonl"
    extra.write_text("\n".join(json.dumps({"text": f"late text number {i}"}) for i in range(7)) + "\n")
    proc = _spawn(f"""
        import os, signal
        from catalog import open_catalog, vector_index
        def die(*a, **k):
            os.kill(os.getpid(), signal.SIGKILL)
        vector_index.VectorIndex.add = die
        vector_index.VectorIndex.rebuild = die
        with open_catalog({str(catalog_dir)!r}, create=True) as cat:
            cat.import_file({str(extra)!r}, "late", embed=True)
    """)
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    with open_catalog(catalog_dir) as cat:
        assert {d.name for d in cat.datasets()} == {"before", "late"}
        stale = cat.index_status()[0]
        assert not stale.in_sync and stale.records_in_duckdb == 12
        from catalog.vector_index import VectorIndex

        assert VectorIndex(cat, "all-MiniLM-L6-v2").load().ntotal == 12
        assert cat.index_status()[0].in_sync


def test_second_writer_gets_catalog_in_use(catalog_dir, pairs_file, invoke):
    with open_catalog(catalog_dir, create=True):
        pass
    holder = _spawn(f"""
        import time
        from catalog import open_catalog
        with open_catalog({str(catalog_dir)!r}) as cat:
            print("holding", flush=True)
            time.sleep(60)
    """)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(CatalogInUse, match="catalog in use"):
            open_catalog(catalog_dir)
        result = invoke("import", str(pairs_file), "--dataset", "x", "--no-embed")
        assert result.exit_code == 1
        assert "catalog in use" in result.output and "Traceback" not in result.output
    finally:
        holder.kill()
        holder.wait()
    with open_catalog(catalog_dir) as cat:
        assert cat.datasets() == []
