"""Limits on what an agent may send, and the canonical form a grant binds to."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785


def encoded_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON: the size API.md's limits refer to."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def nesting_depth(value: Any) -> int:
    """Containers inside containers: ``1`` is 0, ``[1]`` is 1, ``{"a": [1]}`` is 2.

    Iterative, so hostile input cannot exhaust the stack.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def canonical_sha256(value: Any) -> str:
    """SHA-256 of the RFC 8785 (JCS) form: what an executor recomputes to check a grant.

    Raises ``ValueError`` for what JCS cannot represent exactly (integers beyond
    +/-2**53, non-finite numbers).
    """
    try:
        return hashlib.sha256(rfc8785.dumps(value)).hexdigest()
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(str(exc)) from exc


def has_control_characters(text: str, *, allow_whitespace: bool = False) -> bool:
    for ch in text:
        code = ord(ch)
        if allow_whitespace and ch in "\n\r\t":
            continue
        if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0 or ch in "\u2028\u2029":
            return True
    return False
