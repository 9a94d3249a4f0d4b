"""Chat-model backends: one interface over llama.cpp in-process and OpenAI-compatible endpoints.

Importing this package is cheap: llama.cpp and openai load only when a model is created or used.

    >>> from generators.chat import load_chat_model
    >>> model = load_chat_model("local")          # or "openai:gpt-4o-mini"
    >>> result = model.complete([{"role": "user", "content": "Say hi"}], seed=1)
"""

from generators.chat.base import ChatModel, RawCompletion, check_messages
from generators.chat.jsonout import extract_json, parse_structured, schema_problems
from generators.chat.loader import load_chat_model
from generators.chat.retry import AdaptiveLimiter, RetryPolicy, parse_retry_after
from generators.chat.types import (
    FAILURE_REASONS,
    RETRYABLE_REASONS,
    BatchStats,
    ChatError,
    ChatFailure,
    ChatRequest,
    ChatResult,
    Usage,
)

__all__ = [
    "FAILURE_REASONS",
    "RETRYABLE_REASONS",
    "AdaptiveLimiter",
    "BatchStats",
    "ChatError",
    "ChatFailure",
    "ChatModel",
    "ChatRequest",
    "ChatResult",
    "RawCompletion",
    "RetryPolicy",
    "Usage",
    "check_messages",
    "extract_json",
    "load_chat_model",
    "parse_retry_after",
    "parse_structured",
    "schema_problems",
]
