"""The ``openai:MODEL`` backend: any OpenAI-compatible endpoint through the ``openai`` package.

The client's own retries are switched off (``max_retries=0``); :class:`ChatModel` retries with its
own policy so every backend behaves the same and the attempts are counted. The API key is handed to
the client and kept nowhere else: not on this object, not in its repr, not in any message.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from typing import Any
from urllib.parse import urlsplit

from catalog.errors import BadInput, MissingDependency, SynthcatError
from generators.chat.base import ChatModel, RawCompletion
from generators.chat.retry import AttemptError, RetryPolicy, parse_retry_after

KEY_VARIABLE = "OPENAI_API_KEY"
BASE_URL_VARIABLE = "OPENAI_BASE_URL"
#: What a loopback server gets when no key is set (llama.cpp, vLLM and Ollama ignore it).
PLACEHOLDER_KEY = "sk-no-key-required"
_PUSHBACK_STATUSES = {429, 503}
# How to ask for JSON, best first; a server that rejects one style gets the next.
# "json_object_schema" is llama-cpp-python's server form: {"type": "json_object", "schema": ...}.
_JSON_STYLES = ("json_schema", "json_object_schema", "json_object", "none")


def is_loopback(base_url: str) -> bool:
    """True when ``base_url`` points at this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class OpenAIChatModel(ChatModel):
    """A model served behind an OpenAI-compatible ``/v1/chat/completions`` endpoint."""

    backend = "openai"

    def __init__(self, model: str, *, base_url: str | None = None, timeout: float = 60.0,
                 retry: RetryPolicy | None = None, json_style: str = "json_schema",
                 max_parallel: int = 64) -> None:
        super().__init__(timeout=timeout, retry=retry)
        if not model or not model.strip():
            raise BadInput("an openai model needs a name, as in 'openai:gpt-4o-mini'", param="model")
        if json_style not in _JSON_STYLES:
            raise BadInput(f"json_style must be one of {list(_JSON_STYLES)}, got {json_style!r}",
                           param="json_style")
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - openai is a core dependency
            raise MissingDependency("the openai backend needs the openai package: pip install openai") from exc
        self._openai = openai
        self.model = model.strip()
        self.id = f"openai:{self.model}"
        self.base_url = base_url or os.environ.get(BASE_URL_VARIABLE) or None
        key = os.environ.get(KEY_VARIABLE) or None
        if key is None:
            if self.base_url is None or not is_loopback(self.base_url):
                target = self.base_url or "the OpenAI API"
                raise SynthcatError(
                    f"{KEY_VARIABLE} is not set: export {KEY_VARIABLE}=... to use {self.id} at {target} "
                    f"(a server on 127.0.0.1/localhost needs no key)")
            key = PLACEHOLDER_KEY
        self._client = openai.OpenAI(base_url=self.base_url, api_key=key, timeout=timeout, max_retries=0)
        self._json_style = json_style
        self._tokens_param = "max_tokens"
        self._max_parallel = max_parallel
        self._state_lock = threading.Lock()

    def max_parallel(self) -> int:
        return self._max_parallel

    def close(self) -> None:
        self._client.close()

    def check_reachable(self, timeout: float = 10.0) -> None:
        """Ask the endpoint for its model list: a refused connection, a bad address or a rejected key
        fail here with the URL, instead of after a job's every attempt has failed."""
        openai = self._openai
        target = self.base_url or "the OpenAI API"
        try:
            self._client.with_options(timeout=timeout).models.list()
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            raise SynthcatError(f"cannot reach the OpenAI-compatible endpoint at {target}: "
                                f"{_short(str(cause) or cause.__class__.__name__, 160)}") from None
        except openai.AuthenticationError:
            raise SynthcatError(f"the endpoint at {target} refused the API key in {KEY_VARIABLE}") from None
        except openai.APIStatusError:
            pass  # some servers have no /models; the completions themselves will tell

    def _response_format(self, json_schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if json_schema is None or self._json_style == "none":
            return None
        if self._json_style == "json_schema" and json_schema:
            return {"type": "json_schema", "json_schema": {"name": "output", "schema": json_schema}}
        if self._json_style == "json_object_schema" and json_schema:
            return {"type": "json_object", "schema": json_schema}
        return {"type": "json_object"}

    def _downgrade(self, exc: Exception, json_schema: dict[str, Any] | None) -> bool:
        """Adapt to a server that rejected a parameter; True when the request is worth resending.

        Servers disagree on how they reject: OpenAI says 400, FastAPI-based ones 422, and
        llama-cpp-python's server 500 — so any status error naming the parameter counts.
        """
        if getattr(exc, "status_code", 0) not in (400, 422, 500):
            return False
        text = str(exc).lower()
        with self._state_lock:
            if "max_completion_tokens" in text and self._tokens_param == "max_tokens":
                self._tokens_param = "max_completion_tokens"
                return True
            if json_schema is not None and "response_format" in text and self._json_style != "none":
                self._json_style = _JSON_STYLES[_JSON_STYLES.index(self._json_style) + 1]
                return True
        return False

    def _attempt(self, messages: list[dict[str, Any]], *, temperature: float, seed: int | None,
                 max_tokens: int, json_schema: dict[str, Any] | None, timeout: float) -> RawCompletion:
        for _ in range(len(_JSON_STYLES) + 1):
            try:
                return self._send(messages, temperature=temperature, seed=seed, max_tokens=max_tokens,
                                  json_schema=json_schema, timeout=timeout)
            except _Resend:
                continue
        raise AttemptError("bad_request", "the server rejected every request format", retryable=False)

    def _send(self, messages: list[dict[str, Any]], *, temperature: float, seed: int | None,
              max_tokens: int, json_schema: dict[str, Any] | None, timeout: float) -> RawCompletion:
        openai = self._openai
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": temperature,
                                  self._tokens_param: max_tokens, "timeout": timeout}
        if seed is not None:
            kwargs["seed"] = seed
        response_format = self._response_format(json_schema)
        if response_format is not None:
            kwargs["response_format"] = response_format
        try:
            response = self._client.chat.completions.create(**kwargs)
        except openai.APITimeoutError:
            raise AttemptError("timeout", f"no answer within {timeout:g} s") from None
        except openai.APIConnectionError as exc:
            raise AttemptError("connection_error", _short(f"{exc} ({exc.__cause__ or 'no detail'})")) from None
        except openai.APIStatusError as exc:
            if self._downgrade(exc, json_schema):
                raise _Resend() from None
            raise _status_error(exc) from None
        except openai.APIResponseValidationError as exc:
            raise AttemptError("bad_response", _short(str(exc))) from None
        except ValueError as exc:  # a 200 whose body is not JSON
            raise AttemptError("bad_response", _short(f"unreadable response body: {exc}")) from None
        return _read_completion(response)


