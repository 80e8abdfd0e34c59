"""From what the analyzers found and what names say, the spans of a string to mask.

Three sources meet here, per string:

- Presidio's results on the whole string (its recognizers, spaCy's names and places,
  Airlock's credential and personal-data grammar), filtered for the false positives
  that cost reviewers context (a card or NHS number cut out of an order number, a
  licence number inside a hex id, a lower-case word the model called a person);
- the structure inside the string (``sanitization.structure``): a field's name can
  make its whole value a secret, a date of birth, an address...;
- the name the string itself stands under (its JSON key, the object around it).

Overlapping spans are merged into one mask, shown as the strongest entity's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from presidio_analyzer import RecognizerResult

from sanitization import keys
from sanitization.personal import NON_LATIN_NAME, NOT_A_NAME, looks_like_name
from sanitization.structure import SCHEME_VALUE, Field, Parsed, parse

SECRET = "SECRET"  # noqa: S105 (an entity name)
# Entities from the NER model; the others come from expressions and checksums.
NER_ENTITIES = frozenset({"PERSON", "LOCATION", "NRP"})
# Numbers and codes found by shape: never a piece cut out of a longer token.
SHAPE_ENTITIES = frozenset(
    {
        "CREDIT_CARD",
        "UK_NHS",
        "US_BANK_NUMBER",
        "US_DRIVER_LICENSE",
        "US_PASSPORT",
        "MEDICAL_LICENSE",
        "US_ITIN",
        "US_SSN",
        "UK_NINO",
        "PHONE_NUMBER",
        "IBAN_CODE",
        "IP_ADDRESS",
        "CRYPTO",
        "MAC_ADDRESS",
    }
)
# Entities a JSON key may be masked for: a key is renamed only when it is itself a
# value that must not be shown (an address, a card number, a token).
KEY_ENTITIES = frozenset(
    {
        "EMAIL_ADDRESS",
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_SSN",
        "UK_NINO",
        "PHONE_NUMBER",
        "IP_ADDRESS",
        "CRYPTO",
    }
)
_TOKEN_JOINERS = "-_/.#:"  # noqa: S105 (characters, not a password)
# How card numbers are grouped when written with separators (16, 15 and 19 digits).
_CARD_GROUPS = {
    (4, 4, 4, 4),
    (4, 6, 5),
    (4, 6, 4),
    (4, 4, 4, 4, 3),
    (4, 4, 4, 4, 1),
    (4, 4, 4, 4, 2),
    (4, 4, 4, 3),
    (4, 4, 4, 2),
    (4, 4, 4, 1),
}
_CLIP = re.compile(r"[\n\t|]")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    entity: str
    score: float


def _part_of_longer_token(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if before.isalnum() or after.isalnum():
        return True
    if before and before in _TOKEN_JOINERS and start > 1 and text[start - 2].isalnum():
        return True
    return bool(
        after and after in _TOKEN_JOINERS and end + 1 < len(text) and text[end + 1].isalnum()
    )


_VERSION = re.compile(r"\d+(?:\.\d+){2,3}")
_NANP_DOTTED = re.compile(r"\d{3}\.\d{3}\.\d{4}")
_DIGITS_ONLY = re.compile(r"\d{11,}")
_PHONE_CUE = re.compile(r"(?i)(?:call|phone|tel|mobile|cell|sms|whatsapp|fax|dial|to)\W*$")
_SCHEME_WORDS = frozenset(
    {"bearer", "basic", "token", "cookie", "set-cookie", "digest", "negotiate"}
)


def _inside_token(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return before.isalnum() or after.isalnum() or before in "/+=_" or after in "/+=_"


def _card_grouping_ok(value: str) -> bool:
    groups = tuple(len(g) for g in re.split(r"[ \-]+", value.strip()) if g)
    return len(groups) == 1 or groups in _CARD_GROUPS


def is_secret_entity(entity: str) -> bool:
    return entity in (SECRET, "PRIVATE_KEY", "HIGH_ENTROPY_SECRET", "CONNECTION_PASSWORD") or (
        entity.endswith(("_TOKEN", "_KEY", "_SECRET", "_ASSIGNMENT", "_WEBHOOK", "_HASH"))
    )


def filter_results(text: str, results: Iterable[RecognizerResult], parsed: Parsed) -> list[Span]:
    """Presidio's results for ``text``, less the shapes that are pieces of something
    else, with names and places kept inside one line, cell or field."""
    out: list[Span] = []
    for r in results:
        start, end, entity = r.start, r.end, r.entity_type
        value = text[start:end]
        if entity == "EMAIL_ADDRESS":
            # "|" and "," are legal in a local part, and a table's separators.
            local = value.split("@", 1)[0]
            cut = max(local.rfind(c) for c in "|,;\t")
            if cut >= 0:
                start += cut + 1
                value = text[start:end]
        if entity in SHAPE_ENTITIES and _part_of_longer_token(text, start, end):
            continue
        if entity == "CREDIT_CARD" and not _card_grouping_ok(value):
            continue
        if entity in SHAPE_ENTITIES and start > 0 and text[start - 1] == "#":
            continue  # an order, invoice or ticket number
        if entity == "PHONE_NUMBER" and (
            sum(c.isdigit() for c in value) < 7
            or (_VERSION.fullmatch(value) and not _NANP_DOTTED.fullmatch(value))
            or (
                _DIGITS_ONLY.fullmatch(value)
                and not _PHONE_CUE.search(text[max(0, start - 24) : start])
            )
        ):
            continue  # a version, a count, an account id
        if entity in NER_ENTITIES:
            if _inside_token(text, start, end):
                continue  # a piece of a token, an id or base64 the model read as words
            clip = _CLIP.search(value) or (
                parsed.csv_delimiter and re.search(re.escape(parsed.csv_delimiter), value)
            )
            if clip:
                end = start + clip.start()
                value = text[start:end].rstrip()
                end = start + len(value)
                if end <= start:
                    continue
            # A lower-case word the small model took for a name (keys, code, slugs).
            if not re.search(r"[A-Z]", value) and not re.search(NON_LATIN_NAME, value):
                continue
            if any(c.isdigit() for c in value) or "=" in value or "@" in value:
                continue
            if len(value) <= 3 and value.isupper():
                continue  # GB, NI, CSV: codes, not names
            words = [w.lower().strip(".,") for w in value.split()]
            if entity == "PERSON" and any(w in NOT_A_NAME for w in words if len(w) > 2):
                continue  # "Globex Ltd", "Churn Dashboard"
            if all(w in NOT_A_NAME or w in _SCHEME_WORDS for w in words):
                continue  # "Bearer", "Cookie"
            if parsed.csv_header and "\n" in text and start < text.index("\n"):
                continue  # a table's header row
        out.append(Span(start, end, entity, float(r.score)))
    return out


# Words of field labels written out ("First Name", "Date Of Birth"): a key of them
# is a label, not a person.
_LABEL_WORDS = frozenset(
    [
        "name",
        "names",
        "first",
        "last",
        "middle",
        "full",
        "given",
        "family",
        "email",
        "mail",
        "address",
        "phone",
        "mobile",
        "number",
        "date",
        "birth",
        "title",
        "job",
        "city",
        "country",
        "state",
        "code",
        "id",
        "type",
        "status",
        "total",
        "amount",
        "price",
        "count",
        "description",
        "notes",
        "note",
        "comment",
        "comments",
        "company",
        "street",
        "zip",
        "postal",
        "postcode",
        "region",
    ]
)


def is_name_key(key: str) -> bool:
    """Whether a JSON key is itself a person's name ("Ana Lopez": {...})."""
    text = key.strip()
    return (
        " " in text
        and looks_like_name(text)
        and not any(w.lower().strip(".") in _LABEL_WORDS for w in text.split())
    )


