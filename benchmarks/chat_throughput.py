"""Chat throughput against an OpenAI-compatible server: sequential versus concurrent requests.

Baseline: the same requests sent one at a time (max_concurrency=1) in the same run. The figure is
the ratio of completion tokens per second (and requests per second) concurrent / sequential.

The server is one of:
  * ``--base-url URL``: an endpoint that is already running (vLLM, Ollama, llama.cpp's llama-server...);
  * ``--llama-server-bin PATH``: llama.cpp's C++ ``llama-server`` started here with ``--parallel N`` slots;
  * neither: llama.cpp's server through xllamacpp (``python -m generators.chat.serve``, no compiler
    needed) started here with ``--parallel N`` slots.
Either started server serves the bundled SmolLM2-135M-Instruct GGUF unless ``--model-path`` is given.
Prints one JSON object: each round runs both modes (alternating which goes first) and the headline is
the median of the per-round ratios. A server started here is started afresh for every pass, so no
pass finds prompts that an earlier pass left evaluated. ``--grounded-on SEED_FILE`` sends prompts
the size of a grounded job's (its template, k examples); ``--json-schema`` requests a JSON schema
as the job does; ``--max-tokens 1`` measures prompt evaluation alone. On a shared machine the wall
times are noisy: for a server started here each pass also reports ``server_cpu_share`` (server CPU
seconds / wall seconds, from /proc), which tells the rounds where the server had its cores from
those where another job took one.
``--server-args`` passes extra flags to llama-server (e.g. ``"--poll 0"``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators.chat import load_chat_model  # noqa: E402

TOPICS = ["rivers", "volcanoes", "bread", "owls", "tides", "glass", "chess", "bees", "clouds", "maps",
          "salt", "bridges", "moss", "comets", "violins", "deserts"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(base_url: str, proc: subprocess.Popen, log: Path, limit: float = 180.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"server not ready after {limit:.0f} s: {log.read_text()[-2000:]}")


def start_server(args: argparse.Namespace, model_path: str, log: Path) -> tuple[subprocess.Popen, str, dict]:
    port = _free_port()
    if args.llama_server_bin:
        cmd = [args.llama_server_bin, "-m", model_path, "--host", "127.0.0.1", "--port", str(port),
               "-c", str(args.n_ctx * args.parallel), "--parallel", str(args.parallel),
               "-t", str(args.threads)] + shlex.split(args.server_args)
        info = {"server": "llama.cpp llama-server", "parallel_slots": args.parallel,
                "server_version": _server_version(args.llama_server_bin)}
    else:
        cmd = [sys.executable, "-m", "generators.chat.serve", "--model", model_path, "--host", "127.0.0.1",
               "--port", str(port), "--ctx-per-slot", str(args.n_ctx), "--parallel", str(args.parallel),
               "--threads", str(args.threads)]
        info = {"server": "llama.cpp server via xllamacpp (generators.chat.serve)", "parallel_slots": args.parallel}
    info["server_command"] = shlex.join([Path(cmd[0]).name if args.llama_server_bin else cmd[0]] + cmd[1:])
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    base_url = f"http://127.0.0.1:{port}/v1"
    _wait_ready(base_url, proc, log)
    return proc, base_url, info


@contextlib.contextmanager
def running_server(args: argparse.Namespace, model_path: str,
                   log: Path) -> Iterator[tuple[subprocess.Popen, str, dict]]:
    """:func:`start_server` for the length of a ``with`` block; stopped after it (killed if it has
    not exited 30 s after being asked to)."""
    proc, base_url, info = start_server(args, model_path, log)
    try:
        yield proc, base_url, info
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _server_version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    lines = [line.strip() for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    return " | ".join(line for line in lines if line.startswith(("version", "built with"))) or "unknown"


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time the server process has used so far (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def grounded_requests(seed_file: Path, count: int, k: int, seed: int, max_tokens: int,
                      json_schema: bool) -> list[dict]:
    """Requests shaped like a grounded job's: the job's template, one pair of SEED_FILE as the anchor
    and k others as examples (drawn at random; real retrieval would pick neighbours of the same size)."""
    import random

    from generators.text.prompting import DEFAULT_TEMPLATE, build_messages, format_example
    from generators.text.samples import KIND_SCHEMAS

    pairs = [json.loads(line) for line in seed_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(pairs) < k + 1:
        raise SystemExit(f"{seed_file}: need at least {k + 1} prompt/response pairs, found {len(pairs)}")
    rng = random.Random(seed)
    requests = []
    for i in range(count):
        anchor, *shown = rng.sample(pairs, k + 1)
        examples = [format_example(p, "pairs", n) for n, p in enumerate(shown, start=1)]
        messages = build_messages(DEFAULT_TEMPLATE, task="more examples like those in seed", kind="pairs",
                                  anchor=anchor["prompt"], examples=examples)
        requests.append({"messages": messages, "seed": seed + i, "temperature": 0.8, "max_tokens": max_tokens,
                         "json_schema": KIND_SCHEMAS["pairs"] if json_schema else None})
    return requests


def warm_up(model, width: int) -> None:
    """Not measured, and the same before either pass: one burst of WIDTH tiny requests at once, so
    neither pass pays the freshly started server's first single- and multi-sequence batches."""
    model.complete_many([{"messages": [{"role": "user", "content": f"Say {i}."}], "max_tokens": 4, "seed": i}
                         for i in range(width)], max_concurrency=width)


