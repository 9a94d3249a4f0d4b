"""Files synthcat writes for the user (exports, rejects, search results, reports): checked before
any work starts, and written atomically.

Every such file goes through :func:`check_output` first, so a bad target fails before anything
changes: it may not lie inside the catalog directory (an export must never replace
``catalog.duckdb``), may not be a directory, its directory must exist and be writable, and an
existing file is replaced only when the caller passes ``force``. :func:`atomic_output` then writes
under a temporary name in the same directory and renames it into place on success, removing the
temporary file on failure, so a reader never sees half a file and a failed write leaves nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from catalog.errors import BadInput, SynthcatError


def _inside(path: Path, directory: Path) -> bool:
    try:
        return path.resolve().is_relative_to(directory.resolve())
    except OSError:
        return False


def check_output(path: str | os.PathLike, *, catalog_dir: str | os.PathLike | None = None,
                 force: bool = False, option: str = "out", protect: Sequence[str | os.PathLike] = ()) -> Path:
    """Return ``path`` as a Path if the user may write there; raise :class:`BadInput` otherwise.

    ``protect`` names files that must never be the target (e.g. the input file of an import).
    """
    path = Path(path)
    shown = str(path)
    option = f"`{option}`" if option.isidentifier() else option
    if catalog_dir is not None and _inside(path, Path(catalog_dir)):
        raise BadInput(f"{option} points inside the catalog directory {catalog_dir}: choose a path outside it",
                       file=shown)
    for other in protect:
        if _same_file(path, Path(other)):
            raise BadInput(f"{option} is the same file as the input {other}: choose another path", file=shown)
    if path.is_dir():
        raise BadInput(f"{option} is a directory; give a file name", file=shown)
    parent = path.parent
    if not parent.exists():
        raise BadInput(f"the directory of {option} does not exist: create it first", file=str(parent))
    if not parent.is_dir():
        raise BadInput(f"the directory of {option} is not a directory", file=str(parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadInput(f"cannot write {option} there: permission denied", file=shown)
    if path.exists() or path.is_symlink():
        if not force:
            raise BadInput(f"{option} already exists: pass `force` to replace it, or choose another path",
                           file=shown)
        if not path.is_file():
            raise BadInput(f"{option} exists and is not a regular file", file=shown)
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


@contextmanager
def atomic_output(path: Path, mode: str = "w") -> Iterator:
    """Yield a file object (text ``"w"`` or binary ``"wb"``) that becomes ``path`` only on success."""
    tmp = _temp_name(path)
    try:
        fh = open(tmp, mode, encoding=None if "b" in mode else "utf-8")
    except OSError as exc:
        raise SynthcatError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with fh:
            yield fh
        os.replace(tmp, path)
    except BaseException as exc:
        _remove(tmp)
        if isinstance(exc, OSError):
            raise SynthcatError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer that wants a file name (DuckDB's COPY);
    it is renamed to ``path`` on success and removed on failure."""
    tmp = _temp_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as exc:
        _remove(tmp)
        if isinstance(exc, OSError):
            raise SynthcatError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def temp_beside(path: Path) -> Path:
    """A new, empty temporary file in the directory of ``path`` (for a write renamed into place later)."""
    return _temp_name(path)


def _temp_name(path: Path) -> Path:
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise SynthcatError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    return Path(name)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
