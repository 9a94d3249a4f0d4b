"""Find personal data in a text: e-mail addresses, phone numbers, payment cards, IBANs, IP addresses
and national ids, each with its character span.

Every kind is found in two steps: a regular expression proposes candidates, then a validator
decides (Luhn and issuer ranges for cards, mod-97 and the country length for IBANs, ``ipaddress``
for IPs, check digits or the issuing rules for ids, the numbering plans of ``phonenumbers`` for
phones). A text is first tested against one cheap pattern (a digit, ``@`` or ``::``); most short
texts without any stop there, which keeps an import of millions of records fast.

Overlapping candidates are settled by how much the validator proves: a Luhn-valid card beats a
phone reading of the same digits, an IBAN beats the card or phone inside it, an e-mail address
beats the digits in its local part.

A match never carries the matched text, only a keyed hash of it (BLAKE2b, 16 bytes): reports can
be stored and logged. Without a key the hash of a low-entropy value such as a phone number can be
reversed by enumerating candidates, so a catalog should pass a secret key of its own.

Person names are not detected: no maintained library does it offline without downloading a model
at run time (see ``benchmarks/RESULTS.md``, "PII detection").
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from catalog.privacy import validators as v

KINDS = ("email", "phone", "card_number", "iban", "ip_address", "national_id")

# Higher wins an overlap. Checksums first (they prove the most), then structured formats, phones last.
_PRIORITY = {"email": 60, "iban": 55, "card_number": 50, "national_id": 40, "ip_address": 30, "phone": 10}

_PREFILTER = re.compile(r"[0-9@]|::")
# What a text must hold before a group of detectors is worth running; each is one fast search
# (a literal or a character class first), far cheaper than the detectors it guards.
_DIGIT_RUN = re.compile(r"\d(?:[ \-./()]{0,2}\d){6}")  # 7+ digits: cards, phones, numeric ids, IPv4
_SHORT_QUAD = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")  # an IPv4 with fewer digits, such as 1.2.3.4
_HEX_COLONS = re.compile(r":[0-9A-Fa-f]{1,4}:|::")  # IPv6 (a leading literal keeps the search fast)
_UPPER_CODE = re.compile(r"[A-Z][A-Z](?: ?\d{2}|[A-Z]{4}[0-9LMNPQRSTUV]{2})")  # IBAN, NINO, codice fiscale

_EMAIL = re.compile(
    r"(?<![\w.+%-])([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24}))(?![\w-]|\.[A-Za-z0-9])")
# an image or file name such as "logo@2x.png" has the shape of an address
_FILE_SUFFIXES = {"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "pdf", "zip", "js", "css", "html",
                  "txt", "json", "csv"}

_CARD = re.compile(r"(?<![\d+\-./,])\d(?:[ -]?\d){11,18}(?![\d])(?![.,/-]\d)")
_SEPARATORS = re.compile(r"[ -]")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}\b")

_SSN = re.compile(r"(?<![\d\-./])\d{3}([- ])\d{2}\1\d{4}(?![\d\-])(?!\.\d)")
_NINO_SPACED = re.compile(r"\b[A-Z]{2} (?:\d{2} \d{2} \d{2}|\d{6}) [A-D]\b")
_NINO_COMPACT = re.compile(r"\b[A-Z]{2}\d{6}[A-D]\b")
_DNI = re.compile(r"\b(?:\d{8}|[XYZ]-?\d{7})-?[A-Z]\b")
_NIR = re.compile(r"(?<![\d.])[12378] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\d.])")
_CF = re.compile(r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b")
_CPF = re.compile(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\d-])")
_NINE_DIGITS = re.compile(r"(?<![\d\-./])\d{3}[ -]?\d{3}[ -]?\d{3}(?![\d\-])(?!\.\d)")
_ELEVEN_DIGITS = re.compile(r"(?<![\d.])\d{11}(?![\d-])")

# keywords that must come shortly before an id written as bare digits (too ambiguous alone)
_CONTEXT_SSN = re.compile(r"(?:\bssn|social security)\b[^\n]{0,25}$", re.I)
_CONTEXT_BSN = re.compile(r"(?:\bbsn|burgerservicenummer|citizen service number)\b[^\n]{0,25}$", re.I)
_CONTEXT_SIN = re.compile(r"(?:\bsin|social insurance|\bnas|assurance sociale)\b[^\n]{0,25}$", re.I)
_CONTEXT_CPF = re.compile(r"\bcpf\b[^\n]{0,25}$", re.I)
_CONTEXT_NINO = re.compile(r"(?:\bnino|\bni\b|national insurance)[^\n]{0,25}$", re.I)

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.\d)")
_VERSION_BEFORE = re.compile(r"\b(?:v|version|release|build|firmware|ver\.?|rev\.?)\s*$", re.I)

_PHONE = re.compile(
    r"(?<![\w+@#/.:,-])(?:\+|\b00)?\(?\d{1,5}\)?(?:(?:[ .\-/]|\s?\(0\)\s?|\s?\(|\)\s?)?\d{1,6}){1,6}"
    r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?(?![\w@]|[.,/-]\d)")
_PHONE_EXTENSION = re.compile(r"\s?(?:x|ext\.?|extension)\s?\d{1,6}$")
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}")
_PHONE_GROUPS = re.compile(r"[^0-9]+")
_DATE = re.compile(r"\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}([-./])\d{1,2}\2\d{2}(?:\d{2})?")
_NOT_PHONE_BEFORE = re.compile(
    r"(?:order|invoice|tracking|ref|reference|account|acct|isbn|sku|ticket|case|po|item|serial|id|no|nr)"
    r"\.?\s*(?:number|no\.?|nr\.?|#|:)?\s*$", re.I)

DEFAULT_PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "IN")


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """One piece of personal data in a text: where it is and what it is, never the value itself.

    ``confidence`` is a coarse tier, not a calibrated probability: 0.95 when a check digit or
    checksum confirmed it, 0.9 for strict formats (e-mail, IP, SSN ranges), 0.85 for an
    international phone number, 0.7 for a phone number in national form (ambiguous with other
    digit runs), 0.8 for a bare-digit id accepted because of a keyword before it.
    """

    kind: str
    start: int
    end: int
    value_hash: str
    detail: str
    confidence: float

    def to_dict(self) -> dict:
        return {"kind": self.kind, "start": self.start, "end": self.end, "value_hash": self.value_hash,
                "detail": self.detail, "confidence": self.confidence}


class PiiDetector:
    """Finds personal data in texts; one instance is cheap to keep and safe to share across threads.

    ``kinds`` limits what is looked for; ``phone_regions`` are the ISO regions whose national
    formats (numbers written without ``+``) are recognised, in order; ``phone_check`` is
    ``"possible"`` (a plausible length for the region's numbering plan, the default: it keeps
    numbers that were never allocated but are still someone's number as typed), ``"valid"``
    (allocated number ranges only) or ``"shape"`` (digit count only, no ``phonenumbers``).
    ``hash_key`` keys the value hashes (see the module docstring).
    """

    def __init__(self, kinds: Iterable[str] = KINDS, *, phone_regions: Iterable[str] = DEFAULT_PHONE_REGIONS,
                 phone_check: str = "possible", hash_key: bytes | None = None) -> None:
        self.kinds = frozenset(kinds)
        unknown = self.kinds - set(KINDS)
        if unknown:
            raise ValueError(f"unknown PII kinds {sorted(unknown)}: choose from {', '.join(KINDS)}")
        if phone_check not in ("possible", "valid", "shape"):
            raise ValueError(f"phone_check must be 'possible', 'valid' or 'shape', not {phone_check!r}")
        self.phone_regions = tuple(r.upper() for r in phone_regions)
        self.phone_check = phone_check
        self.hash_key = hash_key or b""
        self._phone_ok = _phone_checker(self.phone_regions, phone_check) if "phone" in self.kinds else None

    def may_contain(self, text: str) -> bool:
        """False when ``text`` certainly holds nothing this detector finds (a few fast searches).

        Callers with many fields per record can test them joined (with a newline) and skip the
        record; :meth:`find` applies the same tests itself.
        """
        if "@" in text:
            return True
        if _DIGIT_RUN.search(text) is not None or _UPPER_CODE.search(text) is not None:
            return True
        if "." in text and _SHORT_QUAD.search(text) is not None:
            return True
        return ":" in text and _HEX_COLONS.search(text) is not None

    def find(self, text: str) -> list[PiiMatch]:
        """All personal data in ``text``, sorted by position, no two overlapping."""
        if not text or _PREFILTER.search(text) is None:
            return []
        cands: list[tuple[int, int, str, str, float]] = []
        kinds = self.kinds
        digits = _DIGIT_RUN.search(text) is not None
        if "@" in text and "email" in kinds:
            _emails(text, cands)
        if _UPPER_CODE.search(text) is not None:
            if "iban" in kinds:
                _ibans(text, cands)
            if "national_id" in kinds:
                _lettered_ids(text, cands)
        if digits and "card_number" in kinds:
            _cards(text, cands)
        if digits and "national_id" in kinds:
            _numeric_ids(text, cands)
        if "ip_address" in kinds:
            if "." in text and (digits or _SHORT_QUAD.search(text) is not None):
                _ipv4(text, cands)
            if ":" in text and _HEX_COLONS.search(text) is not None:
                _ipv6(text, cands)
        if digits and self._phone_ok is not None:
            # phones last, and only between what the stronger kinds already claimed
            pos = 0
            for start, end in sorted((c[0], c[1]) for c in cands):
                if start > pos:
                    _phones(text, cands, self._phone_ok, pos, start)
                pos = max(pos, end)
            _phones(text, cands, self._phone_ok, pos, len(text))
        if not cands:
            return []
        return [PiiMatch(kind, s, e, self.hash(text[s:e]), detail, conf)
                for s, e, kind, detail, conf in _resolve(cands)]

    def hash(self, value: str) -> str:
        """Keyed hash of a matched value, hex; the same value and key always give the same hash."""
        return hashlib.blake2b(value.encode("utf-8"), digest_size=16, key=self.hash_key).hexdigest()


def _resolve(cands: list[tuple[int, int, str, str, float]]) -> list[tuple[int, int, str, str, float]]:
    """Keep the strongest of overlapping candidates: priority, then the longer span, then the earlier."""
    if len(cands) == 1:
        return cands
    ranked = sorted(cands, key=lambda c: (-_PRIORITY[c[2]], -(c[1] - c[0]), c[0]))
    kept: list[tuple[int, int, str, str, float]] = []
    for c in ranked:
        if all(c[1] <= k[0] or c[0] >= k[1] for k in kept):
            kept.append(c)
    kept.sort()
    return kept


def _emails(text: str, out: list) -> None:
    for m in _EMAIL.finditer(text):
        local, domain, tld = m.group(1), m.group(2), m.group(3)
        if len(local) > 64 or len(domain) > 253 or tld.lower() in _FILE_SUFFIXES:
            continue
        out.append((m.start(), m.end(), "email", "email", 0.9))


def _ibans(text: str, out: list) -> None:
    pos = 0
    while (m := _IBAN.search(text, pos)) is not None:
        pos = m.start() + 1  # a failed candidate may have swallowed the start of a real one
        raw = m.group()
        length = v.IBAN_LENGTHS.get(raw[:2])
        if length is None:
            continue
        # the pattern may run on into the next word; cut at the country's length
        taken = end = 0
        for ch in raw:
            end += 1
            if ch.isalnum():
                taken += 1
                if taken == length:
                    break
        if taken != length or (end < len(raw) and raw[end].isalnum()):
            continue
        compact = raw[:end].replace(" ", "").replace("-", "")
        if v.iban_ok(compact):
            out.append((m.start(), m.start() + end, "iban", "iban_" + raw[:2].lower(), 0.95))
            pos = m.start() + end


def _card_grouping_ok(raw: str) -> bool:
    """Cards are written compact, in groups of four, or 4-6-5 / 4-6-4 (Amex, Diners); an order
    number such as 353-0087630-5030401 is not, however its digits check out."""
    groups = _SEPARATORS.split(raw)
    if len(groups) == 1:
        return True
    sizes = [len(g) for g in groups]
    return all(n == 4 for n in sizes[:-1]) and 1 <= sizes[-1] <= 4 or sizes in ([4, 6, 5], [4, 6, 4])


def _next_group(raw: str) -> int:
    """Offset of the second digit group in ``raw`` (its length when there is one group)."""
    for i, ch in enumerate(raw):
        if not ch.isdigit() and ch != "+":
            while i < len(raw) and not raw[i].isdigit():
                i += 1
            return i
    return len(raw)


def _cards(text: str, out: list) -> None:
    pos = 0
    while (m := _CARD.search(text, pos)) is not None:
        raw = m.group()
        # a run of groups may hold a card and other digits: the longest prefix at a separator that
        # checks out, else start again at the next group
        for cut in [len(raw)] + [i for i in range(len(raw) - 1, 12, -1) if raw[i] in " -"]:
            if _card_grouping_ok(raw[:cut]) and v.card_ok(raw[:cut].replace(" ", "").replace("-", "")):
                out.append((m.start(), m.start() + cut, "card_number", "card", 0.95))
                pos = m.start() + cut
                break
        else:
            # restart inside the run only after a first group that is not part of a 4-digit
            # layout ("11 30472588531520"); a 22-digit tracking number holds Luhn-valid pieces
            first = _next_group(raw)
            pos = m.start() + (first if raw[:first].rstrip(" -") and len(raw[:first].rstrip(" -")) != 4
                               else len(raw))


def _before(text: str, start: int, pattern: re.Pattern) -> bool:
    return pattern.search(text, max(0, start - 40), start) is not None


def _lettered_ids(text: str, out: list) -> None:
    """UK NINO and Italian codice fiscale: letters and digits."""
    for m in _NINO_SPACED.finditer(text):
        if v.uk_nino_ok(m.group().replace(" ", "")):
            out.append((m.start(), m.end(), "national_id", "uk_nino", 0.9))
    for m in _NINO_COMPACT.finditer(text):
        if v.uk_nino_ok(m.group()) and _before(text, m.start(), _CONTEXT_NINO):
            out.append((m.start(), m.end(), "national_id", "uk_nino", 0.8))
    for m in _CF.finditer(text):
        if v.it_cf_ok(m.group()):
            out.append((m.start(), m.end(), "national_id", "it_codice_fiscale", 0.95))


def _numeric_ids(text: str, out: list) -> None:
    """Ids made (mostly) of digits: SSN/ITIN, DNI/NIE, NIR, CPF, and bare 9/11 digits after a keyword."""
    for m in _SSN.finditer(text):
        digits = m.group().replace("-", "").replace(" ", "")
        if m.group(1) == " " and not _before(text, m.start(), _CONTEXT_SSN):
            continue  # "123 45 6789" without a keyword is as likely a phone or a code
        if v.us_ssn_ok(digits):
            out.append((m.start(), m.end(), "national_id", "us_ssn", 0.9))
        elif v.us_itin_ok(digits):
            out.append((m.start(), m.end(), "national_id", "us_itin", 0.9))
    for m in _DNI.finditer(text):
        compact = m.group().replace("-", "")
        if v.es_dni_ok(compact):
            out.append((m.start(), m.end(), "national_id", "es_nie" if compact[0] in "XYZ" else "es_dni", 0.95))
    for m in _NIR.finditer(text):
        if v.fr_nir_ok(m.group().replace(" ", "")):
            out.append((m.start(), m.end(), "national_id", "fr_nir", 0.95))
    if "." in text:
        for m in _CPF.finditer(text):
            if v.br_cpf_ok(m.group().replace(".", "").replace("-", "")):
                out.append((m.start(), m.end(), "national_id", "br_cpf", 0.95))
    for m in _ELEVEN_DIGITS.finditer(text):
        if v.br_cpf_ok(m.group()) and _before(text, m.start(), _CONTEXT_CPF):
            out.append((m.start(), m.end(), "national_id", "br_cpf", 0.8))
    for m in _NINE_DIGITS.finditer(text):
        digits = m.group().replace(" ", "").replace("-", "")
        if v.nl_bsn_ok(digits) and _before(text, m.start(), _CONTEXT_BSN):
            out.append((m.start(), m.end(), "national_id", "nl_bsn", 0.8))
        elif v.ca_sin_ok(digits) and _before(text, m.start(), _CONTEXT_SIN):
            out.append((m.start(), m.end(), "national_id", "ca_sin", 0.8))
        elif digits.isdigit() and m.group().isdigit() and v.us_ssn_ok(digits) and _before(text, m.start(),
                                                                                          _CONTEXT_SSN):
            out.append((m.start(), m.end(), "national_id", "us_ssn", 0.8))


def _ipv4(text: str, out: list) -> None:
    for m in _IPV4.finditer(text):
        parts = m.group().split(".")
        if any(int(p) > 255 for p in parts):
            continue
        if _before(text, m.start(), _VERSION_BEFORE):
            continue  # "version 1.2.3.4" is a version number
        out.append((m.start(), m.end(), "ip_address", "ipv4", 0.9))


def _ipv6(text: str, out: list) -> None:
    for m in _IPV6.finditer(text):
        candidate = m.group()
        if candidate.count(":") < 2 or candidate in ("::",) or not any(c.isalnum() for c in candidate):
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        out.append((m.start(), m.end(), "ip_address", "ipv6", 0.9))


def _phone_shape_ok(number: str, digits: int) -> bool:
    """Layouts that hold the right number of digits but are something else."""
    international = number.startswith(("+", "00"))
    if not (8 if international else 9) <= digits <= 15:
        return False
    if not international and digits < 10 and number.isdigit():
        return False  # a bare 9-digit run is an id or account number more often than a phone
    if _DATE.fullmatch(number) or _SSN_SHAPE.fullmatch(number) or _DOTTED_QUAD.fullmatch(number):
        return False
    groups = [g for g in _PHONE_GROUPS.split(number) if g]
    if "." in number and (digits < 10 or any(not 2 <= len(g) <= 4 for g in groups)):
        return False  # versions, coordinates, IP-like triples: dotted phones have 10+ digits in groups of 2-4
    if not international and len(groups) >= 3 and all(len(g) == 4 for g in groups):
        return False  # 1234 5678 9012: tracking and account numbers, not a national phone layout
    return True


def _phones(text: str, out: list, phone_ok, pos: int, endpos: int) -> None:
    while (m := _PHONE.search(text, pos, endpos)) is not None:
        raw = m.group()
        # on failure skip the whole run: phone-shaped pieces of a longer number (a tracking or
        # account number, a card failing Luhn) are not phone numbers
        pos = m.end()
        if _before(text, m.start(), _NOT_PHONE_BEFORE):
            continue
        # numbers written side by side run together: try the whole run, then shorter prefixes
        cuts = [len(raw)] + [i for i in range(len(raw) - 1, 6, -1) if raw[i] == " " and raw[i - 1].isdigit()]
        for cut in cuts:
            candidate = raw[:cut]
            ext = _PHONE_EXTENSION.search(candidate)
            number = candidate[:ext.start()] if ext else candidate
            if not _phone_shape_ok(number, sum(ch.isdigit() for ch in number)):
                continue
            verdict = phone_ok(number)
            if verdict:
                out.append((m.start(), m.start() + cut, "phone", verdict, 0.85 if verdict == "phone_intl" else 0.7))
                pos = m.start() + cut
                break


def _phone_checker(regions: tuple[str, ...], check: str):
    """A function: candidate text -> ``"phone_intl"``, ``"phone_national"`` or ``""`` (not a phone)."""
    if check == "shape":
        def shape(number: str) -> str:
            international = number.startswith(("+", "00"))
            digits = sum(ch.isdigit() for ch in number)
            if international:
                return "phone_intl" if 8 <= digits <= 15 else ""
            return "phone_national" if 9 <= digits <= 12 and not number.isdigit() else ""
        return shape

    import phonenumbers

    accept = phonenumbers.is_valid_number if check == "valid" else phonenumbers.is_possible_number
    parse = phonenumbers.parse

    @lru_cache(maxsize=65536)
    def check_number(number: str) -> str:
        if number.startswith("00"):
            number = "+" + number[2:]  # the international call prefix most of the world uses
        international = number.startswith("+")
        if not international and sum(ch.isdigit() for ch in number) > 12:
            return ""  # national forms (trunk prefix included) stop at 12 digits
        tries = (None,) if international else regions
        for region in tries:
            try:
                parsed = parse(number, region)
            except phonenumbers.NumberParseException:
                continue
            if accept(parsed):
                return "phone_intl" if international else "phone_national"
        return ""

    return check_number


_DEFAULT: PiiDetector | None = None


def default_detector() -> PiiDetector:
    """A shared detector with the default settings (built on first use: it imports ``phonenumbers``)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = PiiDetector()
    return _DEFAULT


def find_pii_spans(text: str) -> list[PiiMatch]:
    """Personal data in one text, with the default detector."""
    return default_detector().find(text)
