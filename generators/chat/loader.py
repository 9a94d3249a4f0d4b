"""``load_chat_model(spec)``: turn a model spec string into a ready :class:`ChatModel`.

Specs: ``local`` (the bundled SmolLM2-135M-Instruct), ``local:smollm2-135m-instruct`` (the same),
``local:/path/to/model.gguf`` (any GGUF file), ``openai:MODEL`` (any OpenAI-compatible endpoint).
"""

from __future__ import annotations

from catalog.errors import BadInput
from generators.chat.base import ChatModel
from generators.chat.retry import RetryPolicy


def load_chat_model(spec: str = "local", *, base_url: str | None = None, threads: int | None = None,
                    timeout: float = 60.0, max_retries: int = 4, retry_seed: int | None = None,
                    backoff_base: float = 0.5, backoff_max: float = 20.0, max_retry_after: float = 120.0,
                    n_ctx: int | None = None, json_style: str = "json_schema", parallel: int = 1,
                    runtime: str = "auto") -> ChatModel:
    """A chat model for ``spec``; nothing heavy is loaded until the first completion.

    ``base_url`` (else ``OPENAI_BASE_URL``) and ``json_style`` apply to ``openai:`` models;
    ``threads``, ``n_ctx``, ``parallel`` (slots of the in-process server) and ``runtime``
    (``auto``, ``xllamacpp`` or ``llama-cpp-python``) to local ones. The retry settings apply to
    both: up to ``max_retries`` retries with full-jitter backoff from ``backoff_base`` doubling up
    to ``backoff_max`` seconds, ``retry_seed`` making the jitter reproducible.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise BadInput("empty model spec; use 'local' or 'openai:MODEL'", param="model")
    retry = RetryPolicy(max_retries=max_retries, base_delay=backoff_base, max_delay=backoff_max,
                        max_retry_after=max_retry_after, seed=retry_seed)
    backend, _, name = spec.strip().partition(":")
    backend = backend.lower()
    if backend == "local":
        from generators.chat.local import BUNDLED_NAME, DEFAULT_N_CTX, LocalChatModel

        if base_url is not None:
            raise BadInput("only applies to openai:MODEL models", param="base_url")
        path = None if name.strip().lower() in ("", BUNDLED_NAME) else name.strip()
        return LocalChatModel(path, threads=threads, n_ctx=n_ctx or DEFAULT_N_CTX, timeout=timeout, retry=retry,
                              parallel=parallel, runtime=runtime)
    if backend == "openai":
        from generators.chat.openai_backend import OpenAIChatModel

        if not name.strip():
            raise BadInput("an openai spec needs a model name, as in 'openai:gpt-4o-mini'", param="model")
        return OpenAIChatModel(name, base_url=base_url, timeout=timeout, retry=retry, json_style=json_style)
    raise BadInput(f"unknown model backend {backend!r} in {spec!r}; use 'local', 'local:PATH.gguf' "
                   f"or 'openai:MODEL'", param="model")
