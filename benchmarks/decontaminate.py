"""N-gram decontamination: speed and memory at scale, and quality on planted sets.

``speed``: ``--texts`` generated texts (30-200 words, default 1M) against ``--eval`` generated
evaluation records (13-40 words, default 100k). Words are drawn from the word frequencies of the
shared corpora (SciFact, MRPC, STS-B: ~56k distinct words, Zipf-like), with commas, full stops and
capitals sprinkled in; ``--planted-share`` of the texts carry one evaluation record pasted in
(half of them with a case/whitespace/punctuation edit), which gives a recall check at scale.
The data is generated once (not timed) and stored; each configuration runs in its own process,
which loads it and reports wall and CPU time and the resident memory before and at peak (sampled
every 20 ms). With ``--lock FILE`` only the timed phases hold the lock. The
baseline is a straightforward Python set of n-gram tuples over the same tokens (``space``
punctuation only); it runs on the first ``--baseline-texts`` texts and is extrapolated linearly
to the full size when that is smaller (the output says so).

``quality``: the planted sets of ``benchmarks/make_contamination.py`` -- set A: SciFact abstract
sentences as evaluation records, MRPC + STS-B sentences as filler; set B: the reverse, another
seed; set C: like A but with evaluation records from 8 words up (where ``min_ngram`` matters);
set D: SciFact claims of 13+ words as the benchmark, STS-B as filler (built after the defaults
were chosen on A-C; it showed the glued-edge-word miss that the trimmed windows fix); set E,
built last and never tuned on: STS-B as the benchmark, SciFact claims as filler.
Recall on planted texts, false flags on negatives (sharing phrases of up to 8 words) and on clean
texts, at the defaults and with one parameter changed at a time; the too-frequent n-gram rules
(eval-side cap on templated negatives, NeMo's dataset-side cap on repeated leaks); cut mode.

    python benchmarks/decontaminate.py speed --texts 1000000 --eval 100000 --lock /tmp/synthcat-timing.lock
    python benchmarks/decontaminate.py quality --scifact ../shared/datasets/scifact/corpus.jsonl.gz \\
        --mrpc ../shared/datasets/mrpc/msr_paraphrase_train.txt --stsb-dir ../shared/datasets/stsb
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.make_contamination import (  # noqa: E402
    ALTERATIONS,
    alter,
    build_contamination_set,
    read_sentences,
    score,
)
from catalog.dedup.decontaminate import decontaminate  # noqa: E402
from catalog.dedup.eval_index import EvalSet  # noqa: E402
from catalog.dedup.word_tokens import text_tokens  # noqa: E402


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    return float("nan")


class RssSampler(threading.Thread):
    """Highest resident set size seen while running (sampled every 20 ms): the process's
    ``ru_maxrss`` would include the data generation before the timed part."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_mb()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def stop(self) -> float:
        self._done.set()
        self.join()
        return max(self.peak, rss_mb())


# ---------------------------------------------------------------------------- generated data

def word_distribution(args) -> tuple[np.ndarray, np.ndarray]:
    counts: Counter = Counter()
    with gzip.open(args.scifact, "rt", encoding="utf-8") as fh:
        for line in fh:
            counts.update(w.strip(".,;:()[]\"'").lower() for w in json.loads(line)["text"].split())
    for spec in (f"mrpc:{args.mrpc}", f"stsb:{args.stsb_dir}"):
        for s in read_sentences(spec):
            counts.update(w.strip(".,;:()[]\"'").lower() for w in s.split())
    counts.pop("", None)
    words = sorted(counts)
    p = np.array([counts[w] for w in words], dtype=np.float64)
    return np.array(words, dtype=object), p / p.sum()


