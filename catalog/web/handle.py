"""One catalog connection shared by the web app's worker threads.

DuckDB connections are not safe to use from several threads at once, and Starlette runs each
request's work in a thread pool. Searches must also reuse their :class:`~catalog.search.api.Searcher`
(embedder, FAISS index and BM25 postings loaded once), or every query would pay for loading them.
So the app holds one read-only :class:`~catalog.Catalog` behind a lock: a request takes the lock, reads,
and lets go; rendering happens after, outside it. Pages are small, so requests wait little on each
other.

A read-only connection still holds DuckDB's file lock, which keeps every writer out (``synthcat
import`` would say "catalog in use"). The handle therefore closes the connection after
``idle_seconds`` without requests and opens it again on the next one: browsing and writing from
another terminal can take turns. A request that arrives while another process writes gets
:class:`~catalog.errors.CatalogInUse` (the app answers 503).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from catalog.api import Catalog
    from catalog.search.api import Hit, Searcher

T = TypeVar("T")
MAX_SEARCHERS = 8  # searchers kept for distinct filter settings (each holds BM25 postings)


class SharedCatalog:
    """A lazily opened, lock-guarded, read-only catalog with cached searchers."""

    def __init__(self, directory: str | Path, *, idle_seconds: float = 10.0) -> None:
        self.directory = Path(directory)
        self.idle_seconds = idle_seconds
        self._lock = threading.RLock()
        self._cat: Catalog | None = None
        self._searchers: OrderedDict[tuple, Searcher] = OrderedDict()
        self._last_used = time.monotonic()
        self._stop = threading.Event()
        self._closer: threading.Thread | None = None

    # ------------------------------------------------------------------------------ opening
    def _open(self) -> Catalog:
        if self._cat is None:
            from catalog.api import Catalog

            # Every open goes through Catalog.open, the one place a catalog is checked before use: an
            # encrypted catalog needs its key (SYNTHCAT_KEY or SYNTHCAT_KEY_FILE) and is refused there
            # without it, so `serve` (which opens once before it binds its port) refuses to start.
            self._cat = Catalog.open(self.directory, read_only=True)
        return self._cat

    def _close(self) -> None:
        self._searchers.clear()
        if self._cat is not None:
            self._cat.close()
            self._cat = None

    def check(self) -> None:
        """Open the catalog now (so a missing, busy or unreadable catalog fails before serving)."""
        with self.reading():
            pass

    def start_idle_closer(self) -> None:
        """Close the connection after ``idle_seconds`` without requests (a daemon thread)."""
        if self._closer is None and self.idle_seconds > 0:
            self._closer = threading.Thread(target=self._close_when_idle, name="synthcat-web-idle", daemon=True)
            self._closer.start()

    def _close_when_idle(self) -> None:
        while not self._stop.wait(min(1.0, self.idle_seconds / 4)):
            if self._lock.acquire(blocking=False):
                try:
                    if self._cat is not None and time.monotonic() - self._last_used > self.idle_seconds:
                        self._close()
                finally:
                    self._lock.release()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._close()

    # ------------------------------------------------------------------------------ reading
    @contextmanager
    def reading(self) -> Iterator[Catalog]:
        """The open catalog, for this thread alone until the block ends."""
        with self._lock:
            try:
                yield self._open()
            finally:
                self._last_used = time.monotonic()

    def read(self, fn: Callable[[Catalog], T]) -> T:
        with self.reading() as cat:
            return fn(cat)

    def search(self, query: str, k: int, settings: dict[str, Any]) -> list[Hit]:
        """Hybrid/keyword/vector search with ``settings`` (the arguments of ``Catalog.searcher``),
        explained; the searcher for the same settings is reused."""
        key = _settings_key(settings)
        with self.reading():
            searcher = self._searchers.get(key)
            if searcher is None:
                searcher = self._new_searcher(settings)
                self._searchers[key] = searcher
                while len(self._searchers) > MAX_SEARCHERS:
                    self._searchers.popitem(last=False)
            self._searchers.move_to_end(key)
            return searcher.run([query], k, True)[0]

    def _new_searcher(self, settings: dict[str, Any]) -> Searcher:
        from catalog.search.keyword import KeywordIndexStale

        try:
            return self._open().searcher(**settings)
        except KeywordIndexStale:
            # Records changed since the keyword index was built. Like `synthcat search`, rebuild
            # that derived index once with a writable connection; the records are not touched.
            self.refresh_keyword_index()
            return self._open().searcher(**settings)

    def refresh_keyword_index(self) -> None:
        """Bring the keyword (BM25) index up to date if records changed since it was built."""
        from catalog.api import Catalog

        with self._lock:
            self._close()
            with Catalog.open(self.directory) as writable:
                writable.searcher(mode="keyword")  # builds the index when it is stale

    # ------------------------------------------------------------------------------ writing
    def write(self, fn: Callable[[Catalog], T]) -> T:
        """Run ``fn`` on a writable catalog: the read-only connection is closed first (one process
        cannot hold both) and reopened by the next read."""
        from catalog.api import Catalog

        with self._lock:
            self._close()
            try:
                with Catalog.open(self.directory) as writable:
                    return fn(writable)
            finally:
                self._last_used = time.monotonic()


def _settings_key(settings: dict[str, Any]) -> tuple:
    def freeze(value: Any) -> Any:
        if isinstance(value, dict):
            return tuple(sorted((k, freeze(v)) for k, v in value.items()))
        if isinstance(value, (list, tuple)):
            return tuple(freeze(v) for v in value)
        return value

    return freeze(settings)
