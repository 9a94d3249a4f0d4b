"""Search latency through ``synthcat serve`` (``GET /api/search``) against the Catalog searcher the CLI
uses, on the same catalog in the same run; prints JSON.

    python benchmarks/serve_search.py --catalog synthcat-demo
    python benchmarks/serve_search.py --catalog synthcat-demo --queries data/demo_pairs.jsonl --rounds 5

The server runs as its own process (``synthcat serve`` on 127.0.0.1), warmed up; the direct side opens
the catalog read-only and times ``searcher.run([query], k, explain=True)``, one query at a time, as a
CLI search does once its models are loaded. Both sides run hybrid search with explanations; rounds
alternate which side goes first. The web side's time is the whole HTTP round trip on a kept-alive
connection: request, server, JSON, reading and parsing the body. The top-k ids of both sides are
compared, so a fast but different answer would show.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read_queries(path: Path, limit: int) -> list[str]:
    queries = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            text = row.get("prompt") or row.get("text") or row.get("query")
            if isinstance(text, str) and text.strip():
                queries.append(text.strip())
            if len(queries) >= limit:
                break
    return queries


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(catalog: Path, port: int, threads: int | None = None) -> subprocess.Popen:
    command = [sys.executable, "-c", "from cli import app; app()", "--catalog", str(catalog), "serve", "--port",
               str(port), "--idle-seconds", "0"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"synthcat serve exited: {proc.stderr.read()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/datasets")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("synthcat serve did not start within 300 s")


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 3),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 3), "n": len(ordered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True, help="catalog directory (e.g. the demo's)")
    parser.add_argument("--queries", type=Path, default=ROOT / "data" / "demo_pairs.jsonl",
                        help="JSONL with a prompt/text/query field per line")
    parser.add_argument("--n", type=int, default=100, help="queries to use")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch/OpenMP threads on both sides (default: each process's "
                        "own default). On a loaded 2-core machine 2 threads can make one query embedding 10x slower "
                        "through spin-waiting, so compare both sides at the same setting")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, str(ROOT))
    from catalog import Catalog

    queries = read_queries(args.queries, args.n)
    port = free_port()
    server = start_server(args.catalog, port, args.threads)
    direct_times: list[float] = []
    web_times: list[float] = []
    same = 0
    compared = 0
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def reconnect() -> None:
            """A fresh connection before each web pass: uvicorn closes one idle for 5 s (keep-alive
            timeout) while the direct pass runs."""
            nonlocal conn
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.connect()

        def web(query: str) -> list[int]:
            conn.request("GET", "/api/search?" + urllib.parse.urlencode({"q": query, "k": args.k}))
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise SystemExit(f"/api/search answered {response.status}: {body[:300]!r}")
            return [hit["record_id"] for hit in json.loads(body)["hits"]]

        with Catalog.open(args.catalog, read_only=True) as cat:
            searcher = cat.searcher(mode="hybrid")
            import torch

            threads = torch.get_num_threads()
            reconnect()
            for query in queries[:5]:  # warm both sides
                searcher.run([query], args.k, True)
                web(query)
            for round_number in range(args.rounds):
                sides = ("direct", "web") if round_number % 2 == 0 else ("web", "direct")
                results: dict[str, list[list[int]]] = {"direct": [], "web": []}
                for side in sides:
                    if side == "web":
                        reconnect()
                    for query in queries:
                        started = time.perf_counter()
                        if side == "direct":
                            ids = [hit.record_id for hit in searcher.run([query], args.k, True)[0]]
                            direct_times.append(time.perf_counter() - started)
                        else:
                            ids = web(query)
                            web_times.append(time.perf_counter() - started)
                        results[side].append(ids)
                same += sum(a == b for a, b in zip(results["direct"], results["web"]))
                compared += len(queries)
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    direct, through_web = summary(direct_times), summary(web_times)
    print(json.dumps({
        "benchmark": "serve_search", "catalog": str(args.catalog), "queries": len(queries), "rounds": args.rounds,
        "k": args.k, "mode": "hybrid", "torch_threads": threads, "direct_searcher": direct,
        "web_api_search": through_web,
        "p50_ratio_web_over_direct": round(through_web["p50_ms"] / direct["p50_ms"], 3),
        "same_top_k_share": round(same / compared, 4) if compared else None,
        "python": platform.python_version(), "cpus": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
