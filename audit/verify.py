#!/usr/bin/env python3
"""Verify an Airlock audit log without Airlock: standard library plus ``cryptography``.

An auditor runs it on an export (``GET /api/v1/audit/export``) and the published keys
(``/.well-known/airlock-audit-keys``), obtained separately from the log:

    python verify.py log export.jsonl --keys keys.json
    python verify.py proof proof.json --keys keys.json

Airlock imports this module for the same checks (``manage.py audit_verify``), so the
auditor's verifier and the server's are one piece of code.

- Canonical bytes: RFC 8785 (JCS) for JSON without floats: keys sorted by UTF-16
  code units, no insignificant whitespace, UTF-8, minimal escaping (written by
  ``airlock/canonical.py``; the verifier hashes the bytes as stored).
- Leaf hash: RFC 6962, SHA-256(0x00 || canonical bytes).
- Chain hash: SHA-256(previous chain hash || leaf hash), from 32 zero bytes.
- Merkle tree hash: RFC 6962 (MTH), with inclusion proofs (PATH) and their check.
- Checkpoints: the C2SP signed-note format with an Ed25519 key, body
  ``<origin>\n<tree size>\n<base64 root>\n<hex chain hash>\n``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

try:  # Optional: parses 3-4x faster. Anything it refuses is re-checked with json.
    from orjson import loads as _fast_loads
except ImportError:  # the auditor's machine: standard library only
    _fast_loads = json.loads  # type: ignore[assignment]

GENESIS = bytes(32)
ED25519_ALG = 0x01


# --- canonical bytes ------------------------------------------------------------------
# An event's ``data`` is encoded by Airlock (``airlock/canonical.py``, RFC 8785); the
# verifier never re-encodes JSON: it hashes the stored bytes and checks that they name
# the sequence number they are stored under.


def event_canonical(
    *, seq: int, at: str, event_type: str, actor: str, target: str, data_bytes: bytes
) -> bytes:
    """``canonical(event body)`` from the already canonical bytes of its ``data``: the
    body's keys are fixed, and in JCS order they are actor, at, data, seq, target, type."""

    def text(value: str) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")

    return b"".join(
        (
            b'{"actor":',
            text(actor),
            b',"at":',
            text(at),
            b',"data":',
            data_bytes,
            b',"seq":',
            str(int(seq)).encode(),
            b',"target":',
            text(target),
            b',"type":',
            text(event_type),
            b"}",
        )
    )


# --- hashes ---------------------------------------------------------------------------


def leaf_hash(canonical_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + canonical_bytes).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()


_BLOCK_BITS = 10
_BLOCK = 1 << _BLOCK_BITS


class Frontier:
    """The right edge of an RFC 6962 tree: the roots of its perfect subtrees, largest
    first. Appending is O(log n); the root of all leaves so far is O(log n)."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        self.size = size
        self.hashes = list(hashes)  # one per set bit of size, from the highest

    def append(self, leaf: bytes) -> None:
        node, size = leaf, self.size
        while size & 1:
            node = node_hash(self.hashes.pop(), node)
            size >>= 1
        self.hashes.append(node)
        self.size += 1

    def extend(self, leaves: Sequence[bytes]) -> None:
        """``append`` each leaf, faster: whole aligned blocks of ``_BLOCK`` leaves are
        hashed level by level and join the frontier as one perfect subtree."""
        i, n = 0, len(leaves)
        while i < n and self.size % _BLOCK:
            self.append(leaves[i])
            i += 1
        sha = hashlib.sha256
        while n - i >= _BLOCK:
            level = leaves[i : i + _BLOCK]
            while len(level) > 1:
                pairs = iter(level)
                level = [
                    sha(b"\x01" + left + right).digest()
                    for left, right in zip(pairs, pairs, strict=False)
                ]
            node, size = level[0], self.size >> _BLOCK_BITS
            while size & 1:
                node = node_hash(self.hashes.pop(), node)
                size >>= 1
            self.hashes.append(node)
            self.size += _BLOCK
            i += _BLOCK
        for leaf in leaves[i:]:
            self.append(leaf)

    def join(self, other: Frontier) -> None:
        """Append the leaves ``other`` holds (a tree started on its own), given only
        its frontier: this tree's size must be a multiple of a power of two above
        ``other``'s size, so its subtrees follow this one's as they are."""
        for node, level in zip(other.hashes, other._levels(), strict=True):
            if self.size % (1 << level):
                raise ValueError("joining a frontier at an unaligned size")
            size = self.size >> level
            while size & 1:
                node = node_hash(self.hashes.pop(), node)
                size >>= 1
            self.hashes.append(node)
            self.size += 1 << level

    def _levels(self) -> list[int]:
        return [bit for bit in range(self.size.bit_length() - 1, -1, -1) if self.size >> bit & 1]

    def root(self) -> bytes:
        if not self.hashes:
            return hashlib.sha256(b"").digest()
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = node_hash(left, node)
        return node

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "hashes": [h.hex() for h in self.hashes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frontier:
        return cls(int(data["size"]), [bytes.fromhex(h) for h in data["hashes"]])


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


def _largest_power_of_two_below(n: int) -> int:
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 PATH(index, leaves): the sibling hashes from the leaf up."""
    if not 0 <= index < len(leaves):
        raise IndexError("leaf index outside the tree")
    if len(leaves) == 1:
        return []
    k = _largest_power_of_two_below(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), merkle_root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), merkle_root(leaves[:k])]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2: recompute the root from a leaf and its path."""
    if not 0 <= index < size:
        return False
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == root


# --- signed notes ---------------------------------------------------------------------


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    raw = public_key.public_bytes_raw()
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519_ALG]) + raw).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    chain: bytes

    def body(self) -> str:
        root = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.size}\n{root}\n{self.chain.hex()}\n"


def sign_checkpoint(checkpoint: Checkpoint, name: str, key: Ed25519PrivateKey) -> str:
    body = checkpoint.body()
    signature = key.sign(body.encode())
    blob = base64.b64encode(key_id(name, key.public_key()) + signature).decode()
    return f"{body}\n\u2014 {name} {blob}\n"


class NoteError(ValueError):
    pass


def open_checkpoint(note: str, keys: dict[str, Ed25519PublicKey]) -> tuple[Checkpoint, str]:
    """The checkpoint in ``note`` and the name of the key that signed it, if a known
    key's signature verifies; ``NoteError`` otherwise."""
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise NoteError("not a signed note")
    body += "\n"
    lines = body.split("\n")
    if len(lines) < 5:
        raise NoteError("the checkpoint body is too short")
    try:
        checkpoint = Checkpoint(
            lines[0],
            int(lines[1]),
            base64.b64decode(lines[2], validate=True),
            bytes.fromhex(lines[3]),
        )
    except ValueError as exc:
        raise NoteError(f"malformed checkpoint body: {exc}") from exc
    if checkpoint.body() != body:
        raise NoteError("the checkpoint body is not in canonical form")
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            continue
        try:
            name, blob = line[2:].rsplit(" ", 1)
            raw = base64.b64decode(blob, validate=True)
        except ValueError:
            continue
        key = keys.get(name)
        if key is None or raw[:4] != key_id(name, key):
            continue
        try:
            key.verify(raw[4:], body.encode())
        except InvalidSignature:
            continue
        return checkpoint, name
    raise NoteError("no signature by a known key verifies")