def key_spans(key: str, spans: list[Span]) -> list[Span]:
    """What may rename a JSON key: values that must not be shown, never a key's words
    that a model took for a name or a place (``sku``, ``conn``)."""
    out = []
    name_key = is_name_key(key)
    if name_key and not any(s.entity == "PERSON" for s in spans):
        out.append(Span(0, len(key), "PERSON", 0.6))
    for span in spans:
        if (
            span.entity in KEY_ENTITIES
            or is_secret_entity(span.entity)
            or (span.entity == "PERSON" and name_key)
            or span.entity in ("DATE_OF_BIRTH", "ADDRESS", "PASSPORT", "NATIONAL_ID")
        ):
            out.append(span)
    return out


# -- what a name says about a value ------------------------------------------------------------


def _digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


def rule_applies(rule: keys.KeyRule, value: str, *, person_context: bool = False) -> bool:
    """Whether ``value`` is what ``rule`` says a field of that name holds."""
    text = value.strip()
    if not text or len(text) > 400:
        return False
    entity = rule.entity
    if entity == "PERSON":
        if "@" in text or "://" in text:
            return False  # an address or a link: its own recognizers decide
        if rule.strong:
            return len(text) <= 120 and any(c.isalpha() for c in text)
        return looks_like_name(text, single=person_context)
    if entity == "DATE_OF_BIRTH":
        return _digits(text) >= 2 and len(text) <= 40
    if entity == "ADDRESS":
        if "@" in text or "://" in text or (re.fullmatch(r"[\d.:a-fA-F]+", text) and ":" in text):
            return False
        if re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", text):
            return False
        return any(c.isalnum() for c in text) and (_digits(text) >= 1 or " " in text)
    if entity == "PHONE_NUMBER":
        return 7 <= _digits(text) <= 20 and sum(c.isalpha() for c in text) <= 3
    if entity in ("US_SSN", "UK_NINO", "PASSPORT", "NATIONAL_ID"):
        alnum = sum(c.isalnum() for c in text)
        if not 4 <= alnum <= 24 or len(text) > 32:
            return False
        # A number, or a document code in capitals ("C01X00T47", "FXFHZMHNJ").
        return _digits(text) >= 3 or re.fullmatch(r"[A-Z0-9][A-Z0-9 \-]{4,22}", text) is not None
    if entity == "CREDIT_CARD":
        return 12 <= _digits(text) <= 19 and re.fullmatch(r"[\d \-]+", text) is not None
    if entity == "IBAN_CODE":
        compact = text.replace(" ", "")
        return re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", compact) is not None
    if entity == "BANK_ACCOUNT":
        return 6 <= _digits(text) <= 20 and re.fullmatch(r"[\d \-]+", text) is not None
    return True


