"""FAISS indexes under ``vectors/``: a cache of the vectors DuckDB holds, one per embedder.

Each index file has a JSON manifest (embedder id, dimension, normalisation, record count, last
record id, index type, the catalog's vector-state token and the file's checksum). Opening an index
whose manifest disagrees with DuckDB rebuilds it from DuckDB: a stale file never answers a query.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from catalog.results import IndexStatus

from catalog import faiss_layouts as layouts

_FETCH_CHUNK = 100_000


def _slug(embedder_id: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder_id)[-60:]
    digest = hashlib.sha1(embedder_id.encode()).hexdigest()[:8]
    return f"{base}-{digest}"


def _faiss():
    import faiss

    return faiss


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class VectorIndex:
    """The FAISS index of one embedder's vectors, keyed by record id."""

    def __init__(self, catalog, embedder_id: str, *, flat_max: int | None = None) -> None:
        self.catalog = catalog
        self.embedder_id = embedder_id
        self._flat_max = flat_max
        slug = _slug(embedder_id)
        self.index_path = catalog.vectors_dir / f"{slug}.faiss"
        self.manifest_path = catalog.vectors_dir / f"{slug}.json"
        self._index = None
        self._cached_selector: tuple[np.ndarray, Any] | None = None

    @property
    def flat_max(self) -> int:
        """Exact search up to this many vectors, IVF above (default: faiss_layouts.FLAT_MAX)."""
        return self._flat_max if self._flat_max is not None else layouts.FLAT_MAX

    # -------------------------------------------------------------- DuckDB side
    def expected_state(self) -> dict:
        """What DuckDB says the index must hold."""
        con = self.catalog.con
        count, last_id = con.execute(
            "SELECT count(*), coalesce(max(record_id), 0) FROM record_embeddings WHERE embedder_id = ?",
            [self.embedder_id],
        ).fetchone()
        dim_row = con.execute("SELECT dimension, normalized FROM embedders WHERE embedder_id = ?",
                              [self.embedder_id]).fetchone()
        return {
            "embedder_id": self.embedder_id,
            "count": int(count),
            "last_record_id": int(last_id),
            "dimension": int(dim_row[0]) if dim_row else None,
            "normalized": bool(dim_row[1]) if dim_row else True,
            "state": self.catalog.get_meta(f"vector_state:{self.embedder_id}"),
        }

    def iter_vectors(self, where: str = "", params: Iterable = ()) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        """Yield (record ids, vectors) in chunks straight from DuckDB."""
        sql = ("SELECT record_id, vector FROM record_embeddings WHERE embedder_id = ? "
               f"{('AND ' + where) if where else ''} ORDER BY record_id")
        reader = self.catalog.con.execute(sql, [self.embedder_id, *params]).to_arrow_reader(_FETCH_CHUNK)
        for batch in reader:
            ids = batch.column(0).to_numpy().astype(np.int64)
            flat = batch.column(1).flatten().to_numpy(zero_copy_only=False)
            yield ids, np.ascontiguousarray(flat, dtype=np.float32).reshape(len(ids), -1)

    # --------------------------------------------------------------- file side
    def read_manifest(self) -> dict | None:
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, ValueError):
            return None

    def status(self) -> IndexStatus:
        from catalog.results import IndexStatus

        expected = self.expected_state()
        manifest = self.read_manifest()
        problems = self._disagreements(expected, manifest)
        return IndexStatus(
            embedder_id=self.embedder_id, records_in_duckdb=expected["count"],
            records_in_index=manifest.get("count") if manifest else None,
            index_type=manifest.get("index_type") if manifest else None,
            nprobe=manifest.get("nprobe") if manifest else None, dimension=expected["dimension"],
            file=str(self.index_path), in_sync=not problems, problems=problems)

    def _disagreements(self, expected: dict, manifest: dict | None) -> list[str]:
        if manifest is None:
            return ["no index file or manifest"]
        problems = []
        for key in ("embedder_id", "count", "last_record_id", "dimension", "state"):
            if manifest.get(key) != expected.get(key):
                problems.append(f"{key}: index has {manifest.get(key)!r}, catalog has {expected.get(key)!r}")
        if not self.index_path.exists():
            problems.append("index file missing")
        elif manifest.get("sha256") and manifest["sha256"] != _sha256(self.index_path):
            problems.append("index file checksum differs from its manifest")
        return problems

    def rebuild(self) -> dict:
        """Build the index from DuckDB (layout by size: faiss_layouts) and write it with its manifest."""
        expected = self.expected_state()
        dimension = expected["dimension"]
        if dimension is None:
            self._drop_files()
            self._index = None
            return expected
        count = expected["count"]
        layout = layouts.choose_layout(count, self.flat_max)
        index = layouts.new_index(layout, dimension)
        extra: dict = {}
        if layout.kind == "ivf":
            index.train(self._training_sample(count, layouts.training_size(layout, count)))
            extra = {"trained_count": count, "nlist": layout.nlist, "nprobe": layouts.DEFAULT_NPROBE}
        for ids, vectors in self.iter_vectors():
            index.add_with_ids(vectors, ids)
        self._write(index, layout.description, expected, extra)
        self._index = index
        return expected

    def _training_sample(self, count: int, size: int) -> np.ndarray:
        """A seeded sample of the stored vectors, read in one pass over DuckDB."""
        wanted = layouts.training_positions(count, size)
        parts, seen = [], 0
        for _, vectors in self.iter_vectors():
            lo, hi = np.searchsorted(wanted, [seen, seen + len(vectors)])
            parts.append(vectors[wanted[lo:hi] - seen])
            seen += len(vectors)
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def _write(self, index, index_type: str, expected: dict, extra: dict | None = None) -> None:
        faiss = _faiss()
        data = faiss.serialize_index(index).tobytes()
        sealer = getattr(self.catalog, "sealer", None)
        if sealer is not None:  # an encrypted catalog keeps its FAISS files sealed too
            data = sealer.seal(data)
        _atomic_write_bytes(self.index_path, data)
        manifest = dict(expected, **(extra or {}), index_type=index_type, count=int(index.ntotal),
                        sha256=hashlib.sha256(data).hexdigest())
        _atomic_write_bytes(self.manifest_path, json.dumps(manifest, indent=2).encode())

    def _read_file(self):
        """The FAISS index on disk (opened from its seal in an encrypted catalog)."""
        data = self.index_path.read_bytes()
        sealer = getattr(self.catalog, "sealer", None)
        if sealer is not None:
            data = sealer.open(data)
        return _faiss().deserialize_index(np.frombuffer(data, dtype=np.uint8))

    @staticmethod
    def _layout_fields(manifest: dict) -> dict:
        return {k: manifest[k] for k in ("trained_count", "nlist", "nprobe") if k in manifest}

    def needs_retrain(self, manifest: dict, new_count: int) -> bool:
        """Whether ``new_count`` vectors call for another layout than the file's (flat grown past
        ``flat_max``, or IVF grown past RETRAIN_GROWTH times its training size)."""
        if manifest.get("trained_count"):
            return new_count > layouts.RETRAIN_GROWTH * manifest["trained_count"]
        return manifest.get("index_type") == "IDMap2,Flat(IP)" and new_count > self.flat_max

    def _drop_files(self) -> None:
        for path in (self.index_path, self.manifest_path):
            if path.exists():
                path.unlink()

    def load(self):
        """The FAISS index, rebuilt from DuckDB first if its manifest disagrees."""
        if self._index is not None:
            return self._index
        expected = self.expected_state()
        manifest = self.read_manifest()
        if self._disagreements(expected, manifest):
            self.rebuild()
        else:
            self._index = self._read_file()
        return self._index

    def add_from(self, first_record_id: int) -> None:
        """After a commit: append the records from ``first_record_id`` on, read from DuckDB, or rebuild
        without reading them first when the file cannot take an append (missing, stale, or due a retrain)."""
        manifest = self.read_manifest()
        expected = self.expected_state()
        if manifest is None or not self.index_path.exists() or manifest.get("dimension") != expected["dimension"] \
                or self.needs_retrain(manifest, expected["count"]):
            self.rebuild()
            return
        parts = list(self.iter_vectors("record_id >= ?", [first_record_id]))
        if not parts:
            self.rebuild()
            return
        self.add(np.concatenate([i for i, _ in parts]), np.concatenate([v for _, v in parts]))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Append vectors after a committed write; rebuilds instead when the file was out of date."""
        manifest = self.read_manifest()
        expected = self.expected_state()
        if manifest is None or not self.index_path.exists() or manifest.get("count", 0) + len(ids) != \
                expected["count"] or manifest.get("dimension") != expected["dimension"] or \
                self.needs_retrain(manifest, expected["count"]):
            self.rebuild()
            return
        index = self._index if self._index is not None else self._read_file()
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        self._write(index, manifest.get("index_type", "IDMap2,Flat(IP)"), expected, self._layout_fields(manifest))
        self._index = index

    def default_nprobe(self) -> int:
        """The probe count an IVF search uses when the caller names none: the manifest's, else the default."""
        if getattr(self, "_nprobe", None) is None:  # read once per VectorIndex: searches call this per query
            manifest = self.read_manifest() or {}
            self._nprobe = int(manifest.get("nprobe") or layouts.DEFAULT_NPROBE)
        return self._nprobe

    def search(self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None,
               nprobe: int | None = None):
        """Top-k (scores, record ids) per query; ``allowed_ids`` restricts the search inside FAISS.

        ``nprobe``: IVF lists scanned per query (default: the manifest's); ignored by exact indexes.
        """
        index = self.load()
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if index is not None and index.ntotal:
            k = max(1, min(k, int(index.ntotal)))  # FAISS allocates k slots per query: never more than it holds
        if index is None or index.ntotal == 0:
            return (np.full((len(queries), k), -np.inf, dtype=np.float32),
                    np.full((len(queries), k), -1, dtype=np.int64))
        selector = None
        if allowed_ids is not None:
            selector = self._selector(np.asarray(allowed_ids, dtype=np.int64))
        if layouts.is_ivf(index) and nprobe is None:
            nprobe = self.default_nprobe()
        params = layouts.search_parameters(index, nprobe=nprobe, selector=selector,
                                           admitted=None if allowed_ids is None else len(allowed_ids), k=k)
        scores, ids = index.search(queries, k, params=params)
        return scores, ids

    def _selector(self, allowed: np.ndarray):
        """An ID selector for ``allowed``, kept while the same array is passed again (a Searcher's
        filter is one array for all its queries; building the selector is linear in its size)."""
        cached = self._cached_selector
        if cached is not None and cached[0] is allowed:
            return cached[1]
        selector = _faiss().IDSelectorBatch(allowed)
        self._cached_selector = (allowed, selector)
        return selector


