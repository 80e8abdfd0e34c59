# ruff: noqa: E501, S608  (payload templates: long lines of data, SQL text that is never run)
"""A labeled, seeded set of realistic agent payloads for the screening benchmark.

Each sample is a JSON payload an agent could file (SQL with literals, CSV and row
exports, IAM changes, kubectl/helm/docker commands, logs, support tickets, HTTP
requests with headers and cookies, connection strings, cloud and SaaS keys,
payments, HR and CRM records, and benign payloads full of look-alikes), with:

- ``planted``: ``(group, surface)`` for every personal value or secret put in it,
  ``surface`` being the exact text as it stands in the payload (URL-encoded where
  the payload encodes it);
- ``lookalikes``: ``(kind, surface)`` for values that look sensitive and are not
  (order numbers, digests, trace ids, integrity hashes, image thumbnails, public
  URLs under ``token_uri``...): a reviewer needs them, masking them is a false
  positive.

Names, streets and phone numbers come from Faker in 25 locales (Latin and other
scripts); tokens are random in each vendor's published format. Nothing in
``sanitization`` may read this module's or Faker's word lists: the figures would
measure the generator, not the screening. Every credential is random; none is real.

    from agent_payloads import samples
    for s in samples(600, seed=1): s.kind, s.payload, s.planted, s.lookalikes
"""

from __future__ import annotations

import base64
import json
import random
import string
import struct
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, quote_plus

from faker import Faker

GROUPS = (
    "PERSON",
    "EMAIL",
    "PHONE",
    "ADDRESS",
    "DATE_OF_BIRTH",
    "NATIONAL_ID",
    "CARD",
    "BANK",
    "CREDENTIAL",
)