def generate(n: int, low: int, high: int, words: np.ndarray, p: np.ndarray,
             rng: np.random.Generator) -> list[str]:
    """``n`` texts of ``low``-``high`` words; ~5% of words get a comma, ~7% a full stop, ~8% a
    capital. Built in chunks of 50k texts to keep the generator's own memory small."""
    forms = np.concatenate([words, words + ",", words + ".",
                            np.array([w[:1].upper() + w[1:] for w in words], dtype=object)])
    cum = np.cumsum([0.80, 0.05, 0.07, 0.08])
    out: list[str] = []
    for first in range(0, n, 50_000):
        lengths = rng.integers(low, high + 1, size=min(50_000, n - first))
        ids = rng.choice(len(words), size=int(lengths.sum()), p=p)
        form = np.minimum(np.searchsorted(cum, rng.random(len(ids)), side="right"), 3)
        tokens = forms[form * len(words) + ids].tolist()
        at = 0
        for length in lengths.tolist():
            out.append(" ".join(tokens[at:at + length]))
            at += length
    return out


def speed_data(args) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Evaluation records, texts, which texts are planted and with which record (seeded)."""
    rng = np.random.default_rng(args.seed)
    words, p = word_distribution(args)
    eval_texts = generate(args.eval, 13, 40, words, p, rng)
    texts = generate(args.texts, 30, 200, words, p, rng)
    planted = np.flatnonzero(rng.random(args.texts) < args.planted_share)
    source = rng.integers(0, args.eval, size=len(planted))
    for t, e in zip(planted.tolist(), source.tolist()):
        sentence = eval_texts[e]
        if rng.random() < 0.5:
            sentence = alter(sentence, ALTERATIONS[int(rng.integers(0, len(ALTERATIONS)))], rng)
        words_t = texts[t].split(" ")
        at = int(rng.integers(0, len(words_t) + 1))
        texts[t] = " ".join(words_t[:at] + [sentence] + words_t[at:])
    return eval_texts, texts, planted, source


def baseline_flags(texts: list[str], eval_texts: list[str], ngram: int, min_ngram: int) -> set[int]:
    """A straightforward decontaminator: the evaluation n-grams as a Python set of token tuples."""
    grams: set[tuple] = set()
    short: set[int] = set()
    for t in eval_texts:
        toks = text_tokens(t, "space")
        if len(toks) >= ngram:
            grams.update(zip(*(toks[k:] for k in range(ngram))))
        elif len(toks) >= min_ngram:
            grams.add(tuple(toks))
            short.add(len(toks))
    hits = set()
    for i, t in enumerate(texts):
        toks = text_tokens(t, "space")
        for n in (ngram, *sorted(short)):
            if any(g in grams for g in zip(*(toks[k:] for k in range(n)))):
                hits.add(i)
                break
    return hits


def save_data(args, directory: Path) -> None:
    """Generate the speed data once and store it (Parquet + npy), for the timed child processes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    eval_texts, texts, planted, _ = speed_data(args)
    pq.write_table(pa.table({"text": pa.array(eval_texts, pa.large_string())}), directory / "eval.parquet")
    pq.write_table(pa.table({"text": pa.array(texts, pa.large_string())}), directory / "texts.parquet")
    np.save(directory / "planted.npy", planted)


def load_data(directory: Path) -> tuple[list[str], list[str], np.ndarray]:
    import pyarrow.parquet as pq

    return (pq.read_table(directory / "eval.parquet").column("text").to_pylist(),
            pq.read_table(directory / "texts.parquet").column("text").to_pylist(),
            np.load(directory / "planted.npy"))


