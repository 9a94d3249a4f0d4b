"""What encryption at rest and the import PII guard cost, as ratios measured in one run.

    # build the inputs and the two search catalogs (not timed; embeds the search corpus twice)
    nice -n 19 python benchmarks/reliability_cost.py setup /tmp/relcost --records 20000 --search-records 5000
    # time it (under the shared lock, normal priority)
    flock /tmp/synthcat-timing.lock python benchmarks/reliability_cost.py measure /tmp/relcost --repeats 3

Prints one JSON object. Each pair is timed alternately in the same process, median of ``--repeats``:

* import: ``import_file`` of ``--records`` short prompt/response rows (``--no-embed``, default PII
  guard ``warn``) into a fresh plaintext catalog and a fresh encrypted one, the catalog's close
  (its checkpoint to disk) included; ratio encrypted / plaintext;
* PII guard: the same import into fresh plaintext catalogs with ``pii="warn"``, ``"redact"`` and
  ``"off"``; ratios against ``off``. About one row in twenty carries an e-mail address or a phone
  number, so the scan finds and records something;
* search: ``--queries`` queries over the first ``--search-records`` of those rows (embedded with
  the bundled MiniLM) in a plaintext and an encrypted catalog, keyword and hybrid, each query
  timed on both catalogs in turn (order alternating): p50/p95 through one ``Searcher`` per
  catalog (warm), and a one-shot ``Catalog.search`` per query (it builds its searcher each time,
  as a CLI call does; the catalog is already open).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

KEY = "benchmark key, not a secret: 0123456789abcdef"  # a throwaway catalog's key
TOPICS = ["router", "billing", "outage", "wifi", "speed", "installation", "moving", "account", "refund", "modem"]
WORDS = ["light", "cable", "restart", "password", "invoice", "engineer", "signal", "channel", "contract", "port",
         "fibre", "slow", "evening", "drops", "credit", "upgrade", "hub", "extender", "static", "payment"]


def make_rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topic, a, b = rng.choice(TOPICS), rng.choice(WORDS), rng.choice(WORDS)
        contact = ""
        if i % 20 == 0:
            contact = rng.choice([f" Email me at customer{i}@example.org.", f" Call me on 020 7946 {i % 10000:04d}."])
        rows.append({"id": f"r{i}", "category": topic,
                     "prompt": f"My {topic} {a} problem started on day {rng.randint(1, 28)}, the {b} is off.{contact}",
                     "response": f"For {topic} issues check the {a} first, then the {b}; restart and wait "
                                 f"{rng.randint(5, 90)} seconds."})
    return rows


def make_queries(n: int, seed: int) -> list[str]:
    rng = random.Random(seed + 1)
    return [f"{rng.choice(TOPICS)} {rng.choice(WORDS)} {rng.choice(WORDS)}" for _ in range(n)]


def open_catalog(path: Path, *, encrypted: bool, create: bool = False, read_only: bool = False):
    from catalog import Catalog

    if create:
        return Catalog.create(path, encrypt=encrypted, key=KEY if encrypted else None)
    return Catalog.open(path, read_only=read_only, key=KEY if encrypted else None)


def setup(work: Path, records: int, search_records: int, seed: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    data, corpus = work / "pairs.jsonl", work / "search.jsonl"
    rows = make_rows(records, seed)
    for path, part in ((data, rows), (corpus, rows[:search_records])):
        with open(path, "w", encoding="utf-8") as fh:
            for row in part:
                fh.write(json.dumps(row) + "\n")
    out = {"records": records, "search_records": len(rows[:search_records])}
    for name, encrypted in (("search-plain", False), ("search-encrypted", True)):
        path = work / name
        if path.exists():
            shutil.rmtree(path)
        started = time.perf_counter()
        with open_catalog(path, encrypted=encrypted, create=True) as cat:
            cat.import_file(corpus, "bench", id_field="id", embed=True)
            cat.search("router light", mode="keyword", k=1)  # builds the keyword index
        out[f"{name}_build_seconds"] = round(time.perf_counter() - started, 1)
    return out


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def time_import(work: Path, *, encrypted: bool, pii: str, tag: str) -> float:
    path = work / f"import-{tag}"
    if path.exists():
        shutil.rmtree(path)
    cat = open_catalog(path, encrypted=encrypted, create=True)
    started = time.perf_counter()
    try:
        cat.import_file(work / "pairs.jsonl", "bench", id_field="id", embed=False, pii=pii)
    finally:
        cat.close()
    seconds = time.perf_counter() - started
    shutil.rmtree(path)
    return seconds


def measure_imports(work: Path, repeats: int) -> dict:
    variants = {"plaintext": (False, "warn"), "encrypted": (True, "warn"), "pii_off": (False, "off"),
                "pii_redact": (False, "redact")}
    times: dict[str, list[float]] = {k: [] for k in variants}
    time_import(work, encrypted=True, pii="off", tag="warmup")  # loads httpfs, the detector's imports
    time_import(work, encrypted=False, pii="warn", tag="warmup")
    for r in range(repeats):
        order = list(variants) if r % 2 == 0 else list(reversed(variants))
        for name in order:
            encrypted, pii = variants[name]
            times[name].append(time_import(work, encrypted=encrypted, pii=pii, tag=name))
    med = {k: _median(v) for k, v in times.items()}
    return {
        "seconds_median": {k: round(v, 3) for k, v in med.items()},
        "seconds_all": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "encrypted_over_plaintext": round(med["encrypted"] / med["plaintext"], 3),
        "pii_warn_over_off": round(med["plaintext"] / med["pii_off"], 3),
        "pii_redact_over_off": round(med["pii_redact"] / med["pii_off"], 3),
    }


def measure_search(work: Path, n_queries: int, one_shot: int, seed: int) -> dict:
    queries = make_queries(n_queries, seed)
    cats = {"plaintext": open_catalog(work / "search-plain", encrypted=False, read_only=True),
            "encrypted": open_catalog(work / "search-encrypted", encrypted=True, read_only=True)}
    out: dict = {"queries": n_queries, "one_shot_queries": one_shot}
    try:
        for mode in ("keyword", "hybrid"):
            searchers, cold = {}, {}
            for name, cat in cats.items():
                started = time.perf_counter()
                searchers[name] = cat.searcher(mode=mode)
                searchers[name].run(["warm up " + queries[0]], 10)
                cold[name] = time.perf_counter() - started
            warm: dict[str, list[float]] = {k: [] for k in cats}
            for i, q in enumerate(queries):
                for name in (("plaintext", "encrypted") if i % 2 == 0 else ("encrypted", "plaintext")):
                    started = time.perf_counter()
                    searchers[name].run([q], 10)
                    warm[name].append(time.perf_counter() - started)
            shot: dict[str, list[float]] = {k: [] for k in cats}
            for i, q in enumerate(queries[:one_shot]):
                for name in (("plaintext", "encrypted") if i % 2 == 0 else ("encrypted", "plaintext")):
                    started = time.perf_counter()
                    cats[name].search(q, mode=mode, k=10)
                    shot[name].append(time.perf_counter() - started)
            p50 = {k: _median(v) for k, v in warm.items()}
            s50 = {k: _median(v) for k, v in shot.items()}
            out[mode] = {
                "searcher_p50_ms": {k: round(v * 1000, 2) for k, v in p50.items()},
                "searcher_p95_ms": {k: round(_pct(v, 0.95) * 1000, 2) for k, v in warm.items()},
                "searcher_p50_encrypted_over_plaintext": round(p50["encrypted"] / p50["plaintext"], 3),
                "one_shot_p50_ms": {k: round(v * 1000, 2) for k, v in s50.items()},
                "one_shot_p50_encrypted_over_plaintext": round(s50["encrypted"] / s50["plaintext"], 3),
                "first_searcher_with_first_query_ms": {k: round(v * 1000, 1) for k, v in cold.items()},
            }
    finally:
        for cat in cats.values():
            cat.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("phase", choices=("setup", "measure"))
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--records", type=int, default=20_000, help="rows of the timed imports")
    parser.add_argument("--search-records", type=int, default=5_000,
                        help="the first rows of those, embedded, make the search catalogs (setup)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--one-shot", type=int, default=30, help="queries also timed one-shot (searcher each time)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for query embedding (measure); 2 spin-wait on a busy 2-core machine")
    args = parser.parse_args()
    result: dict = {"benchmark": "cost of encryption at rest and of the import PII guard", "phase": args.phase,
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "load_before": os.getloadavg()}}
    if args.phase == "setup":
        result.update(setup(args.workdir, args.records, args.search_records, args.seed))
    else:
        import torch

        torch.set_num_threads(args.threads)
        result["torch_threads"] = args.threads
        rows = sum(1 for _ in open(args.workdir / "pairs.jsonl", encoding="utf-8"))
        result["import_rows"] = rows
        result["import"] = measure_imports(args.workdir, args.repeats)
        result["search"] = measure_search(args.workdir, args.queries, args.one_shot, args.seed)
    result["machine"]["load_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
