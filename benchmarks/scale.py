"""Search at scale on real embeddings: import with the static embedder, index builds, recall, latency, RSS.

    python benchmarks/make_pairs.py PAIRS.jsonl --rows 1000000
    python benchmarks/make_pairs.py QUERIES.jsonl --rows 300 --seed 99 --prompts-only
    python benchmarks/scale.py --pairs PAIRS.jsonl --queries QUERIES.jsonl --sizes 100000 1000000 \
        [--workdir DIR] [--nprobe 4 8 16 32 64] [--save-vectors DIR] [--speed-sample 2000]

For each size N, the first N pairs go through the real import path (``import_file`` with
``--embedder static``: embedding, DuckDB writes and the vector index built after commit), then the
keyword and vector indexes are rebuilt alone and timed. A separate process opens the catalog
read-only and searches through the public ``Searcher`` (k = 10, the held-out queries one at a time:
keyword, vector, hybrid, hybrid with a field filter, and vector-only at each ``--nprobe`` value); its
peak RSS (ru_maxrss) is what a searching process costs. Recall@10 of the vector index is measured
afterwards in this process against an exact inner-product search over every stored vector, on the
searching process's own query vectors and answers (plain and filtered). Also: the static embedder's
throughput on the pair texts and, on a small sample, plain sentence-transformers ``encode`` with
the bundled MiniLM (fp32) on the same texts, as a ratio. Prints JSON.

Peak RSS is the worker's own high-water mark (VmHWM in /proc/self/status). ``ru_maxrss`` is not:
Linux carries the parent's high-water mark across fork and exec, so a worker started by a parent
that had just imported 1M records reported the parent's 6 GB (benchmarks/RESULTS.md).

To re-measure search on a catalog built earlier, against another checkout of the code in the same
run (its own ``benchmarks/scale.py`` worker, alternating with this one ``--rounds`` times):

    python benchmarks/scale.py --existing CATALOG_DIR --queries QUERIES.jsonl \
        [--baseline-checkout DIR] [--rounds 2] [--n-queries 200]

The older benchmarks/search_scale.py uses random clustered vectors instead of embeddings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

FILTER = {"domain": "bank"}  # a field filter admitting about 1/20 of the records


def peak_rss_mb() -> int:
    """This process's own peak resident set (VmHWM), not the ru_maxrss it may inherit from its parent."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def read_queries(path: Path, limit: int) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh][:limit]


def head(src: Path, dst: Path, n: int) -> int:
    written = 0
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for line in fin:
            if written == n:
                break
            fout.write(line)
            written += 1
    return written


