"""Benchmark: DCR privacy on 100k x 15 rows (target <= 60 s) with peak memory, against SDMetrics' DCR.

    .venv/bin/python benchmarks/evaluation_privacy.py [--adult ../shared/datasets/adult/adult.csv] \
        [--rows 100000] [--sdmetrics-python /tmp/sdm-venv/bin/python] [--baseline-rows 2000 10000]

Tables: ``--rows`` real and ``--rows`` synthetic rows with Adult's 15 columns, both resampled from
Adult with seeded numeric noise and label swaps (so most rows are near, not equal, to real ones).
Figures:

* ``full``: ``privacy()`` on rows x rows (exact copies, DCR summary, random baseline), wall time,
  CPU time of all threads and the load average before (the machine may be shared), process peak
  RSS before/after (``ru_maxrss``) and the tracemalloc peak of the call;
* ``recall``: for a sample of synthetic rows, the indexed search's DCR against an exhaustive one
  (share equal, largest gap);
* ``baseline``: SDMetrics 0.32 ``calculate_dcr`` (same Gower-like definition; a separate venv via
  a subprocess) and our exhaustive search on the same ``--baseline-rows`` synthetic x real rows:
  both times, the time ratio and both medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def perturbed(adult, n, rng):
    import numpy as np

    out = adult.iloc[rng.integers(0, len(adult), n)].reset_index(drop=True)
    for name in out.columns:
        col = out[name]
        if col.dtype.kind in "if":
            out[name] = col + np.round(rng.normal(0, 0.05 * float(col.std()), n))
        else:
            swap = rng.random(n) < 0.05
            out.loc[swap, name] = col.to_numpy()[rng.integers(0, n, int(swap.sum()))]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adult", default=str(ROOT.parent / "shared" / "datasets" / "adult" / "adult.csv"))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recall-rows", type=int, default=300)
    parser.add_argument("--sdmetrics-python", default=None)
    parser.add_argument("--baseline-rows", type=int, nargs=2, default=[2000, 10000],
                        metavar=("SYNTH", "REAL"))
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from catalog.evaluation._columns import resolve_columns
    from catalog.evaluation.neighbours import Encoded, encode, nearest
    from catalog.evaluation.privacy import privacy

    adult = pd.read_csv(args.adult)
    rng = np.random.default_rng(args.seed)
    real = perturbed(adult, args.rows, rng)
    synth = perturbed(adult, args.rows, rng)
    cols = resolve_columns(real, synth)
    out: dict = {
        "benchmark": "evaluation_privacy",
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "shape": {"real": list(real.shape), "synthetic": list(synth.shape)},
        "target_seconds": 60,
    }

    rss_before = _rss_mb()
    load_before = os.getloadavg()[0]
    tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = privacy(real, synth, cols, seed=args.seed)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out["full"] = {
        "seconds": seconds,
        "cpu_seconds_all_threads": cpu_seconds,
        "load_average_1min_before": load_before,
        "within_target": seconds <= 60,
        "peak_rss_mb_before_call": rss_before,
        "peak_rss_mb_after_call": _rss_mb(),
        "tracemalloc_peak_mb_during_call": traced_peak / 2**20,
        "n_x_m_float32_matrix_would_be_mb": args.rows * args.rows * 4 / 2**20,
        "dcr": result["dcr"],
        "exact_copies": result["exact_copies"]["count"],
        "baseline_median_ratio": result["baseline"]["median_ratio"],
    }

    # recall of the indexed search against the exhaustive one on a sample of synthetic rows
    enc = encode({"real": real, "synthetic": synth}, cols)
    pick = np.sort(rng.choice(len(synth), size=min(args.recall_rows, len(synth)), replace=False))
    sample = Encoded(enc["synthetic"].num[pick], enc["synthetic"].cat[pick])
    started = time.perf_counter()
    exact, _, m_exact = nearest(sample, enc["real"], exact_limit=float("inf"))
    exact_seconds = time.perf_counter() - started
    approx, _, m_approx = nearest(sample, enc["real"], exact_limit=0, seed=args.seed)
    out["recall"] = {
        "rows": int(len(pick)), "methods": [m_exact, m_approx],
        "share_equal": float(np.mean(np.isclose(approx, exact, atol=1e-6))),
        "max_gap": float(np.max(approx - exact)),
        "exhaustive_seconds_for_sample": exact_seconds,
    }

    if args.sdmetrics_python:
        n_s, n_r = args.baseline_rows
        small_real, small_synth = real.iloc[:n_r], synth.iloc[:n_s]
        small_cols = resolve_columns(small_real, small_synth)
        small = encode({"real": small_real, "synthetic": small_synth}, small_cols)
        started = time.perf_counter()
        ours, _, method = nearest(small["synthetic"], small["real"], exact_limit=float("inf"))
        ours_seconds = time.perf_counter() - started
        sdtype = {"numeric": "numerical", "integer": "numerical", "datetime": "datetime",
                  "categorical": "categorical", "boolean": "boolean"}
        metadata = {"columns": {c: {"sdtype": sdtype.get(t, "id")} for c, t in small_cols.types.items()}}
        with tempfile.TemporaryDirectory() as tmp:
            real_csv, synth_csv, job = Path(tmp, "r.csv"), Path(tmp, "s.csv"), Path(tmp, "job.json")
            small_real.to_csv(real_csv, index=False)
            small_synth.to_csv(synth_csv, index=False)
            job.write_text(json.dumps({"task": "dcr", "real": str(real_csv), "synthetic": str(synth_csv),
                                       "metadata": metadata}))
            runner = Path(__file__).with_name("evaluation_sdmetrics_runner.py")
            done = subprocess.run([args.sdmetrics_python, str(runner), str(job)], capture_output=True,
                                  text=True, check=True)
            sdm = json.loads(done.stdout.strip().splitlines()[-1])
        out["baseline"] = {
            "name": "SDMetrics calculate_dcr (exhaustive, pandas cross-merge in chunks)",
            "rows": {"synthetic": n_s, "real": n_r},
            "ours_method": method,
            "ours_seconds": ours_seconds, "sdmetrics_seconds": sdm["seconds"],
            "sdmetrics_cpu_seconds": sdm["cpu_seconds"],
            "speedup": sdm["seconds"] / ours_seconds,
            "ours_median": float(np.median(ours)), "sdmetrics_median": sdm["median"],
            "ours_mean": float(np.mean(ours)), "sdmetrics_mean": sdm["mean"],
            "sdmetrics_peak_rss_mb": sdm["peak_rss_mb"],
            "sdmetrics_version": sdm["sdmetrics_version"],
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
