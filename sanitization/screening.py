"""``screen(payload) -> Screening``: find personal data and secrets in a JSON payload and
mask them, keeping the payload's shape.

The payload is walked once to collect its text: string values, object keys, and
integers long enough to be a card or an account number. Identical strings are
analyzed once, in batches through Presidio's batch analyzer (spaCy's ``nlp.pipe``),
and the budget is checked between batches. Values under keys that name a secret
(``password``, ``api_key``, ``authorization`` ...) are masked whole, unread.

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

from sanitization.engine import LANGUAGE, Engine, get_engine
from sanitization.recognizers import is_person_name_key, is_secret_key

SECRET = "SECRET"  # noqa: S105 (an entity name)
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


class _Masker:
    def __init__(self, engine: Engine, results: dict[str, list[RecognizerResult]]):
        self.engine = engine
        self.results = results
        self.findings: list[dict[str, Any]] = []
        self._masked_text: dict[str, str] = {}

    def text(self, text: str, path: str) -> str:
        results = self.results.get(text)
        if not results:
            return text
        self.report(results, path)
        return self.masked_text(text, results)

    def report(self, results: list[RecognizerResult], path: str, *, key: bool = False) -> None:
        for result in sorted(results, key=lambda r: (r.start, r.end, r.entity_type)):
            finding: dict[str, Any] = {
                "path": path,
                "entity": result.entity_type,
                "score": round(float(result.score), 2),
                "start": result.start,
                "end": result.end,
            }
            if key:
                finding["key"] = True
            self.findings.append(finding)

    def masked_text(self, text: str, results: list[RecognizerResult]) -> str:
        if text not in self._masked_text:
            self._masked_text[text] = self.engine.anonymizer.anonymize(
                text=text,
                analyzer_results=results,  # type: ignore[arg-type]
            ).text
        return self._masked_text[text]

    def key(self, key: str, path: str, masked: dict[str, Any]) -> tuple[str, str]:
        """The key as shown, and the member's path. A path is built from the shown
        key only: what a key hides must not come back in a finding's path."""
        results = self.results.get(key)
        new_key = self.masked_text(key, results) if results else key
        while new_key in masked:  # two keys masked alike stay two members
            new_key += "#"
        member = member_path(path, new_key)
        if results:
            self.report(results, member, key=True)
        return new_key, member

    def value(self, value: Any, path: str) -> Any:
        if isinstance(value, dict):
            masked: dict[str, Any] = {}
            for key, child in value.items():
                new_key, child_path = self.key(key, path, masked)
                if is_secret_key(key):
                    masked[new_key] = self.secret(child, child_path)
                elif is_person_name_key(key) and isinstance(child, str) and child.strip():
                    masked[new_key] = self.whole(child, child_path, "PERSON", 0.7)
                else:
                    masked[new_key] = self.value(child, child_path)
            return masked
        if isinstance(value, list):
            return [self.value(child, f"{path}[{index}]") for index, child in enumerate(value)]
        if isinstance(value, str):
            return self.text(value, path)
        if _long_integer(value) and self.results.get(str(value)):
            return self.text(str(value), path)
        return value

    def whole(self, text: str, path: str, entity: str, score: float) -> str:
        """A value that is one entity by what its key says it is."""
        self.text(text, path)  # whatever else it holds is reported too
        self.findings.append(
            {"path": path, "entity": entity, "score": score, "start": 0, "end": len(text)}
        )
        return f"<{entity}>"

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