LATIN = [
    "en_US", "en_GB", "en_IN", "en_IE", "de_DE", "fr_FR", "es_ES", "es_MX", "it_IT",
    "pl_PL", "nl_NL", "pt_BR", "tr_TR", "sv_SE", "cs_CZ", "hu_HU", "vi_VN", "yo_NG",
]  # fmt: skip
OTHER_SCRIPTS = ["ru_RU", "uk_UA", "el_GR", "ja_JP", "zh_CN", "ko_KR", "he_IL"]
ADDRESS_LOCALES = ["en_US", "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL"]
PHONE_LOCALES = ["en_US", "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "en_IN", "pt_BR"]
DOMAINS = [
    "gmail.com", "outlook.com", "yahoo.co.uk", "acme-corp.io", "corp.acme.io",
    "globex.com", "initech.net", "mail.example.org", "proton.me", "web.de", "hey.com",
]  # fmt: skip

HEX = "0123456789abcdef"
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"


@dataclass
class Sample:
    kind: str
    payload: Any
    planted: list[tuple[str, str]] = field(default_factory=list)
    lookalikes: list[tuple[str, str]] = field(default_factory=list)


class Plant:
    """Makes values for one payload and remembers which are sensitive."""

    def __init__(self, rng: random.Random, fakers: dict[str, Faker]) -> None:
        self.rng = rng
        self.fakers = fakers
        self.planted: list[tuple[str, str]] = []
        self.lookalikes: list[tuple[str, str]] = []

    # -- bookkeeping ------------------------------------------------------------------

    def pos(self, group: str, surface: str) -> str:
        assert group in GROUPS, group
        self.planted.append((group, surface))
        return surface

    def neg(self, kind: str, surface: str) -> str:
        self.lookalikes.append((kind, surface))
        return surface

    def r(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def pick(self, options: list[Any]) -> Any:
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # -- people -------------------------------------------------------------------------

    def _faker(self, other_script: float = 0.0) -> Faker:
        pool = OTHER_SCRIPTS if self.chance(other_script) else LATIN
        return self.fakers[self.pick(pool)]

    def names(self, other_script: float = 0.0) -> tuple[str, str]:
        """(first, last), unplanted: the caller plants what it shows."""
        fake = self._faker(other_script)
        while True:
            first, last = fake.first_name(), fake.last_name()
            shortest = 1 if _cjk(first + last) else 2
            if len(first) >= shortest and len(last) >= shortest and first != last:
                return first, last

    def person(self, other_script: float = 0.0) -> str:
        first, last = self.names(other_script)
        if self.chance(0.1) and first.isascii():
            first = f"{first} {self.pick(string.ascii_uppercase)}."
        full = f"{last}{first}" if _cjk(first) and self.chance(0.5) else f"{first} {last}"
        return self.pos("PERSON", full)

    def email(self, name: str | None = None, plant: bool = True) -> str:
        if name is None or not name.replace(" ", "").isascii():
            fake = self.fakers["en_US"]
            local = fake.user_name() + str(self.rng.randint(1, 99))
        else:
            parts = [p.strip(".").lower() for p in name.split() if p.strip(".")]
            style = self.rng.randint(0, 3)
            if style == 0:
                local = ".".join(parts)
            elif style == 1:
                local = parts[0][0] + parts[-1]
            elif style == 2:
                local = parts[0] + str(self.rng.randint(1, 99))
            else:
                local = "_".join(parts)
            local = "".join(c for c in local if c.isalnum() or c in "._") or "user"
        address = f"{local}@{self.pick(DOMAINS)}"
        return self.pos("EMAIL", address) if plant else address

    def phone(self) -> str:
        fake = self.fakers[self.pick(PHONE_LOCALES)]
        while True:
            number = fake.phone_number()
            if sum(c.isdigit() for c in number) >= 9:
                return self.pos("PHONE", number)

    def street(self) -> str:
        fake = self.fakers[self.pick(ADDRESS_LOCALES)]
        return self.pos("ADDRESS", fake.street_address())

    def address(self, one_line: bool = True) -> str:
        locale = self.pick(ADDRESS_LOCALES)
        fake = self.fakers[locale]
        if locale == "en_US":
            text = f"{fake.street_address()}, {fake.city()}, {fake.state_abbr()} {fake.zipcode()}"
        elif locale == "en_GB":
            text = f"{fake.street_address()}, {fake.city()} {fake.postcode()}"
        else:
            text = f"{fake.street_address()}, {fake.postcode()} {fake.city()}"
        text = text.replace("\n", ", ")
        if not one_line:
            text = text.replace(", ", "\n", 1)
        return self.pos("ADDRESS", text)

    def birth_date(self) -> date:
        return date(1940, 1, 1) + timedelta(days=self.rng.randint(0, 65 * 365))

    def dob(self, style: str | None = None) -> str:
        d = self.birth_date()
        style = style or self.pick(["iso", "iso", "dmy", "mdy", "long", "short", "dots"])
        text = {
            "iso": d.isoformat(),
            "dmy": d.strftime("%d/%m/%Y"),
            "mdy": d.strftime("%m/%d/%Y"),
            "long": d.strftime("%B %d, %Y").replace(" 0", " "),
            "short": d.strftime("%d %b %Y").lstrip("0"),
            "dots": d.strftime("%d.%m.%Y"),
        }[style]
        return self.pos("DATE_OF_BIRTH", text)

    # -- national ids -------------------------------------------------------------------

    def ssn(self, separators: bool | None = None) -> str:
        area = self.pick([n for n in range(1, 900) if n != 666])
        number = f"{area:03d}{self.rng.randint(1, 99):02d}{self.rng.randint(1, 9999):04d}"
        if separators is None:
            separators = self.chance(0.5)
        text = f"{number[:3]}-{number[3:5]}-{number[5:]}" if separators else number
        return self.pos("NATIONAL_ID", text)

    def nino(self, spaced: bool | None = None) -> str:
        first = self.pick(list("ABCEGHJKLMNOPRSTWXYZ"))
        second = self.pick(list("ABCEGHJKLMNPRSTWXYZ"))
        while first + second in ("BG", "GB", "NK", "KN", "NT", "TN", "ZZ"):
            second = self.pick(list("ABCEGHJKLMNPRSTWXYZ"))
        digits = self.r(string.digits, 6)
        suffix = self.pick(list("ABCD"))
        if spaced if spaced is not None else self.chance(0.5):
            text = f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
        else:
            text = f"{first}{second}{digits}{suffix}"
        return self.pos("NATIONAL_ID", text)

    def passport(self) -> str:
        style = self.rng.randint(0, 4)
        if style == 0:  # US, UK: nine digits
            text = self.r(string.digits, 9)
        elif style == 1:  # US next generation
            text = self.pick(list("ACDEFGHJKLMNPRSTUVWXYZ")) + self.r(string.digits, 8)
        elif style == 2:  # Germany
            text = self.pick(list("CFGHJK")) + self.r("CFGHJKLMNPRTVWXYZ0123456789", 8)
        elif style == 3:  # France
            text = self.r(string.digits, 2) + self.r("ABCDEFGHJKLMNPRSTUVWXYZ", 2)
            text += self.r(string.digits, 5)
        else:  # India
            text = self.pick(list("ABCDEFGHJKLMNPRSTUVWXYZ")) + self.r(string.digits, 7)
        return self.pos("NATIONAL_ID", text)

    def other_national_id(self) -> tuple[str, str]:
        """(key, id) for ids with a country's own name."""
        kind = self.rng.randint(0, 3)
        if kind == 0:
            digits = _luhn(self.rng, "", 9, random_prefix=True)
            return "sin", self.pos("NATIONAL_ID", f"{digits[:3]} {digits[3:6]} {digits[6:]}")
        if kind == 1:
            n = self.rng.randint(10_000_000, 99_999_999)
            return "dni", self.pos("NATIONAL_ID", f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}")
        if kind == 2:
            return "tax_id", self.pos("NATIONAL_ID", self.r(string.digits, 11))
        digits = self.r(string.digits, 12)
        return "aadhaar", self.pos("NATIONAL_ID", f"{digits[:4]} {digits[4:8]} {digits[8:]}")

    # -- money --------------------------------------------------------------------------

    def card(self, style: str | None = None) -> str:
        brand = self.rng.randint(0, 4)
        if brand == 0:
            number = _luhn(self.rng, "4", 16)
        elif brand == 1:
            number = _luhn(self.rng, str(self.rng.randint(51, 55)), 16)
        elif brand == 2:
            number = _luhn(self.rng, str(self.rng.randint(2221, 2720)), 16)
        elif brand == 3:
            number = _luhn(self.rng, self.pick(["34", "37"]), 15)
        else:
            number = _luhn(self.rng, "6011", 16)
        style = style or self.pick(["plain", "spaced", "dashed"])
        if style != "plain":
            sep = " " if style == "spaced" else "-"
            if len(number) == 15:
                number = sep.join([number[:4], number[4:10], number[10:]])
            else:
                number = sep.join(number[i : i + 4] for i in range(0, 16, 4))
        return self.pos("CARD", number)

    def iban(self, spaced: bool | None = None) -> str:
        country, bban = self.pick(
            [
                ("DE", lambda: self.r(string.digits, 18)),
                ("GB", lambda: self.r(string.ascii_uppercase, 4) + self.r(string.digits, 14)),
                ("FR", lambda: self.r(string.digits, 23)),
                ("NL", lambda: self.r(string.ascii_uppercase, 4) + self.r(string.digits, 10)),
                ("ES", lambda: self.r(string.digits, 20)),
                ("IT", lambda: self.pick(list("ABCX")) + self.r(string.digits, 22)),
            ]
        )
        bban = bban()
        numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
        iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
        if spaced if spaced is not None else self.chance(0.5):
            iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        return self.pos("BANK", iban)

    def account_number(self) -> str:
        return self.pos("BANK", self.r(string.digits, self.rng.randint(8, 12)))

    # -- credentials --------------------------------------------------------------------

    def password(self) -> str:
        style = self.rng.randint(0, 3)
        if style == 0:
            season = self.pick(["Winter", "Summer", "Spring", "Autumn", "Welcome", "Passw0rd"])
            text = f"{season}{self.rng.randint(2019, 2027)}{self.pick(['', '!', '#', '$'])}"
        elif style == 1:
            words = self.fakers["en_US"].words(3)
            text = self.pick(["-", ".", "_"]).join(words) + str(self.rng.randint(1, 99))
        else:
            text = self.r(ALNUM + "!#%*+-?@^", self.rng.randint(10, 20))
        return self.pos("CREDENTIAL", text)

    def token(self, kind: str | None = None) -> str:
        kind = kind or self.pick(
            ["aws", "github", "gitlab", "slack", "stripe", "google", "jwt", "openai",
             "sendgrid", "npm", "hex32", "opaque", "twilio", "mailgun"]
        )  # fmt: skip
        text = {
            "aws": lambda: "AKIA" + self.r(string.ascii_uppercase + "234567", 16),
            "aws_secret": lambda: self.r(B64, 40),
            "github": lambda: self.pick(["ghp_", "gho_", "ghs_"]) + self.r(ALNUM, 36),
            "gitlab": lambda: "glpat-" + self.r(B64URL, 20),
            "slack": lambda: (
                f"xoxb-{self.r(string.digits, 12)}-{self.r(string.digits, 13)}-" + self.r(ALNUM, 24)
            ),
            "stripe": lambda: self.pick(["sk_live_", "rk_live_"]) + self.r(ALNUM, 24),
            "google": lambda: "AIza" + self.r(B64URL, 35),
            "jwt": lambda: _jwt(self),
            "openai": lambda: "sk-proj-" + self.r(B64URL, 48),
            "sendgrid": lambda: f"SG.{self.r(B64URL, 22)}.{self.r(B64URL, 43)}",
            "npm": lambda: "npm_" + self.r(ALNUM, 36),
            "hex32": lambda: self.r(HEX, 32),
            "twilio": lambda: self.r(HEX, 32),
            "mailgun": lambda: "key-" + self.r(HEX, 32),
            "opaque": lambda: self.r(B64URL, self.rng.randint(24, 40)),
            "session": lambda: self.r(B64URL, self.rng.randint(26, 43)),
            "azure": lambda: base64.b64encode(self.rng.randbytes(64)).decode(),
        }[kind]()
        return self.pos("CREDENTIAL", text)

    def pem(self) -> str:
        body = "\n".join(self.r(B64, 64) for _ in range(self.rng.randint(3, 6)))
        kind = self.pick(["RSA ", "EC ", ""])
        return self.pos(
            "CREDENTIAL",
            f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----",
        )

    # -- look-alikes --------------------------------------------------------------------

    def order_number(self) -> str:
        style = self.rng.randint(0, 3)
        if style == 0:
            text = (
                f"{self.r(string.digits, 3)}-{self.r(string.digits, 7)}-{self.r(string.digits, 7)}"
            )
        elif style == 1:
            text = f"ORD-{self.rng.randint(2019, 2026)}-{self.r(string.digits, 6)}"
        elif style == 2:
            text = f"#{self.r(string.digits, 8)}"
        else:
            text = f"INV-{self.r(string.digits, 5)}"
        return self.neg("order number", text)

    def sha(self, n: int = 40) -> str:
        return self.neg(f"hex digest ({n})", self.r(HEX, n))

    def uuid(self) -> str:
        return self.neg("uuid", "-".join(self.r(HEX, n) for n in (8, 4, 4, 4, 12)))

    def trace_id(self) -> str:
        return self.neg("trace id", self.r(HEX, 32))

    def hex_account(self) -> str:
        return self.neg("hex account id", "AC" + self.r(HEX, 32))

    def object_id(self) -> str:
        return self.neg("object id", self.r(HEX, 24))

    def integrity(self) -> str:
        return self.neg(
            "sha512 integrity", "sha512-" + base64.b64encode(self.rng.randbytes(64)).decode()
        )

    def thumbnail(self, data_uri: bool) -> str:
        b64 = base64.b64encode(_png(self.rng)).decode()
        return self.neg("base64 image", f"data:image/png;base64,{b64}" if data_uri else b64)

    def timestamp(self) -> str:
        d = date(2024, 1, 1) + timedelta(days=self.rng.randint(0, 1000))
        return self.neg(
            "timestamp",
            f"{d.isoformat()}T{self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}:"
            f"{self.rng.randint(0, 59):02d}Z",
        )

    def day(self, kind: str = "date") -> str:
        d = date(2015, 1, 1) + timedelta(days=self.rng.randint(0, 4000))
        return self.neg(kind, d.isoformat())

    def aws_account(self) -> str:
        return self.neg("aws account id", self.r(string.digits, 12))

    def sku(self) -> str:
        return self.neg(
            "sku",
            f"{self.r(string.ascii_uppercase, 2)}-{self.r(string.digits, 4)}-"
            f"{self.pick(['XS', 'S', 'M', 'L', 'XL', 'BLK', 'RED'])}",
        )

    def version(self) -> str:
        return self.neg(
            "version",
            f"{self.rng.randint(1, 20)}.{self.rng.randint(0, 40)}.{self.rng.randint(0, 300)}",
        )

    def digest(self) -> str:
        return self.neg("image digest", "sha256:" + self.r(HEX, 64))


# -- helpers ------------------------------------------------------------------------------


def _cjk(text: str) -> bool:
    return any("\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" for c in text)


def _luhn(rng: random.Random, prefix: str, length: int, random_prefix: bool = False) -> str:
    if random_prefix:
        prefix = str(rng.randint(1, 9))
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        digits = [int(c) for c in body + check][::-1]
        total = sum(
            d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)
        )
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


def _jwt(p: Plant) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    claims = {"sub": p.r(string.digits, 8), "scope": "read write", "iat": 1767225600}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{p.r(B64URL, 43)}"


def _png(rng: random.Random) -> bytes:
    """A real (tiny, noisy) PNG: what a thumbnail in a payload looks like."""
    width, height = rng.randint(8, 24), rng.randint(8, 24)
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _csv_cell(value: str, sep: str) -> str:
    if sep in value or '"' in value or "\n" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


# -- payload kinds ------------------------------------------------------------------------


def sql(p: Plant) -> Any:
    style = p.rng.randint(0, 6)
    if style == 0:
        first, last = p.names()
        p.pos("PERSON", first)
        p.pos("PERSON", last)
        statement = (
            "INSERT INTO customers (first_name, last_name, email, phone, date_of_birth, created_at) "
            f"VALUES ('{first}', '{last}', '{p.email(f'{first} {last}')}', '{p.phone()}', "
            f"'{p.dob('iso')}', '{p.timestamp()}');"
        )
    elif style == 1:
        statement = (
            f"UPDATE users SET email = '{p.email()}', phone = '{p.phone()}' "
            f"WHERE id = {p.rng.randint(1000, 99999)};"
        )
    elif style == 2:
        statement = (
            f"SELECT id, total, status FROM orders WHERE customer_email = '{p.email()}' "
            f"AND order_number = '{p.order_number()}' LIMIT 50;"
        )
    elif style == 3:
        employee = p.neg("employee id", f"E-{p.r(string.digits, 5)}")
        statement = (
            f"UPDATE employees SET ssn = '{p.ssn(separators=False)}', salary = "
            f"{p.rng.randint(40, 180) * 1000} WHERE employee_id = '{employee}';"
        )
    elif style == 4:
        statement = (
            "INSERT INTO payment_methods (customer_id, card_number, holder_name, expiry) VALUES "
            f"({p.rng.randint(100, 9999)}, '{p.card()}', '{p.person()}', '09/2{p.rng.randint(6, 9)}');"
        )
    elif style == 5:
        user = p.pick(["app_rw", "reporting", "etl_loader", "grafana"])
        statement = f"CREATE USER {user} WITH PASSWORD '{p.password()}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {user};"
    else:
        statement = (
            "INSERT INTO addresses (customer_id, line1, postcode, country) VALUES "
            f"({p.rng.randint(100, 9999)}, '{p.street()}', '{p.neg('country', 'GB')}', 'GB');"
        )
    return {
        "action": "db.execute",
        "database": p.pick(["crm-prod", "billing", "hr-core", "warehouse"]),
        "statement": statement,
        "ticket": p.neg("ticket id", f"CS-{p.r(string.digits, 4)}"),
    }


def csv_export(p: Plant) -> Any:
    sep = p.pick([",", ",", ";", "\t", "|"])
    style = p.rng.randint(0, 5)
    rows: list[list[str]] = []
    if style == 0:
        header = [
            "id",
            p.pick(["name", "full_name", "customer", "contact"]),
            "email",
            "phone",
            "city",
        ]
        for i in range(p.rng.randint(3, 10)):
            name = p.person(0.1)
            rows.append([str(i + 1), name, p.email(name), p.phone(), p.fakers["en_GB"].city()])
    elif style == 1:
        header = ["customer_id", "full_name", "email", "date_of_birth", "iban"]
        for _ in range(p.rng.randint(3, 8)):
            name = p.person()
            rows.append([p.r(string.digits, 6), name, p.email(name), p.dob(), p.iban(spaced=False)])
    elif style == 2:
        header = ["First Name", "Last Name", "Email", "Address"]
        for _ in range(p.rng.randint(3, 8)):
            first, last = p.names()
            p.pos("PERSON", first)
            p.pos("PERSON", last)
            rows.append([first, last, p.email(f"{first} {last}"), p.address()])
    elif style == 3:
        header = ["employee", "ssn", "start_date", "department"]
        for _ in range(p.rng.randint(3, 8)):
            rows.append([p.person(), p.ssn(), p.day("start date"), p.pick(["Sales", "R&D", "Ops"])])
    elif style == 4:  # no header
        header = []
        for i in range(p.rng.randint(3, 10)):
            name = p.person()
            rows.append([str(i + 1), name, p.email(name), p.day("signup date")])
    else:  # orders: only look-alikes
        header = ["order_id", "sku", "qty", "total", "shipped_at"]
        for _ in range(p.rng.randint(3, 10)):
            rows.append(
                [p.order_number(), p.sku(), str(p.rng.randint(1, 9)),
                 f"{p.rng.randint(5, 900)}.{p.rng.randint(0, 99):02d}", p.timestamp()]
            )  # fmt: skip
    lines = [sep.join(_csv_cell(c, sep) for c in header)] if header else []
    lines += [sep.join(_csv_cell(c, sep) for c in row) for row in rows]
    text = "\n".join(lines) + "\n"
    if p.chance(0.5):
        return {
            "action": "data.export",
            "format": "csv",
            "destination": f"s3://exports-{p.r(string.ascii_lowercase, 6)}/daily/report.csv",
            "preview": text,
        }
    return {
        "action": "email.send",
        "to": p.email(),
        "attachment": {"filename": "customers.csv", "content": text},
    }


def _person_record(p: Plant) -> dict[str, Any]:
    name_key = p.pick(["name", "full_name", "customer_name", "displayName", "holder", "contact"])
    record: dict[str, Any] = {"id": p.rng.randint(1, 10**6)}
    name = p.person(0.05)
    record[name_key] = name
    record[p.pick(["email", "email_address", "mail"])] = p.email(name)
    record[p.pick(["phone", "mobile", "tel", "phone_number"])] = p.phone()
    if p.chance(0.6):
        record[p.pick(["dob", "date_of_birth", "birthDate", "birthday"])] = p.dob()
    if p.chance(0.5):
        record[p.pick(["address", "street_address", "home_address"])] = p.address()
    elif p.chance(0.5):
        record["address"] = {
            "line1": p.street(),
            "city": p.fakers["en_US"].city(),
            "postcode": p.pos("ADDRESS", p.fakers["en_US"].zipcode()),
            "country": "US",
        }
    if p.chance(0.3):
        key = p.pick(["ssn", "social_security_number", "ssn_last_used"])
        record[key if key != "ssn_last_used" else "ssn"] = p.ssn()
    if p.chance(0.2):
        record[p.pick(["nino", "ni_number", "national_insurance_number"])] = p.nino()
    if p.chance(0.2):
        record[p.pick(["passport_number", "passport", "passportNo"])] = p.passport()
    record["status"] = p.pick(["active", "churned", "trial"])
    record["created_at"] = p.timestamp()
    return record


def row_export(p: Plant) -> Any:
    return {
        "action": "data.export",
        "table": p.pick(["customers", "patients", "members", "leads"]),
        "rows": [_person_record(p) for _ in range(p.rng.randint(2, 8))],
        "query_id": p.uuid(),
    }


def iam(p: Plant) -> Any:
    style = p.rng.randint(0, 2)
    requester = p.person()
    if style == 0:
        manager = p.person()
        return {
            "action": "iam.grant",
            "principal": f"user:{p.email(requester)}",
            "role": p.pick(["roles/owner", "roles/editor", "roles/bigquery.admin"]),
            "project": p.neg(
                "project", f"prod-{p.r(string.ascii_lowercase, 5)}-{p.rng.randint(10, 99)}"
            ),
            "requested_by": {"name": requester, "email": p.email(requester)},
            "reason": f"On-call escalation for INC-{p.r(string.digits, 4)}, approved by {manager} on the bridge call.",
            "expires_at": p.timestamp(),
        }
    if style == 1:
        return {
            "action": "aws.iam.create_access_key",
            "account_id": p.aws_account(),
            "result": {
                "AccessKey": {
                    # Under a secret-named member everything is masked by design:
                    # these are not look-alikes.
                    "UserName": f"deploy-bot-{p.r(string.ascii_lowercase, 4)}",
                    "AccessKeyId": p.token("aws"),
                    "SecretAccessKey": p.token("aws_secret"),
                    "Status": "Active",
                    "CreateDate": "2026-01-05T10:00:00Z",
                }
            },
            "policy_arn": p.neg(
                "arn",
                f"arn:aws:iam::{p.r(string.digits, 12)}:policy/{p.pick(['ReadOnly', 'DeployerAccess'])}",
            ),
            "author": requester,
        }
    return {
        "action": "okta.user.reset_password",
        "user": {"login": p.email(requester), "name": requester, "manager": p.person()},
        "note": f"Your temporary password is {p.password()}. Please change it at first sign-in.",
        "requested_by": {"name": p.person(), "team": "IT Service Desk"},
    }


def kube(p: Plant) -> Any:
    style = p.rng.randint(0, 4)
    ns = p.pick(["payments", "default", "data", "platform"])
    if style == 0:
        cmd = (
            f"kubectl create secret generic db-creds --from-literal=username=app "
            f"--from-literal=password={p.password()} -n {ns}"
        )
    elif style == 1:
        cmd = (
            f"helm upgrade --install api ./charts/api --set image.tag={p.version()} "
            f"--set postgresql.auth.password={p.password()} --set redis.auth.password={p.token('opaque')} -n {ns}"
        )
    elif style == 2:
        name = p.pick(["ADMIN_PW", "DB_PASS", "SMTP_PASS", "ROOT_PWD", "MYSQL_PWD"])
        cmd = f"kubectl set env deployment/api {name}={p.password()} LOG_LEVEL=debug -n {ns}"
    elif style == 3:
        cmd = (
            f"docker run -d --name pg -e POSTGRES_PASSWORD={p.password()} -e TZ=UTC "
            f"-e API_TOKEN={p.token()} postgres@{p.digest()}"
        )
    else:
        return {
            "action": "k8s.apply",
            "manifest": {
                "kind": "Deployment",
                "metadata": {"name": p.neg("pod name", f"api-{p.r('bcdfghjklmnpqrstvwxz2456789', 10)}-{p.r('bcdfghjklmnpqrstvwxz2456789', 5)}")},
                "spec": {
                    "containers": [
                        {
                            "name": "api",
                            "image": f"registry.example.com/api@{p.digest()}",
                            "env": [
                                {"name": "DB_PASSWORD", "value": p.password()},
                                {"name": "LOG_LEVEL", "value": "info"},
                                {"name": p.pick(["STRIPE_KEY", "PAYMENTS_SK", "api_key"]), "value": p.token("stripe")},
                                {"name": "GIT_SHA", "value": p.sha()},
                                {"name": "DB_USER_REF", "valueFrom": {"secretKeyRef": {"name": p.neg("secret name", "db-credentials"), "key": "username"}}},
                            ],
                        }
                    ]
                },
            },
        }  # fmt: skip
    return {
        "action": "shell.run",
        "cluster": p.pick(["prod-eu-1", "staging-us-2"]),
        "command": cmd,
        "commit": p.sha(),
    }


def logs(p: Plant) -> Any:
    lines = []
    for _ in range(p.rng.randint(4, 12)):
        ts = p.timestamp()
        style = p.rng.randint(0, 8)
        if style == 0:
            lines.append(f"{ts} INFO auth: login ok user={p.email()} trace_id={p.trace_id()}")
        elif style == 1:
            email = p.email(plant=False)
            encoded = p.pos("EMAIL", quote(email, safe=""))
            lines.append(
                f"{ts} INFO http: GET /api/v1/users?email={encoded}&api_key={p.token('opaque')} 200 12ms"
            )
        elif style == 2:
            lines.append(
                f'{ts} ERROR db: password authentication failed for user "app" request_id={p.uuid()}'
            )
        elif style == 3:
            lines.append(
                f"{ts} WARN payments: card {p.card('plain')} declined for customer {p.person()}"
            )
        elif style == 4:
            lines.append(
                f"{ts} DEBUG upstream headers: {{'Authorization': 'Bearer {p.token('jwt')}', 'X-Request-Id': '{p.uuid()}'}}"
            )
        elif style == 5:
            name = p.person()
            lines.append(
                f"{ts} INFO session created sid={p.token('session')} for {name} <{p.email(name)}>"
            )
        elif style == 6:
            lines.append(
                f"{ts} INFO deploy: rolled out {p.digest()} build {p.version()} commit {p.sha(12)}"
            )
        elif style == 7:
            lines.append(
                f"{ts} INFO worker: exported {p.rng.randint(10, 9999)} rows for order {p.order_number()}"
            )
        else:
            lines.append(f"{ts} INFO twilio: sms queued account={p.hex_account()} to={p.phone()}")
    if p.chance(0.5):
        return {
            "action": "logs.share",
            "service": p.pick(["auth", "api", "billing"]),
            "excerpt": "\n".join(lines),
        }
    return {"action": "logs.share", "service": "api", "lines": lines}


# Not Faker's: its company names are made of surnames ("Henry, Banks and Howard").
COMPANIES = [
    "Globex Ltd", "Initech GmbH", "Umbrella Logistics", "Northwind Traders",
    "Blue Harbor Foods", "Contoso Pharma", "Stark Industrial Supply", "Vandelay Imports",
]  # fmt: skip
SALUTATIONS = ["Dear {}", "Hi {}", "Hello {}", "Dear Mr. {}", "Dear Ms. {}", "Good morning {}"]


def ticket(p: Plant) -> Any:
    customer = p.person(0.15)
    agent = p.person()
    sentences = [p.pick(SALUTATIONS).format(customer) + ","]
    for _ in range(p.rng.randint(3, 6)):
        style = p.rng.randint(0, 13)
        if style == 0:
            sentences.append(
                f"Your temporary password is {p.password()}. Please change it after signing in."
            )
        elif style == 1:
            sentences.append(
                f"The account holder was born {p.dob(p.pick(['dmy', 'long', 'short']))}, as on the form."
            )
        elif style == 2:
            sentences.append(f"We shipped order {p.order_number()} to {p.address()} yesterday.")
        elif style == 3:
            sentences.append(
                f"The refund went to the card ending {p.neg('last four', p.r(string.digits, 4))} on {p.day()}."
            )
        elif style == 4:
            sentences.append(
                f"My passport number is {p.passport()} and it expires in {p.rng.randint(2027, 2034)}."
            )
        elif style == 5:
            sentences.append(f"For payroll my NI number is {p.nino()}.")
        elif style == 6:
            other = p.person(1.0)
            sentences.append(f"I also spoke with {other} from our Osaka office about the renewal.")
        elif style == 7:
            sentences.append(f"You can reach me on {p.phone()} or at {p.email(customer)}.")
        elif style == 8:
            sentences.append(
                f"My date of birth is {p.dob()} and my SSN is {p.ssn(separators=True)}."
            )
        elif style == 9:
            sentences.append(
                f"Please wire the deposit to IBAN {p.iban()} (reference {p.order_number()})."
            )
        elif style == 10:
            sentences.append(
                f"The issue started after upgrading to {p.version()}; ticket {p.neg('ticket id', 'CS-' + p.r(string.digits, 5))}."
            )
        elif style == 11:
            sentences.append(
                f"Pay with card {p.card()} exp 0{p.rng.randint(1, 9)}/2{p.rng.randint(6, 9)}."
            )
        elif style == 12:
            sentences.append(f"My colleague {p.person(0.3)} will call you back tomorrow.")
        else:
            sentences.append(f"DOB: {p.dob('mdy')}, member since {p.day('member since')}.")
    sentences.append(f"Kind regards,\n{agent}")
    body = " ".join(sentences[:-1]) + "\n\n" + sentences[-1]
    return {
        "action": "ticket.reply",
        "ticket": {
            "id": p.neg("ticket id", f"ZD-{p.r(string.digits, 6)}"),
            "subject": "Re: your account",
            "requester": {"name": customer, "email": p.email(customer)},
            "body": body,
            "comments": [{"author": agent, "body": f"Escalated by {p.person()} after the call."}],
        },
    }


def http(p: Plant) -> Any:
    style = p.rng.randint(0, 3)
    email = p.email(plant=False)
    if style == 0:
        return {
            "action": "http.replay",
            "request": {
                "method": "POST",
                "url": f"https://api.example.com/v2/login?redirect=%2Fhome&email={p.pos('EMAIL', quote_plus(email))}",
                "headers": {
                    "Cookie": f"session={p.token('session')}; theme=dark; _ga=GA1.2.{p.r(string.digits, 9)}.{p.r(string.digits, 10)}",
                    "X-Request-Id": p.uuid(),
                    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
                },
                "body": json.dumps(
                    {"username": p.email(), "password": p.password(), "remember": True},
                    ensure_ascii=False,
                ),
            },
        }
    if style == 1:
        raw = (
            "POST /oauth/token HTTP/1.1\r\nHost: auth.example.com\r\n"
            f"Authorization: Basic {p.pos('CREDENTIAL', base64.b64encode(f'svc:{p.r(ALNUM, 14)}'.encode()).decode())}\r\n"
            f"Cookie: sid={p.token('session')}; lang=en\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
            f"grant_type=password&username={p.pos('EMAIL', quote_plus(email))}&password={p.password()}"
        )
        return {"action": "http.replay", "raw": raw}
    if style == 2:
        return {
            "action": "http.replay",
            "har": {
                "url": f"https://shop.example.com/checkout?order={p.order_number()}&trace={p.trace_id()}",
                "headers": [
                    {"name": "Authorization", "value": f"Bearer {p.token('opaque')}"},
                    {
                        "name": "Set-Cookie",
                        "value": f"remember_token={p.token('session')}; Path=/; HttpOnly",
                    },
                    {"name": "Accept", "value": "application/json"},
                ],
            },
        }
    return {
        "action": "webhook.test",
        "url": f"https://hooks.example.com/services/{p.r(string.ascii_uppercase + string.digits, 9)}",
        "payload": json.dumps(
            {
                "customer": {"name": p.person(), "email": p.email(), "phone": p.phone()},
                "event": "signup",
            },
            ensure_ascii=False,
        ),
    }


def connection(p: Plant) -> Any:
    style = p.rng.randint(0, 6)
    host = f"db{p.rng.randint(1, 9)}.{p.pick(['internal', 'prod.acme.io', 'eu-west-1.rds.amazonaws.com'])}"
    if style == 0:
        value = f"postgres://app:{p.password()}@{host}:5432/crm"
    elif style == 1:
        value = (
            f"Server=tcp:{p.r(string.ascii_lowercase, 6)}.database.windows.net,1433;Initial Catalog=orders;"
            f"User ID=admin_{p.r(string.ascii_lowercase, 3)};Password={p.password()};Encrypt=True;"
        )
    elif style == 2:
        value = (
            f"DefaultEndpointsProtocol=https;AccountName={p.r(string.ascii_lowercase, 10)};"
            f"AccountKey={p.token('azure')};EndpointSuffix=core.windows.net"
        )
    elif style == 3:
        value = (
            f"Endpoint=sb://{p.r(string.ascii_lowercase, 8)}.servicebus.windows.net/;"
            f"SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={p.pos('CREDENTIAL', base64.b64encode(p.rng.randbytes(32)).decode())}"
        )
    elif style == 4:
        value = f"jdbc:mysql://{host}:3306/shop?user=shop&password={p.password()}&useSSL=true"
    elif style == 5:
        value = f"host={host} port=5432 dbname=analytics user=etl password={p.password()} sslmode=require"
    else:
        value = f"redis://:{p.token('opaque')}@{host}:6379/0"
    key = p.pick(["conn", "dsn", "connection_string", "DATABASE_URL", "url", "target"])
    return {
        "action": "db.migrate",
        key: value,
        "migration": p.neg("migration", f"0042_add_index_{p.r(string.ascii_lowercase, 5)}"),
    }


def cloud_keys(p: Plant) -> Any:
    style = p.rng.randint(0, 4)
    if style == 0:
        project = f"acme-{p.r(string.ascii_lowercase, 6)}"
        return {
            "action": "gcp.upload_key",
            "key_file": {
                "type": "service_account",
                "project_id": project,
                "private_key": p.pem(),
                "client_email": f"ci@{project}.iam.gserviceaccount.com",
                "auth_uri": p.neg("public url", "https://accounts.google.com/o/oauth2/auth"),
                "token_uri": p.neg("public url", "https://oauth2.googleapis.com/token"),
                "auth_provider_x509_cert_url": p.neg(
                    "public url", "https://www.googleapis.com/oauth2/v1/certs"
                ),
            },
        }
    if style == 1:
        env = [
            f"OPENAI_API_KEY={p.token('openai')}",
            f"TWILIO_ACCOUNT_SID={p.hex_account()}",
            f"TWILIO_AUTH_TOKEN={p.token('twilio')}",
            f"SENDGRID_API_KEY={p.token('sendgrid')}",
            f"MAILGUN_KEY={p.token('mailgun')}",
            f"DD_API_KEY={p.token('hex32')}",
            "NODE_ENV=production",
            f"RELEASE={p.sha()}",
        ]
        p.rng.shuffle(env)
        return {"action": "secrets.sync", "file": ".env", "content": "\n".join(env) + "\n"}
    if style == 2:
        return {
            "action": "cloudformation.deploy",
            "stack": "billing-api",
            "parameters": [
                {"ParameterKey": "DbPassword", "ParameterValue": p.password()},
                {"ParameterKey": "InstanceType", "ParameterValue": "t3.medium"},
                {"ParameterKey": "ImageDigest", "ParameterValue": p.digest()},
            ],
            "variables": [
                {"name": "api_key", "value": p.token()},
                {"name": "region", "value": "eu-west-1"},
            ],
        }
    if style == 3:
        return {
            "action": "chat.post",
            "text": (
                f"rotating the old key now: {p.token('aws')} / secret {p.token('aws_secret')} "
                f"was on the shared laptop; new GitHub token is {p.token('github')}"
            ),
            "channel": "#infra",
        }
    return {
        "action": "terraform.apply",
        "vars": {
            "datadog_api_key": p.token("hex32"),
            "slack_webhook": f"https://hooks.slack.com/services/T{p.r(string.ascii_uppercase + string.digits, 8)}/B{p.r(string.ascii_uppercase + string.digits, 8)}/{p.pos('CREDENTIAL', p.r(ALNUM, 24))}",
            "region": "eu-west-1",
            "account_id": p.aws_account(),
        },
    }


def payments(p: Plant) -> Any:
    style = p.rng.randint(0, 2)
    holder = p.person()
    if style == 0:
        card: Any = p.card()
        if p.chance(0.3):
            card = int(card.replace(" ", "").replace("-", ""))
        return {
            "action": "payments.charge",
            "amount": p.rng.randint(100, 99999),
            "currency": p.pick(["eur", "usd", "gbp"]),
            "card": {
                "number": card,
                "exp_month": p.rng.randint(1, 12),
                "exp_year": p.rng.randint(2026, 2031),
                "cvc": p.pos("CREDENTIAL", p.r(string.digits, 3)) if p.chance(0.3) else None,
                "holder": holder,
            },
            "billing_address": p.address(),
            "order_number": p.order_number(),
            "charge_id": p.neg("charge id", "ch_" + p.r(ALNUM, 24)),
            "customer": {"name": p.person(), "email": p.email()},
        }
    if style == 1:
        return {
            "action": "payouts.create",
            "beneficiary": {
                "account_holder": holder,
                "iban": p.iban(),
                "bic": p.neg("bic", "COBADEFFXXX"),
            },
            "amount": f"{p.rng.randint(10, 9000)}.{p.rng.randint(0, 99):02d}",
            "reference": p.order_number(),
            "memo": f"Refund for {p.order_number()}, card ending {p.neg('last four', p.r(string.digits, 4))}",
        }
    return {
        "action": "payments.bank_transfer",
        "instructions": (
            f"Please transfer the balance to IBAN {p.iban()} in the name of {holder}. "
            f"Routing number {p.pos('BANK', '0' + p.r(string.digits, 8))}, account {p.account_number()}. "
            f"Quote invoice {p.order_number()}."
        ),
    }


def hr(p: Plant) -> Any:
    first, last = p.names()
    p.pos("PERSON", first)
    p.pos("PERSON", last)
    record: dict[str, Any] = {
        "employee_id": p.neg("employee id", f"E-{p.r(string.digits, 5)}"),
        "first_name": first,
        "last_name": last,
        p.pick(["date_of_birth", "dob", "birth_date"]): p.dob(),
        p.pick(["ssn", "social_security_number", "SSN"]): p.ssn(),
        "hire_date": p.day("hire date"),
        "salary": p.rng.randint(40, 200) * 1000,
        "home_address": p.address(),
        "phone": p.phone(),
        "manager": {"name": p.person(), "email": p.email()},
        "bank": {
            "account_number": p.account_number(),
            "routing_number": p.pos("BANK", "0" + p.r(string.digits, 8)),
        },
    }
    if p.chance(0.5):
        record["national_insurance_number"] = p.nino()
    if p.chance(0.5):
        record["passport"] = {
            "number": p.passport(),
            "country": "GB",
            "expires": p.day("expiry date"),
        }
    if p.chance(0.4):
        key, value = p.other_national_id()
        record[key] = value
    if p.chance(0.5):
        record["emergency_contact"] = {"name": p.person(), "relation": "spouse", "phone": p.phone()}
    if p.chance(0.5):
        record["notes"] = (
            f"Born {p.dob('dmy')} in {p.fakers['en_GB'].city()}; NI number {p.nino(spaced=True)}."
        )
    return {
        "action": "hr.update_employee",
        "employee": record,
        "requested_by": {"name": p.person(), "role": "HR partner"},
    }


def crm(p: Plant) -> Any:
    name = p.person(0.1)
    owner = p.person()
    if p.chance(0.4):
        return {
            "action": "email.send",
            "to": p.email(name),
            "subject": "Your renewal",
            "body": (
                f"Dear {name},\n\nthank you for the call today. As discussed, {owner} will send the "
                f"contract for order {p.order_number()}. Call {p.phone()} with questions.\n\n"
                f"Best,\n{owner}"
            ),
        }
    return {
        "action": "crm.update_contact",
        "contact": {
            "id": p.neg("crm id", "003" + p.r(ALNUM, 15)),
            "name": name,
            "title": p.neg(
                "job title", p.pick(["VP Engineering", "Head of Procurement", "Office Manager"])
            ),
            "company": p.neg("company", p.pick(COMPANIES)),
            "email": p.email(name),
            "phone": p.phone(),
            "mailing_address": p.address(one_line=p.chance(0.7)),
            "owner": {"name": owner},
            "notes": [
                {
                    "author": owner,
                    "text": f"Met {name} at the expo; interested in the enterprise tier.",
                },
                {"author": p.person(), "text": f"Follow up with {p.person(0.3)} about the pilot."},
            ],
            "lead_source": "webinar",
            "sku": p.sku(),
        },
    }


def benign(p: Plant) -> Any:
    style = p.rng.randint(0, 5)
    if style == 0:
        return {
            "action": "deps.update",
            "lockfile": {
                f"node_modules/{pkg}": {"version": p.version(), "resolved": f"https://registry.npmjs.org/{pkg}/-/{pkg}.tgz", "integrity": p.integrity()}
                for pkg in p.rng.sample(["lodash", "react", "express", "zod", "axios", "chalk"], 3)
            },
        }  # fmt: skip
    if style == 1:
        return {
            "action": "catalog.update",
            "products": [
                {"sku": p.sku(), "name": p.pick(["Trail Runner 2", "Desk Lamp", "Canvas Tote"]), "thumbnail": p.thumbnail(p.chance(0.5)), "price": 19.99}
                for _ in range(p.rng.randint(1, 3))
            ],
        }  # fmt: skip
    if style == 2:
        return {
            "action": "deploy",
            "service": "api",
            "image": f"registry.example.com/api@{p.digest()}",
            "commit": p.sha(),
            "traceparent": f"00-{p.trace_id()}-{p.sha(16)}-01",
            "account_id": p.hex_account(),
            "conn": p.neg("connection name", "primary-replica"),
            "release": p.version(),
            "started_at": p.timestamp(),
        }
    if style == 3:
        return {
            "action": "orders.reconcile",
            "orders": [{"order_number": p.order_number(), "id": p.object_id(), "placed_at": p.timestamp()} for _ in range(p.rng.randint(2, 6))],
            "max_tokens": 4096,
            "token_type": p.neg("token type", "urn:ietf:params:oauth:token-type:access_token"),
        }  # fmt: skip
    if style == 4:
        return {
            "action": "oauth.configure",
            "issuer": p.neg("public url", "https://login.example.com"),
            "token_uri": p.neg("public url", "https://login.example.com/oauth2/v1/token"),
            "jwks_uri": p.neg("public url", "https://login.example.com/oauth2/v1/keys"),
            "client_id": p.neg("client id", "0oa" + p.r(ALNUM, 17)),
            "password_policy": p.neg("policy text", "min 12 characters, rotated every 90 days"),
            "secret_name": p.neg("secret name", "prod/oauth/client-credentials"),
        }
    return {
        "action": "report.schedule",
        "name": p.neg(
            "report name",
            p.pick(["Weekly Revenue Report", "Churn Dashboard", "Quarterly Board Pack"]),
        ),
        "owner_team": p.neg("team", p.pick(["Finance Analytics", "Growth Platform"])),
        "cron": "0 6 * * MON",
        "request_id": p.uuid(),
        "dataset": p.neg("dataset", f"analytics.orders_{p.rng.randint(2019, 2026)}"),
        "isbn": p.neg(
            "isbn",
            f"978-{p.rng.randint(0, 9)}-{p.r(string.digits, 3)}-{p.r(string.digits, 5)}-{p.rng.randint(0, 9)}",
        ),
    }


KINDS = {
    "sql": sql,
    "csv": csv_export,
    "rows": row_export,
    "iam": iam,
    "kube": kube,
    "logs": logs,
    "ticket": ticket,
    "http": http,
    "connection": connection,
    "cloud_keys": cloud_keys,
    "payments": payments,
    "hr": hr,
    "crm": crm,
    "benign": benign,
}


def samples(n: int = 600, seed: int = 1) -> list[Sample]:
    rng = random.Random(seed)
    fakers: dict[str, Faker] = {}
    for index, locale in enumerate(
        sorted(set(LATIN + OTHER_SCRIPTS + ADDRESS_LOCALES + PHONE_LOCALES))
    ):
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed * 1000 + index)
    kinds = list(KINDS)
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        p = Plant(rng, fakers)
        payload = KINDS[kind](p)
        out.append(Sample(kind, payload, p.planted, p.lookalikes))
    return out


if __name__ == "__main__":
    import sys

    for sample in samples(int(sys.argv[1]) if len(sys.argv) > 1 else 14, seed=1):
        print(sample.kind, json.dumps(sample.payload, ensure_ascii=False)[:600])
        print("   planted:", sample.planted[:8])
        print("   look-alikes:", sample.lookalikes[:5])
