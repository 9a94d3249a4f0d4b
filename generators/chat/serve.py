"""Serve a GGUF model (default: the bundled SmolLM2) over an OpenAI-compatible HTTP API on 127.0.0.1.

    python -m generators.chat.serve --port 8080 --parallel 4

llama.cpp's own server (through xllamacpp's prebuilt wheel, no compiler needed) with continuous
batching over ``--parallel`` slots, JSON-schema output and per-request seeds; then
``synthcat generate text ... --model openai:local --base-url http://127.0.0.1:8080/v1``. Runs until
interrupted. The tests and benchmarks start it as their OpenAI-compatible server.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF file (default: the bundled SmolLM2-135M-Instruct)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--parallel", type=int, default=1, help="slots (requests decoded together)")
    parser.add_argument("--ctx-per-slot", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)

    import xllamacpp as xlc

    from generators.chat.local import bundled_model_path, default_threads

    params = xlc.CommonParams()
    params.model.path = args.model or str(bundled_model_path())
    params.n_parallel = args.parallel
    params.n_ctx = args.ctx_per_slot * args.parallel
    threads = args.threads or default_threads()
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.cpuparams.poll = 0
    params.cpuparams_batch.poll = 0
    params.hostnames = [args.host]
    params.port = args.port
    params.verbosity = -1
    server = xlc.Server(params)
    print(f"serving {params.model.path} at {server.listening_address}/v1 with {args.parallel} slot(s)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    del server
    sys.exit(0)


if __name__ == "__main__":
    main()
