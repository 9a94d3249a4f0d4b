"""Build a synthesizer by method name (see :mod:`generators.tabular.registry`), and load a saved one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from catalog.errors import BadInput
from generators.tabular.base import FORMAT, VERSION, Synthesizer
from generators.tabular.constraints import Constraint, parse_constraint
from generators.tabular.registry import synthesizer_class
from generators.tabular.schema import TableSchema


def make_synthesizer(method: str, *, seed: int = 0, column_types: dict[str, str] | None = None,
                     constraints: list[dict | str | Constraint] | None = None, **params: object) -> Synthesizer:
    """``make_synthesizer("copula", seed=1, constraints=["age < 90"], column_types={...})``.

    Common parameters: ``seed``, ``column_types`` (overrides), ``constraints`` (dicts or strings);
    method parameters: see each class's ``default_params()`` (e.g. ``epochs``, ``batch_size``)."""
    return synthesizer_class(method)(seed=seed, column_types=column_types, constraints=constraints, **params)


def method_params(method: str) -> dict:
    """The method's own parameters and their defaults (for CLI help)."""
    return synthesizer_class(method).default_params()


def load_synthesizer(path: str | Path) -> Synthesizer:
    """Load a model written by :meth:`Synthesizer.save` (JSON + npz; nothing is unpickled)."""
    path = Path(path)
    meta_path, arrays_path = path / "synthesizer.json", path / "arrays.npz"
    if not meta_path.is_file() or not arrays_path.is_file():
        raise BadInput("not a saved synthesizer (expected synthesizer.json and arrays.npz)", file=str(path))
    try:
        doc = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise BadInput(f"corrupt model file: {exc.msg}", file=str(meta_path), line=exc.lineno) from exc
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise BadInput(f"unsupported model format {doc.get('format')!r} version {doc.get('version')!r}",
                       file=str(meta_path))
    synth = synthesizer_class(doc["method"])(seed=doc["seed"], column_types=doc["column_types"],
                                             **doc["params"])
    synth.constraints = [parse_constraint(c) for c in doc["constraints"]]
    synth.schema = TableSchema.from_json(doc["schema"])
    synth.fit_info = doc.get("fit_info", {})
    with np.load(arrays_path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    synth._set_state(doc["state"], arrays)
    return synth
