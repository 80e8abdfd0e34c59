"""``screen(payload) -> Screening``: find personal data and secrets in a JSON payload and
mask them, keeping the payload's shape.

The payload is walked once to collect its text: string values, object keys, and
integers long enough to be a card or an account number, and the encoded values
inside them (a ``%40`` in a query string, a ``\u00e9`` in JSON inside a string).
Identical strings are analyzed once, in batches through Presidio's batch analyzer
(spaCy's ``nlp.pipe``), and the budget is checked between batches. Values under keys
that name a secret (``password``, ``api_key``, ``authorization`` ...) are masked
whole, unread.

Then names decide as much as content: a key, a CSV header, a ``KEY=value`` pair, a
header or a query parameter says what its value is (``dob``, ``ssn``, ``address``,
``ADMIN_PW``, a ``name`` under ``requested_by``), and the value is masked whole when
it is that (``sanitization.keys``, ``sanitization.spans``). A key is renamed only
when the key is itself a value that must not be shown.

Findings carry a JSON path, the entity type, a score and offsets into the string;
never the value.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from presidio_analyzer import RecognizerResult

from sanitization import keys, spans
from sanitization.engine import LANGUAGE, Engine, get_engine
from sanitization.keys import is_secret_key
from sanitization.spans import SECRET, Span

# The shortest text worth analyzing: nothing in two characters is personal or secret.
MIN_TEXT = 3
# Integers from here up may be card, account or phone numbers (JSON has no other way
# to carry a long digit string than as a number or a string).
MIN_SCREENED_INTEGER = 10**7

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Screening:
    """The result: ``masked`` is ``None`` when screening did not complete."""

    masked: Any
    findings: list[dict[str, Any]]
    complete: bool = True
    reason: str = ""
    stats: dict[str, Any] = field(default_factory=dict)

    def entity_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding["entity"]] = counts.get(finding["entity"], 0) + 1
        return dict(sorted(counts.items()))


def member_path(parent: str, key: str) -> str:
    if _IDENTIFIER.match(key):
        return f"{parent}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{parent}['{escaped}']"


def _long_integer(value: Any) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and abs(value) >= MIN_SCREENED_INTEGER
    )


def _texts(value: Any) -> Iterator[str]:
    """Every text in ``value`` that will be analyzed (with repeats)."""
    # (value, under a secret-named key): there only the keys are read, and only to
    # mask them (a key is shown, and it is in a finding's path).
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, secret = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                yield key
                stack.append((child, secret or is_secret_key(key)))
        elif isinstance(item, list):
            stack.extend((child, secret) for child in item)
        elif secret:
            continue
        elif isinstance(item, str):
            yield item
        elif _long_integer(item):
            yield str(item)


def needs_screening(payload: Any) -> bool:
    """Whether ``payload`` holds anything screening could find or must mask. (A
    secret-named key is itself a text long enough to count.)"""
    return any(len(text) >= MIN_TEXT for text in _texts(payload))


# Sibling keys that make an object a person's record, and its ``name`` their name.
_PERSON_SIBLINGS = frozenset(
    {
        "email",
        "emailaddress",
        "phone",
        "phonenumber",
        "mobile",
        "dob",
        "dateofbirth",
        "birthdate",
        "ssn",
        "firstname",
        "lastname",
        "address",
        "homeaddress",
        "title",
        "jobtitle",
        "relation",
        "relationship",
        "role",
    }
)
# A name/value pair: {"name": "api_key", "value": "..."}, CloudFormation's
# {"ParameterKey": ..., "ParameterValue": ...}, a HAR header.
_PAIR_NAMES = ("name", "key", "parameterkey", "optionname", "variable", "header", "field", "param")
_PAIR_VALUES = ("value", "parametervalue", "val", "defaultvalue")


def _pair(item: dict[str, Any]) -> tuple[str, str] | None:
    """(name member, value member) when ``item`` is a name/value pair."""
    folded = {keys.fold(k): k for k in item}
    name = next((folded[n] for n in _PAIR_NAMES if n in folded), None)
    value = next((folded[v] for v in _PAIR_VALUES if v in folded), None)
    if name is None or value is None or not isinstance(item[name], str):
        return None
    if not re.fullmatch(r"[A-Za-z_][\w.\-]{0,100}", item[name]):
        return None  # {"name": "Ana Lopez", "value": 3}: the name is a person's
    return name, value


@dataclass(frozen=True)
class _Where:
    """Where a value stands: its member name, the name of the object around it, and
    whether that object is a person's record."""

    key: str = ""
    parent: str = ""
    person: bool = False
    pair_name: bool = False  # the ``name`` of a name/value pair


