"""Scan texts for personal data a synthetic dataset should not carry.

The detection itself lives in :mod:`catalog.privacy.detect` (shared with the import guard and
export redaction): e-mail addresses, phone numbers (validated with ``phonenumbers``), payment
cards (issuer ranges and Luhn), IBANs (country length and mod-97), national ids with their check
digits or issuing rules, and IPv4 / IPv6 addresses. This module keeps the evaluation's view of it:
``(kind, match)`` pairs and per-kind counts with a few examples for the report.
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog.privacy.detect import KINDS, find_pii_spans
from catalog.privacy.validators import luhn_ok

__all__ = ["KINDS", "find_pii", "luhn_ok", "scan_texts"]


def find_pii(text: str) -> list[tuple[str, str]]:
    """All ``(kind, match)`` found in one text, in order of position."""
    return [(m.kind, text[m.start:m.end]) for m in find_pii_spans(text)]


def scan_texts(texts: Iterable[str], *, examples: int = 5) -> dict:
    """Counts per kind (matches and texts holding one) with up to ``examples`` example matches each."""
    counts = {k: 0 for k in KINDS}
    texts_with = {k: 0 for k in KINDS}
    shown: dict[str, list[str]] = {k: [] for k in KINDS}
    n_texts = flagged = 0
    for text in texts:
        n_texts += 1
        hits = find_pii(text or "")
        if hits:
            flagged += 1
        for kind in {k for k, _ in hits}:
            texts_with[kind] += 1
        for kind, match in hits:
            counts[kind] += 1
            if len(shown[kind]) < examples and match not in shown[kind]:
                shown[kind].append(match)
    return {
        "texts": n_texts,
        "texts_with_pii": flagged,
        "share_with_pii": flagged / n_texts if n_texts else 0.0,
        "by_kind": {k: {"matches": counts[k], "texts": texts_with[k], "examples": shown[k]} for k in KINDS},
    }