def load_private_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 key as 32 raw bytes in base64 (``AUDIT_SIGNING_KEY``) or PEM."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        key = load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the audit signing key must be Ed25519")
        return key
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))


# --- verifying a whole log ------------------------------------------------------------


@dataclass
class Result:
    ok: bool = True
    events: int = 0
    head: str | None = None
    first_bad_seq: int | None = None
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    def fail(self, seq: int | None, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head": self.head,
            "first_bad_seq": self.first_bad_seq,
            "checkpoints": self.checkpoints,
            "problems": self.problems,
        }


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def key_table(published: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        entry["name"]: {
            "key": public_key_from_b64(entry["public_key"]),
            "not_before": _parse_time(entry.get("not_before")),
            "not_after": _parse_time(entry.get("not_after")),
        }
        for entry in published
    }


_DISPLAY = (
    ("at", "at"),
    ("type", "event_type"),
    ("actor", "actor"),
    ("target", "target"),
    ("data", "data"),
)


def _open_checkpoints(
    checkpoints: Sequence[dict[str, Any]], published_keys: Iterable[dict[str, Any]], result: Result
) -> list[Checkpoint]:
    table = key_table(published_keys)
    keys = {name: entry["key"] for name, entry in table.items()}
    sealed: list[tuple[Checkpoint, str]] = []
    for row in checkpoints:
        try:
            checkpoint, name = open_checkpoint(row["note"], keys)
        except NoteError as exc:
            result.fail(None, f"checkpoint at size {row.get('tree_size')}: {exc}")
            continue
        signed_at = _parse_time(row.get("created_at"))
        validity = table[name]
        if signed_at and (
            (validity["not_before"] and signed_at < validity["not_before"])
            or (validity["not_after"] and signed_at > validity["not_after"])
        ):
            result.fail(
                None, f"checkpoint at size {checkpoint.size}: signed outside {name}'s validity"
            )
            continue
        sealed.append((checkpoint, row.get("created_at") or ""))
    by_time = sorted(sealed, key=lambda pair: pair[1])
    for (earlier, _), (later, _) in itertools.pairwise(by_time):
        if later.size < earlier.size:
            result.fail(None, f"checkpoints went backwards: {earlier.size} then {later.size}")
    result.checkpoints = len(sealed)
    return sorted((checkpoint for checkpoint, _ in sealed), key=lambda c: c.size)


def _event_problem(event: dict[str, Any], seq: int, previous: bytes) -> tuple[str | None, bytes]:
    """What is wrong with one event (None if nothing), and its leaf hash."""
    try:
        canonical_bytes = event["canonical"].encode("utf-8")
        body = json.loads(canonical_bytes)
    except (ValueError, TypeError, AttributeError):
        return f"event {seq}: canonical bytes are not JSON", b""
    leaf = leaf_hash(canonical_bytes)
    if not isinstance(body, dict) or body.get("seq") != seq:
        return f"event {seq}: its canonical bytes are for another sequence number", leaf
    # The leaf hash covers the stored bytes exactly as stored, so re-encoding them to
    # check they are canonical would prove nothing more (and was half the time).
    differ = [
        column for key, column in _DISPLAY if column in event and event[column] != body.get(key)
    ]
    if differ:
        return (
            f"event {seq}: displayed fields differ from what was hashed ({', '.join(differ)})",
            leaf,
        )
    if event["leaf_hash"] != leaf.hex():
        return f"event {seq}: leaf hash does not match its bytes", leaf
    if event["prev_hash"] != previous.hex():
        return f"event {seq}: does not link to event {seq - 1}", leaf
    if event["chain_hash"] != chain_hash(previous, leaf).hex():
        return f"event {seq}: chain hash is wrong", leaf
    return None, leaf


