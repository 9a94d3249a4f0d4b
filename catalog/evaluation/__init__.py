"""Evaluation of synthetic data against real data: fidelity, diagnostics, utility, privacy, bias, text.

Submodules import their heavy dependencies lazily; importing this package is cheap.
"""
