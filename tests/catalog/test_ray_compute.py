"""Embed and dedup computed on Ray give what the local path gives, and failures change nothing.

One local Ray instance (2 CPUs) serves the whole session; every test runs the real bundled
embedder, real DuckDB and real FAISS on small inputs. Workers import this tree's ``catalog``
through PYTHONPATH, as cluster nodes would import an installed synthcat. The worker-crash tests
use the documented test-only hook ``SYNTHCAT_RAY_FAULT`` (:mod:`catalog.ray_compute`).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import PROJECT_ROOT, write_jsonl

pytestmark = pytest.mark.slow

_TOPICS = ["router", "invoice", "password", "delivery", "refund", "screen", "battery", "account"]


def _texts() -> list[dict]:
    """Records with exact copies, near copies (a word changed), paraphrase-like rewrites and
    unrelated texts, so each dedup stage has work; ids say which is which."""
    rows = []
    for i in range(48):
        topic = _TOPICS[i % len(_TOPICS)]
        base = (f"Customer {i} reports that the {topic} stopped working after the update on day {i % 9}; "
                f"they already restarted it twice and want a technician to call back before Friday.")
        rows.append({"id": f"base{i}", "text": base})
        if i % 4 == 0:
            rows.append({"id": f"copy{i}", "text": base})
        if i % 4 == 1:
            rows.append({"id": f"near{i}", "text": base.replace("twice", "three times")})
        if i % 6 == 2:
            rows.append({"id": f"case{i}", "text": base.upper()})
    rows.append({"id": "short", "text": "ok"})
    rows.append({"id": "empty-ish", "text": "!!!"})
    return rows


@pytest.fixture(scope="session")
def ray_local():
    """One in-process Ray instance with 2 CPUs for every test here; workers see this tree."""
    import ray

    paths = [str(PROJECT_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
def compute(ray_local):
    from catalog.ray_compute import RayCompute

    with RayCompute.connect("local") as backend:
        assert backend.session.started is False  # the fixture's instance, left running
        yield backend


def _cli(catalog: Path, *args: str, env: dict | None = None):
    from typer.testing import CliRunner

    from cli import app

    return CliRunner().invoke(app, ["--catalog", str(catalog), *args], env=env)


def _vectors(catalog: Path) -> dict[str, np.ndarray]:
    """The stored vectors by content hash (the API has no raw-vector reader: this is about storage)."""
    from catalog import open_catalog

    with open_catalog(catalog, read_only=True) as cat:
        rows = cat.con.execute("SELECT content_hash, vector FROM embeddings").fetchall()
    return {h: np.asarray(v, dtype=np.float32) for h, v in rows}


def _imported(tmp_path: Path, name: str) -> Path:
    src = write_jsonl(tmp_path / "records.jsonl", _texts())
    catalog = tmp_path / name
    done = _cli(catalog, "import", str(src), "--dataset", "recs", "--kind", "text", "--no-embed")
    assert done.exit_code == 0, done.output
    return catalog


def test_embed_on_ray_writes_the_vectors_the_local_path_writes(ray_local, tmp_path):
    local, on_ray = _imported(tmp_path, "local"), _imported(tmp_path, "ray")
    assert _cli(local, "embed", "recs").exit_code == 0
    done = _cli(on_ray, "embed", "recs", "--ray", "local", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["embedded"] == len({r["text"] for r in _texts()})
    want, got = _vectors(local), _vectors(on_ray)
    assert set(got) == set(want)
    assert max(float(np.abs(got[h] - want[h]).max()) for h in want) < 1e-5
    # the FAISS cache was rebuilt from what was written: vector search answers as locally
    from catalog import open_catalog

    hits = []
    for c in (local, on_ray):
        with open_catalog(c, read_only=True) as cat:
            hits.append([h.external_id for h in cat.search("the battery stopped working", mode="vector", k=5)])
    assert hits[0] == hits[1] and len(hits[0]) == 5


def _removals(catalog: Path, output: str) -> dict:
    from catalog import open_catalog

    report = json.loads(output)
    with open_catalog(catalog, read_only=True) as cat:
        (run,) = cat.dedup_runs()
        removals = cat.dedup_run(run.run_id, limit=10_000).removals
        ids = {r.record_id: r.external_id for r in cat.records("recs", include_removed=True)}
    rows = [(x.external_id, x.stage, ids.get(x.duplicate_of), None if x.score is None else round(x.score, 5))
            for x in removals]
    return {"counts": report["counts"], "rows": sorted(rows, key=repr)}


def test_dedup_on_ray_removes_what_the_local_path_removes(ray_local, tmp_path):
    local, on_ray = _imported(tmp_path, "local"), _imported(tmp_path, "ray")
    want = _cli(local, "dedup", "recs", "--json")
    got = _cli(on_ray, "dedup", "recs", "--ray", "local", "--json")
    assert want.exit_code == 0 and got.exit_code == 0, got.output
    want_removals, got_removals = _removals(local, want.output), _removals(on_ray, got.output)
    assert got_removals == want_removals
    counts = want_removals["counts"]
    assert counts["exact"] >= 12 and counts["minhash"] >= 12 and sum(counts.values()) == len(want_removals["rows"])


def test_ray_sketches_equal_local_ones_exactly(compute):
    from catalog.dedup.minhash import optimal_bands, sketch_texts

    texts = [r["text"].lower() for r in _texts()] + ["", "a", "a b", "z " * 400]
    for unit, ngram in (("word", 3), ("char", 5)):
        bands, rows = optimal_bands(0.5, 64)
        kw = {"ngram": ngram, "unit": unit, "num_perm": 64, "seed": 7, "bands": bands, "rows": rows}
        compute.sketch_batch_rows = 17  # many batches, so order and reassembly are exercised
        sh, keys = compute.sketch(texts, **kw)
        want_sh, want_keys = sketch_texts(texts, **kw)
        assert np.array_equal(sh.offsets, want_sh.offsets) and np.array_equal(sh.values, want_sh.values)
        assert np.array_equal(keys, want_keys)


def test_semantic_stage_embeds_on_ray_like_locally(compute):
    from catalog.dedup.engine import DedupItem, find_duplicates
    from catalog.embedders import get_embedder

    rows = _texts()
    items = [DedupItem(record_id=r["id"], text=r["text"]) for r in rows]
    embedder = get_embedder(None)
    want = find_duplicates(items, exact=False, minhash=False, embed=embedder.embed, semantic_threshold=0.9)
    compute.embed_batch_rows = 10
    got = find_duplicates(items, exact=False, minhash=False, semantic_threshold=0.9,
                          embed=lambda texts: compute.embed_texts(embedder, texts))
    assert got.removed_ids() == want.removed_ids() and want.removed_ids()
    assert [round(r.score, 4) for r in got.removed] == [round(r.score, 4) for r in want.removed]


def _cpus_come_back(ray, within: float = 60.0) -> bool:
    """Whether every CPU of the cluster is free again within ``within`` seconds (a finished or
    failed job's actors exit asynchronously)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if ray.available_resources().get("CPU", 0) >= ray.cluster_resources().get("CPU", 0) > 0:
            return True
        time.sleep(0.5)
    return False


def _catalog_state(catalog: Path) -> tuple:
    """What a failed job must leave as it was: stored vectors per embedder, dedup runs, active
    records, the dataset's embedder."""
    from catalog import open_catalog

    with open_catalog(catalog, read_only=True) as cat:
        return ({s.embedder_id: s.records_in_duckdb for s in cat.index_status()}, len(cat.dedup_runs()),
                cat.show("recs").status_counts.get("active", 0), cat.dataset("recs").embedder)


def test_a_batch_that_raises_leaves_the_catalog_unchanged_and_a_rerun_succeeds(ray_local, tmp_path, monkeypatch):
    from catalog import open_catalog
    from catalog.ray_compute import RayCompute, RayJobFailed

    catalog = _imported(tmp_path, "ray")
    before = _catalog_state(catalog)
    monkeypatch.setenv("SYNTHCAT_RAY_FAULT", "raise@2")
    with RayCompute.connect("local", embed_batch_rows=8) as backend, open_catalog(catalog) as cat:
        with pytest.raises(RayJobFailed, match="injected fault") as failed:  # after some batches were written
            cat.embed("recs", compute=backend)
    # the failed job's actors give their CPUs back while the caller still holds the error: a Ray
    # traceback kept inside it used to hold them, and the next job on the cluster waited forever
    assert _cpus_come_back(ray_local), f"CPUs still taken after: {failed.value}"
    assert _catalog_state(catalog) == before
    failed = _cli(catalog, "dedup", "recs", "--ray", "local", env={"SYNTHCAT_RAY_FAULT": "raise@1"})
    assert failed.exit_code == 1 and "Ray MinHash job failed" in failed.output
    assert _catalog_state(catalog) == before
    monkeypatch.delenv("SYNTHCAT_RAY_FAULT")
    assert _cli(catalog, "embed", "recs", "--ray", "local").exit_code == 0
    assert _cli(catalog, "dedup", "recs", "--ray", "local").exit_code == 0
    after = _catalog_state(catalog)
    assert sum(after[0].values()) > 0 and after[1] == 1 and after[2] < before[2]


def test_a_worker_that_dies_fails_the_job_without_writing(ray_local, tmp_path, monkeypatch):
    """Every worker process dies on its first batch: Ray replaces it a bounded number of times,
    then the job fails and the catalog keeps what it had."""
    from catalog import open_catalog
    from catalog.ray_compute import RayCompute, RayJobFailed

    catalog = _imported(tmp_path, "ray")
    before = _catalog_state(catalog)
    assert _cpus_come_back(ray_local), "TEMP: leftovers before the job"
    monkeypatch.setenv("SYNTHCAT_RAY_FAULT", "exit@1")
    with RayCompute.connect("local", embed_batch_rows=16) as backend, open_catalog(catalog) as cat:
        with pytest.raises(RayJobFailed, match="worker process has died|actor is dead|actor died") as failed:
            cat.embed("recs", embedder="static", compute=backend)
    assert _cpus_come_back(ray_local), f"CPUs still taken after: {failed.value}"
    assert _catalog_state(catalog) == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_address_fails_in_seconds_and_changes_nothing(tmp_path):
    catalog = _imported(tmp_path, "cat")
    before = _catalog_state(catalog)
    started = time.perf_counter()
    done = _cli(catalog, "embed", "recs", "--ray", f"127.0.0.1:{_free_port()}")
    assert time.perf_counter() - started < 10
    assert done.exit_code == 1 and "cannot reach a Ray cluster at 127.0.0.1" in done.output
    assert "Traceback" not in done.output
    assert _catalog_state(catalog) == before


def test_an_address_that_accepts_but_never_answers_times_out(tmp_path):
    catalog = _imported(tmp_path, "cat")
    before = _catalog_state(catalog)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list = []
    threading.Thread(target=lambda: held.extend(server.accept() for _ in range(8)), daemon=True).start()
    try:
        started = time.perf_counter()
        done = _cli(catalog, "dedup", "recs", "--ray", f"127.0.0.1:{server.getsockname()[1]}",
                    env={"SYNTHCAT_RAY_CONNECT_TIMEOUT": "4"})
        took = time.perf_counter() - started
    finally:
        server.close()
    assert done.exit_code == 1 and "within 4 s" in done.output, done.output
    assert took < 12
    assert _catalog_state(catalog) == before


def test_bad_ray_addresses_are_refused_with_the_option_named(tmp_path):
    catalog = _imported(tmp_path, "cat")
    done = _cli(catalog, "embed", "recs", "--ray", "not-an-address")
    assert done.exit_code == 1 and "--ray" in done.output and "HOST:PORT" in done.output


def test_without_ray_installed_the_option_says_how_to_get_it(tmp_path, monkeypatch):
    import sys

    catalog = _imported(tmp_path, "cat")
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees when it is not installed
    done = _cli(catalog, "dedup", "recs", "--ray", "local")
    assert done.exit_code == 1
    lines = [ln for ln in done.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "pip install 'synthcat[ray]'" in lines[0], done.output
