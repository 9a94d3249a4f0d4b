"""Small text inputs users name on the command line (query files, topic lists, prompt templates):
read as UTF-8 (a BOM is allowed), with one clear error for a missing file, a directory or bytes
that are not text."""

from __future__ import annotations

import os
from pathlib import Path

from catalog.errors import BadInput


def read_text_file(path: str | os.PathLike, what: str) -> str:
    """The text of ``path``; ``what`` names the file in errors (e.g. "queries file")."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{what} not found", file=str(path))
    if path.is_dir():
        raise BadInput(f"is a directory, not a {what}", file=str(path))
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=str(path)) from None
    except OSError as exc:
        raise BadInput(f"cannot read the {what}: {exc.strerror or exc}", file=str(path)) from None
