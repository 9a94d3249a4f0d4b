"""Grounded generation benchmark on the demo seed set.

    python benchmarks/generation.py --seed-file data/demo_pairs.jsonl --n 8 --strategies two_step,one_call \
        --serve-local --skip-concurrency

Per backend (the bundled local model in process; with --base-url or --serve-local an
OpenAI-compatible server on 127.0.0.1) and per strategy (two_step, one_call, and an ungrounded job):
acceptance rate, rejections, groundedness distribution (for the ungrounded job: scored post hoc
against the k seed records nearest each sample), distinct-2, nearest-seed-neighbour cosine, tokens
per accepted sample and accepted samples per minute. Older modes below (sequential vs concurrent
against a parallel-slot server) are unchanged.

    python benchmarks/generation.py --seed-file data/demo_pairs.jsonl --n 8
    python benchmarks/generation.py --seed-file data/demo_pairs.jsonl --n 8 --base-url http://127.0.0.1:8080/v1 \
        --concurrency 4
    python benchmarks/generation.py --seed-file data/demo_pairs.jsonl --n 8 --skip-local \
        --llama-server-bin PATH/llama-server --parallel 8 --concurrency 8 --rounds 6

Reports, as JSON:
- local backend: accepted samples per minute, attempts and rejections by reason, for a grounded
  job (k examples retrieved per sample) and an ungrounded job (task only) at equal N;
- diversity of each job's samples against the seed set: distinct-1/2, mean pairwise cosine, share
  of samples whose nearest seed neighbour has cosine >= 0.9, near-copy share (grounded should
  repeat the catalog less);
- with --base-url (any OpenAI-compatible server) or --llama-server-bin (llama.cpp's llama-server,
  started afresh for each pass with --parallel slots, so no pass finds the other's prompts in the
  server's cache): the same grounded job sequentially (concurrency 1) and with --concurrency C, --rounds
  times alternating which goes first (round r uses seed + 1000 + r for both passes); the ratios of
  accepted samples per minute, attempts per minute and completion tokens per second, median over
  rounds (target >= 1.5x with parallel slots).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TASK = "customer support for a home-internet provider: a customer's message and the agent's reply"


def run_job(cat, name: str, n: int, *, grounded: bool, k: int, seed: int, model, concurrency: int = 1,
            max_tokens: int = 220, strategy: str = "one_call") -> dict:
    from generators.text.grounded import GenerationConfig, GenerationIncomplete, generate_text

    config = GenerationConfig(dataset=name, n=n, task=TASK, ground_on=["seed"] if grounded else [], k=k,
                              seed=seed, max_tokens=max_tokens, concurrency=concurrency, max_attempts=12 * n,
                              strategy=strategy if grounded else "one_call")
    try:
        report = generate_text(cat, config, model=model)
    except GenerationIncomplete as exc:
        report = exc.report
    minutes = report.seconds / 60
    return {"strategy": config.strategy, "accepted": report.accepted, "attempts": report.attempts,
            "rejections": report.rejections, "seconds": report.seconds,
            "accepted_per_minute": round(report.accepted / minutes, 2) if minutes else None,
            "acceptance_rate": round(report.accepted / report.attempts, 3) if report.attempts else None,
            "prompt_tokens": report.summary.get("prompt_tokens"),
            "completion_tokens": report.usage.get("completion_tokens"),
            "tokens_per_accepted": report.summary.get("tokens_per_accepted"),
            "surplus": report.usage.get("surplus", 0), "status": report.status}


def groundedness(cat, name: str, k: int) -> dict:
    """Distribution of the job's stored groundedness; for an ungrounded job, scored here against the k
    seed records nearest each sample's prompt (what grounding would have shown it)."""
    import numpy as np

    from catalog.embedders import get_embedder
    from generators.text.groundedness import score_groundedness

    rows = cat.con.execute(
        "SELECT p.groundedness, r.fields FROM records r JOIN datasets d USING (dataset_id) "
        "JOIN generation_provenance p USING (record_id) WHERE d.name = ? ORDER BY r.record_id", [name]).fetchall()
    scores = [g for g, _ in rows if g is not None]
    source = "stored"
    if not scores and rows:
        embed = get_embedder().embed
        source = "post hoc, k nearest seed records"
        for _, fields in rows:
            pair = json.loads(fields)
            hits = cat.search(pair["prompt"], k=k, datasets=["seed"])
            scores.append(score_groundedness(pair["response"], [h.text for h in hits], prompt=pair["prompt"],
                                             embed=embed).score)
    if not scores:
        return {"n": 0}
    a = np.array(scores)
    return {"source": source, "n": len(a), "mean": round(float(a.mean()), 3),
            "p10": round(float(np.quantile(a, 0.1)), 3), "median": round(float(np.median(a)), 3),
            "min": round(float(a.min()), 3), "share_ge_0.6": round(float((a >= 0.6).mean()), 3)}


