"""Verify the stored log with the auditor's own verifier (``audit/verify.py``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from audit import keys
from audit import verify as chain
from audit.models import AuditEvent, ChainHead, Checkpoint

logger = logging.getLogger(__name__)

EVENT_COLUMNS = (
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


def event_rows(queryset: QuerySet[AuditEvent] | None = None) -> Iterator[dict[str, Any]]:
    """Events in sequence order as the verifier reads them (and as the export writes
    them), ``at`` in the canonical spelling."""
    from audit.sequencer import timestamp

    rows = (AuditEvent.objects.all() if queryset is None else queryset).filter(
        seq__isnull=False
    ).order_by("seq")
    for row in rows.values(*EVENT_COLUMNS).iterator(chunk_size=5000):
        row["at"] = timestamp(row["at"])
        yield row


def checkpoint_rows() -> list[dict[str, Any]]:
    from audit.sequencer import timestamp

    return [
        {"tree_size": c.tree_size, "note": c.note, "created_at": timestamp(c.created_at)}
        for c in Checkpoint.objects.order_by("tree_size")
    ]


def verify_database() -> chain.Result:
    result = chain.verify_log(event_rows(), checkpoint_rows(), keys.published_keys())
    head = ChainHead.objects.filter(pk=1).first()
    if head is None:
        result.fail(None, "the chain head is missing")
    elif result.first_bad_seq is None and (
        head.seq != result.events or (result.head and head.chain_hash != result.head)
    ):
        result.fail(
            result.events + 1, f"the chain head says {head.seq} events, the log has {result.events}"
        )
    return result
