"""The ``llama-cpp-python`` runtime of the ``local`` backend (optional: ``pip install llama-cpp-python``).

The default runtime is xllamacpp (:mod:`generators.chat.local`), whose wheel is prebuilt; this one
compiles llama.cpp at install, runs one generation at a time behind a lock, and is kept for
machines where it is already installed and for ``runtime="llama-cpp-python"``. One
``llama_cpp.Llama`` per (file, threads, context size) per process; the chat format comes from the
GGUF's own template.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from catalog.errors import BadInput, MissingDependency
from generators.chat.base import RawCompletion
from generators.chat.retry import AttemptError


def load_llama(path: Path, threads: int, n_ctx: int) -> Any:
    """A ``llama_cpp.Llama`` on ``path`` (MissingDependency naming the install command if absent)."""
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise MissingDependency("the llama-cpp-python runtime needs it installed: pip install llama-cpp-python "
                                "(or use the default xllamacpp runtime: pip install xllamacpp)") from exc
    return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)


class LlamaCppEngine:
    """One loaded model; one generation at a time (``llama_cpp.Llama`` is not thread safe)."""

    runtime = "llama-cpp-python"
    slots = 1

    def __init__(self, path: Path, threads: int, n_ctx: int, parallel: int = 1) -> None:
        self.path = path
        self.llama = load_llama(path, threads, n_ctx)
        self.lock = threading.Lock()
        self._format: Any = None

    def close(self) -> None:
        with self.lock:
            self.llama.close()

    def _formatter(self) -> Any:
        """The chat formatter built from the GGUF's own ``tokenizer.chat_template``."""
        if self._format is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llama = self.llama
            template = llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise BadInput("the GGUF file carries no chat template (tokenizer.chat_template)",
                               file=str(self.path), param="model")
            eos, bos = llama.token_eos(), llama.token_bos()

            def text(token: int) -> str:
                return llama.detokenize([token], special=True).decode("utf-8", "replace") if token >= 0 else ""

            self._format = Jinja2ChatFormatter(template=template, eos_token=text(eos), bos_token=text(bos),
                                               stop_token_ids=[eos])
        return self._format

    def complete(self, messages: list[dict[str, Any]], *, temperature: float, seed: int | None,
                 max_tokens: int, json_schema: dict[str, Any] | None, timeout: float | None) -> RawCompletion:
        from llama_cpp import StoppingCriteriaList
        from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

        with self.lock:
            llama = self.llama
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
