"""One call that evaluates a synthetic table: fidelity, diagnostics, utility, privacy and bias."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from catalog.errors import BadInput
from catalog.evaluation._columns import check_frame, resolve_columns

if TYPE_CHECKING:
    import pandas as pd

SECTIONS = ("quality", "diagnostics", "utility", "privacy", "bias")


def evaluate_tables(real: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame | None = None,
                    target: str | None = None, sensitive: Sequence[str] = (), *,
                    column_types: dict[str, str] | None = None, seed: int = 0,
                    skip: Sequence[str] = (), privacy_max_rows: int | None = None,
                    positive_label: object = None, on_section: Callable[[str], None] | None = None) -> dict:
    """Evaluate ``synth`` against ``real`` and return a JSON-serialisable dict.

    ``holdout`` is real data the generator never saw: it is the test set of the utility scores
    and the reference of the overfitting check (both are skipped, with the reason, without it).
    ``target`` is the column a model predicts (utility; the target rate of the bias table);
    ``sensitive`` names group columns for the bias table. ``skip`` leaves out sections by name
    (``quality``, ``diagnostics``, ``utility``, ``privacy``, ``bias``). Every problem with the
    input raises :class:`~catalog.errors.BadInput` before any work starts. ``on_section(name)`` is
    called as each section starts (for a progress display).
    """
    unknown = [s for s in skip if s not in SECTIONS]
    if unknown:
        raise BadInput(f"unknown section to skip '{unknown[0]}' (sections: {', '.join(SECTIONS)})")
    cols = resolve_columns(real, synth, column_types)
    real = real.rename(columns=str)
    synth = synth.rename(columns=str)
    if holdout is not None:
        check_frame(holdout, "holdout")
        holdout = holdout.rename(columns=str)
        missing = [c for c in cols.names if c not in holdout.columns]
        if missing:
            raise BadInput("the holdout table lacks a column the real and synthetic tables share",
                           field=missing[0])
        resolve_columns(real[cols.names], holdout[cols.names], cols.types)
    if target is not None:
        target = str(target)
        if target not in cols.names:
            where = "real" if target not in real.columns else "synthetic"
            raise BadInput(f"the target column is missing from the {where} table", field=target)
    sensitive = [str(s) for s in sensitive]
    for name in sensitive:
        if name not in cols.names:
            where = "real" if name not in real.columns else "synthetic"
            raise BadInput(f"the sensitive column is missing from the {where} table", field=name)

    timings: dict[str, float] = {}
    result: dict = {
        "kind": "table",
        "rows": {"real": len(real), "synthetic": len(synth), "holdout": None if holdout is None else len(holdout)},
        "columns": cols.names,
        "column_types": dict(cols.types),
        "target": target,
        "sensitive": sensitive,
        "seed": seed,
    }

    def run(name: str, fn):
        if name in skip:
            result[name] = {"skipped": "left out on request"}
            return
        if on_section is not None:
            on_section(name)
        started = time.perf_counter()
        result[name] = fn()
        timings[name] = time.perf_counter() - started

    from catalog.evaluation.bias import bias
    from catalog.evaluation.diagnostics import diagnostics
    from catalog.evaluation.fidelity import quality_score
    from catalog.evaluation.privacy import privacy
    from catalog.evaluation.utility import utility

    run("quality", lambda: quality_score(real, synth, columns=cols))
    run("diagnostics", lambda: diagnostics(real, synth, columns=cols))
    if holdout is None or target is None:
        result["utility"] = {"skipped": "needs a holdout table and a target column"
                             if holdout is None and target is None else
                             "needs a holdout table" if holdout is None else "needs a target column"}
    else:
        run("utility", lambda: utility(real, synth, holdout, target, cols, seed=seed))
    run("privacy", lambda: privacy(real, synth, cols, holdout, seed=seed, max_rows=privacy_max_rows))
    if sensitive:
        run("bias", lambda: bias(real, synth, cols, sensitive, target, positive_label=positive_label))
    else:
        result["bias"] = {"skipped": "no sensitive columns given"}
    result["seconds"] = timings
    return result
