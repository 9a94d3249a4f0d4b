"""Where the per-record compute of embed and dedup runs: this process (``None``) or a backend.

Embedding vectors and MinHash sketches are the two stages that dominate at scale and need no
other record to compute one record's result, so they can run anywhere. A backend only computes:
the caller reads the records, writes through :class:`catalog.writer.RecordWriter` in its own
transaction and makes every dedup decision, exactly as without a backend. The Ray backend is
:class:`catalog.ray_compute.RayCompute`; the functions that take ``compute=None`` run locally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from catalog.dedup.minhash import Shingles
from catalog.embedders import Embedder


class ComputeBackend(Protocol):
    """The compute a backend offers; each result must equal the local one (vectors within float
    tolerance, sketches exactly)."""

    name: str

    def embed_keyed(self, embedder: Embedder, keys: Sequence[str], texts: Sequence[str],
                    progress: Callable[[int], None] | None = None) -> Iterator[tuple[list[str], np.ndarray]]:
        """Vectors of ``texts`` as ``(keys, vectors)`` chunks, in any order: each key with its text's vector."""
        ...

    def embed_texts(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts`` in input order, shape ``(len(texts), dimension)``."""
        ...

    def sketch(self, texts: Sequence[str], *, ngram: int, unit: str, num_perm: int, seed: int, bands: int,
               rows: int) -> tuple[Shingles, np.ndarray]:
        """What :func:`catalog.dedup.minhash.sketch_texts` returns for ``texts``."""
        ...
