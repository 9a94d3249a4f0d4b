"""Ingest benchmark: import speed without embedding, and embedding through the catalog vs plain encode.

    python benchmarks/ingest.py --rows 1000000 --scifact ../shared/datasets/scifact/corpus.jsonl.gz

Prints one JSON object. Baselines measured in the same run:
- import: rows/s of `synthcat import --no-embed` on generated prompt/response pairs (target >= 100k rows/s);
- embedding: SciFact texts through the catalog versus `SentenceTransformer.encode` on the same texts
  (ratio = plain seconds / catalog seconds; target >= 1.0).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TOPICS = ["router", "billing", "outage", "wifi", "speed", "installation", "moving", "account"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_pairs(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(rows):
            topic = rng.choice(TOPICS)
            fh.write(json.dumps({
                "id": f"q{i}", "category": topic,
                "prompt": f"Customer {rng.randint(1, 10**6)} asks about {topic}: case {i} needs help today.",
                "response": f"Thanks for reaching out about {topic}. Step {rng.randint(1, 9)}: restart and wait "
                            f"{rng.randint(1, 120)} seconds, then check the light on port {rng.randint(1, 4)}.",
            }) + "\n")


def bench_import(rows: int, workdir: Path, seed: int) -> dict:
    from catalog import open_catalog

    data = workdir / "pairs.jsonl"
    make_pairs(data, rows, seed)
    start = time.perf_counter()
    with open_catalog(workdir / "cat-import", create=True) as cat:
        result = cat.import_file(data, "bench", origin="synthetic", id_field="id", embed=False)
    seconds = time.perf_counter() - start
    return {"rows": result.rows, "file_mb": round(data.stat().st_size / 2**20, 1), "seconds": round(seconds, 2),
            "rows_per_s": round(result.rows / seconds), "target_rows_per_s": 100_000,
            "peak_rss_mb_after_import": round(peak_rss_mb())}


def bench_embedding(scifact: Path, workdir: Path, limit: int | None) -> dict:
    from sentence_transformers import SentenceTransformer

    from catalog import open_catalog
    from catalog.embedders import bundled_model_path, get_embedder

    with gzip.open(scifact, "rt", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    if limit:
        docs = docs[:limit]
    subset = workdir / "scifact.jsonl"
    with open(subset, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(d) + "\n" for d in docs)
    texts = [f"{d['title']} {d['text']}" for d in docs]
    model = SentenceTransformer(bundled_model_path(), device="cpu")
    model.encode(texts[:32])  # warm-up both paths equally
    get_embedder().embed(texts[:32])
    start = time.perf_counter()
    model.encode(texts, normalize_embeddings=True)
    plain = time.perf_counter() - start
    start = time.perf_counter()
    with open_catalog(workdir / "cat-embed", create=True) as cat:
        cat.import_file(subset, "scifact", id_field="_id", text_fields=["title", "text"], embed=True)
    catalog_s = time.perf_counter() - start
    return {"docs": len(texts), "plain_encode_s": round(plain, 2), "plain_docs_per_s": round(len(texts) / plain, 1),
            "catalog_import_and_embed_s": round(catalog_s, 2),
            "catalog_docs_per_s": round(len(texts) / catalog_s, 1),
            "ratio_plain_over_catalog": round(plain / catalog_s, 3), "target_ratio": 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scifact", type=Path, help="path to the BEIR SciFact corpus.jsonl.gz")
    parser.add_argument("--scifact-limit", type=int, default=None, help="embed only the first N documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="synthcat-ingest-"))
    report: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                "python": platform.python_version()}}
    try:
        if not args.skip_import:
            report["import_no_embed"] = bench_import(args.rows, workdir, args.seed)
        if args.scifact:
            report["embedding"] = bench_embedding(args.scifact, workdir, args.scifact_limit)
        report["peak_rss_mb"] = round(peak_rss_mb())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