def run_phase(args) -> dict:
    """One timed configuration (run in a child process by ``speed``)."""
    eval_texts, texts, planted = load_data(Path(args.data_dir))
    import gc

    gc.collect()
    out = {"phase": args.phase, "rss_with_data_mb": rss_mb(), "data_chars": sum(map(len, texts))}
    n = len(texts) if args.phase != "baseline" else min(args.baseline_texts, len(texts))
    sampler = RssSampler()
    sampler.start()
    w0, c0 = time.perf_counter(), time.process_time()
    if args.phase == "baseline":
        flagged = baseline_flags(texts[:n], eval_texts, 13, 8)
    else:
        punctuation = "space" if args.phase == "engine-space" else "both"
        workers = 2 if args.phase == "engine-2threads" else args.workers
        res = decontaminate(texts, [EvalSet("eval", eval_texts)], mode="flag", punctuation=punctuation,
                            workers=workers)
        out["workers"] = workers
        flagged = {c.record_id for c in res.contaminated}
        out.update(timings=res.timings, memory=res.memory,
                   eval_sets=[vars(r) for r in res.eval_sets], counts=res.counts)
    out.update(wall_s=round(time.perf_counter() - w0, 2), cpu_s=round(time.process_time() - c0, 2),
               texts_checked=n, peak_rss_during_mb=sampler.stop(), process_peak_rss_mb=peak_rss_mb())
    out["extra_rss_mb"] = round(out["peak_rss_during_mb"] - out["rss_with_data_mb"], 1)
    planted_here = planted[planted < n]
    out["recall_planted"] = round(float(np.mean([int(t) in flagged for t in planted_here])), 4)
    out["planted"] = int(len(planted_here))
    out["flagged_not_planted"] = len(flagged - set(planted_here.tolist()))
    return out


def speed(args) -> dict:
    """Generate the data (not timed), then run each phase in its own process; with ``--lock``,
    the phases run while holding that file lock (the shared timing lock), generation does not."""
    import fcntl
    import tempfile

    result: dict = {"texts": args.texts, "eval_records": args.eval, "workers": args.workers, "phases": {}}
    with tempfile.TemporaryDirectory(prefix="decontam-bench-") as tmp:
        t0 = time.perf_counter()
        save_data(args, Path(tmp))
        result["generate_s"] = round(time.perf_counter() - t0, 1)
        lock = open(args.lock, "a") if args.lock else None
        try:
            if lock is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            result["load_average_1m_before_phases"] = round(os.getloadavg()[0], 2)
            for phase in args.phases:
                cmd = [sys.executable, __file__, "phase", "--phase", phase, "--data-dir", tmp,
                       "--baseline-texts", str(args.baseline_texts), "--workers", str(args.workers)]
                proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
                result["phases"][phase] = json.loads(proc.stdout)
            result["load_average_1m_after_phases"] = round(os.getloadavg()[0], 2)
        finally:
            if lock is not None:
                fcntl.flock(lock, fcntl.LOCK_UN)
                lock.close()
    ph = result["phases"]
    if "baseline" in ph:
        base = ph["baseline"]
        scale = args.texts / base["texts_checked"]
        base["extrapolated_to_full_wall_s"] = round(base["wall_s"] * scale, 1)
        base["extrapolated_to_full_cpu_s"] = round(base["cpu_s"] * scale, 1)
        base["extrapolated"] = scale != 1
        for name in ("engine", "engine-2threads", "engine-space"):
            if name in ph:
                ph[name]["speedup_vs_baseline_wall"] = round(base["extrapolated_to_full_wall_s"] /
                                                             ph[name]["wall_s"], 2)
                ph[name]["speedup_vs_baseline_cpu"] = round(base["extrapolated_to_full_cpu_s"] /
                                                            ph[name]["cpu_s"], 2)
    return result


# ---------------------------------------------------------------------------- quality

def quality_sets(args) -> dict:
    sci = read_sentences(f"scifact:{args.scifact}")
    mrpc, stsb = read_sentences(f"mrpc:{args.mrpc}"), read_sentences(f"stsb:{args.stsb_dir}")
    claims = read_sentences(f"claims:{Path(args.scifact).parent / 'queries.jsonl'}")
    kw = dict(template_share=0.05, repeat_share=0.05)
    return {"A_scifact_eval_seed1": build_contamination_set(sci, mrpc + stsb, seed=1, **kw),
            "B_mrpc_stsb_eval_seed2": build_contamination_set(mrpc + stsb, sci, seed=2, **kw),
            "C_scifact_eval_8plus_words_seed3": build_contamination_set(sci, mrpc + stsb, seed=3, min_eval_words=8,
                                                                        **kw),
            # not used while choosing the defaults: claims as the benchmark, STS-B as filler
            "D_claims_eval_stsb_filler_seed4": build_contamination_set(
                claims, stsb, eval_records=400, planted=400, negatives=400, clean=400, seed=4, **kw),
            # built after the defaults were fixed: STS-B as the benchmark, SciFact claims as filler
            "E_stsb_eval_claims_filler_seed5": build_contamination_set(
                stsb, claims, eval_records=1000, planted=800, negatives=800, clean=400, seed=5, **kw)}


