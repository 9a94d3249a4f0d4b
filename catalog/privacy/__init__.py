"""Personal data in records: detection (:mod:`catalog.privacy.detect`), check-digit validators
(:mod:`catalog.privacy.validators`) and field-level redaction with a storable report
(:mod:`catalog.privacy.redact`).

Nothing here loads at ``import catalog``: ``phonenumbers`` is imported when the first detector is
built.
"""

from catalog.privacy.detect import KINDS, PiiDetector, PiiMatch, default_detector, find_pii_spans
from catalog.privacy.redact import (
    MODES,
    PLACEHOLDERS,
    PiiChunkResult,
    PiiFinding,
    PiiFound,
    apply_pii_policy,
    describe_counts,
    redact_text,
    scan_rows,
)

__all__ = ["KINDS", "MODES", "PLACEHOLDERS", "PiiChunkResult", "PiiDetector", "PiiFinding", "PiiFound", "PiiMatch",
           "apply_pii_policy", "default_detector", "describe_counts", "find_pii_spans", "redact_text", "scan_rows"]
