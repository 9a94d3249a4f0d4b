"""The local model runtime: llama-cpp-python (compiled at install) against xllamacpp (prebuilt wheel).

    python benchmarks/local_runtime.py --runtime xllamacpp --runtime llama-cpp-python

For each runtime, on the bundled SmolLM2-135M-Instruct GGUF, in this process, 2 threads:
- load time (import + model load);
- sequential free-text decoding: ``--requests`` chat requests one after another (max_tokens 64,
  fixed seeds), completion tokens per second;
- sequential JSON-schema output: grounded-size prompts (~400 tokens) with the pairs schema
  (max_tokens 160), completion tokens per second and the share that parse and match the schema;
- parallel slots (xllamacpp only: llama-cpp-python's Llama runs one sequence at a time): the same
  free-text requests from ``--parallel`` threads against ``--parallel`` slots, aggregate tok/s;
- seed reproducibility: the same request twice with one seed gives the same text.

Install time is measured outside Python (a fresh venv, ``pip install --no-cache-dir``), see
benchmarks/RESULTS.md. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PAIRS_SCHEMA = {"type": "object", "properties": {"prompt": {"type": "string"}, "response": {"type": "string"}},
                "required": ["prompt", "response"]}
QUESTIONS = ["Name three colours.", "What is a router?", "Say something about rain.", "Describe a cat briefly.",
             "Why is the sky blue?", "List two fruits.", "What is wifi?", "Give a tip for sleeping well."]


def grounded_prompt(seed_file: Path, i: int) -> list[dict]:
    rows = [json.loads(line) for line in seed_file.read_text().splitlines() if line.strip()]
    chosen = rows[(3 * i) % len(rows):(3 * i) % len(rows) + 3]
    examples = "\n\n".join(f"Example {n}:\nPrompt: {r['prompt']}\nResponse: {r['response']}"
                           for n, r in enumerate(chosen, start=1))
    body = (f"You write new training examples. Task: customer support\n\nExisting examples:\n{examples}\n\n"
            f"Write ONE new example on the same subject as: \"{chosen[0]['prompt']}\"\n"
            'Answer with JSON only, shaped like {"prompt": "...", "response": "..."}')
    return [{"role": "system", "content": "You reply with JSON only."}, {"role": "user", "content": body}]


class XllamacppRuntime:
    name = "xllamacpp"

    def __init__(self, path: str, threads: int, parallel: int) -> None:
        import xllamacpp as xlc

        params = xlc.CommonParams()
        params.model.path = path
        params.n_parallel = parallel
        params.n_ctx = 2048 * parallel
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = -1
        self.server = xlc.Server(params)

    def chat(self, messages, *, max_tokens, seed, schema=None) -> tuple[str, int, int]:
        body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0.8, "seed": seed}
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "o", "schema": schema}}
        out = self.server.handle_chat_completions(body)
        usage = out["usage"]
        return out["choices"][0]["message"]["content"], usage["prompt_tokens"], usage["completion_tokens"]


class LlamaCppPythonRuntime:
    """Through the project's own local backend (generators.chat.local), as generation uses it."""

    name = "llama-cpp-python"

    def __init__(self, path: str, threads: int, parallel: int) -> None:
        from generators.chat.local import LocalChatModel

        self.model = LocalChatModel(path, threads=threads, timeout=600).load()

    def chat(self, messages, *, max_tokens, seed, schema=None) -> tuple[str, int, int]:
        res = self.model.complete(messages, temperature=0.8, seed=seed, max_tokens=max_tokens,
                                  json_schema=schema) if schema is None else self._json(messages, max_tokens, seed,
                                                                                        schema)
        return res.text, res.prompt_tokens, res.completion_tokens

    def _json(self, messages, max_tokens, seed, schema):
        from generators.chat.types import ChatError

        try:
            return self.model.complete(messages, temperature=0.8, seed=seed, max_tokens=max_tokens,
                                       json_schema=schema)
        except ChatError as exc:  # count it as an invalid answer below
            print(f"llama-cpp-python JSON request failed: {exc}", file=sys.stderr)
            return _Failed()