def run(model, requests: list[dict], concurrency: int, server_pid: int | None = None) -> dict:
    cpu_before = process_cpu_seconds(server_pid)
    started = time.monotonic()
    results = model.complete_many(requests, max_concurrency=concurrency)
    wall = time.monotonic() - started
    cpu_after = process_cpu_seconds(server_pid)
    ok = [r for r in results if r.ok]
    tokens = sum(r.completion_tokens for r in ok)
    prompt_tokens = sum(r.prompt_tokens for r in ok)
    out = {"concurrency": concurrency, "requests": len(requests), "succeeded": len(ok), "wall_s": round(wall, 3),
           "completion_tokens": tokens, "prompt_tokens": prompt_tokens,
           "attempts": sum(r.attempts for r in ok), "requests_per_s": round(len(ok) / wall, 3),
           "completion_tokens_per_s": round(tokens / wall, 2),
           "prompt_tokens_per_s": round(prompt_tokens / wall, 2),
           "mean_latency_s": round(sum(r.latency_s for r in ok) / max(1, len(ok)), 3),
           "pushbacks": model.last_batch.pushbacks}
    if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
        # CPU the server got during the pass: a share near --threads means it had the cores to itself;
        # a share near 1 with -t 2 means another job took a core, and that pass's rate is not clean.
        out["server_cpu_s"] = round(cpu_after - cpu_before, 2)
        out["server_cpu_share"] = round((cpu_after - cpu_before) / wall, 2)
        out["completion_tokens_per_server_cpu_s"] = round(tokens / (cpu_after - cpu_before), 2)
    return out


def one_pass(args: argparse.Namespace, requests: list[dict], concurrency: int, tmp: Path,
             info: dict) -> dict:
    """Run REQUESTS once at CONCURRENCY. A server started here is started fresh for the pass: a
    server keeps the prompts it has evaluated, and a pass that followed another on the same server
    would find them already evaluated."""
    with contextlib.ExitStack() as stack:
        proc, base_url = None, args.base_url
        if not base_url:
            from generators.chat.local import bundled_model_path

            model_path = args.model_path or str(bundled_model_path())
            log = tmp / f"server-{time.monotonic_ns()}.log"
            proc, base_url, started = stack.enter_context(running_server(args, model_path, log))
            info.update(started, threads=args.threads)
        model = load_chat_model(f"openai:{args.model_name}", base_url=base_url, timeout=300, max_retries=3,
                                retry_seed=args.seed)
        warm_up(model, args.concurrency)
        return run(model, requests, concurrency, proc.pid if proc is not None else None)


def ratio(concurrent: float | None, sequential: float | None) -> float | None:
    """concurrent / sequential to 3 decimals, or None when either is missing or zero."""
    return round(concurrent / sequential, 3) if sequential and concurrent else None


