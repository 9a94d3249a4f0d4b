"""A per-user cache of models that synthcat derives from bundled ones (e.g. the int8 ONNX embedder).

Deriving such a model takes tens of seconds, so it is done once and kept under
``$SYNTHCAT_CACHE_DIR``, else ``$XDG_CACHE_HOME/synthcat``, else ``~/.cache/synthcat``.

An entry is a directory ``<root>/<kind>/<version>`` whose ``manifest.json`` lists every file with
its size and SHA-256. The version string must change whenever what the files would contain changes
(the source model's hash, the build recipe), so a stale entry is never used: it simply isn't found.

Why it is built this way:

- An entry is built in a temporary directory beside its final place and renamed into place, so a
  reader never sees a half-written entry and a failed build leaves nothing behind.
- Builders of the same entry take an exclusive file lock (where the OS has ``fcntl``), so two
  processes starting at once build it once; the second one finds the first one's entry.
- Every use checks the manifest (sizes and hashes), so a truncated or damaged entry is rebuilt
  rather than loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from catalog.errors import SynthcatError

CACHE_ENV = "SYNTHCAT_CACHE_DIR"
MANIFEST = "manifest.json"

try:  # POSIX; elsewhere the rename alone keeps entries whole (two builders may both build)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def cache_root() -> Path:
    """The per-user cache directory (not created here)."""
    explicit = os.environ.get(CACHE_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "synthcat"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def directory_sha256(directory: Path) -> str:
    """One hash over every file under ``directory``: relative paths and contents, in sorted order."""
    digest = hashlib.sha256()
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    if not files:
        raise SynthcatError(f"no model files in {directory}")
    for path in files:
        digest.update(path.relative_to(directory).as_posix().encode("utf-8") + b"\0")
        digest.update(file_sha256(path).encode("ascii"))
    return digest.hexdigest()


def read_manifest(entry: Path) -> dict | None:
    try:
        manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def entry_problem(entry: Path, version: str) -> str | None:
    """Why the entry cannot be used (None when it is complete and intact)."""
    if not entry.is_dir():
        return "missing"
    manifest = read_manifest(entry)
    if manifest is None:
        return "no readable manifest"
    if manifest.get("version") != version:
        return f"version {manifest.get('version')!r}, wanted {version!r}"
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return "manifest lists no files"
    for name, meta in files.items():
        path = entry / name
        try:
            size = path.stat().st_size
        except OSError:
            return f"{name} is missing"
        if size != meta.get("size"):
            return f"{name} has {size} bytes, the manifest says {meta.get('size')}"
        if file_sha256(path) != meta.get("sha256"):
            return f"{name} does not match its checksum"
    return None


@contextlib.contextmanager
def _build_lock(lock_path: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _remove(path: Path) -> None:
    """Move ``path`` out of the way first (a rename is atomic), then delete it."""
    if not path.exists():
        return
    doomed = path.with_name(f".{path.name}.stale-{os.getpid()}-{time.monotonic_ns()}")
    os.rename(path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def ensure_entry(kind: str, version: str, build: Callable[[Path], dict], *, root: Path | None = None) -> Path:
    """The cache entry ``<root>/<kind>/<version>``, built with ``build(directory)`` if absent or damaged.

    ``build`` writes the entry's files into the (empty, temporary) directory it is given and returns
    facts to keep in the manifest. It raises :class:`SynthcatError` naming what failed; the
    temporary directory is then removed, so no half-built entry remains.
    """
    base = (root or cache_root()) / kind
    entry = base / version
    if entry_problem(entry, version) is None:
        return entry
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SynthcatError(f"cannot create the model cache {base}: {exc.strerror or exc} "
                            f"(set {CACHE_ENV} to a writable directory)") from None
    with _build_lock(base / f"{version}.lock"):
        if entry_problem(entry, version) is None:  # another process built it while we waited
            return entry
        if fcntl is not None:  # we hold the lock: any build directory left now is from a killed build
            for leftover in base.glob(f".{version}.building-*"):
                shutil.rmtree(leftover, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{version}.building-", dir=base))
        try:
            facts = build(work)
            files = {p.relative_to(work).as_posix(): {"size": p.stat().st_size, "sha256": file_sha256(p)}
                     for p in sorted(work.rglob("*")) if p.is_file()}
            manifest = {"version": version, "kind": kind, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        "files": files, **facts}
            (work / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            _remove(entry)  # damaged or partial: nobody can be using it successfully
            try:
                os.rename(work, entry)
            except OSError:
                # Only without a lock: another process put its entry in place first; use it if whole.
                if entry_problem(entry, version) is not None:
                    raise
                shutil.rmtree(work, ignore_errors=True)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    return entry
