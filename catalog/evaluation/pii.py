"""Scan texts for personal data a synthetic dataset should not carry.

Kinds: e-mail addresses, phone numbers (international ``+`` form or a North-American style
10-digit layout), payment card numbers (13-19 digits, passing the Luhn check), national-id-like
numbers (US SSN ``ddd-dd-dddd`` with the invalid ranges excluded, UK NI numbers written with
spaces) and IPv4 /
IPv6 addresses (each part validated). Patterns favour precision: a long digit run that fails
Luhn is not a card, a dotted quad with a part above 255 is not an address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
# spaced form only: unspaced it matches lab and compound codes (e.g. "SR141716A") in technical text
_UK_NINO = re.compile(r"\b(?![DFIQUV])[A-CEGHJ-PR-TW-Z](?![DFIQUVO])[A-CEGHJ-NPR-TW-Z] \d{2} \d{2} \d{2} [A-D]\b")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]?\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w-])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")

KINDS = ("email", "phone", "card_number", "national_id", "ip_address")


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def find_pii(text: str) -> list[tuple[str, str]]:
    """All ``(kind, match)`` found in one text."""
    found: list[tuple[str, str]] = []
    found += [("email", m.group()) for m in _EMAIL.finditer(text)]
    cards = []
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
            cards.append(m.span())
            found.append(("card_number", m.group()))
    found += [("national_id", m.group()) for m in _SSN.finditer(text)]
    found += [("national_id", m.group()) for m in _UK_NINO.finditer(text)]
    for m in _PHONE.finditer(text):
        if any(a <= m.start() < b for a, b in cards) or _SSN.fullmatch(m.group()):
            continue
        if 9 <= sum(ch.isdigit() for ch in m.group()) <= 15:
            found.append(("phone", m.group()))
    for m in _IPV4.finditer(text):
        if all(int(p) <= 255 for p in m.group().split(".")):
            found.append(("ip_address", m.group()))
    for m in _IPV6.finditer(text):
        candidate = m.group()
        if candidate.count(":") >= 2 and any(c.isalnum() for c in candidate):
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            found.append(("ip_address", candidate))
    return found


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
