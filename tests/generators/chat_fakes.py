"""A tiny scripted OpenAI-compatible HTTP server on 127.0.0.1 for the chat fault tests.

A fake is right here: the tests need exact failures (429 with Retry-After, 500, garbage, hangs) that a
real server never gives on demand. The real server tests use ``llama_server`` from conftest.py.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def completion_body(text: str, *, prompt_tokens: int = 7, completion_tokens: int = 3) -> dict:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


@dataclass
class Reply:
    """One scripted answer: status, body (dict → JSON, str → raw text), headers, delay before answering."""

    status: int = 200
    body: dict | str = field(default_factory=lambda: completion_body("ok"))
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeEndpoint:
    """Answers POST /v1/chat/completions from a script; logs every request it saw."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.default: Reply = Reply()
        #: Optional hook deciding the reply from the requests in flight (incl. this one) and the payload.
        self.decide: Callable[[int, dict], Reply] | None = None
        self.requests: list[dict] = []
        self.times: list[float] = []
        self.active = 0
        self.peak_active = 0
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _next(self, payload: dict) -> Reply:
        with self._lock:
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)
            if self.decide is not None:
                return self.decide(self.active, payload)
            return self.script.pop(0) if self.script else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with endpoint._lock:
                    endpoint.requests.append(payload)
                    endpoint.times.append(time.monotonic())
                reply = endpoint._next(payload)
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    raw = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                    data = raw.encode()
                    self.send_response(reply.status)
                    ctype = "text/plain" if isinstance(reply.body, str) else "application/json"
                    self.send_header("content-type", reply.headers.get("content-type", ctype))
                    for key, value in reply.headers.items():
                        if key.lower() != "content-type":
                            self.send_header(key, value)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)
                finally:
                    with endpoint._lock:
                        endpoint.active -= 1
                        endpoint.statuses.append(reply.status)

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