def median_of(values: Iterable[float | None]) -> float | None:
    """Median of the values that are present, to 3 decimals (None if none is)."""
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="benchmark this running endpoint instead of starting one")
    parser.add_argument("--model-name", default="smollm2", help="model name sent to --base-url")
    parser.add_argument("--llama-server-bin", help="path of llama.cpp's llama-server binary to start")
    parser.add_argument("--model-path", help="GGUF to serve (default: the bundled SmolLM2-135M-Instruct)")
    parser.add_argument("--parallel", type=int, default=4, help="llama-server slots (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="server CPU threads (default 2)")
    parser.add_argument("--n-ctx", type=int, default=1024, help="context per slot (default 1024)")
    parser.add_argument("--server-args", default="",
                        help="extra llama-server flags, one quoted string (e.g. \"-tb 2 -ub 512 --no-warmup\")")
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=48,
                        help="completion limit; 1 measures prompt evaluation alone")
    parser.add_argument("--grounded-on", type=Path, metavar="SEED_FILE",
                        help="send grounded-job-sized prompts built from this JSONL of prompt/response pairs "
                             "instead of one-line prompts")
    parser.add_argument("--k", type=int, default=3, help="examples per grounded prompt (default 3)")
    parser.add_argument("--json-schema", action="store_true",
                        help="request the pairs JSON schema, as a grounded job does (llama-server samples "
                             "under a grammar; an answer that does not parse is retried)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3, help="sequential/concurrent pairs (default 3)")
    args = parser.parse_args()

    if args.grounded_on:
        requests = grounded_requests(args.grounded_on, args.requests, args.k, args.seed, args.max_tokens,
                                     args.json_schema)
    else:
        from generators.text.samples import KIND_SCHEMAS

        requests = [{"messages": [{"role": "user", "content": f"Write two sentences about {TOPICS[i % len(TOPICS)]}."}],
                     "seed": args.seed + i, "temperature": 0.7, "max_tokens": args.max_tokens,
                     "json_schema": KIND_SCHEMAS["text"] if args.json_schema else None}
                    for i in range(args.requests)]
    info: dict = {"server": "external", "base_url": args.base_url}
    load_before = os.getloadavg()
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            # Alternate which mode goes first, so load that drifts over time hits both alike.
            order = [1, args.concurrency] if r % 2 == 0 else [args.concurrency, 1]
            passes = {c: one_pass(args, requests, c, Path(tmp), info) for c in order}
            seq, conc = passes[1], passes[args.concurrency]
            one = {"sequential": seq, "concurrent": conc,
                   "speedup_tokens_per_s": ratio(conc["completion_tokens_per_s"], seq["completion_tokens_per_s"]),
                   "speedup_requests_per_s": ratio(conc["requests_per_s"], seq["requests_per_s"])}
            if "completion_tokens_per_server_cpu_s" in seq and "completion_tokens_per_server_cpu_s" in conc:
                one["speedup_tokens_per_server_cpu_s"] = ratio(conc["completion_tokens_per_server_cpu_s"],
                                                               seq["completion_tokens_per_server_cpu_s"])
            rounds.append(one)
    load = os.getloadavg()
    if args.base_url is None:
        info["fresh_server_per_pass"] = True
    print(json.dumps({
        "benchmark": "chat_throughput",
        "baseline": "sequential (max_concurrency=1), same requests, same run",
        "command": shlex.join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]),
        "requests": args.requests, "concurrency": args.concurrency, "max_tokens": args.max_tokens,
        "prompts": f"grounded (k={args.k})" if args.grounded_on else "one-line topics",
        "json_schema": args.json_schema,
        **info,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_before": [round(x, 2) for x in load_before],
                    "load_avg_after": [round(x, 2) for x in load],
                    "note": "CPU shared with other jobs: figures are noisy"},
        "rounds": rounds,
        "speedup_tokens_per_s_median": median_of(r["speedup_tokens_per_s"] for r in rounds),
        "speedup_requests_per_s_median": median_of(r["speedup_requests_per_s"] for r in rounds),
        "speedup_tokens_per_server_cpu_s_median": median_of(r["speedup_tokens_per_server_cpu_s"] for r in rounds)
        if all("speedup_tokens_per_server_cpu_s" in r for r in rounds) and rounds else None,
        "target_speedup": 1.5,
    }, indent=2))


if __name__ == "__main__":
    main()
