"""Synthesize a table and land it in the catalog as a typed table with origin ``synthetic``.

The source is a table dataset of the catalog or a CSV/Parquet file; a rules spec needs no source;
a saved model samples without refitting. The new dataset records the method, its parameters, the
seed, conditions and constraints, and (for catalog sources) its parent dataset.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from catalog.errors import BadInput
from catalog.results import Result
from catalog.tables import create_table_from_frame, read_frame


@dataclass
class SynthesisResult(Result):
    """A synthesized table: where it went, how many rows, by which method, fitted on what."""

    dataset: str
    rows: int
    method: str
    parent: str | None
    fit_seconds: float
    seconds: float
    saved_model: str | None = None


def synthesize_table(cat, dataset: str, *, n: int | None = None, source: str | None = None,
                     method: str | None = None, spec: str | None = None, load_model: str | None = None,
                     save_model: str | None = None, seed: int = 0, epochs: int | None = None,
                     conditions: Mapping[str, object] | None = None, balance: str | None = None,
                     balance_shares: dict[str, float] | None = None, constraints: list[str] | None = None,
                     na_values: list[str] | None = None, method_options: dict | None = None, progress=None,
                     description: str | None = None, force: bool = False) -> SynthesisResult:
    """Fit (or load, or run a spec), sample ``n`` rows and store them as ``dataset``; return a summary.

    ``method_options`` sets the method's own parameters (``default_params()`` of its class, e.g.
    ``{"condition_column": "income"}`` for tvae); an unknown name is refused with the known ones.
    ``save_model`` must be a new or empty directory outside the catalog (``force`` replaces a saved
    model there)."""
    from generators.tabular import generate_from_spec, load_synthesizer, make_synthesizer

    cat.require_new_name(dataset)
    if epochs is not None and epochs < 1:
        raise BadInput(f"must be at least 1, got {epochs}", param="epochs")
    if save_model:
        check_model_dir(save_model, catalog_dir=cat.directory, force=force)
    chosen = [x for x in (spec, load_model, source) if x]
    if spec and (source or load_model or method):
        raise BadInput("generates from rules alone: drop `source`, `method` and `load_model`", param="spec")
    if not chosen:
        raise BadInput("give `source` (a file or table dataset) with `method`, a rules `spec`, or `load_model`")
    if method_options and not (source and method):
        raise BadInput("sets a method's parameters when fitting: use it with `source` and `method`",
                       param="method_options")
    started = time.perf_counter()
    parent = None
    fit_seconds = 0.0
    if spec:
        frame = generate_from_spec(spec, n=n, seed=seed)
        generator = "rules"
        params: dict[str, object] = {"spec": str(spec)}
    else:
        if n is None or n < 1:
            raise BadInput(f"must be at least 1, got {n}", param="n")
        if load_model:
            synth = load_synthesizer(load_model)
        else:
            if not method:
                raise BadInput("is required with `source` (copula, gmm, tvae or ctgan)", param="method")
            assert source is not None  # neither spec nor load_model, so chosen holds the source
            real, parent = read_frame(cat, source, na_values=na_values)
            options: dict = {**(method_options or {}), "seed": seed, "constraints": list(constraints or [])}
            if epochs is not None:
                options["epochs"] = epochs
            synth = make_synthesizer(method, **options)
            fit_started = time.perf_counter()
            synth.fit(real, progress=progress)
            fit_seconds = time.perf_counter() - fit_started
            if save_model:
                synth.save(save_model)
        coerced = _coerce_booleans(synth, conditions or {})
        if balance:
            frame = synth.balance(balance, n, shares=balance_shares, seed=seed)
        else:
            frame = synth.sample(n, conditions=coerced or None, seed=seed)
        generator = synth.method
        params = {"method_params": synth.params, "constraints": [c.describe() for c in synth.constraints],
                  "conditions": coerced, "balance": balance, "balance_shares": balance_shares,
                  "source": source, "loaded_model": load_model, "saved_model": save_model}
    with cat.transaction():
        rows = create_table_from_frame(cat, dataset, frame, origin="synthetic", generator=generator,
                                       parameters=params, seed=seed, parents=[parent] if parent else [],
                                       description=description or f"{generator} synthesis"
                                       + (f" of {parent}" if parent else ""))
    return SynthesisResult(dataset=dataset, rows=rows, method=generator, parent=parent,
                           fit_seconds=round(fit_seconds, 3), seconds=round(time.perf_counter() - started, 3),
                           saved_model=save_model)


def check_model_dir(path: str, *, catalog_dir, force: bool) -> None:
    """A directory a fitted model may be saved to: outside the catalog, and new, empty, or (with
    ``force``) holding only an earlier saved model."""
    from pathlib import Path

    target = Path(path)
    try:
        inside = target.resolve().is_relative_to(Path(catalog_dir).resolve())
    except OSError:
        inside = False
    if inside:
        raise BadInput(f"`save_model` points inside the catalog directory {catalog_dir}: choose a path outside it",
                       file=str(path))
    if target.exists() and not target.is_dir():
        raise BadInput("`save_model` names a file; give a directory", file=str(path))
    if target.is_dir():
        present = {p.name for p in target.iterdir()}
        if present and not (force and present <= {"synthesizer.json", "arrays.npz"}):
            raise BadInput("the `save_model` directory is not empty"
                           + (": pass `force` to replace the saved model in it" if
                              present <= {"synthesizer.json", "arrays.npz"} else " (and holds other files)"),
                           file=str(path))


_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def _coerce_booleans(synth, conditions: Mapping[str, object]) -> dict[str, object]:
    """CLI conditions arrive as text: read yes/no, true/false, 1/0 as booleans for boolean columns."""
    out: dict[str, object] = dict(conditions)
    by_name = getattr(synth.schema, "by_name", {}) if synth.schema is not None else {}
    for column, value in conditions.items():
        info = by_name.get(column)
        if info is not None and info.kind == "boolean" and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _TRUE:
                out[column] = True
            elif lowered in _FALSE:
                out[column] = False
    return out