_NOT_A_VALUE = frozenset(
    {"", "null", "none", "true", "false", "nil", "undefined", "***", "<redacted>"}
)
_TOKEN_LIKE = re.compile(r"(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9%+/=_.\-:]{16,}")


def secret_span(text: str, start: int, end: int) -> Span | None:
    """The secret in a field's value: all of it, less an ``Authorization`` scheme word."""
    value = text[start:end]
    if value.strip().lower() in _NOT_A_VALUE:
        return None
    scheme = SCHEME_VALUE.match(value)
    if scheme and scheme.end() < len(value):
        start += scheme.end()
    return Span(start, end, SECRET, 1.0)


def _field_spans(
    text: str, field: Field, decoded_results: dict[str, list[RecognizerResult]]
) -> list[Span]:
    value = field.decoded if field.decoded is not None else text[field.start : field.end]
    name = field.name
    out: list[Span] = []
    if field.kind == "cookie":
        cookie = keys.words(name)
        if (
            keys.is_secret_key(name)
            or any(
                w in ("session", "sess", "sid", "auth", "remember", "jwt", "login") for w in cookie
            )
            or _TOKEN_LIKE.fullmatch(value)
        ):
            span = secret_span(text, field.start, field.end)
            return [span] if span else []
        return []
    if name and keys.is_secret_key(name):
        span = secret_span(text, field.start, field.end)
        return [span] if span else []
    if name:
        rule = keys.key_rule(name, field.parent)
        person_context = keys.is_person_context(field.parent)
        if rule is not None and rule_applies(rule, value, person_context=person_context):
            out.append(Span(field.start, field.end, rule.entity, 0.75 if rule.strong else 0.6))
    if field.decoded is not None:
        found = decoded_results.get(field.decoded) or []
        if found:
            best = max(found, key=lambda r: r.score)
            out.append(Span(field.start, field.end, best.entity_type, float(best.score)))
    return out


# Parsed texts, kept for the next few payloads (the same status words, hosts and
# templates recur); long texts are parsed again rather than kept.
_PARSED: dict[str, Parsed] = {}
_PARSED_MAX = 4096
_PARSED_LONGEST = 4096


def _parsed(text: str) -> Parsed:
    parsed = _PARSED.get(text)
    if parsed is None:
        parsed = parse(text)
        if len(text) <= _PARSED_LONGEST:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[text] = parsed
    return parsed


def structure_spans(
    text: str,
    analyzed: list[Span],
    decoded_results: dict[str, list[RecognizerResult]],
) -> list[Span]:
    """Spans that the named fields inside ``text`` call for."""
    parsed = _parsed(text)
    out: list[Span] = []
    for field in parsed.fields:
        out.extend(_field_spans(text, field, decoded_results))
    if parsed.csv_delimiter and not parsed.csv_header:
        # A table without a header: a name-shaped cell in a row that also holds an
        # e-mail address or a phone number is a person's name.
        rows: dict[int, list[Field]] = {}
        for field in parsed.fields:
            rows.setdefault(field.row, []).append(field)
        contact = [s for s in analyzed if s.entity in ("EMAIL_ADDRESS", "PHONE_NUMBER")]
        for cells in rows.values():
            if not any(c.start <= s.start and s.end <= c.end for c in cells for s in contact):
                continue
            for cell in cells:
                if looks_like_name(text[cell.start : cell.end]):
                    out.append(Span(cell.start, cell.end, "PERSON", 0.6))
    return out


def decoded_texts(text: str) -> list[str]:
    """The decoded values inside ``text`` that must be analyzed on their own."""
    return [f.decoded for f in _parsed(text).fields if f.decoded]


def merge(spans: list[Span]) -> list[Span]:
    """Overlapping spans as one, named for the strongest (then the longest)."""
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    merged: list[list[Span]] = []
    for span in ordered:
        if merged and span.start < max(s.end for s in merged[-1]):
            merged[-1].append(span)
        else:
            merged.append([span])
    out = []
    for group in merged:
        # What a name or a rule says beats what the model guessed; then the score.
        best = max(group, key=lambda s: (s.entity not in NER_ENTITIES, s.score, s.end - s.start))
        out.append(Span(group[0].start, max(s.end for s in group), best.entity, best.score))
    return out


def apply(text: str, spans: list[Span]) -> str:
    pieces = []
    cursor = 0
    for span in merge(spans):
        pieces.append(text[cursor : span.start])
        pieces.append(f"<{span.entity}>")
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)