# The columns of an event row, in the order ``verify_rows`` takes them. ``ABSENT`` in
# a displayed column (at, event_type, actor, target, data) means "not given".
ROW_COLUMNS = (
    "seq",
    "at",
    "event_type",
    "actor",
    "target",
    "data",
    "canonical",
    "leaf_hash",
    "prev_hash",
    "chain_hash",
)
ABSENT: Any = object()
_FLUSH = 8 * _BLOCK  # leaves buffered before they join the Merkle frontier


def verify_log(
    events: Iterable[dict[str, Any]],
    checkpoints: Sequence[dict[str, Any]],
    published_keys: Iterable[dict[str, Any]],
) -> Result:
    """Recompute every leaf, chain link and checkpointed Merkle root.

    ``events`` in sequence order, each with seq, canonical, leaf_hash, prev_hash and
    chain_hash (and, when present, the displayed fields, which must match the
    canonical bytes). ``checkpoints`` with note and created_at. The first bad
    sequence is exact for a changed, missing or reordered event; for a suffix
    rewritten with fresh hashes only a checkpoint can tell, and the first bad
    sequence is the first one after the last checkpoint that still verifies.
    """
    rows = (tuple(event.get(column, ABSENT) for column in ROW_COLUMNS) for event in events)
    return verify_rows(rows, checkpoints, published_keys)


@dataclass
class RangeCheck:
    """What ``check_range`` found in consecutive events: how many verified, their
    leaves, the chain hash after the last one, the chain hash after each event
    asked for in ``marks``, the sequence number expected next, and the first
    problem (its sequence number and what is wrong), if any."""

    events: int
    leaves: list[bytes]
    previous: bytes
    marked: dict[int, bytes]
    expected: int
    problem: tuple[int, str] | None = None


def check_range(
    rows: Iterable[Sequence[Any]],
    expected: int,
    previous: bytes,
    *,
    marks: frozenset[int] = frozenset(),
    data_as_text: bool = False,
) -> RangeCheck:
    """Every per-event check of ``_event_problem``, in one tight loop: rows in
    ``ROW_COLUMNS`` order from sequence number ``expected``, chained from
    ``previous``. The first row any check doubts is handed to ``_event_problem``,
    which names the problem. ``data_as_text``: ``data`` comes as JSON text (a
    database column), parsed here. Stops at the first problem."""
    leaves: list[bytes] = []
    marked: dict[int, bytes] = {}
    previous_hex = previous.hex()
    sha, loads, absent = hashlib.sha256, _fast_loads, ABSENT
    count = 0
    for row in rows:
        seq, at, event_type, actor, target, data, canonical, leaf_hex, prev_hex, chain_hex = row
        seq = int(seq)
        if seq != expected:
            message = f"event {expected} is missing (the next one is {seq})"
            return RangeCheck(count, leaves, previous, marked, expected, (expected, message))
        try:
            raw = canonical.encode("utf-8")
            body = loads(raw)
            leaf = sha(b"\x00" + raw).digest()
            link = sha(previous + leaf).digest()
            if data_as_text and data is not absent:
                data = loads(data)
            doubtful = (
                type(body) is not dict
                or body.get("seq") != seq
                or (at is not absent and body.get("at") != at)
                or (event_type is not absent and body.get("type") != event_type)
                or (actor is not absent and body.get("actor") != actor)
                or (target is not absent and body.get("target") != target)
                or (data is not absent and body.get("data") != data)
                or leaf_hex != leaf.hex()
                or prev_hex != previous_hex
                or chain_hex != link.hex()
            )
        except Exception:  # not text, not JSON (or JSON only the slow parser takes)
            doubtful = True
        if doubtful:
            event = {c: v for c, v in zip(ROW_COLUMNS, row, strict=True) if v is not absent}
            if data_as_text and "data" in event:
                try:
                    event["data"] = json.loads(event["data"])
                except (TypeError, ValueError):
                    event["data"] = absent  # matches nothing the canonical bytes hold
            problem, leaf = _event_problem(event, seq, previous)
            if problem:
                return RangeCheck(count, leaves, previous, marked, expected, (seq, problem))
            link = chain_hash(previous, leaf)
        previous = link
        previous_hex = link.hex()
        leaves.append(leaf)
        if seq in marks:
            marked[seq] = link
        count += 1
        expected += 1
    return RangeCheck(count, leaves, previous, marked, expected)


