"""Encryption at rest (reliability issue, part 1): an encrypted catalog keeps no plaintext of its
records on disk, works with its key, and refuses cleanly without it or with a wrong one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from catalog import Catalog
from catalog.encryption import EncryptionError
from tests.conftest import PROJECT_ROOT, write_jsonl

KEY = "correct horse battery staple 42"
PLANTED = "zebra-quasar-7781-planted"


@pytest.fixture
def keyed(monkeypatch):
    monkeypatch.setenv("SYNTHCAT_KEY", KEY)
    monkeypatch.delenv("SYNTHCAT_KEY_FILE", raising=False)


def _files_containing(directory, needle: bytes) -> list[str]:
    return [str(p) for p in directory.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.slow
def test_an_encrypted_catalog_holds_no_plaintext_and_works_with_its_key(catalog_dir, tmp_path, keyed):
    rows = [{"id": f"r{i}", "prompt": f"question {i} about {PLANTED}", "response": f"answer {i}"} for i in range(40)]
    with Catalog.create(catalog_dir, encrypt=True) as cat:
        assert cat.encrypted
        cat.import_file(write_jsonl(tmp_path / "p.jsonl", rows), "secret", id_field="id")
        cat.add_records("notes", [{"text": f"a note naming {PLANTED}"}], embed=False)
        assert cat.search(f"question 7 about {PLANTED}", k=1)[0].id == "r7"
        cat.dedup("secret", semantic=False, dry_run=True)
    with Catalog.open(catalog_dir, read_only=True) as cat:
        rows_back = cat.sql('SELECT count(*) FROM "secret"').rows
        assert rows_back == [[40]]
    on_disk = sorted(p.name for p in catalog_dir.rglob("*") if p.is_file())
    assert "catalog.duckdb" in on_disk and any(name.endswith(".faiss") for name in on_disk)
    assert _files_containing(catalog_dir, PLANTED.encode()) == []
    assert _files_containing(catalog_dir, b"question 7 about") == []
    marker = json.loads((catalog_dir / "synthcat.json").read_text())
    assert marker["encrypted"] and KEY not in json.dumps(marker)
    # a FAISS file is sealed: it starts with the seal, not with FAISS's own header
    (index_file,) = catalog_dir.glob("vectors/*.faiss")
    assert index_file.read_bytes().startswith(b"SYNTHCAT-AESGCM1")


def test_without_the_key_or_with_a_wrong_one_nothing_opens(catalog_dir, monkeypatch, keyed):
    with Catalog.create(catalog_dir, encrypt=True) as cat:
        cat.add_records("notes", [{"text": "hello"}], embed=False)
    monkeypatch.delenv("SYNTHCAT_KEY")
    with pytest.raises(EncryptionError, match="encrypted: set SYNTHCAT_KEY"):
        Catalog.open(catalog_dir)
    monkeypatch.setenv("SYNTHCAT_KEY", "a wrong key that is long enough")
    with pytest.raises(EncryptionError, match="wrong key") as info:
        Catalog.open(catalog_dir, read_only=True)
    assert "a wrong key" not in str(info.value)
    monkeypatch.setenv("SYNTHCAT_KEY", "short")
    with pytest.raises(EncryptionError, match="too short"):
        Catalog.open(catalog_dir)


def test_a_key_file_works_and_the_cli_says_what_is_missing(catalog_dir, tmp_path, monkeypatch, invoke, keyed):
    assert invoke("init", "--encrypt").exit_code == 0
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n")
    monkeypatch.delenv("SYNTHCAT_KEY")
    monkeypatch.setenv("SYNTHCAT_KEY_FILE", str(key_file))
    assert invoke("datasets", "--json").stdout.strip() == "[]"
    monkeypatch.delenv("SYNTHCAT_KEY_FILE")
    for args in (["datasets"], ["sql", "SELECT 1"], ["search", "x"], ["index", "status"]):
        result = invoke(*args)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert result.output.startswith("error: this catalog is encrypted: set SYNTHCAT_KEY"), result.output
    monkeypatch.setenv("SYNTHCAT_KEY", "wrong but long enough key")
    result = invoke("datasets")
    assert result.exit_code == 1 and "wrong key" in result.output


def test_encrypting_needs_a_key_first_and_never_converts_a_plain_catalog(catalog_dir, monkeypatch):
    monkeypatch.delenv("SYNTHCAT_KEY", raising=False)
    monkeypatch.delenv("SYNTHCAT_KEY_FILE", raising=False)
    with pytest.raises(EncryptionError, match="set SYNTHCAT_KEY"):
        Catalog.create(catalog_dir, encrypt=True)
    assert not catalog_dir.exists()  # nothing made without a key
    Catalog.create(catalog_dir).close()
    with pytest.raises(EncryptionError, match="not encrypted"):
        Catalog.open(catalog_dir, encrypt=True, key=KEY)


def test_a_lost_marker_is_reported_not_a_traceback(catalog_dir, keyed, invoke):
    Catalog.create(catalog_dir, encrypt=True).close()
    (catalog_dir / "synthcat.json").unlink()
    result = invoke("datasets")
    assert result.exit_code == 1 and "restore synthcat.json" in result.output


@pytest.mark.slow
def test_another_process_with_the_key_reads_what_this_one_wrote(catalog_dir, keyed):
    with Catalog.create(catalog_dir, encrypt=True) as cat:
        cat.add_records("notes", [{"text": "shared between processes"}], embed=False)
    code = textwrap.dedent(f"""
        from catalog import Catalog
        with Catalog.open({str(catalog_dir)!r}, read_only=True) as cat:
            print(next(cat.records("notes")).text)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         env={"SYNTHCAT_KEY": KEY, "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert out.stdout.strip() == "shared between processes", out.stderr[-2000:]
