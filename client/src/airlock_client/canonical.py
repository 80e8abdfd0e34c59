"""Canonical JSON (RFC 8785, JCS) and the digests built on it: the one place Airlock
turns a value into bytes that someone else must reproduce.

- ``payload_sha256``: what a grant binds to and an executor recomputes, in any
  language, from the payload it is about to run.
- ``fingerprint``: an idempotent retry is recognised by the digest of its body.
- ``strict_bytes``: the bytes of an audit event's data, in the audit log's profile of
  JCS (no floats: their JCS form needs an ES6 number printer that an auditor's tools
  may not have; integers within +/-2**53; string keys).

The one implementation: the server re-exports it as ``airlock.canonical``, so the
bytes an executor hashes are the bytes the server signed. Standard library plus
``rfc8785`` only: no Django, Presidio or spaCy.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

MAX_SAFE_INTEGER = 2**53 - 1


class NotCanonical(ValueError):
    """The value has no canonical form (a float where none is allowed, an integer
    JCS cannot represent exactly, a key that is not a string, a lone surrogate)."""


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of ``value`` (floats allowed, in their ES6 form)."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, TypeError) as exc:
        raise NotCanonical(str(exc)) from exc


def strict_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of ``value`` in the audit profile: no floats anywhere."""
    _refuse_floats(value)
    return canonical_bytes(value)


def sha256_hex(value: Any) -> str:
    """SHA-256 (hex) of the RFC 8785 bytes of ``value``."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


def payload_sha256(payload: Any) -> str:
    """The digest a grant carries as ``payload_sha256``."""
    return sha256_hex(payload)


def fingerprint(body: Any) -> str:
    """The digest an ``Idempotency-Key`` replay is compared by."""
    return sha256_hex(body)


def _refuse_floats(value: Any) -> None:
    # Iterative: hostile nesting cannot exhaust the stack.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        if isinstance(item, int):
            if abs(item) > MAX_SAFE_INTEGER:
                raise NotCanonical("integers in audit events must be within +/-2**53")
            continue
        if isinstance(item, float):
            raise NotCanonical("audit events hold no floats")
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                raise NotCanonical("audit event keys must be strings")
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            raise NotCanonical(f"cannot put {type(item).__name__} in an audit event")
