"""A tiny progress protocol so library code can report work without knowing about terminals."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, label: str, total: float | None) -> None: ...

    def advance(self, amount: float = 1) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    """Reports nothing (the default for library calls)."""

    def start(self, label: str, total: float | None) -> None:
        pass

    def advance(self, amount: float = 1) -> None:
        pass

    def finish(self) -> None:
        pass
