"""The package's log part: the period's events tied to one signed checkpoint.

A package carries the events of its ``seq`` range and only what ties them to the
checkpoint that covers the range: the Merkle frontier before the range (one hash
per set bit of its size), an RFC 6962 consistency proof from the tree that ends
with the range to the checkpoint's tree, and an inclusion proof per sampled event.
Those are O(log n) hashes each, however much of the log lies after the period.

The hashes the proofs need are the roots of subtrees ``[a, b)``; they are collected
while the leaves stream by (the range's with its events, the later ones after it),
so no level of the tree is ever held whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from hashlib import sha256
from typing import Any

from airlock import canonical
from audit.verify import Frontier, node_hash
from evidence import events as log_events
from evidence.package import BuildError, Package


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1): RFC 6962's split."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def _power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees whose roots make PATH(index, D[0:size]), leaf first."""
    ranges: list[tuple[int, int]] = []
    a, b = 0, size
    while b - a > 1:
        k = _split(b - a)
        if index < a + k:
            ranges.append((a + k, b))
            b = a + k
        else:
            ranges.append((a, a + k))
            a = a + k
    return list(reversed(ranges))


def consistency_ranges(old: int, size: int) -> list[tuple[int, int]]:
    """The subtrees whose roots make PROOF(old, D[0:size]) (RFC 6962 section 2.1.2)."""
    ranges: list[tuple[int, int]] = []

    def sub(m: int, a: int, b: int, whole: bool) -> None:
        if m == b - a:
            if not whole:
                ranges.append((a, b))
            return
        k = _split(b - a)
        if m <= k:
            sub(m, a, a + k, whole)
            ranges.append((a + k, b))
        else:
            sub(m - k, a + k, b, False)
            ranges.append((a, a + k))

    if 0 < old < size:
        sub(old, 0, size, True)
    return ranges


def _perfect(ranges: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The perfect (power-of-two) subtrees a set of RFC 6962 subtrees is made of."""
    out: set[tuple[int, int]] = set()
    stack = list(ranges)
    while stack:
        a, b = stack.pop()
        if _power_of_two(b - a):
            out.add((a, b))
        else:
            k = _split(b - a)
            stack += [(a, a + k), (a + k, b)]
    return out


class Subtrees:
    """Roots of the perfect subtrees some proofs need, caught as leaves are appended
    after ``before`` (the frontier of the leaves ahead of the range)."""

    def __init__(self, before: Frontier, ranges: Iterable[tuple[int, int]]):
        self.ranges = list(ranges)
        wanted = _perfect(self.ranges)
        # Wanted subtrees by where they end: one look-up per appended leaf.
        self.ending: dict[int, set[int]] = {}
        for a, b in wanted:
            self.ending.setdefault(b, set()).add(b - a)
        self.found: dict[tuple[int, int], bytes] = {}
        self.hashes = list(before.hashes)  # the frontier: roots of perfect subtrees
        start = 0
        for bit, node in zip(_bits(before.size), before.hashes, strict=True):
            if (start, start + bit) in wanted:
                self.found[(start, start + bit)] = node
            start += bit
        self.size = before.size

    def append(self, leaf: bytes) -> None:
        index = self.size
        self.size = end = index + 1
        sizes = self.ending.get(end)
        if sizes is not None and 1 in sizes:
            self.found[(index, end)] = leaf
        node, size, n, hashes = leaf, 1, index, self.hashes
        while n & 1:
            node = sha256(b"\x01" + hashes.pop() + node).digest()
            size <<= 1
            if sizes is not None and size in sizes:
                self.found[(end - size, end)] = node
            n >>= 1
        hashes.append(node)

    def root_of(self, a: int, b: int) -> bytes:
        """MTH(D[a:b]) for a subtree of an RFC 6962 decomposition."""
        if (a, b) in self.found:
            return self.found[(a, b)]
        if _power_of_two(b - a):
            raise LookupError(f"the subtree [{a}, {b}) was not among the leaves streamed")
        k = _split(b - a)
        return node_hash(self.root_of(a, a + k), self.root_of(a + k, b))


def _bits(size: int) -> list[int]:
    """The sizes of the perfect subtrees of a tree of ``size`` leaves, largest first."""
    return [1 << i for i in range(size.bit_length() - 1, -1, -1) if size >> i & 1]


def write_log(
    package: Package,
    seq_from: int,
    seq_to: int,
    checkpoint: Any,
    sampled_seqs: list[int],
    see: Callable[[int, str, str, str, str], None],
) -> dict[str, Any]:
    """Stream the range's events into ``audit/events.jsonl`` (handing each to ``see``),
    then write ``audit/range.json``, the checkpoint, and the sample's inclusion proofs.
    Returns what the manifest says of the log."""
    size = checkpoint.tree_size
    before = log_events.frontier_at(seq_from - 1)
    ranges = consistency_ranges(seq_to, size)
    for seq in sampled_seqs:
        ranges += inclusion_ranges(seq - 1, size)
    tree = Subtrees(before, ranges)
    wanted = set(sampled_seqs)
    proven: dict[int, tuple[str, str]] = {}
    expected = seq_from
    with package.member("audit/events.jsonl") as member:
        member.rows = 0
        buffer: list[bytes] = []
        for seq, kind, actor, target, text, leaf in log_events.stream(seq_from, seq_to):
            if seq != expected:
                raise BuildError(f"the audit log has no sequenced event {expected}")
            expected += 1
            buffer.append(text.encode("utf-8"))
            if len(buffer) == 2000:
                member.write(b"\n".join(buffer) + b"\n")
                buffer.clear()
            tree.append(bytes.fromhex(leaf))
            see(seq, kind, actor, target, text)
            if seq in wanted:
                proven[seq] = (text, leaf)
        if buffer:
            member.write(b"\n".join(buffer) + b"\n")
        member.rows = expected - seq_from
    if expected != seq_to + 1:
        raise BuildError(f"the audit log has no sequenced event {expected}")
    # The leaves between the range and the checkpoint: read, never carried.
    for leaf_bytes in log_events.leaves(after=seq_to, up_to=size):
        tree.append(leaf_bytes)
    if tree.size != size:
        raise BuildError(f"the audit log holds {tree.size} events, its checkpoint {size}")
    context = {
        "seq_from": seq_from,
        "seq_to": seq_to,
        "checkpoint_size": size,
        "frontier_before": before.to_json(),
        "chain_hash_before": log_events.chain_hash_at(seq_from - 1),
        "chain_hash_after": log_events.chain_hash_at(seq_to),
        "consistency": [tree.root_of(a, b).hex() for a, b in consistency_ranges(seq_to, size)],
    }
    package.write("audit/range.json", canonical.strict_bytes(context))
    package.write("audit/checkpoint.note", checkpoint.note.encode("utf-8"))
    for seq in sampled_seqs:
        text, leaf = proven[seq]
        proof = {
            "seq": seq,
            "leaf_index": seq - 1,
            "tree_size": size,
            "leaf_hash": leaf,
            "canonical": text,
            "proof": [tree.root_of(a, b).hex() for a, b in inclusion_ranges(seq - 1, size)],
            "checkpoint": checkpoint.note,
        }
        # The shape of GET /api/v1/audit/events/{seq}/proof: `verify.py proof` reads it too.
        package.write(f"proofs/{seq}.json", json.dumps(proof, indent=1).encode())
    return {"consistency_hashes": len(context["consistency"])}