class _Tree:
    """The Merkle tree of the verified prefix, checked against each signed
    checkpoint as the prefix reaches its size."""

    def __init__(self, pending: list[Checkpoint], result: Result):
        self.frontier = Frontier()
        self.pending = pending
        self.result = result
        self.last_good_size = 0
        self.marked: dict[int, bytes] = {0: GENESIS}  # chain hash after each checkpoint size

    def sizes(self) -> frozenset[int]:
        return frozenset(c.size for c in self.pending)

    def rewritten(self, checkpoint: Checkpoint) -> bool:
        """Fail at the first event after the last checkpoint that held: the log does not
        match ``checkpoint``. False, for the caller to return."""
        self.result.fail(
            self.last_good_size + 1,
            f"the checkpoint at size {checkpoint.size} does not match the log: "
            f"events {self.last_good_size + 1}..{checkpoint.size} were rewritten",
        )
        self.pending.clear()
        return False

    def grow(self, leaves: list[bytes], marked: dict[int, bytes]) -> bool:
        """Add the leaves that follow; False once a checkpoint does not match."""
        self.marked.update(marked)
        while self.pending and self.pending[0].size <= self.frontier.size + len(leaves):
            checkpoint = self.pending.pop(0)
            take = checkpoint.size - self.frontier.size
            self.frontier.extend(leaves[:take])
            leaves = leaves[take:]
            if checkpoint.root != self.frontier.root() or checkpoint.chain != self.marked.get(
                checkpoint.size
            ):
                return self.rewritten(checkpoint)
            self.last_good_size = checkpoint.size
        self.frontier.extend(leaves)
        return True


def verify_rows(
    rows: Iterable[Sequence[Any]],
    checkpoints: Sequence[dict[str, Any]],
    published_keys: Iterable[dict[str, Any]],
    *,
    data_as_text: bool = False,
) -> Result:
    """``verify_log`` over rows in ``ROW_COLUMNS`` order (what a database cursor
    gives, without a dict per event), a chunk at a time."""
    result = Result()
    tree = _Tree(_open_checkpoints(checkpoints, published_keys, result), result)
    marks = tree.sizes()
    iterator = iter(rows)
    part = RangeCheck(0, [], GENESIS, {}, 1)
    while chunk := list(itertools.islice(iterator, _FLUSH)):
        part = check_range(
            chunk, part.expected, part.previous, marks=marks, data_as_text=data_as_text
        )
        result.events = part.expected - 1
        if not tree.grow(part.leaves, part.marked) or part.problem:
            break
    return finish(result, tree, part.previous, part.problem)


def finish(result: Result, tree: _Tree, previous: bytes, problem: tuple[int, str] | None) -> Result:
    if problem is not None and result.first_bad_seq is None:
        result.fail(*problem)
    if result.first_bad_seq is None and tree.pending:
        result.fail(
            result.events + 1,
            f"a checkpoint covers {tree.pending[-1].size} events but the log has {result.events}",
        )
    result.head = previous.hex() if result.events else None
    return result


def verify_proof(
    proof: dict[str, Any], published_keys: Iterable[dict[str, Any]]
) -> tuple[bool, str]:
    """Check an inclusion proof from ``/api/v1/audit/events/{seq}/proof``."""
    if not isinstance(proof, dict):
        return False, "not an inclusion proof: expected a JSON object"
    error = proof.get("error")
    if isinstance(error, dict):
        # Saved with `curl > proof.json`: the server's refusal says why there is no proof.
        return False, (
            "not a proof but the server's error answer: "
            f"{error.get('code', '?')}: {error.get('message', '')}"
        )
    missing = [
        k
        for k in ("seq", "leaf_index", "tree_size", "leaf_hash", "canonical", "proof", "checkpoint")
        if k not in proof
    ]
    if missing:
        return False, f"not an inclusion proof: missing {', '.join(missing)}"
    keys = {name: entry["key"] for name, entry in key_table(published_keys).items()}
    try:
        checkpoint, _ = open_checkpoint(proof["checkpoint"], keys)
        canonical_bytes = proof["canonical"].encode("utf-8")
        leaf = leaf_hash(canonical_bytes)
        seq, index, size = int(proof["seq"]), int(proof["leaf_index"]), int(proof["tree_size"])
        path = [bytes.fromhex(h) for h in proof["proof"]]
        claimed_seq = json.loads(canonical_bytes).get("seq")
    except NoteError as exc:
        return False, f"checkpoint: {exc}"
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        return False, f"malformed proof: {exc}"
    if leaf.hex() != proof.get("leaf_hash"):
        return False, "the leaf hash does not match the event's bytes"
    if claimed_seq != seq or index != seq - 1 or size != checkpoint.size:
        return False, "the proof is not for this event or this checkpoint"
    if not verify_inclusion(index, size, leaf, path, checkpoint.root):
        return False, "the inclusion proof does not lead to the checkpoint's root"
    return True, f"event {seq} is in the log of {size} events signed for {checkpoint.origin}"


