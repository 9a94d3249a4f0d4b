"""Embedding backends on SciFact abstracts: speed against sentence-transformers, and retrieval quality.

    python benchmarks/embedders.py --corpus ../shared/datasets/scifact/corpus.jsonl.gz \
        --queries ../shared/datasets/scifact/queries.jsonl --qrels ../shared/datasets/scifact/qrels/train.tsv \
        [--limit N]   # the first N abstracts only (quick run; nDCG then counts only the kept documents)

In one run, on the abstracts as the catalog imports them (title + " " + text):
- baseline: ``SentenceTransformer(<bundled model>, device="cpu").encode(texts)`` with its defaults (fp32);
- fp32: synthcat's default embedder (``get_embedder()``: token-budget batches);
- int8: ``get_embedder("int8")`` (its one-off build, if the cache is empty, is timed separately).
Prints JSON: texts/s and the ratio to the baseline; cosine of int8 to fp32 vectors (mean, 5th
percentile, min) for abstracts and queries; vector-mode nDCG@10 and recall@100 (exact inner-product
search, as FAISS flat) with queries embedded by the same backend; single-query latency; and the
baseline re-timed on the first texts at the end, to show drift on a shared machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from search_beir import evaluate, load_qrels, load_queries, percentile  # noqa: E402


def load_corpus(path: Path, limit: int | None) -> tuple[list[str], list[str]]:
    """(ids, texts) with the text as the catalog builds it from --text-field title --text-field text."""
    opener = gzip.open if path.suffix == ".gz" else open
    ids, texts = [], []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            present = [row[k] for k in ("title", "text") if row.get(k) is not None]
            ids.append(str(row["_id"]))
            texts.append(" ".join(present))
            if limit and len(ids) >= limit:
                break
    return ids, texts


def timed(fn, texts: list[str]) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    vectors = np.asarray(fn(texts), dtype=np.float32)
    return vectors, time.perf_counter() - started


def cosine_stats(a: np.ndarray, b: np.ndarray) -> dict:
    cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {"mean": round(float(cos.mean()), 4), "p5": round(float(np.percentile(cos, 5)), 4),
            "min": round(float(cos.min()), 4)}


def retrieval(doc_ids: list[str], docs: np.ndarray, queries: list[tuple[str, str]], query_vecs: np.ndarray,
              qrels: dict[str, set[str]]) -> dict:
    """Exact inner-product search (what a FAISS flat IP index returns), top 100 per query."""
    scores = query_vecs @ docs.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :100]
    run = {qid: [doc_ids[j] for j in row] for (qid, _), row in zip(queries, top)}
    return evaluate(run, qrels)


def latency_ms(embed, texts: list[str]) -> dict:
    lat = []
    for text in texts:
        t0 = time.perf_counter()
        embed([text])
        lat.append((time.perf_counter() - t0) * 1000)
    return {"p50": round(percentile(lat, 50), 2), "p95": round(percentile(lat, 95), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--qrels", type=Path, required=True)
    parser.add_argument("--limit", type=int, help="embed only the first N abstracts (quick run)")
    parser.add_argument("--latency-queries", type=int, default=100, help="queries embedded one at a time")
    parser.add_argument("--drift-texts", type=int, default=400, help="abstracts the baseline re-times at the end")
    parser.add_argument("--int8-ops", action="store_true",
                        help="also time int8 with onnxruntime's per-operator threading (parallel='ops')")
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from catalog.embedders import bundled_model_path, get_embedder

    doc_ids, texts = load_corpus(args.corpus, args.limit)
    qrels = load_qrels(args.qrels)
    kept = set(doc_ids)
    qrels = {q: rel & kept for q, rel in qrels.items() if rel & kept}
    queries = load_queries(args.queries, set(qrels))
    query_texts = [t for _, t in queries]
    report: dict = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                    "torch_threads": torch.get_num_threads()},
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "corpus": {"path": str(args.corpus), "texts": len(texts), "limit": args.limit},
        "qrels": {"path": str(args.qrels), "queries": len(queries)},
    }

    baseline_model = SentenceTransformer(bundled_model_path(), device="cpu")
    fp32 = get_embedder()
    int8 = get_embedder("int8")
    started = time.perf_counter()
    int8.load()  # builds the int8 model if the cache has none: a one-off, not part of the throughput
    report["int8_load_s"] = round(time.perf_counter() - started, 1)
    report["int8_model"] = str(int8.model_dir)
    warm = texts[:16]
    baseline_model.encode(warm)
    fp32.embed(warm)
    int8.embed(warm)

    runs: dict[str, dict] = {}
    base_vecs, base_s = timed(baseline_model.encode, texts)
    runs["baseline_st_encode"] = {"seconds": round(base_s, 1)}
    fp32_vecs, fp32_s = timed(fp32.embed, texts)
    runs["fp32"] = {"id": fp32.id, "seconds": round(fp32_s, 1)}
    int8_vecs, int8_s = timed(int8.embed, texts)
    runs["int8"] = {"id": int8.id, "parallel": int8.parallel, "threads": int8.threads, "seconds": round(int8_s, 1)}
    timings = [("baseline_st_encode", base_s), ("fp32", fp32_s), ("int8", int8_s)]
    if args.int8_ops:
        from catalog.embedders_onnx import OnnxInt8Embedder

        ops = OnnxInt8Embedder(parallel="ops")
        ops.embed(warm)
        ops_vecs, ops_s = timed(ops.embed, texts)
        runs["int8_parallel_ops"] = {"parallel": "ops", "threads": ops.threads, "seconds": round(ops_s, 1),
                                     "max_abs_diff_to_int8": float(np.abs(ops_vecs - int8_vecs).max())}
        timings.append(("int8_parallel_ops", ops_s))
        ops.unload()
    drift_texts = texts[:args.drift_texts]
    drift_s = [timed(baseline_model.encode, drift_texts)[1] for _ in range(2)]  # twice: the machine's noise
    for name, secs in timings:
        runs[name]["texts_per_s"] = round(len(texts) / secs, 2)
        runs[name]["ratio_to_baseline"] = round(base_s / secs, 3)
    report["runs"] = runs
    report["baseline_retimed_at_end"] = {"texts": len(drift_texts),
                                         "texts_per_s": [round(len(drift_texts) / s, 2) for s in drift_s]}

    fp32_q = fp32.embed(query_texts)
    int8_q = int8.embed(query_texts)
    report["cosine_int8_to_fp32"] = {"abstracts": cosine_stats(int8_vecs, fp32_vecs),
                                     "queries": cosine_stats(int8_q, fp32_q)}
    report["cosine_fp32_to_baseline"] = {"abstracts": cosine_stats(fp32_vecs, base_vecs)}
    report["vector_search"] = {
        "baseline_st_encode": retrieval(doc_ids, base_vecs, queries,
                                        baseline_model.encode(query_texts, normalize_embeddings=True), qrels),
        "fp32": retrieval(doc_ids, fp32_vecs, queries, fp32_q, qrels),
        "int8": retrieval(doc_ids, int8_vecs, queries, int8_q, qrels),
    }
    report["vector_search"]["int8_minus_fp32_ndcg@10"] = round(
        report["vector_search"]["int8"]["ndcg@10"] - report["vector_search"]["fp32"]["ndcg@10"], 4)
    sample = query_texts[:args.latency_queries]
    report["single_query_latency_ms"] = {"fp32": latency_ms(fp32.embed, sample),
                                         "int8": latency_ms(int8.embed, sample)}
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    report["note"] = ("ratios compare runs in this process, one after another; baseline_retimed_at_end "
                      f"(median {statistics.median(report['baseline_retimed_at_end']['texts_per_s'])}/s) shows "
                      "how much the machine drifted meanwhile")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