def repeated_recall(cs, flagged: set) -> float:
    """Recall on planted texts whose evaluation sentence was planted more than 10 times."""
    times = Counter(cs.planted_from.values())
    rep = [t for t, src in cs.planted_from.items() if times[src] > 10]
    return round(float(np.mean([t in flagged for t in rep])), 4) if rep else float("nan")


def quality(args) -> dict:
    out: dict = {}
    variants = {"defaults": {}, "punctuation=space": {"punctuation": "space"},
                "punctuation=delete": {"punctuation": "delete"}, "min_words=9": {"min_words": 9},
                "min_words=13": {"min_words": 13}, "ngram=8,min_words=8": {"ngram": 8, "min_words": 8},
                "ngram=10": {"ngram": 10, "min_words": 10}, "min_ngram=9": {"min_ngram": 9},
                "min_ngram=13": {"min_ngram": 13}, "max_eval_frequency=None": {"max_eval_frequency": None},
                "max_dataset_frequency=10 (NeMo)": {"max_dataset_frequency": 10}}
    for name, cs in quality_sets(args).items():
        rows = {}
        for label, kw in variants.items():
            res = decontaminate(cs.texts, [EvalSet("eval", cs.eval_texts, cs.eval_ids)], ids=cs.ids,
                                mode="flag", **kw)
            flagged = {c.record_id for c in res.contaminated}
            sc = score(cs, flagged)
            sc["recall_repeated_leaks"] = repeated_recall(cs, flagged)
            sc["frequent_ngrams_ignored"] = res.eval_sets[0].frequent_ngrams_ignored
            sc["eval_records_skipped"] = res.eval_sets[0].skipped_short
            rows[label] = sc
        cut = decontaminate(cs.texts, [EvalSet("eval", cs.eval_texts, cs.eval_ids)], ids=cs.ids, mode="cut")
        rows["cut_mode"] = {"counts": cut.counts, "reasons": Counter(c.reason.split(" (")[0].split(" of ")[0]
                                                                    for c in cut.contaminated if c.reason)}
        out[name] = {"eval_records": len(cs.eval_texts), "texts": len(cs.texts),
                     "labels": dict(Counter(cs.labels)), "results": rows}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["speed", "quality", "phase"])
    ap.add_argument("--scifact", default=str(ROOT.parent / "shared/datasets/scifact/corpus.jsonl.gz"))
    ap.add_argument("--mrpc", default=str(ROOT.parent / "shared/datasets/mrpc/msr_paraphrase_train.txt"))
    ap.add_argument("--stsb-dir", default=str(ROOT.parent / "shared/datasets/stsb"))
    ap.add_argument("--texts", type=int, default=1_000_000)
    ap.add_argument("--eval", type=int, default=100_000)
    ap.add_argument("--planted-share", type=float, default=0.01)
    ap.add_argument("--baseline-texts", type=int, default=100_000)
    ap.add_argument("--phases", nargs="+", default=["engine", "engine-2threads", "engine-space", "baseline"])
    ap.add_argument("--phase", default="engine")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--data-dir", default=None, help="(phase) where speed stored the generated data")
    ap.add_argument("--lock", default=None, help="(speed) hold this file lock while the timed phases run")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.mode == "phase":
        print(json.dumps(run_phase(args)))
        return
    out = {"benchmark": f"decontaminate {args.mode}", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cpus (shared)",
           "python": platform.python_version(), "load_average_1m_at_start": round(os.getloadavg()[0], 2)}
    out.update(speed(args) if args.mode == "speed" else quality(args))
    out["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