def quality_pass(cat, label: str, model, args: argparse.Namespace) -> dict:
    """Each strategy's grounded job and one ungrounded job on one backend, with quality figures."""
    out = {}
    for strategy in args.strategies:
        name = f"{label}-{strategy}"
        out[strategy] = run_job(cat, name, args.n, grounded=True, k=args.k, seed=args.seed, model=model,
                                max_tokens=args.max_tokens, strategy=strategy)
        out[strategy]["diversity"] = diversity(cat, name)
        out[strategy]["groundedness"] = groundedness(cat, name, args.k)
    if not args.skip_ungrounded:
        name = f"{label}-ungrounded"
        out["ungrounded"] = run_job(cat, name, args.n, grounded=False, k=0, seed=args.seed, model=model,
                                    max_tokens=args.max_tokens)
        out["ungrounded"]["diversity"] = diversity(cat, name)
        out["ungrounded"]["groundedness"] = groundedness(cat, name, args.k)
    return out


def diversity(cat, name: str) -> dict:
    from catalog.embedders import get_embedder
    from catalog.evaluation.text import evaluate_texts

    def texts(ds: str) -> list[str]:
        return [r[0] for r in cat.con.execute(
            "SELECT text FROM records r JOIN datasets d USING (dataset_id) WHERE d.name = ? ORDER BY record_id",
            [ds]).fetchall()]

    made = texts(name)
    if not made:
        return {}
    result = evaluate_texts(texts("seed"), made, embed=get_embedder().embed)
    syn = result["diversity"]["synthetic"]
    nov = result["novelty"]
    return {"distinct_1": syn.get("distinct_1"), "distinct_2": syn.get("distinct_2"),
            "mean_pairwise_cosine": syn.get("mean_pairwise_cosine"),
            "share_nn_cosine_ge_0.9": nov.get("share_nn_cosine_at_least_threshold"),
            "nn_cosine_mean": nov.get("nn_cosine_mean"), "near_copy_share": nov.get("near_copy_share")}


