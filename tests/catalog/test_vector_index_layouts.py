"""FAISS layout by size: the choice, IVF-SQ8 recall against exact search (plain and filtered),
incremental adds, retraining after growth, and what `index status` reports.

The vectors are clustered random vectors under a registered test embedder: these tests are about
the index, and must control the vectors to compare against an exact search.
"""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from catalog import faiss_layouts as layouts
from catalog.embedders import Embedder, register_embedder
from catalog.vector_index import VectorIndex, index_status

DIM = 32


class TableEmbedder(Embedder):
    """Text "v{i}" -> row i of a fixed matrix of clustered unit vectors."""

    id = "test-table-32"
    dimension = DIM

    def __init__(self, n: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        centres = rng.standard_normal((60, DIM))
        v = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.standard_normal((n, DIM))
        self.table = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    def embed_batch(self, texts):
        return self.table[[int(t[1:]) for t in texts]]


@pytest.fixture
def table():
    embedder = TableEmbedder(9000)
    register_embedder(embedder)
    return embedder


def add(cat, embedder, name: str, lo: int, hi: int):
    cat.add_records(name, [{"text": f"v{i}"} for i in range(lo, hi)], embedder=embedder.id)


def exact_top(index: VectorIndex, queries: np.ndarray, k: int, allowed: np.ndarray | None = None):
    ids, vectors = zip(*index.iter_vectors())
    ids, vectors = np.concatenate(ids), np.concatenate(vectors)
    if allowed is not None:
        keep = np.isin(ids, allowed)
        ids, vectors = ids[keep], vectors[keep]
    scores = queries @ vectors.T
    return ids[np.argsort(-scores, axis=1)[:, :k]]


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact)]))


def queries_near(embedder: TableEmbedder, n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = embedder.table[rng.choice(3000, n, replace=False)] + 0.1 * rng.standard_normal((n, DIM))
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def test_layout_is_flat_up_to_the_threshold_then_ivf():
    assert layouts.choose_layout(100_000).kind == "flat"
    big = layouts.choose_layout(1_000_000)
    assert big.kind == "ivf" and big.nlist == 1024 and big.description == "IVF1024,SQ8(IP)"
    assert layouts.choose_layout(5000, flat_max=1000) == layouts.Layout("ivf", 64)
    # never more lists than the points can train (40 per list)
    for n in (2_000, 50_000, 300_000, 5_000_000):
        nlist = layouts.nlist_for(n)
        assert nlist == 64 or nlist * layouts.TRAIN_PER_LIST <= n
    assert layouts.nlist_for(10_000_000) > layouts.nlist_for(1_000_000)


def test_filtered_ivf_search_probes_more_lists(table, cat, monkeypatch):
    monkeypatch.setattr(layouts, "FLAT_MAX", 1000)
    add(cat, table, "a", 0, 3000)
    index = VectorIndex(cat, table.id).load()
    assert layouts.is_ivf(index)
    plain = layouts.search_parameters(index, nprobe=4)
    assert plain.nprobe == 4
    selector = faiss.IDSelectorBatch(np.arange(1, 301, dtype=np.int64))
    tenth = layouts.search_parameters(index, nprobe=4, selector=selector, admitted=300)
    assert tenth.nprobe == 40
    one = layouts.search_parameters(index, nprobe=4, selector=selector, admitted=1)
    assert one.nprobe == index.nlist


@pytest.mark.slow
def test_ivf_recall_against_exact_search_plain_and_filtered(table, cat, monkeypatch):
    monkeypatch.setattr(layouts, "FLAT_MAX", 1000)
    add(cat, table, "a", 0, 3000)
    vi = VectorIndex(cat, table.id)
    manifest = vi.read_manifest()
    assert manifest["index_type"] == "IVF64,SQ8(IP)" and manifest["trained_count"] == 3000
    assert manifest["nprobe"] == layouts.DEFAULT_NPROBE
    q = queries_near(table, 200)
    exact = exact_top(vi, q, 10)
    _, found = vi.search(q, 10)  # the default probes every one of the 64 lists: only SQ8 loses anything
    assert recall(found, exact) >= 0.97
    _, some = vi.search(q, 10, nprobe=8)
    assert recall(some, exact) >= 0.95
    _, one_list = vi.search(q, 10, nprobe=1)
    assert recall(one_list, exact) < recall(some, exact)  # the setting is honoured
    # a filter admitting a fifth of the records: 5x the probes, about the unfiltered recall
    allowed = np.sort(np.random.default_rng(5).choice(np.arange(1, 3001), 600, replace=False))
    exact_f = exact_top(vi, q, 10, allowed)
    _, found_f = vi.search(q, 10, allowed_ids=allowed, nprobe=4)
    assert set(found_f.ravel()) - {-1} <= set(allowed)
    assert recall(found_f, exact_f) >= 0.95
    _, single = vi.search(q[:3], 10, allowed_ids=allowed[:1])
    assert [row[0] for row in single] == [allowed[0]] * 3 and (single[:, 1:] == -1).all()


@pytest.mark.slow
def test_ivf_takes_adds_then_retrains_after_doubling(table, cat, monkeypatch):
    monkeypatch.setattr(layouts, "FLAT_MAX", 1000)
    add(cat, table, "a", 0, 800)
    vi = VectorIndex(cat, table.id)
    assert vi.read_manifest()["index_type"] == "IDMap2,Flat(IP)"
    add(cat, table, "b", 800, 2500)  # flat grown past the threshold: rebuilt as IVF
    first = vi.read_manifest()
    assert first["index_type"].startswith("IVF") and first["trained_count"] == 2500
    add(cat, table, "c", 2500, 4000)  # appended: same training
    second = vi.read_manifest()
    assert second["trained_count"] == 2500 and second["count"] == 4000
    status = index_status(cat)[0]
    assert status.in_sync and status.index_type == second["index_type"] and status.nprobe
    q = queries_near(table, 100)
    fresh = VectorIndex(cat, table.id)
    _, found = fresh.search(q, 10)
    assert recall(found, exact_top(fresh, q, 10)) >= 0.95
    add(cat, table, "d", 4000, 5200)  # past twice the trained size: retrained
    third = vi.read_manifest()
    assert third["trained_count"] == 5200 and third["count"] == 5200
    assert VectorIndex(cat, table.id).status().in_sync
