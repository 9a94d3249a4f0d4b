"""Embedding records inside a write transaction, and keeping the FAISS cache in step after commit."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from catalog.compute_backend import ComputeBackend
from catalog.embedders import Embedder
from catalog.errors import EmbedderMismatch
from catalog.progress import NullProgress, Progress
from catalog.results import EmbedResult
from catalog.vector_index import VectorIndex

_EMBED_SLICE = 4096


def vectors_to_arrow(vectors: np.ndarray) -> pa.ListArray:
    """An (n, d) float32 array as an Arrow list column, without a Python object per row."""
    n, dim = vectors.shape
    offsets = pa.array(np.arange(0, (n + 1) * dim, dim, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(np.ascontiguousarray(vectors, np.float32).ravel()))


def register_embedder(cat, embedder: Embedder) -> None:
    row = cat.con.execute("SELECT dimension FROM embedders WHERE embedder_id = ?", [embedder.id]).fetchone()
    if row is None:
        cat.con.execute("INSERT INTO embedders VALUES (?, ?, ?, now())",
                        [embedder.id, embedder.dimension, embedder.normalized])
    elif row[0] != embedder.dimension:
        raise EmbedderMismatch(
            f"embedder '{embedder.id}' now gives {embedder.dimension}-d vectors but the catalog holds "
            f"{row[0]}-d vectors under that id")


def embed_missing(cat, dataset_id: int, embedder: Embedder, progress: Progress | None = None, *,
                  writer=None, compute: ComputeBackend | None = None) -> int:
    """Embed the texts of ``dataset_id`` that have no vector for ``embedder`` yet; return how many.

    Runs inside the caller's transaction; the vectors are stored by ``writer`` (the dataset's
    :class:`catalog.writer.RecordWriter`, made here if not given). Identical texts (same content
    hash) are embedded once, and texts embedded earlier by any dataset are reused. ``compute``
    (e.g. :class:`catalog.ray_compute.RayCompute`) computes the vectors elsewhere; they are
    written here all the same.
    """
    from catalog.writer import RecordWriter

    progress = progress or NullProgress()
    register_embedder(cat, embedder)
    writer = writer or RecordWriter(cat, dataset_id)
    pending = cat.con.execute(
        "SELECT content_hash, any_value(text) AS text FROM records r WHERE dataset_id = ? "
        "AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.embedder_id = ? AND e.content_hash = r.content_hash) "
        "GROUP BY content_hash ORDER BY length(any_value(text))",
        [dataset_id, embedder.id],
    ).to_arrow_table()
    total = pending.num_rows
    if total == 0:
        return 0
    progress.start("embedding", total)
    if compute is not None:
        for hashes, vectors in compute.embed_keyed(embedder, pending.column("content_hash").to_pylist(),
                                                   pending.column("text").to_pylist(), progress.advance):
            writer.add_vectors(embedder.id, hashes, vectors)
        progress.finish()
        return total
    for start in range(0, total, _EMBED_SLICE):
        part = pending.slice(start, _EMBED_SLICE)
        vectors = embedder.embed(part.column("text").to_pylist(), progress=progress.advance)
        writer.add_vectors(embedder.id, part.column("content_hash").to_pylist(), vectors)
    progress.finish()
    return total


def schedule_index_add(cat, embedder_id: str, first_record_id: int) -> None:
    """After commit, append the records from ``first_record_id`` on to the FAISS index."""

    cat.after_commit(lambda: VectorIndex(cat, embedder_id).add_from(first_record_id))


def schedule_index_rebuild(cat, embedder_id: str) -> None:
    cat.after_commit(lambda: VectorIndex(cat, embedder_id).rebuild())


def embed_dataset(cat, name: str, embedder_name: str | None = None, progress: Progress | None = None,
                  compute: ComputeBackend | None = None) -> EmbedResult:
    """Embed a dataset imported with ``embed=False`` (or re-check one); say how many new vectors.
    ``compute`` computes the vectors elsewhere (:func:`embed_missing`)."""
    from catalog.embedders import get_embedder
    from catalog.errors import SynthcatError

    ds = cat.dataset(name)
    if ds.kind == "table":
        raise SynthcatError(f"dataset '{name}' is a table; only text-like datasets are embedded")
    embedder = get_embedder(embedder_name or ds.embedder)
    if ds.embedder and ds.embedder != embedder.id:
        raise EmbedderMismatch(
            f"dataset '{name}' is embedded with '{ds.embedder}', not '{embedder.id}'")
    with cat.transaction():
        made = embed_missing(cat, ds.dataset_id, embedder, progress, compute=compute)
        cat.update_dataset(name, embedder=embedder.id)
        cat.touch_vectors(embedder.id)
        schedule_index_rebuild(cat, embedder.id)
    return EmbedResult(dataset=name, embedder=embedder.id, embedded=made)


def stored_vectors(cat, hashes: list[str], embedder_id: str | None) -> np.ndarray | None:
    """The stored vectors of ``hashes`` (content hashes, in that order), or None if any is missing."""
    if not embedder_id or not hashes:
        return None
    distinct = sorted(set(hashes))
    table = cat.con.execute(
        "SELECT content_hash, vector FROM embeddings WHERE embedder_id = ? AND content_hash IN (SELECT unnest(?))",
        [embedder_id, distinct]).to_arrow_table()
    position = {h: i for i, h in enumerate(table.column("content_hash").to_pylist())}
    if len(position) < len(distinct):
        return None
    flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    stored = np.ascontiguousarray(flat, dtype=np.float32).reshape(len(position), -1)
    return stored[[position[h] for h in hashes]]
