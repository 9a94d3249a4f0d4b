"""Search at scale: build time, memory and query latency at 100k and 1M generated records.

    python benchmarks/search_scale.py --sizes 100000 1000000

Records are generated short support texts (12 words from a 37-word vocabulary plus a case number:
a worst case for BM25, every query term occurs in about a third of the records); their vectors are
clustered unit vectors (384-d: 2,000 random centres plus noise, so that an approximate index faces
neighbourhoods like real embeddings have, not uniform noise) written straight into the catalog's
embeddings table under a registered test embedder, because embedding a million texts with MiniLM
takes hours on 2 cores. Recall@10 of the FAISS index against exact search is measured on 200
sampled records used as queries. Everything else is the real path: import,
DuckDB BM25 index build, FAISS index build (Flat up to 200k vectors, HNSW above), and the public
Searcher for keyword, vector and hybrid queries. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = ("router wifi billing refund outage fibre speed modem password engineer install move contract "
         "charge signal upstairs reboot light cable phone account email invoice discount static address "
         "port console mesh booster storm line fault ticket").split()
DIM = 384


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RandomEmbedder:
    """Unit vectors from a seeded generator: stands in for MiniLM at scale."""

    id = "random-384"
    dimension = DIM
    normalized = True

    def embed(self, texts, progress=None):
        rng = np.random.default_rng(abs(hash(tuple(texts))) % (2**32))
        v = rng.standard_normal((len(texts), DIM)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def build(directory: Path, n: int, seed: int) -> dict:
    from catalog import open_catalog
    from catalog.embedders import _CACHE
    from catalog.embedding_store import vectors_to_arrow
    from catalog.search import keyword
    from catalog.vector_index import VectorIndex

    _CACHE[RandomEmbedder.id] = RandomEmbedder()
    rng = random.Random(seed)
    data = directory / "texts.jsonl"
    with open(data, "w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": i, "text": " ".join(rng.choices(WORDS, k=12)) + f" case {i}"}) + "\n")
    out: dict = {"records": n}
    with open_catalog(directory / "cat", create=True) as cat:
        t0 = time.perf_counter()
        cat.import_file(data, "scale", id_field="id", embed=False)
        out["import_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        hashes = cat.con.execute("SELECT content_hash FROM records ORDER BY record_id").to_arrow_table()
        vrng = np.random.default_rng(seed)
        centres = vrng.standard_normal((2000, DIM)).astype(np.float32)
        with cat.transaction():
            cat.con.execute("INSERT INTO embedders VALUES (?, ?, true, now())", [RandomEmbedder.id, DIM])
            for start in range(0, n, 100_000):
                part = hashes.slice(start, 100_000)
                v = centres[vrng.integers(0, len(centres), part.num_rows)]
                v += 0.6 * vrng.standard_normal((part.num_rows, DIM)).astype(np.float32)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                import pyarrow as pa

                cat.con.register("_v", pa.table({"h": part.column(0), "v": vectors_to_arrow(v)}))
                cat.con.execute("INSERT INTO embeddings SELECT ?, h, v FROM _v", [RandomEmbedder.id])
                cat.con.unregister("_v")
            cat.con.execute("UPDATE datasets SET embedder = ?", [RandomEmbedder.id])
            cat.touch_vectors(RandomEmbedder.id)
        out["store_vectors_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        out["keyword_index_build_s"] = round(keyword.rebuild(cat), 2)
        t0 = time.perf_counter()
        index = VectorIndex(cat, RandomEmbedder.id)
        index.rebuild()
        out["faiss_build_s"] = round(time.perf_counter() - t0, 2)
        out["faiss_index_type"] = index.read_manifest()["index_type"]
        out["vector_recall_at_10"] = vector_recall(index, seed)
    out["db_mb"] = round((directory / "cat" / "catalog.duckdb").stat().st_size / 2**20, 1)
    return out


def vector_recall(index, seed: int, n_queries: int = 200) -> float:
    """Share of the exact top 10 (flat inner product over every vector) that the index returns."""
    ids, vectors = [], []
    for chunk_ids, chunk in index.iter_vectors():
        ids.append(chunk_ids)
        vectors.append(chunk)
    all_ids, all_vectors = np.concatenate(ids), np.concatenate(vectors)
    pick = np.random.default_rng(seed + 2).choice(len(all_ids), n_queries, replace=False)
    queries = all_vectors[pick] + 0.05 * np.random.default_rng(seed + 3).standard_normal(
        (n_queries, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = all_ids[np.argpartition(-(queries @ all_vectors.T), 10, axis=1)[:, :10]]
    _, found = index.search(queries, 10)
    return round(float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, found)])), 4)


def latency(directory: Path, queries: list[str]) -> dict:
    from catalog import open_catalog
    from catalog.search.api import Searcher

    out = {}
    with open_catalog(directory / "cat", read_only=True) as cat:
        for mode in ("keyword", "vector", "hybrid"):
            t0 = time.perf_counter()
            s = Searcher(cat, mode=mode)
            setup = time.perf_counter() - t0
            times = []
            for q in queries:
                t0 = time.perf_counter()
                s.run([q], k=10)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            out[mode] = {"setup_s": round(setup, 2), "p50_ms": round(statistics.median(times), 2),
                         "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2)}
        filtered = Searcher(cat, mode="hybrid", filters=__import__("catalog.search", fromlist=["SearchFilters"])
                            .SearchFilters(field_equals={"id": "7"}))
        times = []
        for q in queries[:20]:
            t0 = time.perf_counter()
            filtered.run([q], k=10)
            times.append((time.perf_counter() - t0) * 1000)
        out["hybrid_with_field_filter_p50_ms"] = round(statistics.median(times), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed + 1)
    queries = [" ".join(rng.choices(WORDS, k=4)) for _ in range(args.queries)]
    report: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()}, "runs": []}
    for n in args.sizes:
        directory = Path(tempfile.mkdtemp(prefix=f"synthcat-scale-{n}-"))
        try:
            run = build(directory, n, args.seed)
            run.update(latency(directory, queries))
            run["peak_rss_mb"] = round(rss_mb())
            report["runs"].append(run)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