def read_export(
    path: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(keys from the header, checkpoints, events) of a JSON Lines export."""
    header_keys: list[dict[str, Any]] = []
    checkpoints, events = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            item = json.loads(line)
            kind = item.pop("kind", None)
            if kind == "header":
                header_keys = item.get("keys", [])
            elif kind == "checkpoint":
                checkpoints.append(item)
            elif kind == "event":
                events.append(item)
    return header_keys, checkpoints, events


# --- evidence packages ----------------------------------------------------------------
# ``python verify.py evidence PACKAGE.zip --keys keys.json``: the manifest's signature,
# every file's hash, the events against the signed checkpoint, the sample's proofs,
# and each population CSV against the events (no row missing, none added). Events and
# CSVs are streamed; what is kept per request is the little the events say of it.

_EVIDENCE_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_EVIDENCE_STATUS = {
    "action.pending": "pending",
    "action.approved": "approved",
    "action.denied": "denied",
    "action.expired": "expired",
    "action.cancelled": "cancelled",
}
_EVIDENCE_FINAL = frozenset({"approved", "denied", "expired", "cancelled"})
_EVIDENCE_ACCESS = frozenset({"user", "agent", "token", "auth"})


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree of ``first`` leaves a prefix of the tree
    of ``second`` leaves?"""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_hash == second_hash
    path = list(proof)
    if not path:
        return False
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_hash and sr == second_hash


def _evidence_cell(text: str) -> str:
    """Undo the formula-injection quote the package put in front of a cell."""
    if len(text) > 1 and text[0] == "'" and text[1] in _EVIDENCE_FORMULA_STARTS:
        return text[1:]
    return text


def _evidence_rows(archive: Any, name: str, problems: list[str]) -> Iterable[dict[str, str]]:
    """A CSV's rows one at a time, straight from the zip (never the whole file)."""
    import csv
    import io

    try:
        handle = archive.open(name)
    except KeyError:
        problems.append(f"{name}: missing from the package")
        return
    with handle, io.TextIOWrapper(handle, encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, [])
        for values in reader:
            yield {k: _evidence_cell(v) for k, v in zip(header, values, strict=False)}


def _evidence_compare(
    name: str,
    rows: Iterable[dict[str, str]],
    key: str,
    implied: Any,
    what: str,
    problems: list[str],
) -> list[str]:
    """Each row against what the events imply for its key (``implied(key)`` or
    ``implied[key]``): a key missing, extra or doubled is named, and so is every column
    that disagrees. Returns the keys in row order."""
    lookup = implied if callable(implied) else implied.get
    keys = implied.keys() if not callable(implied) else None
    seen: set[str] = set()
    order: list[str] = []
    for row in rows:
        value = row.get(key, "")
        order.append(value)
        if value in seen:
            problems.append(f"{name}: {what} {value} has two rows")
            continue
        seen.add(value)
        expected = lookup(value)
        if expected is None:
            problems.append(f"{name}: row for {what} {value} is not in the log")
            continue
        for column, wanted in expected.items():
            if row.get(column) != wanted:
                problems.append(
                    f"{name}: {what} {value}: {column} is {row.get(column)!r}, "
                    f"the log says {wanted!r}"
                )
    if keys is not None:
        for value in sorted(set(keys) - seen, key=str):
            problems.append(f"{name}: {what} {value} is in the log but has no row")
    return order


def _evidence_events(
    archive: Any,
    manifest: dict[str, Any],
    keys: dict[str, Ed25519PublicKey],
    visit: Any,
    problems: list[str],
) -> None:
    """Stream the package's events, each handed to ``visit(body, line)``, and check
    them against the signed checkpoint: the frontier before the range and the range's
    leaves make the tree of the first ``seq_to`` events, and the consistency proof in
    ``audit/range.json`` must show that tree to be a prefix of the checkpoint's."""
    audit = manifest.get("audit", {})
    seq_from, seq_to = int(audit.get("seq_from", 0)), int(audit.get("seq_to", -1))
    try:
        context = json.loads(archive.read("audit/range.json"))
        checkpoint, _ = open_checkpoint(archive.read("audit/checkpoint.note").decode(), keys)
        frontier = Frontier.from_json(context["frontier_before"])
        previous = bytes.fromhex(context["chain_hash_before"])
        consistency = [bytes.fromhex(h) for h in context.get("consistency", [])]
    except (KeyError, ValueError, TypeError) as exc:
        problems.append(f"audit: {exc}")
        return
    if frontier.size != seq_from - 1 or context.get("seq_from") != seq_from:
        problems.append("audit/range.json: its frontier is not the one before the range")
    expected = seq_from
    with archive.open("audit/events.jsonl") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\n")
            if not line:
                continue
            try:
                body = json.loads(line)
                seq = int(body["seq"])
            except (ValueError, KeyError, TypeError):
                problems.append(f"audit/events.jsonl line {number}: not an event")
                continue
            if seq != expected:
                problems.append(
                    f"audit/events.jsonl line {number}: event {seq} where event {expected} "
                    "belongs (an event was added, dropped or moved)"
                )
                expected = seq
            leaf = leaf_hash(line)
            frontier.append(leaf)
            previous = chain_hash(previous, leaf)
            visit(body, line)
            expected += 1
    if expected - 1 != seq_to:
        problems.append(
            f"audit/events.jsonl: ends at event {expected - 1}, the manifest says {seq_to}"
        )
    if frontier.size != seq_to or context.get("seq_to") != seq_to:
        problems.append(
            f"audit: the events make a log of {frontier.size}, the range ends at {seq_to} "
            f"and the checkpoint signs {checkpoint.size}"
        )
        return
    if context.get("checkpoint_size") != checkpoint.size:
        problems.append("audit/range.json: its proof is not to the package's checkpoint")
        return
    if not verify_consistency(
        seq_to, checkpoint.size, frontier.root(), checkpoint.root, consistency
    ):
        problems.append(
            "audit/events.jsonl: the events do not rebuild the signed checkpoint's Merkle "
            "root (an event was added, dropped or changed)"
        )
    elif checkpoint.size == seq_to and previous != checkpoint.chain:
        problems.append("audit/events.jsonl: the chain hash is not the signed checkpoint's")
    elif previous.hex() != context.get("chain_hash_after"):
        problems.append("audit/range.json: chain_hash_after is not the events' chain hash")


class _EvidenceRequest:
    """What the events say of one request, through the period."""

    __slots__ = (
        "actor",
        "approved_at",
        "approvers",
        "created_at",
        "credential",
        "decided_at",
        "decider",
        "deniers",
        "latest",
        "outcome",
        "outcome_at",
        "redeemed",
        "redeemed_by",
        "revoked",
        "revoked_by",
        "seq",
        "via",
    )

    def __init__(self, seq: str, at: str, actor: str, status: str):
        self.seq, self.created_at, self.actor, self.latest = seq, at, actor, status
        self.decider = "policy" if status in _EVIDENCE_FINAL else ""
        self.decided_at = at if status in _EVIDENCE_FINAL else ""
        self.approved_at = at if status == "approved" else ""
        self.via = self.outcome = self.outcome_at = ""
        self.redeemed = self.redeemed_by = self.revoked = self.revoked_by = ""
        self.credential = ""
        # Made on the first review: most requests have one at most.
        self.approvers: set[str] | None = None
        self.deniers: set[str] | None = None

    def expected(self) -> dict[str, str]:
        final = self.latest in _EVIDENCE_FINAL
        channel = ""
        if final:
            if self.decider == "policy":
                channel = "policy"
            elif self.latest == "expired":
                channel = "expiry"
            elif self.latest == "cancelled":
                channel = "requester"
            else:
                channel = self.via or "api"
        requester_type, _, requester = self.actor.partition(":")
        return {
            "created_seq": self.seq,
            "created_at": self.created_at,
            "requester_type": requester_type,
            "requester": requester,
            "status_at_period_end": self.latest,
            "decided_at": self.decided_at if final else "",
            "decision_channel": channel,
            "time_to_decision_seconds": _evidence_seconds(self.created_at, self.decided_at)
            if final
            else "",
            "approvers": ";".join(sorted(self.approvers or ())),
            "deniers": ";".join(sorted(self.deniers or ())),
            "grant_redeemed": self.redeemed,
            "grant_redeemed_by": self.redeemed_by,
            "grant_revoked": self.revoked,
            "grant_revoked_by": self.revoked_by,
            "credential_issued": self.credential,
            "outcome": self.outcome,
            "outcome_at": self.outcome_at,
        }


def _evidence_seconds(since: str, until: str) -> str:
    try:
        return str(
            int((datetime.fromisoformat(until) - datetime.fromisoformat(since)).total_seconds())
        )
    except ValueError:
        return "?"


class _EvidenceImplied:
    """What the events say each population CSV must hold, gathered as they stream."""

    def __init__(self, proof_seqs: set[int]):
        self.requests: dict[str, _EvidenceRequest] = {}
        self.reviews: dict[str, dict[str, str]] = {}
        self.policy: dict[str, dict[str, str]] = {}
        self.access: dict[str, dict[str, str]] = {}
        self.reveals: dict[str, dict[str, str]] = {}
        self.channels: dict[str, dict[str, str]] = {}
        self.channels_deleted: set[str] = set()
        self.proof_seqs = proof_seqs
        self.proven_lines: dict[int, bytes] = {}

    def __call__(self, event: dict[str, Any], line: bytes) -> None:
        kind, target = str(event.get("type", "")), str(event.get("target", ""))
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        assert isinstance(data, dict)
        seq, at = str(event["seq"]), str(event.get("at", ""))
        if int(event["seq"]) in self.proof_seqs:
            self.proven_lines[int(event["seq"])] = line
        actor = str(event.get("actor", ""))
        person = actor.removeprefix("user:")
        request = target.removeprefix("action:")
        state = self.requests.get(request) if target.startswith("action:") else None
        if kind == "action.created":
            status = sys.intern(str(data.get("status", "")))
            self.requests[request] = _EvidenceRequest(seq, at, sys.intern(actor), status)
        elif kind in _EVIDENCE_STATUS:
            if state is not None:
                state.latest = _EVIDENCE_STATUS[kind]
                state.decider = sys.intern(actor)
                if state.latest in _EVIDENCE_FINAL:
                    state.decided_at = at
                if kind == "action.approved":
                    state.approved_at = at
        elif kind in ("action.reviewed", "action.review_refused"):
            accepted = kind == "action.reviewed"
            self.reviews[seq] = {
                "request_id": request,
                "reviewer": person,
                "verdict": str(data.get("verdict", "")),
                "accepted": "yes" if accepted else "no",
            }
            if accepted and state is not None:
                state.via = sys.intern(str(data.get("via", "")))
                if data.get("verdict") == "approve":
                    state.approvers = (state.approvers or set()) | {sys.intern(person)}
                else:
                    state.deniers = (state.deniers or set()) | {sys.intern(person)}
        elif kind == "action.outcome_reported" and state is not None:
            state.outcome, state.outcome_at = sys.intern(str(data.get("result", ""))), at
        elif kind == "grant.redeemed" and state is not None:
            state.redeemed = at
            state.redeemed_by = str(data.get("executor") or actor.removeprefix("agent:"))
        elif kind == "credential.issue_failed" and state is not None:
            if state.redeemed and not state.credential:  # the redemption was undone
                state.redeemed = state.redeemed_by = ""
        elif kind == "credential.issued" and state is not None:
            state.credential = state.credential or at
        elif kind == "grant.revoked" and state is not None:
            state.revoked, state.revoked_by = at, person
        elif kind == "notification.channel_created":
            self.channels[target.removeprefix("channel:")] = {
                "kind": str(data.get("kind", "")),
                "name": str(data.get("name", "")),
                "groups": ";".join(str(g) for g in data.get("groups") or []),
                "mode": str(data.get("mode", "")),
                "created_seq": seq,
                "changed_in_period": seq,
            }
        elif kind == "notification.channel_deleted":
            channel = target.removeprefix("channel:")
            self.channels.pop(channel, None)
            self.channels_deleted.add(channel)
        elif kind.startswith("policy."):
            self.policy[seq] = {"event": kind, "version": target.removeprefix("policy:")}
        elif kind.split(".")[0] in _EVIDENCE_ACCESS:
            self.access[seq] = {"event": kind, "actor": actor, "target": target}
        elif kind in ("action.revealed", "action.reveal_refused"):
            self.reveals[seq] = {
                "request_id": request,
                "allowed": "yes" if kind == "action.revealed" else "no",
            }

    def check_grant(self, row: dict[str, str], name: str, problems: list[str]) -> None:
        """A grant only on an approved agent's request, issued at its approval, and
        none used or revoked in the log without one on the row."""
        request = row.get("request_id", "")
        state = self.requests.get(request)
        if state is None:
            return
        issued = row.get("grant_issued", "")
        if issued and (state.latest != "approved" or not state.actor.startswith("agent:")):
            problems.append(
                f"{name}: request {request}: grant_issued, but the log shows no approval "
                "of an agent's request"
            )
        elif issued and issued != state.approved_at:
            problems.append(
                f"{name}: request {request}: grant_issued is {issued!r}, "
                f"the log approved it at {state.approved_at!r}"
            )
        elif not issued and (state.redeemed or state.revoked or state.credential):
            problems.append(
                f"{name}: request {request}: the log has its grant redeemed or revoked, "
                "the row shows no grant issued"
            )


def _evidence_sample(manifest: dict[str, Any], problems: list[str]) -> set[int]:
    import random

    sample = manifest.get("sample", {})
    try:
        return set(
            random.Random(sample.get("seed")).sample(  # noqa: S311 (re-drawing a recorded sample)
                range(int(sample.get("population", 0))), int(sample.get("size", 0))
            )
        )
    except (ValueError, TypeError):
        problems.append("sample: its size and population cannot be drawn from")
        return set()


def _evidence_populations(
    archive: Any, manifest: dict[str, Any], implied: _EvidenceImplied, problems: list[str]
) -> None:
    name = "populations/approval_requests.csv"
    positions = _evidence_sample(manifest, problems)
    drawn: list[str] = []

    def request_rows() -> Iterable[dict[str, str]]:
        for position, row in enumerate(_evidence_rows(archive, name, problems)):
            if position in positions:
                drawn.append(row.get("request_id", ""))
            implied.check_grant(row, name, problems)
            yield row

    def expected(request: str) -> dict[str, str] | None:
        state = implied.requests.get(request)
        return state.expected() if state is not None else None

    order = _evidence_compare(name, request_rows(), "request_id", expected, "request", problems)
    for request in sorted(set(implied.requests) - set(order)):
        problems.append(f"{name}: request {request} is in the log but has no row")
    checks = (
        ("populations/review_actions.csv", "seq", implied.reviews, "event"),
        ("populations/policy_changes.csv", "seq", implied.policy, "event"),
        ("populations/access_changes.csv", "seq", implied.access, "event"),
        ("populations/reveals.csv", "seq", implied.reveals, "event"),
    )
    for csv_name, key, wanted, what in checks:
        rows = _evidence_rows(archive, csv_name, problems)
        _evidence_compare(csv_name, rows, key, wanted, what, problems)
    _evidence_channels(archive, manifest, implied, problems)

    # The sample, re-drawn from the recorded seed over the requests' row order.
    if manifest.get("sample", {}).get("population") != len(order):
        problems.append("sample: the population is not the number of request rows")
        return
    listed = [r.get("request_id") for r in _evidence_rows(archive, "sample/requests.csv", problems)]
    if drawn != listed:
        problems.append("sample/requests.csv: not the sample the recorded seed draws")


def _evidence_channels(
    archive: Any, manifest: dict[str, Any], implied: _EvidenceImplied, problems: list[str]
) -> None:
    """A channel created in the range and not deleted has its row, agreeing with its
    event; one deleted in the range has none. A row for a channel created before the
    range rests on the log before it, which the package does not carry."""
    name = "populations/configured_channels.csv"
    seq_from = int(manifest.get("audit", {}).get("seq_from", 0))
    wanted = dict(implied.channels)
    for row in _evidence_rows(archive, name, problems):
        channel = row.get("channel", "")
        expected = wanted.pop(channel, None)
        if expected is None:
            created = row.get("created_seq", "")
            if channel in implied.channels_deleted:
                problems.append(f"{name}: channel {channel} was deleted in the period")
            elif not (created.isdigit() and int(created) < seq_from):
                problems.append(f"{name}: row for channel {channel} is not in the log")
            elif row.get("changed_in_period"):
                problems.append(f"{name}: channel {channel}: the log has no change in the period")
            continue
        for column, value in expected.items():
            if row.get(column) != value:
                problems.append(
                    f"{name}: channel {channel}: {column} is {row.get(column)!r}, "
                    f"the log says {value!r}"
                )
    for channel in sorted(wanted):
        problems.append(f"{name}: channel {channel} is in the log but has no row")


def verify_evidence(path: str, published_keys: Iterable[dict[str, Any]]) -> list[str]:
    """Every problem found in an evidence package; an empty list means it verifies."""
    import zipfile

    problems: list[str] = []
    keys = {name: entry["key"] for name, entry in key_table(published_keys).items()}
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: not a zip: {exc}"]
    with archive:
        try:
            manifest_bytes = archive.read("manifest.json")
            signature = json.loads(archive.read("manifest.sig"))
            manifest = json.loads(manifest_bytes)
        except (KeyError, ValueError) as exc:
            return [f"manifest: {exc}"]
        key = keys.get(str(signature.get("key_name")))
        if key is None:
            problems.append(
                f"manifest.sig: signed by {signature.get('key_name')!r}, not a key in --keys"
            )
        else:
            try:
                key.verify(base64.b64decode(signature.get("signature", "")), manifest_bytes)
            except (InvalidSignature, ValueError):
                problems.append("manifest.sig: the signature does not verify over manifest.json")
        listed = {entry["name"]: entry for entry in manifest.get("files", [])}
        present = set(archive.namelist()) - {"manifest.json", "manifest.sig"}
        for name in sorted(present - set(listed)):
            problems.append(f"{name}: in the package but not in the manifest")
        for name, entry in listed.items():
            if name not in present:
                problems.append(f"{name}: in the manifest but missing from the package")
                continue
            digest, size = hashlib.sha256(), 0
            with archive.open(name) as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
            if digest.hexdigest() != entry.get("sha256") or size != entry.get("bytes"):
                problems.append(f"{name}: SHA-256 or size differs from the manifest (changed)")
        proofs = {}
        for name in sorted(n for n in present if n.startswith("proofs/")):
            try:
                proofs[name] = json.loads(archive.read(name))
                int(proofs[name]["seq"])
            except (ValueError, KeyError, TypeError):
                problems.append(f"{name}: not an inclusion proof")
                proofs.pop(name, None)
        implied = _EvidenceImplied({int(p["seq"]) for p in proofs.values()})
        _evidence_events(archive, manifest, keys, implied, problems)
        for name, proof in proofs.items():
            ok, message = verify_proof(proof, published_keys)
            if not ok:
                problems.append(f"{name}: {message}")
            elif implied.proven_lines.get(int(proof["seq"])) != str(proof["canonical"]).encode():
                problems.append(
                    f"{name}: the proven event is not the package's event {proof['seq']}"
                )
        _evidence_populations(archive, manifest, implied, problems)
    return problems


def _load_keys(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return data["keys"] if isinstance(data, dict) else data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an Airlock audit log export or proof.")
    sub = parser.add_subparsers(dest="command", required=True)
    log = sub.add_parser("log", help="verify an export (JSON Lines)")
    log.add_argument("export")
    log.add_argument("--keys", help="published keys (JSON); default: the export's own, untrusted")
    proof = sub.add_parser("proof", help="verify an inclusion proof (JSON)")
    proof.add_argument("proof")
    proof.add_argument("--keys", required=True)
    evidence = sub.add_parser("evidence", help="verify an evidence package (zip)")
    evidence.add_argument("package")
    evidence.add_argument("--keys", required=True, help="published keys, fetched separately")
    args = parser.parse_args(argv)

    if args.command == "evidence":
        problems = verify_evidence(args.package, _load_keys(args.keys))
        for problem in problems:
            print("FAILED: " + problem)
        print("OK: the package verifies" if not problems else f"{len(problems)} problem(s)")
        return 0 if not problems else 1

    if args.command == "proof":
        with open(args.proof, encoding="utf-8") as handle:
            ok, message = verify_proof(json.load(handle), _load_keys(args.keys))
        print(("OK: " if ok else "FAILED: ") + message)
        return 0 if ok else 1

    header_keys, checkpoints, events = read_export(args.export)
    if args.keys:
        published = _load_keys(args.keys)
    else:
        print(
            "warning: trusting the keys inside the export; fetch them separately", file=sys.stderr
        )
        published = header_keys
    result = verify_log(events, checkpoints, published)
    print(json.dumps(result.as_dict(), indent=2))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
