"""Local vs Ray-local: what computing embed and MinHash dedup on Ray costs on one small machine.

    python benchmarks/ray_overhead.py PAIRS.jsonl --n 100000 [--fp32-n 2000] [--cpus 2]

PAIRS.jsonl is a prompt/response file such as ``benchmarks/make_pairs.py`` writes. Its first N
pairs are imported once without vectors (not timed) and the catalog is copied, so each path
starts from the same state; then, in one run:

* **embed** with the ``static`` embedder: ``Catalog.embed`` locally vs with
  ``RayCompute.connect("local")`` (2 embedding actors on a 2-CPU machine), both writing through the
  catalog's writer in one transaction; the stored vectors are compared (max abs difference).
* **dedup** (exact + MinHash, no semantic stage): ``Catalog.dedup`` locally vs on Ray (sketches
  on Ray, decisions here); the removal sets are compared.
* the pure per-record compute without catalog or Ray (``static`` encode, MinHash sketch), which
  gives the per-core throughput behind the README's cluster estimate, and how much of the local
  MinHash dedup is that per-record part (the rest stays on the driver however many nodes).
* optionally fp32 MiniLM on ``--fp32-n`` texts: ``Embedder.embed`` vs ``RayCompute.embed_texts``.

Ray's start-up is timed on its own and the ratios are given with and without it. On 2 cores Ray
cannot be faster than the local path, which already uses both cores for the model; the figures
measure its overhead. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - start, 3)


def _prepare(src: Path, n: int, work: Path) -> tuple[Path, Path]:
    from catalog import open_catalog

    part = work / "pairs.jsonl"
    with open(src, encoding="utf-8") as fh, open(part, "w", encoding="utf-8") as out:
        for k, line in enumerate(fh):
            if k >= n:
                break
            out.write(line)
    local = work / "local"
    with open_catalog(local, create=True) as cat:
        cat.import_file(part, "pairs", kind="pairs", id_field="id", embed=False, pii="off")
    on_ray = work / "ray"
    shutil.copytree(local, on_ray)
    return local, on_ray


def _vectors(cat):
    import numpy as np

    rows = cat.con.execute("SELECT content_hash, vector FROM embeddings ORDER BY content_hash").fetchall()
    return [r[0] for r in rows], np.asarray([r[1] for r in rows], dtype=np.float32)


def _removals(cat) -> set:
    return set(cat.con.execute("SELECT record_id, stage, duplicate_of FROM dedup_removals").fetchall())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pairs", type=Path)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--fp32-n", type=int, default=0, help="also time fp32 MiniLM on this many texts")
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", type=Path, default=None, help="scratch directory (default: a temporary one)")
    args = ap.parse_args()

    import numpy as np

    from catalog import open_catalog
    from catalog.dedup.minhash import optimal_bands, sketch_texts
    from catalog.dedup.normalize import normalize_texts
    from catalog.embedders import get_embedder
    from catalog.ray_compute import RayCompute

    work = args.work or Path(tempfile.mkdtemp(prefix="ray-overhead-"))
    local, on_ray = _prepare(args.pairs, args.n, work)
    with open_catalog(local, read_only=True) as cat:
        texts = [r[0] for r in cat.con.execute("SELECT text FROM records ORDER BY record_id").fetchall()]
    result: dict = {"records": len(texts), "cpus": args.cpus}

    static = get_embedder("static")
    static.embed(texts[:100])  # model loaded (and built on first use) before any timing
    compute, result["ray_start_s"] = _timed(lambda: RayCompute.connect("local", num_cpus=args.cpus))
    try:
        with open_catalog(local) as cat:
            _, t_local = _timed(lambda: cat.embed("pairs", embedder="static"))
            hashes_l, vec_l = _vectors(cat)
        with open_catalog(on_ray) as cat:
            _, t_ray = _timed(lambda: cat.embed("pairs", embedder="static", compute=compute))
            hashes_r, vec_r = _vectors(cat)
        result["embed_static"] = {
            "local_s": t_local, "ray_s": t_ray, "ray_over_local": round(t_ray / t_local, 2),
            "ray_plus_start_over_local": round((t_ray + result["ray_start_s"]) / t_local, 2),
            "same_hashes": hashes_l == hashes_r,
            "max_abs_diff": float(np.abs(vec_l - vec_r).max()) if hashes_l == hashes_r else None}

        options = {"semantic": False}
        with open_catalog(local) as cat:
            rep_l, t_local = _timed(lambda: cat.dedup("pairs", **options))
            gone_l = _removals(cat)
        with open_catalog(on_ray) as cat:
            rep_r, t_ray = _timed(lambda: cat.dedup("pairs", **options, compute=compute))
            gone_r = _removals(cat)
        result["dedup_minhash"] = {
            "local_s": t_local, "ray_s": t_ray, "ray_over_local": round(t_ray / t_local, 2),
            "removed": rep_l.removed, "counts": rep_l.counts, "same_removals": gone_l == gone_r}

        # the per-record compute alone, locally: what scales out with more cores
        unique = list(dict.fromkeys(texts))
        _, t_encode = _timed(lambda: static.embed(unique))
        blind = normalize_texts(texts, punctuation_blind=True)
        bands, rows = optimal_bands(0.5, 128)
        _, t_sketch = _timed(lambda: sketch_texts(blind, ngram=3, unit="word", num_perm=128, seed=1,
                                                  bands=bands, rows=rows))
        result["per_record_compute_local"] = {
            "static_encode_s": t_encode, "static_texts_per_s": round(len(unique) / t_encode),
            "minhash_sketch_s": t_sketch, "minhash_texts_per_s": round(len(texts) / t_sketch),
            "note": f"whole-text sketches of {len(texts)} records on {args.cpus} cores; the dedup run "
                    "sketches prompts only (pairs dedup on prompt and response)"}

        if args.fp32_n:
            minilm = get_embedder(None)
            sample = unique[:args.fp32_n]
            minilm.embed(sample[:16])
            v_local, t_local = _timed(lambda: minilm.embed(sample))
            v_ray, t_ray = _timed(lambda: compute.embed_texts(minilm, sample))
            result["embed_fp32"] = {"texts": len(sample), "local_s": t_local, "ray_s": t_ray,
                                    "ray_over_local": round(t_ray / t_local, 2),
                                    "local_texts_per_s": round(len(sample) / t_local),
                                    "max_abs_diff": float(np.abs(v_local - v_ray).max())}
    finally:
        compute.close()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
