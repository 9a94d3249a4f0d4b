"""Evaluation of synthetic data against real data: fidelity, diagnostics, utility, privacy, bias, text.

Public entry points (imported lazily, so importing this package stays cheap):

* :func:`evaluate_tables` (``catalog.evaluation.tabular``) — every table metric in one dict;
* :func:`evaluate_texts` (``catalog.evaluation.text``) — length, diversity, novelty, PII;
* :func:`quality_score` (``catalog.evaluation.fidelity``) — SDMetrics-compatible quality score;
* :func:`write_html_report` (``catalog.evaluation.report``) — one self-contained HTML file.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "evaluate_tables": "catalog.evaluation.tabular",
    "evaluate_texts": "catalog.evaluation.text",
    "quality_score": "catalog.evaluation.fidelity",
    "write_html_report": "catalog.evaluation.report",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'catalog.evaluation' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(module), name)
