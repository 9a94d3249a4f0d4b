"""A seeded, labelled set of texts for measuring the PII detector: personal data of every kind the
detector knows, in the formats and locales people write them, mixed with hard negatives that look
like personal data but are not.

    python benchmarks/pii_labelled.py --n 2000 --seed 1 --out pii-seed1.jsonl

Each line: ``{"text", "spans": [{"kind", "detail", "start", "end"}], "negatives": [{"category",
"start", "end"}]}``. ``spans`` is the ground truth; ``negatives`` mark where the hard negatives
sit, so false positives can be attributed to what fooled the detector.

Values come from Faker (``seed`` fixes every draw), except where Faker's own values are not valid
numbers: UK NINOs (Faker writes the reserved prefix ZZ and suffixes past D), E.164 numbers and
the negatives, which are built here. Every positive card, IBAN and checksummed id is a valid one;
every "fails the check" negative is a valid value with one digit changed.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import string
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PHONE_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "en_IN", "en_CA")
IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_PT", "pl_PL", "de_CH", "no_NO",
                "fi_FI", "sv_SE", "de_AT", "nl_BE", "en_IE", "cs_CZ", "ro_RO", "tr_TR", "pt_BR")
CARD_TYPES = ("visa16", "visa13", "visa19", "mastercard", "amex", "discover", "jcb16", "diners")
FILLER_LOCALES = ("en_US",)

# how the value is introduced: "{}" is the value
CONTEXTS = {
    "email": ["Contact {} for details.", "Send the file to {}", "reply-to: <{}>", "mailto:{}", "{}",
              "Her address is {} and she answers fast.", "E-mail: {}."],
    "phone": ["Call me at {}.", "Tel: {}", "my number is {} (evenings)", "Phone {}, ask for the office.", "{}",
              "You can reach the clinic on {}.", "Mobile: {}"],
    "card_number": ["Card number {} expires 04/27.", "paid with {}", "CC# {}", "card: {}", "{}",
                    "Please charge {} for the deposit."],
    "iban": ["IBAN {}", "Transfer to {} before Friday.", "account {}", "{}", "Bank details: IBAN: {}."],
    "ip_address": ["Login from {} was blocked.", "server {} is down", "ssh admin@host via {}", "client_ip={}", "{}",
                   "Requests from {} exceeded the quota."],
}
ID_CONTEXTS = {
    "us_ssn": ["SSN {}", "Social Security number: {}", "{}", "ssn={}"],
    "us_itin": ["ITIN {}", "taxpayer id {}"],
    "uk_nino": ["NI number {}", "National Insurance No. {}", "{}"],
    "uk_nino_compact": ["NINO: {}", "NI {}"],
    "es_dni": ["DNI {}", "NIF: {}", "{}"],
    "es_nie": ["NIE {}", "{}"],
    "fr_nir": ["numéro de sécurité sociale {}", "NIR: {}", "{}"],
    "it_codice_fiscale": ["codice fiscale {}", "CF: {}", "{}"],
    "br_cpf": ["CPF {}", "CPF: {}", "{}"],
    "nl_bsn": ["BSN {}", "burgerservicenummer: {}", "{}"],
    "ca_sin": ["SIN {}", "Social Insurance Number: {}", "{}"],
}
NEGATIVE_CONTEXTS = ["Order #{}", "order {} shipped", "version {}", "Released {}", "on {}", "price {}",
                     "Tracking number {}", "{}", "ref {}", "total {}", "see {}"]


class LabelledTextMaker:
    """Builds one labelled text at a time from a seeded RNG and per-locale Faker instances."""

    def __init__(self, seed: int) -> None:
        from faker import Faker

        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        self.seed = seed

    def faker(self, locale: str):
        from faker import Faker

        f = self.fakers.get(locale)
        if f is None:
            f = Faker(locale)
            f.seed_instance(self.seed * 1009 + len(self.fakers))
            self.fakers[locale] = f
        return f

    # ---- positives: (value, detail) ----

    def email(self) -> tuple[str, str]:
        f = self.faker(self.rng.choice(("en_US", "de_DE", "fr_FR", "en_GB")))
        value = self.rng.choice((f.email, f.free_email, f.company_email, f.ascii_safe_email))()
        if self.rng.random() < 0.15:
            local, domain = value.split("@")
            value = f"{local}.{self.rng.randint(1, 99)}@{domain}"
        if self.rng.random() < 0.1:
            value = value.upper()
        return value, "email"

    def phone(self) -> tuple[str, str]:
        locale = self.rng.choice(PHONE_LOCALES)
        if self.rng.random() < 0.15:  # E.164 with a North American number of a valid shape
            area = f"{self.rng.randint(2, 9)}{self.rng.randint(0, 9)}{self.rng.randint(0, 9)}"
            exchange = f"{self.rng.randint(2, 9)}{self.rng.randint(0, 9)}{self.rng.randint(0, 9)}"
            return f"+1{area}{exchange}{self.rng.randint(0, 9999):04d}", "phone_e164"
        return self.faker(locale).phone_number(), f"phone_{locale}"

    def card(self) -> tuple[str, str]:
        kind = self.rng.choice(CARD_TYPES)
        digits = self.faker("en_US").credit_card_number(card_type=kind)
        style = self.rng.choice(("compact", "space", "dash"))
        if style == "compact":
            return digits, f"card_{kind}"
        sep = " " if style == "space" else "-"
        if len(digits) == 15:
            groups = [digits[:4], digits[4:10], digits[10:]]
        else:
            groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
        return sep.join(groups), f"card_{kind}"

    def iban(self) -> tuple[str, str]:
        locale = self.rng.choice(IBAN_LOCALES)
        value = self.faker(locale).iban()
        if self.rng.random() < 0.5:
            value = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
        return value, f"iban_{value[:2].lower()}"

    def ip(self) -> tuple[str, str]:
        f = self.faker("en_US")
        r = self.rng.random()
        if r < 0.45:
            return self.rng.choice((f.ipv4_public, f.ipv4_private, f.ipv4))(), "ipv4"
        if r < 0.55:
            return f.ipv4_public(), "ipv4_port"  # text() writes the port after it
        full = f.ipv6()
        if r < 0.75:
            return full, "ipv6_full"
        return ipaddress.IPv6Address(full).compressed if r < 0.9 else "fe80::" + full.split(":", 4)[4], "ipv6_short"

    def national_id(self) -> tuple[str, str, str]:
        """(value, detail, context template)."""
        detail = self.rng.choice(list(ID_CONTEXTS))
        rng = self.rng
        if detail == "us_ssn":
            value = self.faker("en_US").ssn()
            if rng.random() < 0.2:
                value = value.replace("-", " ")
                return value, detail, rng.choice(ID_CONTEXTS[detail][:2])
        elif detail == "us_itin":
            value = self.faker("en_US").ssn(taxpayer_identification_number_type="ITIN")
        elif detail in ("uk_nino", "uk_nino_compact"):
            first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
            second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
            while first + second in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
                second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
            digits = f"{rng.randint(0, 999999):06d}"
            suffix = rng.choice("ABCD")
            if detail == "uk_nino_compact":
                value = f"{first}{second}{digits}{suffix}"
            elif rng.random() < 0.5:
                value = f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
            else:
                value = f"{first}{second} {digits} {suffix}"
            return value, "uk_nino", rng.choice(ID_CONTEXTS[detail])
        elif detail == "es_dni":
            value = self.faker("es_ES").nif()
        elif detail == "es_nie":
            value = self.faker("es_ES").nie()
        elif detail == "fr_nir":
            value = self.faker("fr_FR").ssn()
            if rng.random() < 0.4:
                value = " ".join((value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13],
                                  value[13:]))
        elif detail == "it_codice_fiscale":
            value = self.faker("it_IT").ssn()
        elif detail == "br_cpf":
            value = self.faker("pt_BR").cpf()
            if rng.random() < 0.25:
                value = value.replace(".", "").replace("-", "")
        elif detail == "nl_bsn":
            value = self.faker("nl_NL").ssn()
        else:  # ca_sin
            value = self.faker("en_CA").ssn()
        return value, detail, rng.choice(ID_CONTEXTS[detail])

    # ---- hard negatives: (value, category) ----

    def negative(self) -> tuple[str, str]:
        rng = self.rng
        f = self.faker("en_US")
        makers: list[tuple[str, Callable[[], str]]] = [
            ("order_number", lambda: f"{rng.randint(100, 999)}-{rng.randint(0, 9999999):07d}-"
                                     f"{rng.randint(0, 9999999):07d}"),
            ("order_number", lambda: f"ORD-{rng.randint(2015, 2026)}-{rng.randint(0, 999999):06d}"),
            ("version", lambda: f"v{rng.randint(0, 20)}.{rng.randint(0, 40)}.{rng.randint(0, 99)}"),
            ("version", lambda: f"{rng.randint(1, 12)}.{rng.randint(0, 9)}.{rng.randint(1000, 30000)}."
                                f"{rng.randint(0, 999)}"),
            ("date", lambda: f.date(pattern=rng.choice(("%Y-%m-%d", "%d/%m/%Y", "%m.%d.%Y", "%d.%m.%Y",
                                                         "%Y/%m/%d", "%d-%m-%Y")))),
            ("date", lambda: f.iso8601()),
            ("time", lambda: f.time()),
            ("price", lambda: rng.choice(("${:,.2f}", "€ {:,.2f}", "USD {:,.0f}", "{:,.2f} EUR")).format(
                rng.uniform(1, 250000))),
            ("tracking_id", lambda: "1Z" + "".join(rng.choice(string.ascii_uppercase + string.digits)
                                                   for _ in range(16))),
            ("tracking_id", lambda: " ".join(f"{rng.randint(0, 9999):04d}" for _ in range(3))),
            ("tracking_id", lambda: "9400 " + " ".join(f"{rng.randint(0, 9999):04d}" for _ in range(4)) + " "
                                    + f"{rng.randint(0, 99):02d}"),
            ("luhn_fail", self._luhn_fail),
            ("iban_fail", self._iban_fail),
            ("invalid_ip", lambda: f"{rng.randint(256, 999)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
                                   f"{rng.randint(0, 255)}"),
            ("invalid_ip", lambda: f"{rng.randint(1, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}"),
            ("short_number", lambda: f"{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"),
            ("short_number", lambda: f"ext. {rng.randint(100, 9999)}"),
            ("short_number", lambda: f"{rng.randint(10, 99)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"),
            ("isbn", lambda: f.isbn13()),
            ("ean", lambda: f.ean13()),
            ("uuid", lambda: str(f.uuid4())),
            ("hash", lambda: f.sha1()[:rng.choice((7, 12, 40))]),
            ("mac", lambda: f.mac_address()),
            ("ssn_invalid", lambda: rng.choice(("000", "666", "9" + f"{rng.randint(0, 99):02d}")) +
                                    f"-{rng.randint(0, 49):02d}-{rng.randint(1, 9999):04d}"),
            ("ssn_invalid", lambda: f"{rng.randint(1, 665):03d}-00-{rng.randint(1, 9999):04d}"),
            ("big_number", lambda: f"{rng.randint(10**6, 10**10):,}"),
            ("coordinates", lambda: f"{f.latitude()}, {f.longitude()}"),
            ("file_name", lambda: f"icon@{rng.randint(2, 3)}x.png"),
            ("not_email", lambda: rng.choice(("user@localhost", "@" + f.user_name(), f.user_name() + "@"))),
            ("code", lambda: f"{rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)}"
                             f"{rng.randint(100000, 999999)}{rng.choice('ABCD')}"),
        ]
        category, make = rng.choice(makers)
        return make(), category

    def _luhn_fail(self) -> str:
        from catalog.privacy.validators import luhn_ok

        digits = self.faker("en_US").credit_card_number(card_type=self.rng.choice(CARD_TYPES))
        while True:
            i = self.rng.randrange(len(digits))
            bad = digits[:i] + str((int(digits[i]) + self.rng.randint(1, 9)) % 10) + digits[i + 1:]
            if not luhn_ok(bad):
                break
        return " ".join(bad[i:i + 4] for i in range(0, len(bad), 4)) if self.rng.random() < 0.5 else bad

    def _iban_fail(self) -> str:
        from catalog.privacy.validators import iban_ok

        value = self.faker(self.rng.choice(IBAN_LOCALES)).iban()
        while True:
            i = self.rng.randrange(4, len(value))
            if not value[i].isdigit():
                continue
            bad = value[:i] + str((int(value[i]) + self.rng.randint(1, 9)) % 10) + value[i + 1:]
            if not iban_ok(bad):
                return bad

    # ---- texts ----

    def text(self) -> dict:
        """One text: filler sentences around 0-3 positives and 0-2 hard negatives."""
        rng = self.rng
        filler = self.faker(rng.choice(FILLER_LOCALES))
        n_pos = rng.choices((0, 1, 2, 3), weights=(35, 40, 18, 7))[0]
        n_neg = rng.choices((0, 1, 2), weights=(35, 45, 20))[0]
        pieces: list[tuple[str, str | None, str | None, str | None]] = []  # (template, value, kind, detail)
        for _ in range(n_pos):
            kind = rng.choice(("email", "phone", "card_number", "iban", "ip_address", "national_id"))
            if kind == "national_id":
                value, detail, template = self.national_id()
            else:
                value, detail = {"email": self.email, "phone": self.phone, "card_number": self.card,
                                 "iban": self.iban, "ip_address": self.ip}[kind]()
                template = rng.choice(CONTEXTS[kind])
                if detail == "ipv4_port":
                    template = template.replace("{}", f"{{}}:{rng.randint(1024, 65535)}")
            pieces.append((template, value, kind, detail))
        for _ in range(n_neg):
            value, category = self.negative()
            pieces.append((rng.choice(NEGATIVE_CONTEXTS), value, None, category))
        for _ in range(rng.randint(1, 3)):
            pieces.append((filler.sentence(nb_words=rng.randint(4, 12)), None, None, None))
        rng.shuffle(pieces)
        text = ""
        spans: list[dict] = []
        negatives: list[dict] = []
        for template, value, kind, detail in pieces:
            if text:
                text += " "
            if value is None:
                text += template
                continue
            before, after = template.split("{}")
            start = len(text) + len(before)
            text += before + value + after
            entry = {"start": start, "end": start + len(value)}
            if kind is None:
                negatives.append({"category": detail, **entry})
            else:
                spans.append({"kind": kind, "detail": detail, **entry})
        return {"text": text, "spans": spans, "negatives": negatives}


def generate(n: int, seed: int) -> list[dict]:
    """``n`` labelled texts; the same ``n`` and ``seed`` always give the same list."""
    maker = LabelledTextMaker(seed)
    return [maker.text() for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with open(args.out, "w", encoding="utf-8") as fh:
        for item in generate(args.n, args.seed):
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
