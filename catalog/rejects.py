"""The ``--skip-bad`` file: rows an import left out, each with its line, field and reason.

The target is checked before the import starts (never the input file, never inside the catalog,
never an existing file unless forced), rows are written to a temporary file beside it, and the file
appears only when the import commits. Each entry keeps the row as parsed (``row``) and, where the
reader has it, the original line (``raw``), so a malformed line is never lost.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from catalog.json_values import json_safe
from catalog.outputs import check_output, temp_beside


class RejectsFile:
    """Collects rejected rows; ``commit`` publishes the file, ``discard`` removes it."""

    def __init__(self, path: str | os.PathLike | None, *, source: str | os.PathLike | None = None,
                 catalog_dir: str | os.PathLike | None = None, force: bool = False) -> None:
        self.path = check_output(path, catalog_dir=catalog_dir, force=force, option="skip_bad",
                                 protect=[source] if source else []) if path else None
        self.count = 0
        self.examples: list[str] = []
        self._fh = None
        self._tmp: Path | None = None
        if self.path is not None:
            self._tmp = temp_beside(self.path)
            self._fh = open(self._tmp, "w", encoding="utf-8")

    def add(self, line: int, field_name: str | None, reason: str, *, row: Any = None, raw: str | None = None) -> None:
        self.count += 1
        where = f"line {line}" + (f", field '{field_name}'" if field_name else "")
        if len(self.examples) < 5:
            self.examples.append(f"{where}: {reason}")
        if self._fh:
            entry = {"line": line, "field": field_name, "reason": reason, "row": row}
            if raw is not None:
                entry["raw"] = raw
            self._fh.write(json.dumps(json_safe(entry), ensure_ascii=False, default=str) + "\n")

    def commit(self) -> None:
        if self._fh:
            assert self._tmp is not None and self.path is not None  # the file is open only when both are set
            self._fh.close()
            os.replace(self._tmp, self.path)
            self._fh = None

    def discard(self) -> None:
        if self._fh:
            self._fh.close()
            self._fh = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
