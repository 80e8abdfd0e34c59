"""What a field's name says its value is: a JSON key, a CSV header, a ``name=value``
pair, an HTTP header, a query parameter, a connection-string part.

A name is split into lower-case words (``dateOfBirth`` -> date, of, birth;
``X-Api-Key`` -> x, api, key; ``ADMIN_PW`` -> admin, pw) and read by what its words
say. The vocabulary is the one people name fields with; it is written here, not
taken from any list of values (no names, streets or numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@lru_cache(maxsize=8192)
def words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(name))


def fold(name: str) -> str:
    return "".join(words(name))


# -- secrets --------------------------------------------------------------------------

# Words that make a name a secret wherever they stand.
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "passcode",
        "pwd",
        "pw",
        "secret",
        "secrets",
        "token",
        "tokens",
        "credential",
        "credentials",
        "creds",
        "cookie",
        "cookies",
        "authorization",
        "apikey",
        "signature",
        "otp",
        "totp",
        "hotp",
        "sessionid",
        "sessid",
        "jsessionid",
        "phpsessid",
        "cvv",
        "cvc",
        "cvv2",
        "cvc2",
        "pin",
        "privatekey",
        "accesskey",
        "secretkey",
    }
)
# Secrets when they are the last word: ``DB_PASS``, ``REDIS_AUTH``, ``session``.
_SECRET_LAST = frozenset({"pass", "auth", "session", "sig", "key", "keys"})
# Joined spellings: ``apikey``, ``AccountKey``, ``SharedAccessSignature``.
_SECRET_FOLDED = (
    "password",
    "passwd",
    "secret",
    "apikey",
    "accesskey",
    "accountkey",
    "privatekey",
    "signingkey",
    "masterkey",
    "authtoken",
    "accesstoken",
    "refreshtoken",
    "sessiontoken",
    "securitytoken",
    "clientsecret",
    "sharedaccess",
    "securitycode",
    "credential",
)
# A ``..._key`` that is not a secret: what the word before says the key is.
_PLAIN_KEY_QUALIFIERS = frozenset(
    {
        "primary",
        "foreign",
        "partition",
        "sort",
        "cache",
        "idempotency",
        "public",
        "pub",
        "object",
        "s3",
        "row",
        "hash",
        "routing",
        "dedup",
        "dedupe",
        "deduplication",
        "lookup",
        "map",
        "group",
        "shard",
        "range",
        "unique",
        "composite",
        "natural",
        "surrogate",
        "join",
        "index",
        "file",
        "bucket",
        "redis",
        "kv",
        "message",
        "event",
        "item",
        "translation",
        "i18n",
        "label",
        "search",
        "query",
        "sorting",
        "grouping",
        "hot",
        "short",
        "cursor",
        "page",
        "next",
        "idem",
        "request",
        "ordering",
        "music",
        "issue",
        "jira",
        "project",
        "record",
        "parameter",
        "param",
        "option",
        "attribute",
        "config",
        "setting",
        "field",
        "header",
        "column",
        "property",
        "tag",
        "metadata",
        "registry",
        "ssh",
    }
)
# Last words that make a name say something *about* a secret, not hold one:
# ``token_uri``, ``password_policy``, ``secret_name``, ``token_type``, ``max_tokens``.
_ABOUT_LAST = frozenset(
    {
        "url",
        "uri",
        "urls",
        "endpoint",
        "host",
        "type",
        "types",
        "name",
        "names",
        "ref",
        "path",
        "file",
        "filename",
        "dir",
        "ttl",
        "expiry",
        "expires",
        "expiration",
        "expire",
        "at",
        "date",
        "time",
        "timestamp",
        "length",
        "len",
        "count",
        "limit",
        "max",
        "min",
        "policy",
        "rotation",
        "version",
        "format",
        "algorithm",
        "alg",
        "enabled",
        "required",
        "set",
        "changed",
        "updated",
        "created",
        "provider",
        "method",
        "scheme",
        "mode",
        "arn",
        "label",
        "field",
        "header",
        "param",
        "kind",
        "class",
        "strategy",
        "usage",
        "used",
        "remaining",
        "budget",
        "window",
        "rate",
        "manager",
        "in",
        "seconds",
        "ms",
        "days",
        "age",
        "lifetime",
        "valid",
        "verified",
        "status",
        "state",
        "reset",
        "prompt",
        "location",
        "store",
        "keyref",
        "selector",
        "from",
    }
)
_COUNTERS = re.compile(
    r"^(max|num|total|prompt|completion|input|output|cached)?tokens?(count|limit|used)?$"
)


def is_secret_key(name: str) -> bool:
    """Whether a field named ``name`` holds a secret: ``db_password``, ``X-Api-Key``,
    ``githubToken``, ``ADMIN_PW``, ``AccountKey``; not ``token_uri``, ``max_tokens``,
    ``secret_name``, ``partition_key``."""
    ws = words(name)
    if not ws:
        return False
    folded = "".join(ws)
    if _COUNTERS.match(folded) and folded != "token":
        return False
    if len(ws) > 1 and ws[-1] in _ABOUT_LAST:
        return False
    if len(ws) > 1 and ws[-1] in ("id", "ids"):  # an identifier, unless of a session
        return any(w in ("session", "sess", "secret") for w in ws[:-1])
    if any(w in _SECRET_WORDS for w in ws):
        return True
    if "sid" in ws:  # a session id; an ``account_sid`` names an account
        return ws == ("sid",) or "session" in ws
    if ws[-1] in _SECRET_LAST:
        if ws[-1] in ("key", "keys"):
            return len(ws) > 1 and ws[-2] not in _PLAIN_KEY_QUALIFIERS
        return True
    return any(part in folded for part in _SECRET_FOLDED)


# -- personal data --------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRule:
    """What a field's value is, by its name. ``strong``: the value is the entity
    whatever it looks like (a date under ``dob``); otherwise it must look the part
    (a person's name under ``author``)."""

    entity: str
    strong: bool = True


PERSON = KeyRule("PERSON")
PERSON_IF_NAME = KeyRule("PERSON", strong=False)
DATE_OF_BIRTH = KeyRule("DATE_OF_BIRTH")
ADDRESS = KeyRule("ADDRESS")
POSTCODE = KeyRule("ADDRESS")
PHONE = KeyRule("PHONE_NUMBER")
US_SSN = KeyRule("US_SSN")
UK_NINO = KeyRule("UK_NINO")
PASSPORT = KeyRule("PASSPORT")
NATIONAL_ID = KeyRule("NATIONAL_ID")
CREDIT_CARD = KeyRule("CREDIT_CARD")
IBAN = KeyRule("IBAN_CODE")
BANK_ACCOUNT = KeyRule("BANK_ACCOUNT")

# A name whose last word is "name" and whose word before says whose.
_PERSON_NAME_QUALIFIERS = frozenset(
    {
        "full",
        "first",
        "last",
        "given",
        "family",
        "middle",
        "sur",
        "fore",
        "customer",
        "contact",
        "display",
        "legal",
        "holder",
        "card",
        "cardholder",
        "beneficiary",
        "patient",
        "employee",
        "person",
        "real",
        "maiden",
        "member",
        "client",
        "guest",
        "recipient",
        "sender",
        "signer",
        "applicant",
        "candidate",
        "passenger",
        "driver",
        "tenant",
        "student",
        "parent",
        "spouse",
        "owner",
        "author",
        "requester",
        "reporter",
        "assignee",
        "approver",
        "reviewer",
        "manager",
        "buyer",
        "seller",
        "payer",
        "payee",
        "shipping",
        "billing",
        "nick",
    }
)
_PERSON_FOLDED = frozenset(
    {"surname", "forename", "firstname", "lastname", "fname", "lname", "fullname"}
)
# Fields that hold a person when what they hold looks like a person's name.
PERSON_WORDS = frozenset(
    {
        "name",
        "author",
        "owner",
        "assignee",
        "reporter",
        "requester",
        "requestor",
        "approver",
        "reviewer",
        "manager",
        "contact",
        "customer",
        "employee",
        "patient",
        "recipient",
        "sender",
        "signer",
        "holder",
        "cardholder",
        "user",
        "username",
        "member",
        "person",
        "attendee",
        "guest",
        "passenger",
        "driver",
        "tenant",
        "student",
        "spouse",
        "beneficiary",
        "caller",
        "client",
        "lead",
        "applicant",
        "candidate",
        "agent_name",
        "by",
        "to",
        "cc",
        "from",
        "supervisor",
        "physician",
        "doctor",
        "nurse",
        "teacher",
        "parent",
        "child",
        "witness",
        "partner",
        "participant",
        "speaker",
        "host",
        "organizer",
        "buyer",
        "seller",
        "payer",
        "payee",
        "emergency",
    }
)
_NOT_POSTAL = frozenset(
    {
        "ip",
        "ipv4",
        "ipv6",
        "mac",
        "email",
        "mail",
        "e",
        "wallet",
        "contract",
        "remote",
        "local",
        "server",
        "bind",
        "listen",
        "host",
        "socket",
        "node",
        "peer",
        "network",
        "net",
        "broadcast",
        "gateway",
        "memory",
        "mem",
        "base",
        "return",
        "hardware",
        "bitcoin",
        "btc",
        "eth",
        "ethereum",
        "web",
        "url",
        "link",
        "public",
        "private",
        "virtual",
        "target",
        "source",
        "destination",
        "forwarded",
        "client",
        "proxy",
        "redis",
        "smtp",
        "dns",
        "multicast",
        "device",
        "bluetooth",
        "ble",
        "sip",
        "xmpp",
    }
)
_ADDRESS_WORDS = frozenset({"address", "addr", "street", "streetaddress", "adresse", "direccion"})
_ADDRESS_LAST_EXEMPT = frozenset(
    {"id", "ids", "type", "verified", "count", "format", "validated", "status", "kind", "hash"}
)
_POSTCODE_FOLDED = frozenset({"postcode", "postalcode", "zip", "zipcode", "postal", "plz"})
_PHONE_WORDS = frozenset(
    {"phone", "mobile", "cell", "cellphone", "tel", "telephone", "fax", "msisdn", "whatsapp"}
)
_PHONE_LAST_EXEMPT = frozenset(
    {"verified", "type", "country", "prefix", "ext", "extension", "id", "confirmed", "count"}
)
_DOB_FOLDED = frozenset(
    {
        "dob",
        "dateofbirth",
        "birthdate",
        "birthday",
        "bday",
        "born",
        "bornon",
        "birth",
        "geburtsdatum",
        "fechanacimiento",
        "fechadenacimiento",
        "datenaissance",
        "datedenaissance",
        "birthdt",
    }
)
_NATIONAL = {
    "ssn": US_SSN,
    "socialsecuritynumber": US_SSN,
    "socialsecurityno": US_SSN,
    "socialsecurity": US_SSN,
    "ssnnumber": US_SSN,
    "nino": UK_NINO,
    "ninumber": UK_NINO,
    "nationalinsurancenumber": UK_NINO,
    "nationalinsurance": UK_NINO,
    "nationalinsuranceno": UK_NINO,
    "passport": PASSPORT,
    "passportnumber": PASSPORT,
    "passportno": PASSPORT,
    "passportnum": PASSPORT,
    "passportid": PASSPORT,
    "nationalid": NATIONAL_ID,
    "nationalidnumber": NATIONAL_ID,
    "nationalidentitynumber": NATIONAL_ID,
    "nid": NATIONAL_ID,
    "taxid": NATIONAL_ID,
    "tin": NATIONAL_ID,
    "taxpayerid": NATIONAL_ID,
    "itin": NATIONAL_ID,
    "sin": NATIONAL_ID,
    "socialinsurancenumber": NATIONAL_ID,
    "dni": NATIONAL_ID,
    "nie": NATIONAL_ID,
    "nif": NATIONAL_ID,
    "cpf": NATIONAL_ID,
    "curp": NATIONAL_ID,
    "aadhaar": NATIONAL_ID,
    "aadhar": NATIONAL_ID,
    "pesel": NATIONAL_ID,
    "bsn": NATIONAL_ID,
    "personnummer": NATIONAL_ID,
    "steuerid": NATIONAL_ID,
    "codicefiscale": NATIONAL_ID,
    "fiscalcode": NATIONAL_ID,
    "nhsnumber": NATIONAL_ID,
    "nhsno": NATIONAL_ID,
    "medicarenumber": NATIONAL_ID,
    "driverlicense": NATIONAL_ID,
    "driverslicense": NATIONAL_ID,
    "driverlicensenumber": NATIONAL_ID,
    "drivinglicence": NATIONAL_ID,
    "drivinglicense": NATIONAL_ID,
    "drivinglicencenumber": NATIONAL_ID,
    "idcard": NATIONAL_ID,
    "idcardnumber": NATIONAL_ID,
    "identitycard": NATIONAL_ID,
    "identitynumber": NATIONAL_ID,
    "identitydocument": NATIONAL_ID,
    "voterid": NATIONAL_ID,
    "residencepermit": NATIONAL_ID,
}
_CARD_FOLDED = frozenset(
    {
        "cardnumber",
        "ccnumber",
        "creditcard",
        "creditcardnumber",
        "cardno",
        "cardnum",
        "pan",
        "primaryaccountnumber",
        "debitcard",
        "card",
        "cc",
    }
)
_BANK_FOLDED = frozenset(
    {
        "accountnumber",
        "acctnumber",
        "acctno",
        "accountno",
        "bankaccount",
        "bankaccountnumber",
        "routingnumber",
        "routingno",
        "abarouting",
        "aba",
        "sortcode",
        "bsb",
    }
)
# Inside an object named like these, a plain ``number`` or ``name`` is the document's.
DOCUMENT_PARENTS = {
    "passport": PASSPORT,
    "card": CREDIT_CARD,
    "creditcard": CREDIT_CARD,
    "paymentcard": CREDIT_CARD,
    "idcard": NATIONAL_ID,
    "identitycard": NATIONAL_ID,
    "driverlicense": NATIONAL_ID,
    "driverslicense": NATIONAL_ID,
    "drivinglicence": NATIONAL_ID,
    "nationalid": NATIONAL_ID,
    "bank": BANK_ACCOUNT,
    "bankaccount": BANK_ACCOUNT,
    "bankdetails": BANK_ACCOUNT,
}
_DOCUMENT_FIELDS = frozenset({"number", "no", "num", "value", "documentnumber", "id"})
# Parts of an address object that place a person (city and country alone do not).
_ADDRESS_PARTS = frozenset(
    {
        "line",
        "line1",
        "line2",
        "line3",
        "street",
        "street1",
        "street2",
        "streetname",
        "streetaddress",
        "housenumber",
        "house",
        "building",
        "apartment",
        "apt",
        "suite",
        "flat",
        "unit",
        "address1",
        "address2",
        "address3",
        "addressline1",
        "addressline2",
        "addressline3",
        "number",
    }
)


def is_address_key(name: str) -> bool:
    ws = words(name)
    if not ws or ws[-1] in _ADDRESS_LAST_EXEMPT:
        return False
    folded = "".join(ws)
    if folded in _POSTCODE_FOLDED or folded in ("postcode", "zipcode"):
        return True
    if not any(w in _ADDRESS_WORDS or w.startswith("address") for w in ws):
        return False
    return not any(w in _NOT_POSTAL for w in ws)


@lru_cache(maxsize=8192)
def key_rule(name: str, parent: str = "") -> KeyRule | None:
    """The rule for a field ``name`` (inside an object named ``parent``), if any.
    Secrets are not here: ``is_secret_key`` decides those first."""
    ws = words(name)
    if not ws:
        return None
    folded = "".join(ws)
    parent_folded = fold(parent)
    if folded in _DOB_FOLDED or ("birth" in ws and not {"place", "country", "city"} & set(ws)):
        return DATE_OF_BIRTH
    if folded in _NATIONAL:
        return _NATIONAL[folded]
    if "ssn" in ws:
        return US_SSN
    if "passport" in ws and ws[-1] in ("passport", "number", "no", "num", "id"):
        return PASSPORT
    if "iban" in ws:
        return IBAN
    if folded in _CARD_FOLDED or ("card" in ws and ws[-1] in ("number", "no", "num")):
        return CREDIT_CARD
    if folded in _BANK_FOLDED:
        return BANK_ACCOUNT
    if parent_folded in DOCUMENT_PARENTS and folded in _DOCUMENT_FIELDS:
        return DOCUMENT_PARENTS[parent_folded]
    if is_address_key(name):
        return POSTCODE if folded in _POSTCODE_FOLDED else ADDRESS
    if folded in _ADDRESS_PARTS and is_address_key(parent):
        return ADDRESS
    if any(w in _PHONE_WORDS for w in ws) and ws[-1] not in _PHONE_LAST_EXEMPT:
        return PHONE
    if (
        folded in _PERSON_FOLDED
        or ws[-1] in ("holder", "cardholder")
        or (ws[-1] == "name" and len(ws) > 1 and ws[-2] in _PERSON_NAME_QUALIFIERS)
    ):
        return PERSON
    if ws[-1] in PERSON_WORDS or folded in PERSON_WORDS:
        return PERSON_IF_NAME
    return None


def is_person_context(name: str) -> bool:
    """Whether an object named ``name`` is a person (``requested_by``, ``customer``)."""
    ws = words(name)
    return bool(ws) and (ws[-1] in PERSON_WORDS or "contact" in ws)


# Fields that name a thing or a place on its own: what the model calls a person or a
# place there is the company, product or town the field holds (a town alone does
# not locate anyone; a street address is found by its own rules).
_THING_WORDS = frozenset(
    {
        "company",
        "organization",
        "organisation",
        "org",
        "employer",
        "vendor",
        "merchant",
        "supplier",
        "product",
        "title",
        "department",
        "team",
        "brand",
        "city",
        "town",
        "state",
        "country",
        "region",
        "province",
        "county",
        "sku",
        "category",
        "plan",
        "tier",
        "source",
        "status",
        "channel",
        "currency",
        "timezone",
        "locale",
        "language",
    }
)


def names_a_thing(name: str) -> bool:
    ws = words(name)
    return bool(ws) and ws[-1] in _THING_WORDS
