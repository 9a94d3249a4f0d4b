"""Speed of the dedup engine on generated data, against a datasketch baseline in the same run.

Text part: ``--n`` short generated texts (8-20 words from a Zipf-distributed synthetic
vocabulary), of which ``--dup-rate`` are planted copies of an earlier text -- half re-cased /
re-spaced / re-punctuated copies (exact stage), half with one word substituted or appended
(near-duplicates). Timed: the engine's exact + MinHash cascade (``find_duplicates(...,
semantic=False)``), and the MinHash stage alone on the same texts. Baseline: a straightforward
datasketch pipeline with the same shingles, ``num_perm``, seed and LSH threshold (hence the same
bands/rows) -- one ``datasketch.MinHash`` per text, ``MinHashLSH.query`` then ``insert`` per text,
candidate pairs verified by Jaccard of Python sets. If ``--baseline-n`` < n the baseline runs on
the first ``baseline-n`` texts and its time is extrapolated linearly (stated in the output; LSH
query cost grows slightly with the index, so linear extrapolation favours the baseline).

Vector part: ``--vec-n`` synthetic 384-d vectors (points around ``--vec-n/50`` cluster centres,
with ``--dup-rate`` planted near-copies at cosine ~0.95-0.99) through the semantic stage (IVF).
Recall of the IVF search is measured against exact flat search for a sample of queries.

Peak memory is the process's maximum resident set size (``resource.getrusage``), reported after
each part; the machine is shared, so times are noisy.

    python benchmarks/dedup_speed.py --n 1000000 --dup-rate 0.2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.dedup import DedupItem, find_duplicates  # noqa: E402
from catalog.dedup.minhash import jaccard, minhash_edges, optimal_bands, shingle  # noqa: E402
from catalog.dedup.normalize import normalize_texts  # noqa: E402
from catalog.dedup.semantic import normalize_rows, semantic_edges  # noqa: E402


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def make_texts(n: int, dup_rate: float, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts, the index each text copies (-1 for originals) and the kind (0 original, 1 exact-
    stage copy, 2 near copy). A copy always comes after its source, and copies are spread evenly
    through the list, so any prefix has the same duplicate rate."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(3, 10))) for _ in range(30_000)]
    is_copy = rng.random(n) < dup_rate
    is_copy[0] = False
    source = np.where(is_copy, (rng.random(n) * np.arange(n)).astype(np.int64), -1)
    near = is_copy & (rng.random(n) < 0.5)
    kind = np.where(near, 2, np.where(is_copy, 1, 0)).astype(np.int8)
    lengths = rng.integers(8, 21, size=n)
    words = rng.zipf(1.3, size=int(lengths.sum())) % len(vocab)
    extra = rng.integers(0, len(vocab), size=n)
    coin = rng.random(n)
    texts: list[str] = []
    pos = 0
    for k in range(n):
        length = int(lengths[k])
        if kind[k] == 0:
            texts.append(" ".join(vocab[w] for w in words[pos:pos + length].tolist()))
        elif kind[k] == 2:
            toks = texts[source[k]].split()
            at = int(extra[k] % (len(toks) + 1))
            if at < len(toks) and coin[k] < 0.5:
                toks[at] = vocab[extra[k]]
            else:
                toks.insert(at, vocab[extra[k]])
            texts.append(" ".join(toks))
        else:
            base = texts[source[k]]
            texts.append(base.upper() if coin[k] < 0.4 else
                         base.replace(" ", "  ", 3) if coin[k] < 0.7 else "  " + base + " .")
        pos += length
    return texts, source, kind


def score_against_truth(removed: set[int], source: np.ndarray, kind: np.ndarray,
                        texts: list[str], threshold: float, ngram: int) -> dict:
    planted = np.flatnonzero(source >= 0)
    found = np.fromiter((int(p) in removed for p in planted), dtype=bool, count=len(planted))
    near = kind[planted] == 2
    norm = normalize_texts(texts, punctuation_blind=True)
    sh = shingle(norm, ngram=ngram)
    true_j = jaccard(sh, np.stack([planted, source[planted]], axis=1))
    findable = near & (true_j >= threshold)
    return {"planted": int(len(planted)), "planted_removed": int(found.sum()),
            "recall_exact_stage_copies": round(float(found[kind[planted] == 1].mean()), 4),
            "near_copies": int(near.sum()),
            "near_copies_with_jaccard_at_or_above_threshold": int(findable.sum()),
            "recall_near_copies_at_or_above_threshold": round(float(found[findable].mean()), 4),
            "recall_near_copies_all": round(float(found[near].mean()), 4),
            "originals_removed": int(sum(1 for r in removed if source[r] < 0)),
            "note": "originals removed are chance near-duplicates among generated texts "
                    "(verified Jaccard >= threshold), not errors"}


def datasketch_baseline(texts: list[str], *, threshold: float, num_perm: int, ngram: int,
                        seed: int) -> tuple[float, int]:
    """Straightforward datasketch pipeline; returns seconds and the number of verified pairs."""
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    norm = normalize_texts(texts, punctuation_blind=True)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sets = []
    verified = 0
    for key, text in enumerate(norm):
        toks = text.split()
        grams = {" ".join(toks[i:i + ngram]) for i in range(max(1, len(toks) - ngram + 1))}
        sets.append(grams)
        m = MinHash(num_perm=num_perm, seed=seed)
        m.update_batch([g.encode("utf-8") for g in grams])
        for other in lsh.query(m):
            inter = len(grams & sets[other])
            if inter / (len(grams) + len(sets[other]) - inter) >= threshold:
                verified += 1
        lsh.insert(key, m)
    return time.perf_counter() - t0, verified


def text_part(args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    texts, source, kind = make_texts(args.n, args.dup_rate, args.seed)
    gen_s = time.perf_counter() - t0
    items = [DedupItem(record_id=i, text=t) for i, t in enumerate(texts)]
    t0, c0 = time.perf_counter(), time.process_time()
    result = find_duplicates(items, semantic=False, minhash_threshold=args.threshold,
                             num_perm=args.num_perm, ngram=args.ngram, seed=args.seed)
    cascade_s, cascade_cpu = time.perf_counter() - t0, time.process_time() - c0
    truth = score_against_truth(result.removed_ids(), source, kind, texts, args.threshold, args.ngram)
    del items
    # MinHash stage alone on all texts (what the baseline does)
    t0, c0 = time.perf_counter(), time.process_time()
    norm = normalize_texts(texts, punctuation_blind=True)
    _, _, _, info = minhash_edges(norm, threshold=args.threshold, num_perm=args.num_perm,
                                  ngram=args.ngram, seed=args.seed)
    minhash_s, minhash_cpu = time.perf_counter() - t0, time.process_time() - c0
    del norm
    base_n = min(args.baseline_n or args.n, args.n)
    c0 = time.process_time()
    base_s, base_pairs = datasketch_baseline(texts[:base_n], threshold=args.threshold,
                                             num_perm=args.num_perm, ngram=args.ngram,
                                             seed=args.seed)
    base_cpu = (time.process_time() - c0) * args.n / base_n
    base_full_s = base_s * args.n / base_n
    return {
        "n": args.n, "dup_rate": args.dup_rate, "threshold": args.threshold,
        "num_perm": args.num_perm, "ngram": args.ngram,
        "bands_rows": list(optimal_bands(args.threshold, args.num_perm)),
        "generate_s": round(gen_s, 2),
        "engine_exact_plus_minhash_s": round(cascade_s, 2),
        "engine_exact_plus_minhash_cpu_s": round(cascade_cpu, 2),
        "engine_stage_timings_s": result.timings,
        "engine_counts": result.counts,
        "engine_minhash_only_s": round(minhash_s, 2),
        "engine_minhash_only_cpu_s": round(minhash_cpu, 2),
        "engine_minhash_only_info": info,
        "ground_truth": truth,
        "baseline": "datasketch MinHash per text + MinHashLSH query/insert + Jaccard verify",
        "baseline_n": base_n,
        "baseline_measured_s": round(base_s, 2),
        "baseline_verified_pairs_on_subsample": base_pairs,
        "baseline_s_for_n": round(base_full_s, 2),
        "baseline_cpu_s_for_n": round(base_cpu, 2),
        "baseline_extrapolated": base_n < args.n,
        "speedup_minhash_only_vs_baseline": round(base_full_s / minhash_s, 2),
        "speedup_cascade_vs_baseline": round(base_full_s / cascade_s, 2),
        "speedup_minhash_only_cpu": round(base_cpu / minhash_cpu, 2),
        "load_average_1m_after_text_part": round(os.getloadavg()[0], 2),
        "peak_rss_mb_after_text_part": peak_rss_mb(),
    }


def make_vectors(n: int, dim: int, dup_rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_centres = max(1, n // 50)
    centres = rng.standard_normal((n_centres, dim), dtype=np.float32)
    n_dup = int(round(n * dup_rate))
    n_orig = n - n_dup
    x = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n_orig, 100_000):
        stop = min(start + 100_000, n_orig)
        which = rng.integers(0, n_centres, size=stop - start)
        # spread around the centre: typical cosine between two points of a cluster ~0.5
        x[start:stop] = centres[which] + rng.standard_normal((stop - start, dim), dtype=np.float32)
    x[:n_orig] = normalize_rows(x[:n_orig])
    src = rng.integers(0, n_orig, size=n_dup)
    noise = rng.uniform(0.1, 0.45, size=(n_dup, 1)).astype(np.float32) / np.sqrt(dim)
    for start in range(0, n_dup, 100_000):
        stop = min(start + 100_000, n_dup)
        part = x[src[start:stop]] + noise[start:stop] * rng.standard_normal((stop - start, dim),
                                                                              dtype=np.float32)
        x[n_orig + start:n_orig + stop] = normalize_rows(part)
    source = np.full(n, -1, dtype=np.int64)
    source[n_orig:] = src
    return x, source


def vector_part(args: argparse.Namespace) -> dict:
    import faiss

    faiss.omp_set_num_threads(args.threads)
    x, source = make_vectors(args.vec_n, 384, args.dup_rate, args.seed)
    planted = np.flatnonzero(source >= 0)
    cos_planted = np.einsum("ij,ij->i", x[planted], x[source[planted]])
    t0, c0 = time.perf_counter(), time.process_time()
    i, j, s, info = semantic_edges(x, threshold=args.semantic_threshold, k=args.k,
                                   nprobe=args.nprobe, seed=args.seed)
    sem_s, sem_cpu = time.perf_counter() - t0, time.process_time() - c0
    found = set(zip(np.minimum(i, j).tolist(), np.maximum(i, j).tolist()))
    hit = np.fromiter(((min(p, source[p]), max(p, source[p])) in found for p in planted.tolist()),
                      dtype=bool, count=len(planted))
    above = cos_planted >= args.semantic_threshold
    # IVF vs exact flat search on a sample of queries: share of above-threshold neighbours found
    rng = np.random.default_rng(args.seed + 1)
    sample = np.sort(rng.choice(args.vec_n, size=min(2000, args.vec_n), replace=False))
    exact_pairs: set[tuple[int, int]] = set()
    for start in range(0, len(sample), 100):
        block = sample[start:start + 100]
        sims = x[block] @ x.T
        for r, q in enumerate(block.tolist()):
            exact_pairs.update((q, int(nb)) for nb in np.flatnonzero(sims[r] >= args.semantic_threshold)
                               if nb != q)
        del sims
    got = sum(1 for q, nb in exact_pairs if (min(q, nb), max(q, nb)) in found)
    return {
        "vec_n": args.vec_n, "dim": 384, "threshold": args.semantic_threshold, "k": args.k,
        "index_info": info, "semantic_s": round(sem_s, 2), "semantic_cpu_s": round(sem_cpu, 2),
        "load_average_1m_after_semantic": round(os.getloadavg()[0], 2), "edges": int(len(i)),
        "planted_pairs": int(len(planted)), "planted_pairs_above_threshold": int(above.sum()),
        "recall_planted_above_threshold": round(float(hit[above].mean()), 4) if above.any() else None,
        "sample_queries": int(len(sample)), "exact_pairs_in_sample": len(exact_pairs),
        "recall_vs_exact_flat_in_sample": round(got / len(exact_pairs), 4) if exact_pairs else None,
        "peak_rss_mb_after_vector_part": peak_rss_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dup-rate", type=float, default=0.2)
    ap.add_argument("--threshold", type=float, default=None, help="MinHash threshold (default: engine's)")
    ap.add_argument("--num-perm", type=int, default=None)
    ap.add_argument("--ngram", type=int, default=None)
    ap.add_argument("--baseline-n", type=int, default=100_000,
                    help="texts for the datasketch baseline (extrapolated linearly to --n); 0 = all")
    ap.add_argument("--vec-n", type=int, default=None, help="vectors for the semantic part (default --n)")
    ap.add_argument("--semantic-threshold", type=float, default=None)
    ap.add_argument("--k", type=int, default=None)
    ap.add_argument("--nprobe", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-text", action="store_true")
    ap.add_argument("--skip-vectors", action="store_true")
    args = ap.parse_args()
    from catalog.dedup import defaults

    args.threshold = args.threshold or defaults.MINHASH_THRESHOLD
    args.num_perm = args.num_perm or defaults.MINHASH_NUM_PERM
    args.ngram = args.ngram or defaults.MINHASH_NGRAM
    args.semantic_threshold = args.semantic_threshold or defaults.SEMANTIC_THRESHOLD
    args.k = args.k or defaults.SEMANTIC_K
    args.vec_n = args.vec_n or args.n
    out = {"benchmark": "dedup_speed", "load_average_1m_at_start": round(os.getloadavg()[0], 2),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cpus (shared)",
           "python": platform.python_version()}
    if not args.skip_text:
        out["text"] = text_part(args)
    if not args.skip_vectors:
        out["vectors"] = vector_part(args)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
