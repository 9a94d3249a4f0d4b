"""One family of exceptions whose messages a user can act on.

The CLI turns any :class:`SynthcatError` into a single red line and exit code 1; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


class SynthcatError(Exception):
    """Base class: a problem the user can fix (bad input, missing catalog, busy catalog...)."""


class CatalogNotFound(SynthcatError):
    """A reading command was pointed at a directory that holds no catalog."""


class CatalogInUse(SynthcatError):
    """Another process holds the catalog's write lock."""


class UnknownDataset(SynthcatError):
    """A dataset name that the catalog does not hold."""


class DatasetExists(SynthcatError):
    """A write that would overwrite an existing dataset."""


class BadInput(SynthcatError):
    """Invalid user input. Names where it is: the file, line and field of the data (``file``,
    ``line``, ``field``), or the Python parameter that was given a bad value (``param``).

    Messages name parameters in backticks (``pass `text_fields` ``); the CLI shows each as the
    option of the running command (``--text-field``), so one message serves both.
    """

    def __init__(self, reason: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None, param: str | None = None) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.field = field
        self.param = param
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        if self.param is not None:
            where.append(f"`{self.param}`")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class EmbedderMismatch(SynthcatError):
    """Vectors from different embedders would be compared."""


class MissingDependency(SynthcatError):
    """An optional component is not installed; the message carries the install command."""


class UnknownItem(SynthcatError):
    """A record, dedup run or evaluation id that the catalog does not hold."""