class _Masker:
    def __init__(self, engine: Engine, results: dict[str, list[RecognizerResult]]):
        self.engine = engine
        self.results = results
        self.findings: list[dict[str, Any]] = []
        self._spans: dict[str, list[Span]] = {}

    def analyzed(self, text: str) -> list[Span]:
        """What the analyzers and the structure inside ``text`` say (cached per text)."""
        cached = self._spans.get(text)
        if cached is None:
            found = spans.filter_results(text, self.results.get(text, ()), spans._parsed(text))
            found += spans.structure_spans(text, found, self.results)
            cached = self._spans[text] = found
        return cached

    def report(self, found: list[Span], path: str, *, key: bool = False) -> None:
        seen = set()
        for span in sorted(found, key=lambda s: (s.start, s.end, s.entity)):
            if (span.start, span.end, span.entity) in seen:
                continue
            seen.add((span.start, span.end, span.entity))
            finding: dict[str, Any] = {
                "path": path,
                "entity": span.entity,
                "score": round(span.score, 2),
                "start": span.start,
                "end": span.end,
            }
            if key:
                finding["key"] = True
            self.findings.append(finding)

    def key(self, key: str, path: str, masked: dict[str, Any]) -> tuple[str, str]:
        """The key as shown, and the member's path. A path is built from the shown
        key only: what a key hides must not come back in a finding's path."""
        found = spans.key_spans(key, self.analyzed(key)) if len(key) >= MIN_TEXT else []
        new_key = spans.apply(key, found) if found else key
        while new_key in masked:  # two keys masked alike stay two members
            new_key += "#"
        member = member_path(path, new_key)
        if found:
            self.report(found, member, key=True)
        return new_key, member

    def value(self, value: Any, path: str, where: _Where = _Where()) -> Any:
        if isinstance(value, dict):
            return self.object(value, path, where)
        if isinstance(value, list):
            return [
                self.value(child, f"{path}[{index}]", where) for index, child in enumerate(value)
            ]
        if isinstance(value, str):
            return self.text(value, path, where)
        if isinstance(value, int) and not isinstance(value, bool):
            shown = self.text(str(value), path, where)
            return value if shown == str(value) else shown
        return value

    def object(self, value: dict[str, Any], path: str, where: _Where) -> dict[str, Any]:
        siblings = {keys.fold(k) for k in value}
        person = keys.is_person_context(where.key) or bool(siblings & _PERSON_SIBLINGS)
        pair = _pair(value)
        masked: dict[str, Any] = {}
        for key, child in value.items():
            new_key, child_path = self.key(key, path, masked)
            name = key
            if pair and key == pair[1]:
                name = value[pair[0]]  # the value member stands under the pair's name
            if is_secret_key(name):
                masked[new_key] = self.secret(child, child_path)
                continue
            child_where = _Where(
                key=name,
                parent=where.key,
                person=person,
                pair_name=bool(pair and key == pair[0]),
            )
            masked[new_key] = self.value(child, child_path, child_where)
        return masked

    def text(self, text: str, path: str, where: _Where) -> str:
        found = list(self.analyzed(text)) if len(text) >= MIN_TEXT else []
        if where.key and keys.names_a_thing(where.key):
            # A company, a product, a city: the model's names and places there are
            # what the field says they are, not a person or an address.
            found = [s for s in found if s.entity not in spans.NER_ENTITIES]
        if where.key and not where.pair_name:
            rule = keys.key_rule(where.key, where.parent)
            if rule is not None and spans.rule_applies(
                rule, text, person_context=where.person or keys.is_person_context(where.parent)
            ):
                found.append(Span(0, len(text), rule.entity, 0.75 if rule.strong else 0.6))
        if not found:
            return text
        self.report(found, path)
        return spans.apply(text, found)

    def secret(self, value: Any, path: str) -> Any:
        """Everything under a secret-named key, masked without being read."""
        if isinstance(value, dict):
            masked: dict[str, Any] = {}
            for key, child in value.items():
                new_key, child_path = self.key(key, path, masked)
                masked[new_key] = self.secret(child, child_path)
            return masked
        if isinstance(value, list):
            return [self.secret(child, f"{path}[{index}]") for index, child in enumerate(value)]
        if value is None or isinstance(value, bool) or value == "":
            return value
        length = len(value) if isinstance(value, str) else len(str(value))
        self.findings.append(
            {"path": path, "entity": SECRET, "score": 1.0, "start": 0, "end": length}
        )
        return f"<{SECRET}>"


def screen(
    payload: Any,
    *,
    engine: Engine | None = None,
    budget_seconds: float | None = None,
    max_chars: int | None = None,
) -> Screening:
    """Mask ``payload``. Pure apart from the engine, which is loaded once per process.

    Over ``max_chars`` of text, or past ``budget_seconds``, the result is incomplete:
    no masked copy, and the caller must hold the request for review.
    """
    config = settings.SCREENING
    budget_seconds = config["BUDGET_SECONDS"] if budget_seconds is None else budget_seconds
    max_chars = config["MAX_TEXT_CHARS"] if max_chars is None else max_chars
    started = time.monotonic()
    unique = list(dict.fromkeys(t for t in _texts(payload) if len(t) >= MIN_TEXT))
    chars = sum(len(t) for t in unique)
    stats: dict[str, Any] = {"texts": len(unique), "chars": chars}
    if chars > max_chars:
        return Screening(None, [], False, f"{chars} characters of text, over {max_chars}", stats)

    # Encoded values inside the texts (query strings, JSON in strings) are read decoded.
    seen = set(unique)
    decoded = dict.fromkeys(d for t in unique for d in spans.decoded_texts(t))
    unique += [d for d in decoded if len(d) >= MIN_TEXT and d not in seen]
    engine = engine or get_engine()
    results: dict[str, list[RecognizerResult]] = {}
    batch = config["BATCH_SIZE"]
    for offset in range(0, len(unique), batch):
        chunk = unique[offset : offset + batch]
        analyzed = engine.batch.analyze_iterator(
            chunk,
            language=LANGUAGE,
            batch_size=batch,
            entities=engine.entities,
            score_threshold=engine.score_threshold,
        )
        for text, found in zip(chunk, analyzed, strict=True):
            if found:
                results[text] = found
        # Checked after each batch: past the budget, no further batch starts.
        if time.monotonic() - started > budget_seconds:
            stats["seconds"] = round(time.monotonic() - started, 3)
            return Screening(
                None, [], False, f"not screened within {budget_seconds} seconds", stats
            )

    masker = _Masker(engine, results)
    masked = masker.value(payload, "$")
    stats["seconds"] = round(time.monotonic() - started, 3)
    return Screening(masked, masker.findings, True, "", stats)
