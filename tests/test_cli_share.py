"""The CLI of issue 20: ``export --format hf``, ``import DIR`` and ``serve`` (as a real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import PROJECT_ROOT
from tests.generators.chat_fakes import free_port


def test_export_hf_and_import_the_directory(invoke, pairs_file, tmp_path):
    assert invoke("import", str(pairs_file), "--dataset", "seed", "--id-field", "id", "--origin", "synthetic",
                  "--no-embed").exit_code == 0
    out = tmp_path / "hf"
    done = invoke("export", "seed", "--format", "hf", "--out", str(out), "--license", "mit", "--language", "en",
                  "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert (result["format"], result["rows"], result["shards"]) == ("hf", 5, ["data/train-00000-of-00001.parquet"])
    assert "license: mit" in (out / "README.md").read_text()
    again = invoke("export", "seed", "--format", "hf", "--out", str(out))
    assert again.exit_code == 1 and "--force" in again.output and "Traceback" not in again.output
    assert invoke("export", "seed", "--format", "hf", "--out", str(out), "--force", "--license", "mit",
                  "--language", "en").exit_code == 0
    wrong = invoke("import", str(out), "--dataset", "back", "--origin", "real")
    assert wrong.exit_code == 1 and "--origin" in wrong.output and "mislabel" in wrong.output
    back = invoke("import", str(out), "--dataset", "back", "--no-embed", "--json")
    assert back.exit_code == 0, back.output
    assert json.loads(back.output)["origin"] == "synthetic" and json.loads(back.output)["kind"] == "pairs"
    shown = json.loads(invoke("show", "back", "--json").output)
    assert shown["tags"] == ["license:mit", "language:en"] and shown["origin"] == "synthetic"
    bad = invoke("export", "seed", "--out", str(tmp_path / "x.jsonl"), "--license", "mit")
    assert bad.exit_code == 1 and "--license" in bad.output


def test_serve_refuses_a_missing_catalog_and_a_bad_port(invoke, tmp_path):
    missing = invoke("serve", "--port", str(free_port()))
    assert missing.exit_code == 1 and "no catalog" in missing.output and "Traceback" not in missing.output
    assert invoke("serve", "--port", "70000").exit_code != 0


def _get(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start_server(catalog_dir, port: int, *extra: str, env: dict | None = None) -> subprocess.Popen:
    """``synthcat serve`` in its own process; returns once it answers on ``port``."""
    command = [sys.executable, "-c", "from cli import app; app()", "--catalog", str(catalog_dir), "serve",
               "--port", str(port), *extra]
    proc = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, errors = proc.communicate()
            pytest.fail(f"synthcat serve exited with {proc.returncode}: {out}\n{errors}")
        try:
            if _get(f"http://127.0.0.1:{port}/api/datasets")[0] == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail("synthcat serve did not answer within 180 s")


def stop_server(proc: subprocess.Popen) -> tuple[str, str]:
    proc.terminate()
    try:
        return proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


@pytest.mark.slow
def test_serve_runs_read_only_and_writes_only_with_the_token(invoke, pairs_file, catalog_dir):
    assert invoke("import", str(pairs_file), "--dataset", "seed", "--id-field", "id").exit_code == 0
    assert invoke("dedup", "seed", "--no-semantic").exit_code == 0
    port = free_port()
    token = "a-token-for-the-test-of-serve"
    proc = start_server(catalog_dir, port, "--allow-writes", "--idle-seconds", "1",
                        env={"SYNTHCAT_SERVE_TOKEN": token})
    try:
        base = f"http://127.0.0.1:{port}"
        status, body = _get(f"{base}/api/search?q=wifi+password")
        assert status == 200 and json.loads(body)["hits"][0]["dataset"] == "seed"
        time.sleep(2.5)  # idle: the server lets go of the catalog, so another process can write
        assert invoke("import", str(pairs_file), "--dataset", "while-serving", "--no-embed").exit_code == 0
        status, body = _get(f"{base}/api/datasets")
        assert status == 200 and "while-serving" in {d["name"] for d in json.loads(body)["datasets"]}
        # the keyword index is now out of date: the server rebuilds it, as `synthcat search` would
        status, body = _get(f"{base}/api/search?q=wifi+password&dataset=while-serving&mode=keyword")
        assert status == 200 and json.loads(body)["hits"][0]["dataset"] == "while-serving"
        request = urllib.request.Request(f"{base}/api/dedup/1/undo", method="POST", data=b"",
                                         headers={"x-synthcat-token": "wrong-token-wrong-token"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403
        request = urllib.request.Request(f"{base}/api/dedup/1/undo", method="POST", data=b"",
                                         headers={"x-synthcat-token": token})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response) == {"run_id": 1, "restored": 1}
    finally:
        out, errors = stop_server(proc)
    assert f"http://127.0.0.1:{port}/" in out and "writes allowed" in out
    assert "from $SYNTHCAT_SERVE_TOKEN" in out and token not in out + errors


def test_serve_refuses_an_encrypted_catalog_without_its_key(invoke, catalog_dir, monkeypatch):
    from starlette.testclient import TestClient

    from catalog import Catalog
    from catalog.web.app import create_app

    monkeypatch.setenv("SYNTHCAT_KEY", "correct horse battery staple 42")
    monkeypatch.delenv("SYNTHCAT_KEY_FILE", raising=False)
    with Catalog.create(catalog_dir, encrypt=True) as cat:
        cat.add_records("secret", [{"id": "s1", "text": "a note for the encrypted catalog"}], id_field="id",
                        embed=False)
    with TestClient(create_app(catalog_dir), base_url="http://127.0.0.1") as client:  # with its key: it works
        assert client.get("/api/records/1").json()["record"]["external_id"] == "s1"
    monkeypatch.delenv("SYNTHCAT_KEY")
    refused = invoke("serve", "--port", str(free_port()))
    assert refused.exit_code == 1 and "SYNTHCAT_KEY" in refused.output and "Traceback" not in refused.output
