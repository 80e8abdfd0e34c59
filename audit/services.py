"""The one way into the audit log, and the checkpoints that seal it.

``record`` writes inside the caller's transaction: if the change it describes rolls
back, so does the event (and its sequence number), and a committed change always
has its event. Appends are serialised on the chain head's row lock.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from airlock.canonical import strict_bytes
from audit import catalogue, keys, selectors
from audit import verify as chain
from audit.models import AuditEvent, ChainHead, Checkpoint

logger = logging.getLogger(__name__)


def actor_ref(actor: Any) -> str:
    """``user:<email>``, ``agent:<name>`` or a plain system name such as ``system``."""
    if isinstance(actor, str):
        return actor
    if getattr(actor, "is_agent", False):
        return f"agent:{actor.name}"
    email = getattr(actor, "email", None)
    if email:
        return f"user:{email}"
    raise TypeError(f"cannot name {actor!r} as an audit actor")


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(
    event_type: str, actor: Any, target: str, data: dict[str, Any] | None = None
) -> AuditEvent:
    catalogue.get(event_type)  # an undeclared type is a bug: refuse it before writing
    data = data or {}
    actor_name = actor_ref(actor)
    # Encoded before taking the lock: what the log cannot hold (floats, huge integers)
    # is refused without poisoning the caller's transaction.
    data_bytes = strict_bytes(data)  # NotCanonical is a ValueError
    # Joins the caller's transaction (no savepoint) or opens one of its own.
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        seq = head.seq + 1
        at = timezone.now()
        canonical = chain.event_canonical(
            seq=seq,
            at=timestamp(at),
            event_type=event_type,
            actor=actor_name,
            target=target,
            data_bytes=data_bytes,
        )
        leaf = chain.leaf_hash(canonical)
        previous = bytes.fromhex(head.chain_hash)
        link = chain.chain_hash(previous, leaf)
        event = AuditEvent.objects.create(
            seq=seq,
            at=at,
            event_type=event_type,
            actor=actor_name,
            target=target,
            data=data,
            canonical=canonical.decode("utf-8"),
            leaf_hash=leaf.hex(),
            prev_hash=head.chain_hash,
            chain_hash=link.hex(),
        )
        updated = ChainHead.objects.filter(pk=1, seq=head.seq).update(
            seq=seq, chain_hash=link.hex()
        )
        if updated != 1:  # impossible under the row lock; never write a fork
            raise RuntimeError("the audit chain head moved under its lock")
    return event


def _locked_head() -> ChainHead:
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    # No head row: a new database, or a test database just flushed (the migration
    # makes one). Concurrent first appends meet on the primary key: one creates the
    # row, the others wait for it and then queue on its lock.
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "chain_hash": chain.GENESIS.hex()})
    head = ChainHead.objects.select_for_update().get(pk=1)
    # Every append holds this lock, so under it "the head says empty" and "events
    # exist" can only both be true if the head was lost: never start a fork.
    if head.seq == 0 and AuditEvent.objects.exists():
        raise RuntimeError("the audit chain head is missing while events exist")
    return head


class NoSigningKey(RuntimeError):
    """No AUDIT_SIGNING_KEY is configured: checkpoints cannot be signed."""


def sign_checkpoint() -> Checkpoint | None:
    """Seal the log as it stands: a signed checkpoint of its size, Merkle root and
    chain hash. None when nothing was appended since the last one. Sizes only grow:
    the tree size is unique and taken from the committed chain head."""
    signer = keys.signing_key()
    if signer is None:
        raise NoSigningKey("AUDIT_SIGNING_KEY is not configured")
    with transaction.atomic():
        # Lock the head so the size and chain hash read here are one consistent state,
        # and so two signers cannot race: the second waits and sees the first's work.
        head = _locked_head()
        last = Checkpoint.objects.order_by("-tree_size").first()
        if last is not None and last.tree_size >= head.seq:
            return None
        frontier = chain.Frontier.from_json(last.frontier) if last else chain.Frontier()
        for leaf in selectors.leaf_hashes(up_to=head.seq, after=frontier.size):
            frontier.append(leaf)
        if frontier.size != head.seq:
            raise RuntimeError(f"the log has {frontier.size} leaves but its head says {head.seq}")
        statement = chain.Checkpoint(
            keys.origin(), head.seq, frontier.root(), bytes.fromhex(head.chain_hash)
        )
        note = chain.sign_checkpoint(statement, signer.name, signer.private_key)
        checkpoint = Checkpoint.objects.create(
            tree_size=head.seq,
            root_hash=statement.root.hex(),
            chain_hash=head.chain_hash,
            note=note,
            key_name=signer.name,
            frontier=frontier.to_json(),
        )
    return checkpoint
