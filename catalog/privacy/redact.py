"""Scan and redact personal data in records: JSON-like dicts whose string values may sit in nested
lists and dicts (chat messages, metadata), a chunk of rows at a time.

Each finding names its row, the field as a JSON Pointer (RFC 6901: ``/messages/2/content``), the
kind, the character span in the original value and, when redacted, where the placeholder now
sits, plus a keyed hash of the value: enough to store, count, audit and de-duplicate findings,
never the value itself. Redaction replaces each match with a typed placeholder (``[EMAIL]``,
``[PHONE]``...) and copies only the rows that change.

:func:`apply_pii_policy` is what an importer or exporter calls per chunk: ``warn`` reports,
``redact`` rewrites, ``refuse`` raises :class:`PiiFound` at the first row holding personal data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from catalog.errors import BadInput
from catalog.privacy.detect import KINDS, PiiDetector, PiiMatch, default_detector

PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]", "phone": "[PHONE]", "card_number": "[CARD]", "iban": "[IBAN]",
    "ip_address": "[IP]", "national_id": "[NATIONAL_ID]",
}
MODES = ("warn", "redact", "refuse")

# integers this long may be phone or card numbers stored as JSON numbers
_MIN_NUMBER = 1_000_000


class PiiFound(BadInput):
    """``refuse`` mode met personal data; names where and what kind, never the value."""


@dataclass(frozen=True, slots=True)
class PiiFinding:
    """One match in one string value of one row."""

    row: int
    field: str
    kind: str
    detail: str
    start: int
    end: int
    value_hash: str
    confidence: float
    placeholder_start: int | None = None

    def to_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "kind": self.kind, "detail": self.detail,
                "start": self.start, "end": self.end, "value_hash": self.value_hash,
                "confidence": self.confidence, "placeholder_start": self.placeholder_start}


@dataclass
class PiiChunkResult:
    """The rows to store (redacted copies where something changed) and every finding."""

    rows: list
    findings: list[PiiFinding] = field(default_factory=list)

    @property
    def rows_with_pii(self) -> int:
        return len({f.row for f in self.findings})

    def counts(self) -> dict[str, int]:
        """Findings per kind, every kind present (0 when none)."""
        c = Counter(f.kind for f in self.findings)
        return {k: c.get(k, 0) for k in KINDS}


def redact_text(text: str, matches: Sequence[PiiMatch],
                placeholders: dict[str, str] = PLACEHOLDERS) -> tuple[str, list[int]]:
    """``text`` with each match replaced by its placeholder, and where each placeholder starts.

    ``matches`` must be sorted and non-overlapping, as :meth:`PiiDetector.find` returns them.
    """
    parts: list[str] = []
    starts: list[int] = []
    pos = length = 0
    for m in matches:
        keep = text[pos:m.start]
        parts.append(keep)
        length += len(keep)
        starts.append(length)
        token = placeholders[m.kind]
        parts.append(token)
        length += len(token)
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts), starts


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _walk(value, pointer: str, detector: PiiDetector, scan_numbers: bool, hits: list) -> None:
    """Append ``(pointer, matches)`` for every string (or long integer) under ``value`` holding PII."""
    if isinstance(value, str):
        matches = detector.find(value)
        if matches:
            hits.append((pointer, matches))
    elif isinstance(value, dict):
        for k, item in value.items():
            if isinstance(item, str):  # the common case, without building a pointer
                matches = detector.find(item)
                if matches:
                    hits.append((f"{pointer}/{_escape(str(k))}", matches))
            else:
                _walk(item, f"{pointer}/{_escape(str(k))}", detector, scan_numbers, hits)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _walk(item, f"{pointer}/{i}", detector, scan_numbers, hits)
    elif scan_numbers and type(value) is int and abs(value) >= _MIN_NUMBER:
        matches = detector.find(str(value))
        if matches:
            hits.append((pointer, matches))


def _replace(value, parts: list[str], new):
    """A copy of ``value`` with the item at the pointer ``parts`` set to ``new`` (containers on the
    path are copied; siblings are shared)."""
    if not parts:
        return new
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        key = head.replace("~1", "/").replace("~0", "~")
        # keys that are not strings were stringified in the pointer: find the original
        original = key if key in value else next(k for k in value if str(k) == key)
        copy = dict(value)
        copy[original] = _replace(value[original], rest, new)
        return copy
    items = list(value)
    items[int(head)] = _replace(value[int(head)], rest, new)
    return items


def scan_rows(rows: Iterable[dict], *, redact: bool = False, detector: PiiDetector | None = None,
              skip_fields: Iterable[str] = (), scan_numbers: bool = True,
              placeholders: dict[str, str] = PLACEHOLDERS) -> PiiChunkResult:
    """Find personal data in every string value of every row (nested lists and dicts included).

    With ``redact``, rows holding personal data are replaced by copies in which each match is a
    placeholder (an integer field that matched becomes the placeholder string); other rows are
    passed through as the same objects. ``skip_fields`` names top-level fields left alone (an id
    field, say). Integers of 7 digits or more are scanned as their decimal text when
    ``scan_numbers``.
    """
    detector = detector or default_detector()
    skip = set(skip_fields)
    find = detector.find
    may_contain = detector.may_contain
    out_rows: list = []
    findings: list[PiiFinding] = []
    for index, row in enumerate(rows):
        hits: list[tuple[str, list[PiiMatch]]] = []
        if isinstance(row, dict):
            values = row.values()
            # fast path: a flat row of strings whose joined text trips no trigger holds no PII
            if all(type(x) is str for x in values) and not may_contain("\n".join(values)):
                out_rows.append(row)
                continue
            for k, item in row.items():
                if k in skip:
                    continue
                if isinstance(item, str):
                    matches = find(item)
                    if matches:
                        hits.append(("/" + _escape(str(k)), matches))
                else:
                    _walk(item, "/" + _escape(str(k)), detector, scan_numbers, hits)
        else:
            _walk(row, "", detector, scan_numbers, hits)
        if not hits:
            out_rows.append(row)
            continue
        new_row = row
        for pointer, matches in hits:
            starts: Sequence[int | None] = [None] * len(matches)
            if redact:
                original = _get(row, pointer)
                redacted, starts = redact_text(str(original), matches, placeholders)
                new_row = _replace(new_row, pointer.split("/")[1:] if pointer else [], redacted)
            for m, ps in zip(matches, starts):
                findings.append(PiiFinding(index, pointer, m.kind, m.detail, m.start, m.end, m.value_hash,
                                           m.confidence, ps))
        out_rows.append(new_row)
    return PiiChunkResult(out_rows, findings)


def _get(row, pointer: str):
    value = row
    for part in pointer.split("/")[1:] if pointer else []:
        if isinstance(value, dict):
            key = part.replace("~1", "/").replace("~0", "~")
            value = value[key] if key in value else next(v for k, v in value.items() if str(k) == key)
        else:
            value = value[int(part)]
    return value


def apply_pii_policy(rows: Sequence[dict], mode: str, *, detector: PiiDetector | None = None,
                     source: str | None = None, lines: Sequence[int] | None = None,
                     skip_fields: Iterable[str] = ()) -> PiiChunkResult:
    """One chunk of rows through the ``--pii`` policy.

    ``warn``: rows unchanged, findings returned (the caller stores them and prints a summary).
    ``redact``: rows with findings replaced by redacted copies, findings returned.
    ``refuse``: raises :class:`PiiFound` naming the file (``source``), line (``lines[row]`` when
    given, else the row's position in the chunk, 1-based), field and kind of the first finding.
    """
    if mode not in MODES:
        raise BadInput(f"unknown PII mode '{mode}': choose warn, redact or refuse")
    result = scan_rows(rows, redact=mode == "redact", detector=detector, skip_fields=skip_fields)
    if mode == "refuse" and result.findings:
        first = result.findings[0]
        line = lines[first.row] if lines is not None else first.row + 1
        total = len(result.findings)
        more = f"; {total} findings in this chunk" if total > 1 else ""
        raise PiiFound(f"personal data found: {first.kind.replace('_', ' ')} ({first.detail}{more}); "
                       "import with --pii redact to replace it with placeholders, or --pii warn to keep it",
                       file=source, line=line, field=first.field.lstrip("/") or None)
    return result


def describe_counts(counts: dict[str, int]) -> str:
    """``"3 emails, 1 phone"``: findings per kind for a one-line message (kinds with none left out)."""
    names = {"email": ("email", "emails"), "phone": ("phone number", "phone numbers"),
             "card_number": ("card number", "card numbers"), "iban": ("IBAN", "IBANs"),
             "ip_address": ("IP address", "IP addresses"), "national_id": ("national id", "national ids")}
    parts = [f"{n} {names[k][n != 1]}" for k, n in counts.items() if n]
    return ", ".join(parts) if parts else "no personal data"
