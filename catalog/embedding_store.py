"""Embedding records inside a write transaction, and keeping the FAISS cache in step after commit."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from catalog.embedders import Embedder
from catalog.errors import EmbedderMismatch
from catalog.progress import NullProgress, Progress
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


def embed_missing(cat, dataset_id: int, embedder: Embedder, progress: Progress | None = None) -> int:
    """Embed the texts of ``dataset_id`` that have no vector for ``embedder`` yet; return how many.

    Runs inside the caller's transaction. Identical texts (same content hash) are embedded once,
    and texts embedded earlier by any dataset are reused.
    """
    progress = progress or NullProgress()
    register_embedder(cat, embedder)
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
    for start in range(0, total, _EMBED_SLICE):
        part = pending.slice(start, _EMBED_SLICE)
        texts = part.column("text").to_pylist()
        vectors = embedder.embed(texts, progress=progress.advance)
        batch = pa.table({
            "embedder_id": pa.array([embedder.id] * len(texts), pa.string()),
            "content_hash": part.column("content_hash"),
            "vector": vectors_to_arrow(vectors),
        })
        cat.con.register("_new_vectors", batch)
        try:
            cat.con.execute("INSERT INTO embeddings SELECT embedder_id, content_hash, vector FROM _new_vectors")
        finally:
            cat.con.unregister("_new_vectors")
    progress.finish()
    return total


def schedule_index_add(cat, embedder_id: str, first_record_id: int) -> None:
    """After commit, append the records from ``first_record_id`` on to the FAISS index."""

    cat.after_commit(lambda: VectorIndex(cat, embedder_id).add_from(first_record_id))


def schedule_index_rebuild(cat, embedder_id: str) -> None:
    cat.after_commit(lambda: VectorIndex(cat, embedder_id).rebuild())


def embed_dataset(cat, name: str, embedder_name: str | None = None, progress: Progress | None = None) -> int:
    """Embed a dataset imported with ``--no-embed`` (or re-check one); return new vectors made."""
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
        made = embed_missing(cat, ds.dataset_id, embedder, progress)
        cat.update_dataset(name, embedder=embedder.id)
        cat.touch_vectors(embedder.id)
        schedule_index_rebuild(cat, embedder.id)
    return made


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
