"""Run SDMetrics on files, for the evaluation benchmarks; executed by the python of a separate venv.

Not a project module and not imported by it: SDMetrics is never a synthcat dependency. Usage:
``/tmp/sdm-venv/bin/python benchmarks/evaluation_sdmetrics_runner.py JOB.json`` where the job is
``{"task": "quality" | "dcr", "real": CSV, "synthetic": CSV, "metadata": {...}}``; prints JSON.
"""

from __future__ import annotations

import json
import sys
import time
import warnings


def main() -> None:
    import pandas as pd
    import sdmetrics

    job = json.loads(open(sys.argv[1], encoding="utf-8").read())
    real = pd.read_csv(job["real"])
    synth = pd.read_csv(job["synthetic"])
    warnings.simplefilter("ignore")
    out: dict = {"sdmetrics_version": sdmetrics.__version__, "pandas_version": pd.__version__}
    if job["task"] == "quality":
        from sdmetrics.reports import QualityReport

        report = QualityReport()
        started, cpu = time.perf_counter(), time.process_time()
        report.generate({"t": real}, {"t": synth}, {"tables": {"t": job["metadata"]}}, verbose=False)
        out["seconds"] = time.perf_counter() - started
        out["cpu_seconds"] = time.process_time() - cpu
        props = report.get_properties()
        scores = dict(zip(props["Property"], props["Score"]))
        out["overall"] = float(report.get_score())
        out["column_shapes"] = float(scores["Column Shapes"])
        out["column_pair_trends"] = float(scores["Column Pair Trends"])
        pairs = report.get_details("Column Pair Trends", table_name="t")
        out["per_pair"] = {f"{r['Column 1']}|{r['Column 2']}": None if pd.isna(r["Score"]) else float(r["Score"])
                           for _, r in pairs.iterrows()}
        shapes = report.get_details("Column Shapes", table_name="t")
        out["per_column"] = {r["Column"]: float(r["Score"]) for _, r in shapes.iterrows()}
    elif job["task"] == "dcr":
        from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr

        started, cpu = time.perf_counter(), time.process_time()
        dcr = calculate_dcr(dataset=synth, reference_dataset=real, metadata=job["metadata"])
        out["seconds"] = time.perf_counter() - started
        out["cpu_seconds"] = time.process_time() - cpu
        out["median"] = float(dcr.median())
        out["mean"] = float(dcr.mean())
    else:
        raise SystemExit(f"unknown task {job['task']!r}")
    import resource

    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main()
