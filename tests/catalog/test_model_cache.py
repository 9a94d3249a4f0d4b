"""The derived-model cache: versioned entries, checksums, atomic builds, one build under concurrency."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalog.errors import SynthcatError
from catalog.model_cache import cache_root, ensure_entry, entry_problem
from tests.conftest import PROJECT_ROOT


def writer(log: Path, payload: bytes = b"weights" * 1000, pause: float = 0.0):
    """A build function that writes two files and appends a line to ``log`` per build."""

    def build(out: Path) -> dict:
        with open(log, "a") as fh:
            fh.write("built\n")
        time.sleep(pause)
        (out / "model.bin").write_bytes(payload)
        (out / "sub").mkdir()
        (out / "sub" / "vocab.txt").write_text("a\nb\n")
        return {"dimension": 3}

    return build


def builds(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTHCAT_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "mine"
    monkeypatch.delenv("SYNTHCAT_CACHE_DIR")
    assert cache_root() == tmp_path / "xdg" / "synthcat"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root() == Path.home() / ".cache" / "synthcat"


def test_entry_is_built_once_then_reused(tmp_path):
    log = tmp_path / "log"
    entry = ensure_entry("kind", "v1", writer(log), root=tmp_path / "cache")
    assert entry == tmp_path / "cache" / "kind" / "v1" and builds(log) == 1
    assert entry_problem(entry, "v1") is None
    assert (entry / "sub" / "vocab.txt").read_text() == "a\nb\n"
    assert ensure_entry("kind", "v1", writer(log), root=tmp_path / "cache") == entry
    assert builds(log) == 1
    # another version (new source hash or recipe) is another entry; the old one is not touched
    assert ensure_entry("kind", "v2", writer(log), root=tmp_path / "cache").name == "v2"
    assert builds(log) == 2 and entry_problem(entry, "v1") is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "manifest"])
def test_damaged_entry_is_rebuilt(tmp_path, damage):
    log = tmp_path / "log"
    entry = ensure_entry("kind", "v1", writer(log), root=tmp_path / "cache")
    target = entry / "model.bin"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:100])
    elif damage == "flip":
        data = bytearray(target.read_bytes())
        data[10] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "delete":
        target.unlink()
    else:
        (entry / "manifest.json").write_text("{not json")
    assert entry_problem(entry, "v1") is not None
    assert ensure_entry("kind", "v1", writer(log), root=tmp_path / "cache") == entry
    assert builds(log) == 2 and entry_problem(entry, "v1") is None
    assert [p.name for p in entry.parent.iterdir() if p.is_dir()] == ["v1"]


def test_failed_build_leaves_nothing(tmp_path):
    def broken(out: Path) -> dict:
        (out / "model.bin").write_bytes(b"half")
        raise SynthcatError("building failed while quantising: boom")

    with pytest.raises(SynthcatError, match="while quantising"):
        ensure_entry("kind", "v1", broken, root=tmp_path / "cache")
    assert [p.name for p in (tmp_path / "cache" / "kind").iterdir() if p.is_dir()] == []
    log = tmp_path / "log"
    assert entry_problem(ensure_entry("kind", "v1", writer(log), root=tmp_path / "cache"), "v1") is None


BUILDER_SCRIPT = """
import sys, time
from pathlib import Path
from catalog.model_cache import ensure_entry

def build(out):
    with open(sys.argv[2], "a") as fh:
        fh.write("built\\n")
    time.sleep(1.5)
    (out / "model.bin").write_bytes(b"weights")
    return {}

print(ensure_entry("kind", "v1", build, root=Path(sys.argv[1])))
"""


def test_two_processes_building_at_once_build_once(tmp_path):
    log = tmp_path / "log"
    args = [sys.executable, "-c", BUILDER_SCRIPT, str(tmp_path / "cache"), str(log)]
    procs = [subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    paths = [out.strip() for out, _ in outputs]
    assert paths[0] == paths[1] and builds(log) == 1
    assert entry_problem(Path(paths[0]), "v1") is None
    assert sorted(p.name for p in (tmp_path / "cache" / "kind").iterdir()) == ["v1", "v1.lock"]


def test_unwritable_cache_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SynthcatError, match="cannot create the model cache"):
        ensure_entry("kind", "v1", writer(tmp_path / "log"), root=blocker)
