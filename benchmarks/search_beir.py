"""Search quality and latency on a BEIR-format set (e.g. SciFact), through the catalog.

    python benchmarks/search_beir.py --corpus ../shared/datasets/scifact/corpus.jsonl.gz \
        --queries ../shared/datasets/scifact/queries.jsonl --qrels ../shared/datasets/scifact/qrels/train.tsv \
        [--catalog DIR]   # reuse a catalog that already holds the corpus (embedding takes minutes)
        [--embedder static --speed-sample 400]  # another embedder; its speed vs plain fp32 encode

Prints JSON: per mode (keyword = DuckDB BM25, vector = MiniLM + FAISS, hybrid = the defaults)
nDCG@10, recall@100 and per-query latency p50/p95 with models loaded; a sweep of the fusion
settings (RRF k and candidate depth; convex alpha) on the same candidate lists; and the time the
keyword index took to build. Baselines in the same run: the single retrievers.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATASET = "beir-corpus"


def load_qrels(path: Path) -> dict[str, set[str]]:
    qrels: dict[str, set[str]] = {}
    with open(path, encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], set()).add(row["corpus-id"])
    return qrels


def load_queries(path: Path, wanted: set[str]) -> list[tuple[str, str]]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if str(row["_id"]) in wanted:
                out.append((str(row["_id"]), row["text"]))
    return out


def ndcg_at(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: list[str], relevant: set[str], k: int = 100) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def evaluate(runs: dict[str, list[str]], qrels: dict[str, set[str]]) -> dict:
    nd = [ndcg_at(runs[q], qrels[q]) for q in runs]
    rc = [recall_at(runs[q], qrels[q]) for q in runs]
    return {"ndcg@10": round(statistics.mean(nd), 4), "recall@100": round(statistics.mean(rc), 4)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def embed_speed(cat, embedder_name: str | None, sample: int) -> dict:
    """The catalog's embedder vs plain ``SentenceTransformer.encode`` (bundled MiniLM, fp32), same texts."""
    from sentence_transformers import SentenceTransformer

    from catalog.embedders import bundled_model_path, get_embedder

    texts = [r[0] for r in cat.con.execute("SELECT text FROM records ORDER BY record_id LIMIT ?",
                                           [sample]).fetchall()]
    embedder = get_embedder(embedder_name)
    embedder.embed(texts[:8])
    t0 = time.perf_counter()
    embedder.embed(texts)
    ours = len(texts) / (time.perf_counter() - t0)
    model = SentenceTransformer(bundled_model_path(), device="cpu")
    model.encode(texts[:8])
    t0 = time.perf_counter()
    model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    fp32 = len(texts) / (time.perf_counter() - t0)
    return {"texts": len(texts), "embedder_texts_per_s": round(ours, 1), "fp32_encode_texts_per_s": round(fp32, 1),
            "ratio": round(ours / fp32, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--qrels", type=Path, required=True)
    parser.add_argument("--catalog", type=Path, help="catalog directory to build or reuse")
    parser.add_argument("--latency-queries", type=int, default=200, help="queries timed one by one per mode")
    parser.add_argument("--embedder", help="embedder for the import (default: the bundled MiniLM)")
    parser.add_argument("--speed-sample", type=int, default=0,
                        help="also time the embedder against plain sentence-transformers encode (fp32 MiniLM) "
                             "on this many corpus texts")
    args = parser.parse_args()

    from catalog import open_catalog
    from catalog.search import hybrid, keyword
    from catalog.search.api import DEFAULT_ALPHA, DEFAULT_DEPTH, DEFAULT_FUSION, Searcher

    directory = args.catalog or Path(tempfile.mkdtemp(prefix="synthcat-beir-")) / "cat"
    report: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                    "qrels": str(args.qrels)}
    with open_catalog(directory, create=True) as cat:
        if not cat.has_dataset(DATASET):
            started = time.perf_counter()
            result = cat.import_file(args.corpus, DATASET, origin="real", id_field="_id",
                                     text_fields=["title", "text"], embedder=args.embedder)
            report["import"] = {"docs": result.rows, "seconds_with_embedding": round(time.perf_counter() - started, 1)}
        report["embedder"] = cat.dataset(DATASET).embedder
        report["keyword_index_build_s"] = round(keyword.rebuild(cat), 3)
        if args.speed_sample:
            report["embed_speed"] = embed_speed(cat, args.embedder, args.speed_sample)
        qrels = load_qrels(args.qrels)
        queries = load_queries(args.queries, set(qrels))
        texts = [t for _, t in queries]
        report["queries"] = len(queries)

        # One pass of each retriever at depth 200 gives the candidate lists for every fusion setting.
        searcher = Searcher(cat, mode="hybrid")
        ext = dict(cat.con.execute("SELECT record_id, external_id FROM records").fetchall())
        depth = 200
        query_vectors = searcher.embedder.embed(texts)
        from catalog.search.vector import vector_search

        vec_lists = vector_search(searcher.index, query_vectors, depth, searcher.allowed)
        kw_lists = [searcher.bm25.search(searcher.bm25.analyse(t), depth) for t in texts]

        def as_run(lists: list[list[tuple[int, float]]]) -> dict[str, list[str]]:
            return {qid: [ext[d] for d, _ in lst] for (qid, _), lst in zip(queries, lists)}

        def fused(fn) -> dict[str, list[str]]:
            out = {}
            for (qid, _), kw, vec in zip(queries, kw_lists, vec_lists):
                scores = fn(kw, vec)
                out[qid] = [ext[d] for d, _ in sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:100]]
            return out

        modes = {"keyword": evaluate(as_run(kw_lists), qrels), "vector": evaluate(as_run(vec_lists), qrels)}
        sweep = []
        for d in (20, 50, 100, 200):
            for rk in (10, 30, 60, 100):
                res = evaluate(fused(lambda kw, vec, d=d, rk=rk: hybrid.rrf({"k": kw[:d], "v": vec[:d]}, rk)), qrels)
                sweep.append({"fusion": "rrf", "depth": d, "rrf_k": rk, **res})
            for a in [i / 10 for i in range(11)]:
                res = evaluate(fused(lambda kw, vec, d=d, a=a: hybrid.convex(kw[:d], vec[:d], a)), qrels)
                sweep.append({"fusion": "convex", "depth": d, "alpha": a, **res})
        report["sweep_best"] = sorted(sweep, key=lambda r: -r["ndcg@10"])[:8]
        report["sweep_rrf_k60_depth100"] = next(r for r in sweep if r["fusion"] == "rrf" and r["depth"] == 100
                                                and r["rrf_k"] == 60)
        defaults = {"fusion": DEFAULT_FUSION, "depth": DEFAULT_DEPTH, "alpha": DEFAULT_ALPHA}
        report["hybrid_defaults"] = defaults

        # The shipped defaults, through the public path, with latency per single query.
        for mode in ("keyword", "vector", "hybrid"):
            s = Searcher(cat, mode=mode)
            results = s.run(texts, k=100)
            run = {qid: [h.id for h in hits] for (qid, _), hits in zip(queries, results)}
            modes[mode + ("" if mode == "hybrid" else "_public")] = evaluate(run, qrels)
            lat = []
            for text in texts[:args.latency_queries]:
                t0 = time.perf_counter()
                s.run([text], k=10)
                lat.append((time.perf_counter() - t0) * 1000)
            modes[mode + ("" if mode == "hybrid" else "_public")].update(
                {"latency_ms_p50": round(percentile(lat, 50), 2), "latency_ms_p95": round(percentile(lat, 95), 2)})
        report["modes"] = modes
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