def served(cat, args: argparse.Namespace) -> dict:
    """The same grounded job sequentially and with --concurrency C against one kind of server,
    --rounds times, alternating which goes first.

    With --llama-server-bin each pass gets a freshly started server: llama-server keeps the prompts
    it has seen (per slot and in its RAM cache), and the pass that went second would otherwise find
    the other pass's prompts already evaluated."""
    import contextlib

    from chat_throughput import median_of, process_cpu_seconds, ratio, running_server, warm_up

    from generators.chat import load_chat_model
    from generators.chat.local import bundled_model_path

    spec = f"openai:{args.model_name}"
    rounds, server_info = [], None
    for r in range(args.rounds):
        out = {}
        order = [("sequential", 1), ("concurrent", args.concurrency)]
        # One seed per round, shared by both passes: with a fixed seed the sequential pass would
        # replay one draw of the acceptance process every round.
        seed = args.seed + 1000 + r
        for mode, conc in order if r % 2 == 0 else order[::-1]:
            with contextlib.ExitStack() as stack:
                proc, base_url = None, args.base_url
                if args.llama_server_bin:
                    log = Path(tempfile.mkdtemp(prefix="synthcat-server-")) / "server.log"
                    server_args = argparse.Namespace(llama_server_bin=args.llama_server_bin, n_ctx=args.n_ctx,
                                                     parallel=args.parallel, threads=args.threads_server,
                                                     server_args=args.server_args)
                    proc, base_url, server_info = stack.enter_context(
                        running_server(server_args, str(bundled_model_path()), log))
                model = load_chat_model(spec, base_url=base_url, timeout=300)
                warm_up(model, args.concurrency)
                cpu_before = process_cpu_seconds(proc.pid if proc else None)
                res = run_job(cat, f"served-{mode}-{r}", args.n, grounded=True, k=args.k,
                              seed=seed, model=model, concurrency=conc, max_tokens=args.max_tokens)
                cpu_after = process_cpu_seconds(proc.pid if proc else None)
            res["seed"] = seed
            res["attempts_per_minute"] = round(res["attempts"] / res["seconds"] * 60, 2)
            res["completion_tokens_per_s"] = round((res["completion_tokens"] or 0) / res["seconds"], 2)
            if cpu_before is not None and cpu_after is not None:
                # ~ --threads when the server had its cores; ~1 when another job took one.
                res["server_cpu_share"] = round((cpu_after - cpu_before) / res["seconds"], 2)
            out[mode] = res
        for key in ("accepted_per_minute", "attempts_per_minute", "completion_tokens_per_s"):
            out[f"speedup_{key}"] = ratio(out["concurrent"][key], out["sequential"][key])
        rounds.append(out)

    def median(key: str) -> float | None:
        return median_of(r[key] for r in rounds)

    totals = {mode: {"accepted": sum(r[mode]["accepted"] for r in rounds),
                     "attempts": sum(r[mode]["attempts"] for r in rounds),
                     "seconds": round(sum(r[mode]["seconds"] for r in rounds), 2)}
              for mode in ("sequential", "concurrent")}
    for t in totals.values():
        t["accepted_per_minute"] = round(t["accepted"] / t["seconds"] * 60, 2)
        t["acceptance_rate"] = round(t["accepted"] / t["attempts"], 3)
    return {"base_url": args.base_url, "server": server_info, "concurrency": args.concurrency,
            "max_tokens": args.max_tokens, "rounds": rounds, "totals": totals,
            "speedup_accepted_per_minute_pooled": round(totals["concurrent"]["accepted_per_minute"]
                                                        / totals["sequential"]["accepted_per_minute"], 3),
            "speedup_accepted_per_minute_median": median("speedup_accepted_per_minute"),
            "speedup_attempts_per_minute_median": median("speedup_attempts_per_minute"),
            "speedup_completion_tokens_per_s_median": median("speedup_completion_tokens_per_s")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-file", type=Path, required=True)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="local model threads")
    parser.add_argument("--strategies", default="two_step,one_call",
                        type=lambda text: [s.strip() for s in text.split(",") if s.strip()])
    parser.add_argument("--skip-ungrounded", action="store_true")
    parser.add_argument("--serve-local", action="store_true",
                        help="start generators.chat.serve (llama.cpp server via xllamacpp) on 127.0.0.1 for the "
                             "OpenAI-compatible quality pass")
    parser.add_argument("--skip-concurrency", action="store_true",
                        help="with --base-url: run only the quality pass, not sequential vs concurrent")
    parser.add_argument("--base-url", help="OpenAI-compatible server for the sequential vs concurrent run")
    parser.add_argument("--llama-server-bin", help="llama.cpp's llama-server: start a fresh one for each pass")
    parser.add_argument("--parallel", type=int, default=8, help="llama-server slots (default 8)")
    parser.add_argument("--server-threads", dest="threads_server", type=int, default=2,
                        help="llama-server CPU threads (default 2)")
    parser.add_argument("--n-ctx", type=int, default=2048, help="llama-server context per slot (default 2048)")
    parser.add_argument("--server-args", default="--poll 0", help='extra llama-server flags (default "--poll 0")')
    parser.add_argument("--model-name", default="smollm2", help="model name to send to --base-url")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1, help="sequential/concurrent pairs against --base-url")
    parser.add_argument("--max-tokens", type=int, default=220, help="token limit per completion (default 220)")
    parser.add_argument("--skip-local", action="store_true")
    args = parser.parse_args()

    from catalog import open_catalog
    from generators.chat import load_chat_model

    workdir = Path(tempfile.mkdtemp(prefix="synthcat-gen-"))
    report: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                    "load_before": os.getloadavg(), "n": args.n, "k": args.k, "seed_file": str(args.seed_file)}
    try:
        with open_catalog(workdir / "cat", create=True) as cat:
            cat.import_file(args.seed_file, "seed", origin="real", id_field="id")
            if not args.skip_local:
                local = load_chat_model("local", threads=args.threads, timeout=300)
                report["local"] = quality_pass(cat, "local", local, args)
                report["local"]["runtime"] = local.runtime
            if args.serve_local or (args.base_url and args.skip_concurrency):
                import contextlib

                from chat_throughput import running_server

                from generators.chat.local import bundled_model_path

                with contextlib.ExitStack() as stack:
                    base_url, info = args.base_url, {"server": "given"}
                    if args.serve_local:
                        log = Path(tempfile.mkdtemp(prefix="synthcat-server-")) / "server.log"
                        server_args = argparse.Namespace(llama_server_bin=None, n_ctx=args.n_ctx, parallel=1,
                                                         threads=args.threads or 2, server_args="")
                        _, base_url, info = stack.enter_context(
                            running_server(server_args, str(bundled_model_path()), log))
                    served_model = load_chat_model(f"openai:{args.model_name}", base_url=base_url, timeout=300)
                    report["server_quality"] = quality_pass(cat, "server", served_model, args)
                    report["server_quality"]["server"] = info
            if (args.base_url and not args.skip_concurrency) or args.llama_server_bin:
                report["server"] = served(cat, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
