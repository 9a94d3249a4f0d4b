"""The static embedder: distilled from the bundled MiniLM, cached atomically, deterministic, no pickle,
reachable by name and by the id stored on datasets.

Build mechanics use a tiny vocabulary (a few hundred of MiniLM's tokens: seconds to distil); the
full model (minutes on first use, then cached in the user cache directory) is tested once.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from catalog import embedders_static as static
from catalog.embedders import DEFAULT_EMBEDDER, get_embedder
from catalog.errors import SynthcatError

# Only lower-case words of 5+ letters starting with "re" stay in the vocabulary (a few hundred tokens).
TINY = dict(static.DISTILL_PARAMS, pca_dims=16, token_remove_pattern=r"^(?!re[a-z]{3,}$)")


def _build(cache: str) -> str:
    return str(static.ensure_model(static.bundled_model_path(), TINY, Path(cache)))


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTHCAT_CACHE_DIR", str(tmp_path / "explicit"))
    assert static.user_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("SYNTHCAT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert static.user_cache_dir() == tmp_path / "xdg" / "synthcat"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert static.user_cache_dir() == Path.home() / ".cache" / "synthcat"


def test_version_covers_parameters_and_source_files(tmp_path):
    source = tmp_path / "model"
    source.mkdir()
    (source / "config.json").write_text("{}")
    base = static.model_version(source, TINY)
    assert static.model_version(source, dict(TINY, pca_dims=32)) != base
    (source / "README.md").write_text("docs do not change the vectors")
    assert static.model_version(source, TINY) == base
    (source / "config.json").write_text('{"hidden_size": 1}')
    assert static.model_version(source, TINY) != base


@pytest.mark.slow
def test_build_is_deterministic_atomic_and_pickle_free(tmp_path):
    # two processes build into one cache at once: both get the same complete directory, nothing left over
    # (a process pool that raises BrokenProcessPool if a worker dies, where multiprocessing.Pool.map waits forever)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        first, second = pool.map(_build, [str(tmp_path / "shared")] * 2, timeout=1800)
    assert first == second
    entries = list((tmp_path / "shared" / "static-models").iterdir())
    assert [e.name for e in entries] == [Path(first).name]
    files = {p.name for p in Path(first).iterdir()}
    assert {"model.safetensors", "tokenizer.json", "config.json"} <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".bin", ".pt"))]
    assert json.loads((Path(first) / "synthcat-build.json").read_text())["params"] == TINY
    # an independent build in another cache gives byte-identical vectors
    other = _build(str(tmp_path / "other"))
    assert (Path(other) / "model.safetensors").read_bytes() == (Path(first) / "model.safetensors").read_bytes()
    # and a cached build is reused, not rebuilt
    before = (Path(first) / "model.safetensors").stat().st_mtime_ns
    assert _build(str(tmp_path / "shared")) == first
    assert (Path(first) / "model.safetensors").stat().st_mtime_ns == before


@pytest.mark.slow
def test_static_embedder_by_name_and_by_id(tmp_path):
    embedder = get_embedder("static")
    assert embedder.id.startswith(static.ID_PREFIX) and embedder.id != DEFAULT_EMBEDDER
    assert get_embedder(embedder.id) is embedder
    texts = ["The router keeps rebooting every night.", "My router restarts on its own at night.",
             "Please refund the duplicate card payment.", ""]
    v = embedder.embed(texts)
    assert v.shape == (4, embedder.dimension) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]  # the same fault is closer than a billing question
    assert np.array_equal(embedder.embed(texts[:2]), v[:2])  # batch-independent
    with pytest.raises(SynthcatError, match="re-embed"):
        get_embedder(static.ID_PREFIX + "000000000000")


@pytest.mark.slow
def test_import_and_search_with_the_static_embedder(cat):
    from catalog.search.api import Searcher

    cat.add_records("support", [
        {"id": "a", "text": "The router reboots every night and the lights go off."},
        {"id": "b", "text": "I was charged twice for the same month on my invoice."},
        {"id": "c", "text": "Wireless signal is weak upstairs in the bedroom."},
    ], id_field="id", embedder="static")
    ds = cat.dataset("support")
    assert ds.embedder == get_embedder("static").id
    (hits,) = Searcher(cat, mode="vector").run(["double charge on my bill"], k=1)
    assert [h.external_id for h in hits] == ["b"]
