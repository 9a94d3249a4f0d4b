"""Synthesizers by method name. Each synthesizer class registers itself with
:func:`register_synthesizer`; the built-in ones are imported (which registers them) the first time a
method is looked up, so nothing imports its way back to the factory or the base class."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, TypeVar

from catalog.errors import BadInput

if TYPE_CHECKING:
    from generators.tabular.base import Synthesizer

_BUILTIN_MODULES = ("generators.tabular.copula", "generators.tabular.gmm", "generators.tabular.tvae",
                    "generators.tabular.ctgan")
_SYNTHESIZERS: dict[str, type[Synthesizer]] = {}
S = TypeVar("S", bound="type[Synthesizer]")


def register_synthesizer(cls: S) -> S:
    """Class decorator: make ``cls`` available under its ``method`` name (extensions use it too)."""
    _SYNTHESIZERS[cls.method] = cls
    return cls


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)  # importing a module runs its @register_synthesizer


def methods() -> list[str]:
    """The registered method names (built-in ones first)."""
    _load_builtins()
    return list(_SYNTHESIZERS)


def synthesizer_class(method: str) -> type[Synthesizer]:
    _load_builtins()
    if method not in _SYNTHESIZERS:
        raise BadInput(f"unknown method '{method}' (choose one of {', '.join(_SYNTHESIZERS)}; "
                       "rule-based specs use generate_from_spec)", param="method")
    return _SYNTHESIZERS[method]
