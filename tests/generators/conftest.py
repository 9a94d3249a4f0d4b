"""Fixtures for the chat-model tests.

``llama_server``: a real OpenAI-compatible server (llama.cpp's own server through xllamacpp,
``python -m generators.chat.serve``, 2 slots) serving the bundled SmolLM2 GGUF on 127.0.0.1, one per
test session.
``fake_endpoint``: the scripted HTTP server of ``chat_fakes.py`` on 127.0.0.1, fresh per test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.generators.chat_fakes import FakeEndpoint, free_port


@pytest.fixture
def fake_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEndpoint]:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    endpoint = FakeEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="session")
def bundled_gguf() -> str:
    from generators.chat.local import bundled_model_path

    return str(bundled_model_path())


@pytest.fixture(scope="session")
def llama_server(bundled_gguf: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of llama.cpp's server on the bundled model."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env.pop("OPENAI_API_KEY", None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "generators.chat.serve", "--model", bundled_gguf, "--host", "127.0.0.1",
             "--port", str(port), "--parallel", "2", "--ctx-per-slot", "2048", "--threads", "1"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the llama.cpp server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as resp:
                    if resp.status == 200 and json.load(resp).get("data"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the llama.cpp server did not answer /v1/models within 120 s:\n"
                            f"{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