# ----------------------------------------------------------------------------- searching process
def search_worker(args: argparse.Namespace) -> None:
    """Runs in its own process: open read-only, search, report latency and ru_maxrss."""
    from catalog import open_catalog
    from catalog.search import SearchFilters
    from catalog.search.api import Searcher
    from catalog.search.vector import vector_search

    queries = read_queries(args.queries, args.n_queries)
    out: dict = {}
    saved: dict[str, np.ndarray] = {}

    def timed(searcher, texts):
        searcher.run(texts[:1], k=10)  # warm-up: first-call costs are setup, not latency
        times = []
        for q in texts:
            t0 = time.perf_counter()
            searcher.run([q], k=10)
            times.append((time.perf_counter() - t0) * 1000)
        return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2)}

    with open_catalog(args.catalog, read_only=True) as cat:
        for mode in ("hybrid", "keyword", "vector"):
            t0 = time.perf_counter()
            s = Searcher(cat, mode=mode)
            setup = round(time.perf_counter() - t0, 2)
            out[mode] = {"setup_s": setup, **timed(s, queries)}
            if mode == "hybrid":  # the first searcher: what one hybrid-searching process holds at its peak
                out["peak_rss_mb_after_hybrid"] = peak_rss_mb()
                out["ru_maxrss_mb_after_hybrid"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            if mode == "vector":
                vecs = s.embedder.embed(queries)
                saved["queries"] = vecs
                for nprobe in args.nprobe:
                    times, found = [], []
                    for v in vecs:
                        t0 = time.perf_counter()
                        _, ids = s.index.search(v[None, :], 10, nprobe=nprobe)
                        times.append((time.perf_counter() - t0) * 1000)
                        found.append(ids[0])
                    saved[f"ids_nprobe_{nprobe}"] = np.array(found)
                    out.setdefault("faiss_by_nprobe", []).append(
                        {"nprobe": nprobe, "faiss_p50_ms": round(statistics.median(times), 3),
                         "faiss_p95_ms": round(percentile(times, 95), 3)})
                lists = vector_search(s.index, vecs, 10, None)
                saved["ids_default"] = np.array([[d for d, _ in row] + [-1] * (10 - len(row)) for row in lists])
                out["default_nprobe"] = s.index.default_nprobe()
                out["index_type"] = s.index.read_manifest()["index_type"]
            del s
        t0 = time.perf_counter()
        filtered = Searcher(cat, mode="hybrid", filters=SearchFilters(field_equals=FILTER))
        out["hybrid_filtered"] = {"setup_s": round(time.perf_counter() - t0, 2), **timed(filtered, queries)}
        allowed = filtered.allowed
        lists = vector_search(filtered.index, saved["queries"], 10, allowed)
        saved["ids_filtered"] = np.array([[d for d, _ in row] + [-1] * (10 - len(row)) for row in lists])
        saved["allowed"] = np.asarray(allowed if allowed is not None else [], dtype=np.int64)
        out["filter_admits"] = None if allowed is None else int(len(allowed))
    out["peak_rss_mb"] = peak_rss_mb()
    np.savez(args.worker_out, **saved)
    print(json.dumps(out))


# ------------------------------------------------------------------------------------ main side
def exact_recall(index, saved: dict, keys: list[str]) -> dict:
    """Recall@10 of the saved answers against exact inner-product search over every stored vector,
    streaming the vectors from DuckDB in chunks (the running top 10 is kept per query)."""
    q = saved["queries"]
    allowed = saved["allowed"]
    best = {"all": (np.full((len(q), 10), -np.inf), np.full((len(q), 10), -1)),
            "filtered": (np.full((len(q), 10), -np.inf), np.full((len(q), 10), -1))}
    for ids, vectors in index.iter_vectors():
        scores = q @ vectors.T
        for name in best:
            s, i = scores, ids
            if name == "filtered":
                if len(allowed) == 0:
                    continue
                keep = np.isin(ids, allowed)
                s, i = scores[:, keep], ids[keep]
            if s.shape[1] == 0:
                continue
            top_s, top_i = best[name]
            cand_s = np.concatenate([top_s, s], axis=1)
            cand_i = np.concatenate([top_i, np.broadcast_to(i, s.shape)], axis=1)
            order = np.argsort(-cand_s, axis=1)[:, :10]
            best[name] = (np.take_along_axis(cand_s, order, 1), np.take_along_axis(cand_i, order, 1))
    out = {}
    for key in keys:
        truth = best["filtered" if key == "ids_filtered" else "all"][1]
        found = saved[key]
        out[key.replace("ids_", "recall_at_10_")] = round(float(np.mean(
            [len(set(f) & set(t)) / max(1, len(set(t) - {-1})) for f, t in zip(found, truth)])), 4)
    return out


def embed_speed(texts: list[str], sample: int) -> dict:
    """Static embedder texts/s on ``texts``; fp32 MiniLM encode on a sample of them, same run."""
    from sentence_transformers import SentenceTransformer

    from catalog.embedders import bundled_model_path, get_embedder

    static = get_embedder("static")
    static.embed(texts[:100])
    t0 = time.perf_counter()
    static.embed(texts)
    static_rate = len(texts) / (time.perf_counter() - t0)
    part = texts[:sample]
    t0 = time.perf_counter()
    static.embed(part)
    static_part = len(part) / (time.perf_counter() - t0)
    model = SentenceTransformer(bundled_model_path(), device="cpu")
    model.encode(part[:32])
    t0 = time.perf_counter()
    model.encode(part, convert_to_numpy=True, normalize_embeddings=True)
    fp32_rate = len(part) / (time.perf_counter() - t0)
    return {"static_texts_per_s": round(static_rate), "texts": len(texts),
            "sample": len(part), "static_texts_per_s_on_sample": round(static_part),
            "fp32_encode_texts_per_s_on_sample": round(fp32_rate, 1),
            "static_over_fp32": round(static_part / fp32_rate, 1)}


def run_size(args: argparse.Namespace, n: int, queries_path: Path) -> dict:
    from catalog import open_catalog
    from catalog.search import keyword
    from catalog.vector_index import VectorIndex

    work = args.workdir / f"n{n}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    data = work / "pairs.jsonl"
    rows = head(args.pairs, data, n)
    out: dict = {"records": rows}
    with open_catalog(work / "cat", create=True) as cat:
        t0 = time.perf_counter()
        result = cat.import_file(data, "pairs", id_field="id", embedder="static")
        out["import_embed_index_s"] = round(time.perf_counter() - t0, 1)
        out["embedded"] = result.embedded
        embedder_id = cat.dataset("pairs").embedder
        out["embedder"] = embedder_id
        out["keyword_index_build_s"] = round(keyword.rebuild(cat), 1)
        index = VectorIndex(cat, embedder_id)
        t0 = time.perf_counter()
        index.rebuild()
        out["vector_index_build_s"] = round(time.perf_counter() - t0, 1)
        manifest = index.read_manifest()
        out["vector_index"] = {k: manifest.get(k) for k in ("index_type", "nlist", "nprobe", "dimension")}
        out["vector_index_mb"] = round(index.index_path.stat().st_size / 2**20, 1)
        if args.save_vectors:
            ids, vectors = zip(*index.iter_vectors())
            args.save_vectors.mkdir(parents=True, exist_ok=True)
            np.save(args.save_vectors / f"ids-{n}.npy", np.concatenate(ids))
            np.save(args.save_vectors / f"vectors-{n}.npy", np.concatenate(vectors))
    out["db_mb"] = round((work / "cat" / "catalog.duckdb").stat().st_size / 2**20, 1)
    worker_out = work / "worker.npz"
    cmd = [sys.executable, __file__, "--search-worker", "--catalog", str(work / "cat"), "--queries",
           str(queries_path), "--n-queries", str(args.n_queries), "--worker-out", str(worker_out),
           "--nprobe", *map(str, args.nprobe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"search worker failed:\n{proc.stderr[-3000:]}")
    out["search"] = json.loads(proc.stdout.strip().splitlines()[-1])
    saved = dict(np.load(worker_out))
    with open_catalog(work / "cat", read_only=True) as cat:
        index = VectorIndex(cat, embedder_id)
        keys = ["ids_default", "ids_filtered", *[f"ids_nprobe_{p}" for p in args.nprobe]]
        out["recall"] = exact_recall(index, saved, keys)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return out


def run_existing(args: argparse.Namespace) -> dict:
    """Search an existing catalog with this code and, alternating, with ``--baseline-checkout``'s."""
    checkouts = {"this": Path(__file__).resolve().parent.parent}
    if args.baseline_checkout:
        checkouts["baseline"] = args.baseline_checkout.resolve()
    runs: dict[str, list] = {name: [] for name in checkouts}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name, root in checkouts.items():
                cmd = [sys.executable, str(root / "benchmarks" / "scale.py"), "--search-worker", "--catalog",
                       str(args.existing), "--queries", str(args.queries), "--n-queries", str(args.n_queries),
                       "--worker-out", str(Path(tmp) / f"{name}.npz"), "--nprobe", *map(str, args.nprobe)]
                env = {**os.environ, "PYTHONPATH": str(root)}
                load = os.getloadavg()
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
                if proc.returncode != 0:
                    raise SystemExit(f"{name} search worker failed:\n{proc.stderr[-3000:]}")
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                runs[name].append({"load_avg_before": load, **result})
    out: dict = {"catalog": str(args.existing), "runs": runs}
    if "baseline" in runs:
        def p50s(name, mode):
            return [r[mode]["p50_ms"] for r in runs[name]]
        out["baseline_over_this_p50"] = {
            mode: round(statistics.median(p50s("baseline", mode)) / statistics.median(p50s("this", mode)), 2)
            for mode in ("hybrid", "keyword", "vector", "hybrid_filtered")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--n-queries", type=int, default=300)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--workdir", type=Path, help="where catalogs are built (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the catalogs")
    parser.add_argument("--save-vectors", type=Path, help="also save ids/vectors .npy here, for sweeps")
    parser.add_argument("--speed-sample", type=int, default=2000, help="texts for the fp32 comparison")
    parser.add_argument("--speed-texts", type=int, default=100_000, help="texts for static throughput")
    parser.add_argument("--flat-max", type=int, help="override the flat/IVF threshold (exploration)")
    parser.add_argument("--existing", type=Path, help="only search this catalog, built earlier")
    parser.add_argument("--baseline-checkout", type=Path, help="with --existing: also search with this checkout")
    parser.add_argument("--rounds", type=int, default=1, help="with --existing: worker runs per checkout")
    parser.add_argument("--search-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--catalog", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.search_worker:
        search_worker(args)
        return
    if args.existing:
        report = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                              "load_avg_start": os.getloadavg()}, **run_existing(args)}
        report["machine"]["load_avg_end"] = os.getloadavg()
        print(json.dumps(report, indent=2))
        return
    if args.pairs is None:
        parser.error("--pairs is required")
    if args.flat_max is not None:
        from catalog import faiss_layouts

        faiss_layouts.FLAT_MAX = args.flat_max
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="synthcat-scale-"))
    report: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                "load_avg_start": os.getloadavg()}, "runs": []}
    texts = []
    with open(args.pairs, encoding="utf-8") as fh:
        for line in fh:
            if len(texts) == args.speed_texts:
                break
            row = json.loads(line)
            texts.append(f"{row['prompt']}\n\n{row['response']}")  # the text a pair record stores
    report["embed_speed"] = embed_speed(texts, args.speed_sample)
    for n in args.sizes:
        report["runs"].append(run_size(args, n, args.queries))
    report["machine"]["load_avg_end"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
