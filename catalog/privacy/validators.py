"""Check-digit and range validators for the numbers the PII detector looks for.

A regex finds something shaped like a card number, an IBAN or an id; these functions decide
whether it could really be one. They take the value with separators already removed (digits,
or upper-case letters and digits) and return a bool; none of them raises on odd input.

Rules are facts from the published schemes: Luhn (ISO/IEC 7812) for cards and Canadian SINs,
ISO 13616 mod-97 and the registry's per-country lengths for IBANs, the SSA's never-issued SSN
ranges, HMRC's NINO prefix rules, the Spanish DNI/NIE letter, the French NIR key, the Italian
codice fiscale check letter, the Brazilian CPF check digits and the Dutch BSN eleven test.
"""

from __future__ import annotations

import re

# ISO 13616 registry: IBAN length per country code (plus Iran's national IBAN, 26).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IR": 26, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

# Issuer prefixes (IIN ranges) and the lengths each network issues; a Luhn-valid number outside
# all of them is more likely an account, order or tracking number than a card.
_CARD_RANGES: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (4, 4, (13, 16, 19)),                          # Visa
    (51, 55, (16,)), (2221, 2720, (16,)),          # Mastercard
    (34, 34, (15,)), (37, 37, (15,)),              # American Express
    (300, 305, (14, 16, 17, 18, 19)), (36, 36, (14, 16, 17, 18, 19)),  # Diners Club
    (38, 39, (14, 16, 17, 18, 19)),
    (6011, 6011, (16, 17, 18, 19)), (644, 649, (16, 17, 18, 19)), (65, 65, (16, 17, 18, 19)),  # Discover
    (35, 35, (16, 17, 18, 19)), (1800, 1800, (15,)), (2131, 2131, (15,)),  # JCB (issued 3528-3589)
    (62, 62, (16, 17, 18, 19)),                    # UnionPay
    (50, 50, (13, 16, 19)), (56, 69, (13, 16, 19)),  # Maestro and other debit
    (2200, 2204, (16, 17, 18, 19)),                # Mir
)


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum."""
    if not digits or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_ok(digits: str) -> bool:
    """A payment card number: a known issuer prefix with one of its lengths, and Luhn."""
    n = len(digits)
    if not 13 <= n <= 19 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    for low, high, lengths in _CARD_RANGES:
        width = len(str(low))
        if n in lengths and low <= int(digits[:width]) <= high:
            return luhn_ok(digits)
    return False


def iban_ok(compact: str) -> bool:
    """An IBAN without spaces: known country, its registry length, and the mod-97 remainder 1."""
    if len(compact) < 15 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    if IBAN_LENGTHS.get(compact[:2].upper()) != len(compact) or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    remainder = 0
    for ch in rearranged.upper():
        value = ord(ch) - 48 if ch.isdigit() else ord(ch) - 55
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder == 1


def us_ssn_ok(digits: str) -> bool:
    """US Social Security number: never-issued areas 000, 666 and 900-999, group 00, serial 0000."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def us_itin_ok(digits: str) -> bool:
    """US Individual Taxpayer Identification Number: 9xx, group 50-65, 70-88, 90-92 or 94-99."""
    if len(digits) != 9 or not digits.isdigit() or digits[0] != "9":
        return False
    group = int(digits[3:5])
    return 50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or 94 <= group <= 99


_NINO_BAD_PREFIX = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
_NINO = re.compile(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")


def uk_nino_ok(compact: str) -> bool:
    """UK National Insurance number: allowed prefix letters (not the reserved pairs), suffix A-D."""
    return bool(_NINO.fullmatch(compact)) and compact[:2] not in _NINO_BAD_PREFIX


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def es_dni_ok(compact: str) -> bool:
    """Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter): the letter is n mod 23."""
    if len(compact) != 9:
        return False
    head, letter = compact[:8], compact[8]
    if head[0] in "XYZ":
        head = str("XYZ".index(head[0])) + head[1:]
    return head.isdigit() and _DNI_LETTERS[int(head) % 23] == letter


def fr_nir_ok(compact: str) -> bool:
    """French social security number (NIR): 13 characters and a key 97 - (number mod 97).

    Sex digit 1/2 (3, 7, 8 for temporary numbers), month 01-12 or 20-99; Corsica's 2A/2B departments
    count as 19/18 in the key.
    """
    if len(compact) != 15 or compact[0] not in "12378":
        return False
    body, key = compact[:13], compact[13:]
    month = compact[3:5]
    if not (month.isdigit() and (1 <= int(month) <= 12 or int(month) >= 20)) or not key.isdigit():
        return False
    if body[5:7] in ("2A", "2B"):
        body = body[:5] + ("19" if body[6] == "A" else "18") + body[7:]
    return body.isdigit() and 97 - int(body) % 97 == int(key)


# odd positions (1st, 3rd, ...) use a fixed table; even positions use the digit or the letter index
_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3,
                    6, 8, 12, 14, 16, 10, 22, 25, 24, 23)))
_CF_SHAPE = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]")


def it_cf_ok(compact: str) -> bool:
    """Italian codice fiscale (16 characters): the shape, then the check letter."""
    if not _CF_SHAPE.fullmatch(compact):
        return False
    total = 0
    for i, ch in enumerate(compact[:15]):
        if i % 2 == 0:
            total += _CF_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - 65
    return chr(65 + total % 26) == compact[15]


def br_cpf_ok(digits: str) -> bool:
    """Brazilian CPF: 11 digits, not all equal, with its two mod-11 check digits."""
    if len(digits) != 11 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    nums = [int(c) for c in digits]
    for n in (9, 10):
        check = sum(nums[i] * (n + 1 - i) for i in range(n)) * 10 % 11 % 10
        if check != nums[n]:
            return False
    return True


def nl_bsn_ok(digits: str) -> bool:
    """Dutch citizen service number (BSN): 9 digits passing the eleven test (last weight -1)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum(int(c) * w for c, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1)))
    return total % 11 == 0


def ca_sin_ok(digits: str) -> bool:
    """Canadian Social Insurance Number: 9 digits, not starting with 0 or 8, passing Luhn."""
    return len(digits) == 9 and digits.isdigit() and digits[0] not in "08" and luhn_ok(digits)
