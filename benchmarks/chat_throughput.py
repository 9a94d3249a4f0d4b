"""Chat throughput against an OpenAI-compatible server: sequential versus concurrent requests.

Baseline: the same requests sent one at a time (max_concurrency=1) in the same run. The figure is
the ratio of completion tokens per second (and requests per second) concurrent / sequential.

The server is one of:
  * ``--base-url URL``: an endpoint that is already running (vLLM, Ollama, llama.cpp's llama-server...);
  * ``--llama-server-bin PATH``: llama.cpp's C++ ``llama-server`` started here with ``--parallel N`` slots;
  * neither: llama-cpp-python's ``python -m llama_cpp.server`` started here (it serves one request at a
    time: it has no parallel slots, so expect a ratio near 1).
Either started server serves the bundled SmolLM2-135M-Instruct GGUF unless ``--model-path`` is given.
Prints one JSON object: each round runs both modes (alternating which goes first) and the headline is
the median of the per-round ratios. On a shared machine the wall times are noisy: for a server started
here each pass also reports ``server_cpu_share`` (server CPU seconds / wall seconds, from /proc), which
tells the rounds where the server had its cores from those where another job took one.
``--server-args`` passes extra flags to llama-server (e.g. ``"--poll 0"``).
"""

from __future__ import annotations

import argparse
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
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", model_path, "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", str(args.n_ctx), "--n_threads", str(args.threads),
               "--verbose", "False"]
        info = {"server": "llama-cpp-python llama_cpp.server", "parallel_slots": 1}
    info["server_command"] = shlex.join([Path(cmd[0]).name if args.llama_server_bin else cmd[0]] + cmd[1:])
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    base_url = f"http://127.0.0.1:{port}/v1"
    _wait_ready(base_url, proc, log)
    return proc, base_url, info


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


def run(model, requests: list[dict], concurrency: int, server_pid: int | None = None) -> dict:
    cpu_before = process_cpu_seconds(server_pid)
    started = time.monotonic()
    results = model.complete_many(requests, max_concurrency=concurrency)
    wall = time.monotonic() - started
    cpu_after = process_cpu_seconds(server_pid)
    ok = [r for r in results if r.ok]
    tokens = sum(r.completion_tokens for r in ok)
    out = {"concurrency": concurrency, "requests": len(requests), "succeeded": len(ok), "wall_s": round(wall, 3),
            "completion_tokens": tokens, "requests_per_s": round(len(ok) / wall, 3),
            "completion_tokens_per_s": round(tokens / wall, 2),
            "mean_latency_s": round(sum(r.latency_s for r in ok) / max(1, len(ok)), 3),
            "pushbacks": model.last_batch.pushbacks}
    if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
        # CPU the server got during the pass: a share near --threads means it had the cores to itself;
        # a share near 1 with -t 2 means another job took a core, and that pass's rate is not clean.
        out["server_cpu_s"] = round(cpu_after - cpu_before, 2)
        out["server_cpu_share"] = round((cpu_after - cpu_before) / wall, 2)
        out["completion_tokens_per_server_cpu_s"] = round(tokens / (cpu_after - cpu_before), 2)
    return out


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
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3, help="sequential/concurrent pairs (default 3)")
    args = parser.parse_args()

    requests = [{"messages": [{"role": "user", "content": f"Write two sentences about {TOPICS[i % len(TOPICS)]}."}],
                 "seed": args.seed + i, "temperature": 0.7, "max_tokens": args.max_tokens}
                for i in range(args.requests)]
    proc = None
    info: dict = {"server": "external", "base_url": args.base_url}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if args.base_url:
                base_url = args.base_url
            else:
                from generators.chat.local import bundled_model_path

                model_path = args.model_path or str(bundled_model_path())
                proc, base_url, info = start_server(args, model_path, Path(tmp) / "server.log")
                info["threads"] = args.threads
            model = load_chat_model(f"openai:{args.model_name}", base_url=base_url, timeout=300, max_retries=3,
                                    retry_seed=args.seed)
            model.complete(requests[0]["messages"], max_tokens=4, seed=0)  # warm-up, not measured
            rounds = []
            for r in range(args.rounds):
                # Alternate which mode goes first, so load that drifts over time hits both alike.
                pid = proc.pid if proc is not None else None
                if r % 2 == 0:
                    seq, conc = run(model, requests, 1, pid), run(model, requests, args.concurrency, pid)
                else:
                    conc, seq = run(model, requests, args.concurrency, pid), run(model, requests, 1, pid)
                one = {"sequential": seq, "concurrent": conc,
                       "speedup_tokens_per_s": round(conc["completion_tokens_per_s"]
                                                     / seq["completion_tokens_per_s"], 3)}
                if "completion_tokens_per_server_cpu_s" in seq and "completion_tokens_per_server_cpu_s" in conc:
                    one["speedup_tokens_per_server_cpu_s"] = round(conc["completion_tokens_per_server_cpu_s"]
                                                                   / seq["completion_tokens_per_server_cpu_s"], 3)
                rounds.append(one)
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    load = os.getloadavg()
    print(json.dumps({
        "benchmark": "chat_throughput",
        "baseline": "sequential (max_concurrency=1), same requests, same run",
        "command": shlex.join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]),
        "requests": args.requests, "concurrency": args.concurrency, "max_tokens": args.max_tokens,
        **info,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_before": [round(x, 2) for x in load_before],
                    "load_avg_after": [round(x, 2) for x in load],
                    "note": "CPU shared with other jobs: figures are noisy"},
        "rounds": rounds,
        "speedup_tokens_per_s_median": round(statistics.median(r["speedup_tokens_per_s"] for r in rounds), 3),
        "speedup_tokens_per_server_cpu_s_median": round(statistics.median(
            r["speedup_tokens_per_server_cpu_s"] for r in rounds), 3)
        if all("speedup_tokens_per_server_cpu_s" in r for r in rounds) and rounds else None,
        "target_speedup": 1.5,
    }, indent=2))


if __name__ == "__main__":
    main()
