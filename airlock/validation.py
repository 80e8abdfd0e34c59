"""Limits on what a client may send: sizes, nesting, control characters.

Canonical JSON (what a grant binds to) is ``airlock.canonical``."""

from __future__ import annotations

import json
from typing import Any


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


def has_control_characters(text: str, *, allow_whitespace: bool = False) -> bool:
    for ch in text:
        code = ord(ch)
        if allow_whitespace and ch in "\n\r\t":
            continue
        if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0 or ch in "\u2028\u2029":
            return True
    return False
