"""The pure cryptography of audit/verify.py against independent references."""

from __future__ import annotations

import hashlib

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from airlock.canonical import strict_bytes
from audit import verify as chain

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_canonical_bytes_are_rfc8785(value):
    assert strict_bytes(value) == rfc8785.dumps(value)


def test_keys_sort_by_utf16_code_units():
    # U+E000 sorts after U+1F600 in UTF-16 (surrogates are 0xD83D...), before it by code point.
    value = {"\ue000": 1, "\U0001f600": 2}
    assert strict_bytes(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("bad", [1.5, {"x": float("nan")}, {1: "a"}, 2**60, object()])
def test_values_outside_the_audit_subset_are_refused(bad):
    with pytest.raises(ValueError, match=r"audit event|floats|integers"):
        strict_bytes(bad)


def reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written from the definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


def leaves(n: int) -> list[bytes]:
    return [chain.leaf_hash(str(i).encode()) for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 64, 100])
def test_the_frontier_root_is_rfc6962(n):
    assert chain.merkle_root(leaves(n)) == reference_mth(leaves(n))


def test_a_frontier_resumes_where_it_stopped():
    first = chain.Frontier()
    for leaf in leaves(13):
        first.append(leaf)
    resumed = chain.Frontier.from_json(first.to_json())
    for leaf in leaves(40)[13:]:
        resumed.append(leaf)
    assert resumed.root() == reference_mth(leaves(40))


@pytest.mark.parametrize(
    ("start", "chunks"), [(0, [1024]), (0, [3000]), (5, [1019, 1024, 7]), (1000, [2100, 1, 2048])]
)
def test_extending_by_blocks_builds_the_same_tree_as_appending(start, chunks):
    """Whole aligned blocks are hashed level by level; the frontier must come out as
    if every leaf had been appended, wherever the extension starts and stops."""
    total = leaves(start + sum(chunks))
    fast = chain.Frontier()
    for leaf in total[:start]:
        fast.append(leaf)
    offset = start
    for size in chunks:
        fast.extend(total[offset : offset + size])
        offset += size
    slow = chain.Frontier()
    for leaf in total:
        slow.append(leaf)
    assert (fast.size, fast.hashes) == (slow.size, slow.hashes)
    assert fast.root() == reference_mth(total)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 11, 16, 33])
def test_every_inclusion_proof_verifies(n):
    tree = leaves(n)
    root = reference_mth(tree)
    for index in range(n):
        proof = chain.inclusion_proof(index, tree)
        assert chain.verify_inclusion(index, n, tree[index], proof, root)


def test_forged_inclusion_proofs_fail():
    tree = leaves(21)
    root = reference_mth(tree)
    proof = chain.inclusion_proof(9, tree)
    assert not chain.verify_inclusion(10, 21, tree[9], proof, root)  # wrong index
    # A size with another tree shape fails; the size itself is bound by the signed
    # checkpoint, which verify_proof compares.
    assert not chain.verify_inclusion(9, 12, tree[9], proof, root)
    assert not chain.verify_inclusion(9, 21, tree[8], proof, root)  # another leaf
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    assert not chain.verify_inclusion(9, 21, tree[9], flipped, root)
    assert not chain.verify_inclusion(9, 21, tree[9], proof[:-1], root)  # shortened
    assert not chain.verify_inclusion(9, 21, tree[9], [*proof, root], root)  # lengthened


def test_a_signed_note_opens_only_with_its_key_and_body():
    key = Ed25519PrivateKey.generate()
    statement = chain.Checkpoint("airlock.example/audit", 42, b"\x01" * 32, b"\x02" * 32)
    note = chain.sign_checkpoint(statement, "airlock-audit", key)
    assert note.splitlines()[:4] == [
        "airlock.example/audit",
        "42",
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        "02" * 32,
    ]
    opened, name = chain.open_checkpoint(note, {"airlock-audit": key.public_key()})
    assert (opened, name) == (statement, "airlock-audit")
    with pytest.raises(chain.NoteError):
        chain.open_checkpoint(note.replace("\n42\n", "\n43\n"), {"airlock-audit": key.public_key()})
    with pytest.raises(chain.NoteError):
        chain.open_checkpoint(note, {"airlock-audit": Ed25519PrivateKey.generate().public_key()})
    with pytest.raises(chain.NoteError):
        chain.open_checkpoint(note, {"someone-else": key.public_key()})


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 2**53 - 1),
    st.text(),
    st.text(),
    st.text(),
    st.text(),
    st.dictionaries(st.text(max_size=6), json_values, max_size=4),
)
def test_the_spliced_event_bytes_equal_the_canonical_body(seq, at, event_type, actor, target, data):
    body = {
        "seq": seq,
        "at": at,
        "type": event_type,
        "actor": actor,
        "target": target,
        "data": data,
    }
    spliced = chain.event_canonical(
        seq=seq,
        at=at,
        event_type=event_type,
        actor=actor,
        target=target,
        data_bytes=strict_bytes(data),
    )
    assert spliced == strict_bytes(body) == rfc8785.dumps(body)


@pytest.mark.parametrize(("first", "second"), [(0, 5), (4, 3), (8, 8), (8, 7), (16, 1), (32, 31)])
def test_a_frontier_joined_from_an_aligned_part_is_the_whole_trees(first, second):
    leaves = [chain.leaf_hash(str(i).encode()) for i in range(first + second)]
    whole, part = chain.Frontier(), chain.Frontier()
    whole.extend(leaves[:first])
    part.extend(leaves[first:])
    whole.join(part)
    assert (whole.size, whole.root()) == (first + second, chain.merkle_root(leaves))


def test_a_frontier_refuses_to_join_at_an_unaligned_size():
    whole, part = chain.Frontier(), chain.Frontier()
    whole.extend([chain.leaf_hash(b"a")] * 3)
    part.extend([chain.leaf_hash(b"b")] * 2)
    with pytest.raises(ValueError, match="unaligned"):
        whole.join(part)
