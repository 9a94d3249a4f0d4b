"""The ``int8`` embedder: the bundled all-MiniLM-L6-v2 quantised to int8, run with onnxruntime on CPU.

It is the fast choice for embedding many records on CPU (see benchmarks/RESULTS.md, "Embedding
backends (scale issue)"). Its vectors are close to, but not the same as, the fp32 model's, so it
has its own embedder id (``all-MiniLM-L6-v2-int8``): a dataset records which embedder made its
vectors, and a search never compares vectors of the two.

The int8 model is derived from the bundled model on first use (about half a minute, see
:mod:`catalog.onnx_export`) and kept in the per-user cache (:mod:`catalog.model_cache`).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from catalog.embedders import Embedder, bundled_model_path
from catalog.errors import SynthcatError

INT8_EMBEDDER_ID = "all-MiniLM-L6-v2-int8"
CACHE_KIND = "all-MiniLM-L6-v2-int8-onnx"
TOKENIZE_WINDOW = 2048  # texts tokenised at once while embedding (their ids, ~20 MB, are kept meanwhile)


class OnnxInt8Embedder(Embedder):
    """all-MiniLM-L6-v2, int8, on onnxruntime's CPU execution provider.

    Texts are tokenised with the model's fast tokenizer, truncated at the model's
    ``max_seq_length`` (256 word pieces, as sentence-transformers does), and run in batches of texts
    with the same number of word pieces: no padding, so no attention mask and no wasted work.

    CPU only: dynamically quantised int8 operators are a CPU feature of onnxruntime. On a GPU use
    the default fp32 embedder (``all-MiniLM-L6-v2``, which picks CUDA or MPS itself, or set
    ``SYNTHCAT_DEVICE``); a GPU embeds faster than int8 on CPU, but its vectors have the fp32 id,
    so a dataset keeps one or the other.
    """

    normalized = True
    batch_size = 256  # most texts in one run
    # Tokens per run. Runs hold texts of equal length, so this is exact, not an estimate.
    batch_tokens = 4096

    def __init__(self, source: str | Path | None = None, *, embedder_id: str = INT8_EMBEDDER_ID,
                 threads: int | None = None, parallel: str = "batches", cache_root: Path | None = None) -> None:
        """``threads``: cores to use (default: all this process may run on). ``parallel``: "batches"
        runs that many batches at once, each on one core (no synchronisation inside an operator);
        "ops" runs one batch at a time with onnxruntime splitting each operator across the cores."""
        if parallel not in ("batches", "ops"):
            raise SynthcatError(f"parallel must be 'batches' or 'ops', not {parallel!r}")
        self.id = embedder_id
        self._source = Path(source) if source is not None else None
        self.threads = max(1, threads or available_cores())
        self.parallel = parallel
        self._cache_root = cache_root
        self._session = None
        self._pool: ThreadPoolExecutor | None = None
        self._tokenizer: Any = None  # a tokenizers.Tokenizer once loaded
        self._tokenized: dict[str, list[int]] = {}  # ids of the texts being embedded, see _batches
        self._dimension: int | None = None
        self.model_dir: Path | None = None  # the cache entry in use, once loaded

    @property
    def source(self) -> Path:
        if self._source is None:
            self._source = Path(bundled_model_path())
        return self._source

    @property
    def dimension(self) -> int:  # type: ignore[override]
        if self._dimension is None:  # from the source config: knowing it needs no build
            from catalog.onnx_export import read_source

            info = read_source(self.source)
            self._dimension = info["dimension"]
            self.max_text_tokens = info["max_seq_length"]
        return self._dimension

    def load(self):
        """Build (first time only) and open the int8 model; returns the onnxruntime session."""
        if self._session is not None:
            return self._session
        from catalog.model_cache import ensure_entry
        from catalog.onnx_export import (
            MODEL_FILE,
            TOKENIZER_FILE,
            build_int8_onnx,
            import_onnxruntime,
            version_key,
        )

        ort = import_onnxruntime()
        source = self.source
        entry = ensure_entry(CACHE_KIND, version_key(source), lambda out: build_int8_onnx(source, out),
                             root=self._cache_root)
        manifest = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        run_in_parallel = self.parallel == "batches" and self.threads > 1
        options.intra_op_num_threads = 1 if run_in_parallel else self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(entry / MODEL_FILE), options, providers=["CPUExecutionProvider"])
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(entry / TOKENIZER_FILE))
        except Exception as exc:  # noqa: BLE001 - the entry passed its checksums, so this is the runtime
            raise SynthcatError(f"cannot open the int8 embedder in {entry}: {exc.__class__.__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
        self.max_text_tokens = int(manifest["max_seq_length"])
        self._dimension = int(manifest["dimension"])
        # tokenizer.json ships its own settings (truncation and padding to 128): replace them.
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_text_tokens)
        self._tokenizer, self._session, self.model_dir = tokenizer, session, entry
        if run_in_parallel:  # session.run releases the GIL, so threads run batches side by side
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="synthcat-int8")
        return session

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Word-piece ids as the model sees them (with [CLS]/[SEP], truncated at max_seq_length)."""
        self.load()
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        session = self.load()
        ready = self._tokenized
        missing = [t for t in texts if t not in ready]
        fresh = dict(zip(missing, self.token_ids(missing))) if missing else {}
        ids = [ready[t] if t in ready else fresh[t] for t in texts]
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        runs: list[list[int]] = []  # rows of equal length, up to batch_tokens tokens each
        by_length = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for length, group in itertools.groupby(by_length, key=lambda i: len(ids[i])):
            rows = list(group)
            per_run = self._texts_per_run(length)
            runs.extend(rows[first:first + per_run] for first in range(0, len(rows), per_run))

        def run(rows: list[int]) -> np.ndarray:
            return session.run(None, {"input_ids": np.asarray([ids[i] for i in rows], dtype=np.int64)})[0]

        parts = self._pool.map(run, runs) if self._pool is not None and len(runs) > 1 else map(run, runs)
        for rows, vectors in zip(runs, parts):
            out[rows] = vectors
        return out

    def _texts_per_run(self, length: int) -> int:
        return max(1, min(self.batch_size, self.batch_tokens // max(1, length)))

    def _batches(self, order: list[int], texts: list[str]) -> Iterator[list[int]]:
        """Batches of texts with equal word-piece counts: one run's worth per core in parallel use.

        Texts are tokenised a window at a time; the window's ids are kept for :meth:`embed_batch`
        (tokenising a SciFact abstract costs about 2% of embedding it), then dropped.
        """
        self.load()
        try:
            for start in range(0, len(order), TOKENIZE_WINDOW):
                window = order[start:start + TOKENIZE_WINDOW]
                ids = self.token_ids([texts[i] for i in window])
                self._tokenized = {texts[i]: row for i, row in zip(window, ids)}
                by_length = sorted(range(len(window)), key=lambda j: len(ids[j]))
                for length, group in itertools.groupby(by_length, key=lambda j: len(ids[j])):
                    rows = [window[j] for j in group]
                    per_batch = self._texts_per_run(length) * (self.threads if self._pool is not None else 1)
                    for first in range(0, len(rows), per_batch):
                        yield rows[first:first + per_batch]
        finally:
            self._tokenized = {}

    def unload(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._session = self._tokenizer = self._pool = None


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1

