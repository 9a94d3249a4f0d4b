"""The int8 ONNX embedder: closeness to fp32, its build cache, the CLI path, and device selection.

The real int8 model is built once per test session (about half a minute) into a temporary cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from catalog.errors import MissingDependency, SynthcatError
from tests.conftest import PROJECT_ROOT, SUPPORT_PAIRS

INT8_ID = "all-MiniLM-L6-v2-int8"
REAL_TEXTS = [p["prompt"] for p in SUPPORT_PAIRS[:4]] + [p["response"] for p in SUPPORT_PAIRS[:4]] + [
    "Alterations of the architecture of cerebral white matter in the developing human brain can affect "
    "cortical development and result in functional disabilities. " * 12,  # past 256 word pieces
]


@pytest.fixture(scope="session")
def int8_cache(tmp_path_factory):
    """A session-wide cache directory holding the real int8 model, built once."""
    root = tmp_path_factory.mktemp("synthcat-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNTHCAT_CACHE_DIR", str(root))
        from catalog.embedders import get_embedder

        embedder = get_embedder("int8")
        embedder.unload()  # a get_embedder("int8") made before this fixture must not keep another cache
        embedder.load()
        yield root


@pytest.fixture
def int8(int8_cache):
    from catalog.embedders import get_embedder

    return get_embedder("int8")


def entry_dirs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "all-MiniLM-L6-v2-int8-onnx").iterdir() if p.is_dir())


@pytest.mark.slow
def test_int8_vectors_are_close_to_fp32(int8):
    from catalog.embedders import get_embedder

    fp32 = get_embedder()
    assert int8.id == INT8_ID != fp32.id and int8.dimension == fp32.dimension == 384
    got, want = int8.embed(REAL_TEXTS), fp32.embed(REAL_TEXTS)
    assert got.dtype == np.float32 and got.shape == (len(REAL_TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    cosines = (got * want).sum(axis=1)
    # Measured 0.986-0.995 on these texts (SciFact: mean 0.993, 5th percentile 0.990).
    assert cosines.min() >= 0.98, cosines
    assert cosines.mean() >= 0.985, cosines
    # embed_batch on texts of mixed lengths (grouped inside) gives the same vectors as embed
    np.testing.assert_allclose(int8.embed_batch(REAL_TEXTS), got, atol=1e-5)


@pytest.mark.slow
def test_parallel_modes_give_the_same_vectors(int8, int8_cache):
    from catalog.embedders_onnx import OnnxInt8Embedder

    texts = REAL_TEXTS * 40  # several runs of each length: the batches mode runs them side by side
    modes = [OnnxInt8Embedder(parallel="batches", threads=2, cache_root=int8_cache),
             OnnxInt8Embedder(parallel="ops", threads=2, cache_root=int8_cache),
             OnnxInt8Embedder(threads=1, cache_root=int8_cache)]
    vectors = [m.embed_batch(texts) for m in modes]
    for other in vectors[1:]:
        np.testing.assert_allclose(other, vectors[0], atol=1e-5)
    np.testing.assert_allclose(vectors[0][:len(REAL_TEXTS)], int8.embed(REAL_TEXTS), atol=1e-5)
    for m in modes:
        m.unload()
    with pytest.raises(SynthcatError, match="parallel must be"):
        OnnxInt8Embedder(parallel="cores")


@pytest.mark.slow
def test_tokenisation_matches_sentence_transformers(int8):
    from catalog.embedders import get_embedder

    model = get_embedder().load()
    texts = [*REAL_TEXTS, "  Ünïcödé ﬁ ligature 日本語  ", ""]
    preprocess = getattr(model, "preprocess", None) or model.tokenize  # tokenize: before sentence-transformers 6
    features = preprocess(texts)
    for i, ids in enumerate(int8.token_ids(texts)):
        n = int(features["attention_mask"][i].sum())
        assert ids == features["input_ids"][i][:n].tolist(), texts[i]
    assert len(int8.token_ids(REAL_TEXTS[-1:])[0]) == 256 == model.max_seq_length


def test_both_names_give_one_embedder(int8):
    from catalog.embedders import get_embedder

    assert get_embedder(INT8_ID) is int8 is get_embedder("int8")


@pytest.mark.slow
def test_cache_is_built_once_and_reused_by_another_process(int8, int8_cache):
    [entry] = entry_dirs(int8_cache)
    assert int8.model_dir == entry
    manifest = json.loads((entry / "manifest.json").read_text())
    assert set(manifest["files"]) == {"model.onnx", "tokenizer.json"}
    assert manifest["fusions"]["Attention"] == 6 and manifest["check_min_cosine"] >= 0.95
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in entry.iterdir()}
    code = ("from catalog.embedders import get_embedder; e = get_embedder('int8'); "
            "print(e.embed(['router keeps rebooting']).shape); print(e.model_dir)")
    env = {**os.environ, "SYNTHCAT_CACHE_DIR": str(int8_cache), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["(1,", "384)", str(entry)]
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in entry.iterdir()} == before
    assert entry_dirs(int8_cache) == [entry]  # no second entry, no build directory left


@pytest.mark.slow
def test_damaged_cache_entry_is_detected_and_rebuilt(int8_cache, tmp_path):
    from catalog.embedders_onnx import OnnxInt8Embedder
    from catalog.model_cache import entry_problem

    root = tmp_path / "cache"
    [entry] = entry_dirs(int8_cache)
    copy = root / entry.parent.name / entry.name
    shutil.copytree(entry, copy)
    model = copy / "model.onnx"
    with open(model, "r+b") as fh:  # a partial write: the file cut short
        fh.truncate(model.stat().st_size // 2)
    assert "model.onnx has" in entry_problem(copy, entry.name)
    embedder = OnnxInt8Embedder(cache_root=root)
    vectors = embedder.embed(["router keeps rebooting"])
    assert embedder.model_dir == copy and entry_problem(copy, entry.name) is None
    assert model.stat().st_size == (entry / "model.onnx").stat().st_size
    assert vectors.shape == (1, 384)
    assert sorted(p.name for p in copy.parent.iterdir() if p.is_dir()) == [entry.name]


def test_failed_build_names_the_step_and_leaves_no_entry(tmp_path):
    from catalog.embedders import bundled_model_path
    from catalog.embedders_onnx import OnnxInt8Embedder

    source = tmp_path / "model"
    shutil.copytree(bundled_model_path(), source, ignore=shutil.ignore_patterns("model.safetensors"))
    (source / "model.safetensors").write_bytes(b"not a safetensors file")
    root = tmp_path / "cache"
    with pytest.raises(SynthcatError, match="building the int8 embedder failed while loading the model"):
        OnnxInt8Embedder(source, cache_root=root).load()
    kind_dir = root / "all-MiniLM-L6-v2-int8-onnx"
    assert [p.name for p in kind_dir.iterdir() if p.is_dir()] == []  # no entry, no half-built directory


def test_missing_onnxruntime_names_the_install_command(monkeypatch, tmp_path):
    from catalog.embedders_onnx import OnnxInt8Embedder

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    with pytest.raises(MissingDependency, match="pip install onnxruntime"):
        OnnxInt8Embedder(cache_root=tmp_path).load()


@pytest.mark.slow
def test_cli_import_embed_and_search_with_int8(int8, invoke, pairs_file, tmp_path, catalog_dir):
    result = invoke("import", str(pairs_file), "--dataset", "support", "--id-field", "id", "--embedder", "int8")
    assert result.exit_code == 0, result.output
    shown = json.loads(invoke("show", "support", "--json").output)
    assert shown["embedder"] == INT8_ID
    hits = json.loads(invoke("search", "forgot how to set the wireless key", "--mode", "vector", "--k", "2",
                             "--json").output)
    assert {h["id"] for h in hits} == {"p2", "p5"}  # the two wifi-password pairs

    result = invoke("import", str(pairs_file), "--dataset", "later", "--no-embed")
    assert result.exit_code == 0, result.output
    result = invoke("embed", "later", "--embedder", "int8")
    assert result.exit_code == 0, result.output
    assert json.loads(invoke("show", "later", "--json").output)["embedder"] == INT8_ID

    from catalog import open_catalog
    from catalog.search.api import Searcher

    with open_catalog(catalog_dir) as cat:  # queries are embedded by the datasets' embedder: int8
        searcher = Searcher(cat, mode="vector")
        assert searcher.embedder is int8
        stored = cat.con.execute("SELECT DISTINCT embedder_id FROM embeddings").fetchall()
        assert stored == [(INT8_ID,)]
    # fp32 vectors beside int8 ones: a search over both is refused, not silently mixed
    assert invoke("import", str(pairs_file), "--dataset", "fp32").exit_code == 0
    refused = invoke("search", "wifi password", "--mode", "vector")
    assert refused.exit_code == 1 and "different embedders" in refused.output


# ------------------------------------------------------------------------- device selection


def test_bad_device_is_a_clear_error(monkeypatch, invoke, pairs_file):
    import catalog.embedders as embedders
    from catalog.devices import torch_device

    monkeypatch.setenv("SYNTHCAT_DEVICE", "bogus")
    with pytest.raises(SynthcatError, match="SYNTHCAT_DEVICE='bogus' is not a device"):
        torch_device()
    monkeypatch.setattr(embedders, "_CACHE", {})  # a fresh, unloaded default embedder
    result = invoke("import", str(pairs_file), "--dataset", "x")
    assert result.exit_code == 1
    assert "SYNTHCAT_DEVICE='bogus' is not a device" in result.output and "Traceback" not in result.output
    assert invoke("datasets", "--json").output.strip() == "[]"  # the failed import left nothing


def test_unavailable_device_is_a_clear_error(monkeypatch):
    import torch

    from catalog.devices import torch_device

    # a CUDA device this machine does not have (none at all on CPU-only machines)
    missing = f"cuda:{torch.cuda.device_count()}" if torch.cuda.is_available() else "cuda"
    monkeypatch.setenv("SYNTHCAT_DEVICE", missing)
    with pytest.raises(SynthcatError, match="SYNTHCAT_DEVICE=cuda"):
        torch_device()
    monkeypatch.setenv("SYNTHCAT_DEVICE", "CPU ")
    assert torch_device() == "cpu"
    monkeypatch.delenv("SYNTHCAT_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert torch_device() == expected