class _Resend(Exception):
    """The server rejected a parameter that has a fallback: send the request again at once."""


def _status_error(exc: Any) -> AttemptError:
    status = exc.status_code
    headers = exc.response.headers
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None and headers.get("retry-after-ms"):
        ms = parse_retry_after(headers.get("retry-after-ms"))
        retry_after = ms / 1000.0 if ms is not None else None
    message = _short(f"HTTP {status}: {exc.message}")
    pushback = status in _PUSHBACK_STATUSES
    if status == 429:
        return AttemptError("rate_limited", message, pushback=True, retry_after=retry_after)
    if status >= 500:
        return AttemptError("server_error", message, pushback=pushback, retry_after=retry_after)
    if status == 408:
        return AttemptError("timeout", message, retry_after=retry_after)
    if status in (401, 403):
        return AttemptError("auth", message + f" (check {KEY_VARIABLE})", retryable=False)
    return AttemptError("bad_request", message, retryable=False)


def _read_completion(response: Any) -> RawCompletion:
    """Pull text, usage and finish reason out of whatever the client returned; bad_response if absent."""
    if isinstance(response, (str, bytes)):
        raise AttemptError("bad_response", _short(f"response is not JSON: {response!r}"))
    try:
        choice = response.choices[0]
        text = choice.message.content
        finish = getattr(choice, "finish_reason", None)
    except (AttributeError, IndexError, KeyError, TypeError):
        raise AttemptError("bad_response", "response has no choices[0].message") from None
    if not isinstance(text, str):
        raise AttemptError("bad_response", "response message has no text content")
    usage = getattr(response, "usage", None)
    prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
    return RawCompletion(text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                         finish_reason=finish if isinstance(finish, str) else None)