class _Failed:
    text, prompt_tokens, completion_tokens = "", 0, 0


def measure(cls, path: str, args: argparse.Namespace, seed_file: Path) -> dict:
    from generators.chat.jsonout import parse_structured

    started = time.perf_counter()
    runtime = cls(path, args.threads, args.parallel)
    out: dict = {"load_s": round(time.perf_counter() - started, 3)}
    runtime.chat([{"role": "user", "content": "Hi"}], max_tokens=4, seed=0)  # warm-up

    started, tokens = time.perf_counter(), 0
    for i in range(args.requests):
        tokens += runtime.chat([{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}], max_tokens=64,
                               seed=100 + i)[2]
    wall = time.perf_counter() - started
    out["sequential"] = {"requests": args.requests, "completion_tokens": tokens, "seconds": round(wall, 2),
                         "tokens_per_s": round(tokens / wall, 1)}

    started, tokens, prompt_tokens, valid = time.perf_counter(), 0, 0, 0
    for i in range(args.json_requests):
        text, p, c = runtime.chat(grounded_prompt(seed_file, i), max_tokens=160, seed=200 + i, schema=PAIRS_SCHEMA)
        tokens, prompt_tokens = tokens + c, prompt_tokens + p
        try:
            parse_structured(text, PAIRS_SCHEMA)
            valid += 1
        except Exception:  # noqa: BLE001 - any failure to parse counts as invalid
            pass
    wall = time.perf_counter() - started
    out["json_schema"] = {"requests": args.json_requests, "prompt_tokens": prompt_tokens,
                          "completion_tokens": tokens, "seconds": round(wall, 2),
                          "tokens_per_s": round(tokens / wall, 1), "valid_share": valid / args.json_requests}

    a = runtime.chat([{"role": "user", "content": QUESTIONS[0]}], max_tokens=32, seed=7)[0]
    b = runtime.chat([{"role": "user", "content": QUESTIONS[0]}], max_tokens=32, seed=7)[0]
    out["same_seed_same_text"] = a == b

    if cls is XllamacppRuntime and args.parallel > 1:
        results: list[int] = []
        lock = threading.Lock()

        def worker(indices: list[int]) -> None:
            for i in indices:
                n = runtime.chat([{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}], max_tokens=64,
                                 seed=100 + i)[2]
                with lock:
                    results.append(n)

        threads = [threading.Thread(target=worker, args=(list(range(t, args.requests, args.parallel)),))
                   for t in range(args.parallel)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        out["parallel"] = {"slots": args.parallel, "requests": args.requests, "completion_tokens": sum(results),
                           "seconds": round(wall, 2), "tokens_per_s": round(sum(results) / wall, 1)}
        out["parallel"]["ratio_to_sequential"] = round(out["parallel"]["tokens_per_s"]
                                                       / out["sequential"]["tokens_per_s"], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", action="append", choices=["xllamacpp", "llama-cpp-python"], required=True)
    parser.add_argument("--seed-file", type=Path, default=Path("data/demo_pairs.jsonl"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--json-requests", type=int, default=6)
    args = parser.parse_args()

    from generators.chat.local import bundled_model_path

    path = str(bundled_model_path())
    report: dict = {"model": Path(path).name, "threads": args.threads, "load_before": os.getloadavg()}
    classes = {"xllamacpp": XllamacppRuntime, "llama-cpp-python": LlamaCppPythonRuntime}
    for name in args.runtime:
        report[name] = measure(classes[name], path, args, args.seed_file)
    report["load_after"] = os.getloadavg()
    if "xllamacpp" in report and "llama-cpp-python" in report:
        x, lcp = report["xllamacpp"], report["llama-cpp-python"]
        report["ratios_xllamacpp_to_llama_cpp_python"] = {
            key: round(x[key]["tokens_per_s"] / lcp[key]["tokens_per_s"], 3) if lcp[key]["tokens_per_s"] else None
            for key in ("sequential", "json_schema")}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
