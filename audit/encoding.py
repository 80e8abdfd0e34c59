"""The audit log's canonical bytes, fast: orjson where its bytes are RFC 8785's by
construction, ``airlock.canonical.strict_bytes`` (pure-Python ``rfc8785``) for the rest.

For the audit profile (no floats; integers within +/-2**53; string keys) orjson with
``OPT_SORT_KEYS`` writes the same bytes as JCS when every value is a plain ``dict``,
``list``, ``str``, ``int``, ``bool`` or ``None`` and every key is ASCII:

- keys: orjson sorts by UTF-8 bytes (code points), JCS by UTF-16 code units. The two
  orders differ only between a character above U+FFFF and one in U+E000-U+FFFF; for
  ASCII keys they are the same order;
- strings: both escape ``"``, ``\\`` and the control characters below U+0020 (``\\b``
  ``\\t`` ``\\n`` ``\\f`` ``\\r`` short, the others as lowercase ``\\u00xx``) and write
  everything else as UTF-8; a lone surrogate is refused by both;
- integers within 2**53 are decimal digits in both; no floats get this far.

Anything else (a non-ASCII key, a subclass such as an ``IntEnum`` or a ``str``
subclass, a tuple, a float, a huge integer, nesting deeper than orjson takes) goes the
pure-Python way, which also raises the ``NotCanonical`` that says what is wrong.
``tests/audit/test_encoding.py`` checks the equality on generated values.
"""

from __future__ import annotations

from typing import Any

import orjson

from airlock.canonical import MAX_SAFE_INTEGER, strict_bytes
from audit import verify

__all__ = ["data_bytes", "event_canonical", "plain"]

_SORTED = orjson.OPT_SORT_KEYS
_DEPTH = 200  # orjson refuses nesting past 255; deeper values go the pure-Python way


def plain(value: Any) -> bool:
    """Is ``value`` in the subset where orjson's sorted bytes are JCS bytes?"""
    stack = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            return False
        if depth >= _DEPTH:
            return False
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str or not key.isascii():
                    return False
                push((child, depth + 1))
        elif kind is list:
            for child in item:
                push((child, depth + 1))
        else:
            return False
    return True


def data_bytes(value: Any) -> bytes:
    """``strict_bytes(value)``: the same bytes, or the same ``NotCanonical``."""
    if plain(value):
        try:
            return orjson.dumps(value, option=_SORTED)
        except orjson.JSONEncodeError:  # a lone surrogate: strict_bytes says so
            pass
    return strict_bytes(value)


def event_canonical(
    *,
    seq: int,
    at: str,
    event_type: str,
    actor: str,
    target: str,
    data: Any,
    data_is_plain: bool | None = None,
) -> bytes:
    """``audit.verify.event_canonical(..., data_bytes=strict_bytes(data))`` in one
    orjson call when ``data`` is plain (the body's own keys are ASCII, its other
    values strings and an integer); otherwise exactly that. ``data_is_plain``: what
    the caller's own ``plain(data)`` said, so that it is not walked twice."""
    if data_is_plain is None:
        data_is_plain = plain(data)
    if (
        data_is_plain
        and type(seq) is int
        and 0 <= seq <= MAX_SAFE_INTEGER
        and _all_str(at, event_type, actor, target)
    ):
        body = {
            "actor": actor,
            "at": at,
            "data": data,
            "seq": seq,
            "target": target,
            "type": event_type,
        }
        try:
            return orjson.dumps(body, option=_SORTED)
        except orjson.JSONEncodeError:  # a lone surrogate: the slow way raises
            pass
    return verify.event_canonical(
        seq=seq,
        at=at,
        event_type=event_type,
        actor=actor,
        target=target,
        data_bytes=strict_bytes(data),
    )


def _all_str(*values: Any) -> bool:
    return all(type(value) is str for value in values)