def embedder_ids(catalog) -> list[str]:
    return [r[0] for r in catalog.con.execute("SELECT embedder_id FROM embedders ORDER BY 1").fetchall()]


def index_status(catalog) -> list[IndexStatus]:
    """One status row per embedder: does the FAISS file agree with DuckDB?"""
    return [VectorIndex(catalog, e).status() for e in embedder_ids(catalog)]


def rebuild_indexes(catalog) -> list[IndexStatus]:
    """Rebuild every FAISS file from DuckDB."""
    out = []
    for embedder_id in embedder_ids(catalog):
        index = VectorIndex(catalog, embedder_id)
        index.rebuild()
        out.append(index.status())
    return out


def add_unsaved(index: VectorIndex, ids: np.ndarray, vectors: np.ndarray) -> None:
    """Add vectors to the loaded index without writing the file (call :func:`save_index` later).

    Used by long writers (generation jobs) that commit many small transactions: the file is written
    once at the end; if the process dies first, the manifest disagrees and the next open rebuilds.
    """
    faiss_index = index.load()
    faiss_index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))


def save_index(index: VectorIndex) -> None:
    """Write the loaded index with a manifest of DuckDB's current state (it must hold the same vectors)."""
    if index._index is None:
        return
    expected = index.expected_state()
    if int(index._index.ntotal) != expected["count"]:
        index.rebuild()
        return
    manifest = index.read_manifest() or {}
    if index.needs_retrain(manifest, expected["count"]):
        index.rebuild()
        return
    index._write(index._index, manifest.get("index_type", "IDMap2,Flat(IP)"), expected, index._layout_fields(manifest))
